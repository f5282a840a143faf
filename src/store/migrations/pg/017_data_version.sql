-- What an agreement's subscribers list, subscriptions and overview show has a version: it
-- grows by one in every write transaction that may change them (the store's scoped begin
-- does it, store_tx_begin_agreement), and a GET derives its ETag from it, so a client that
-- already holds the current answer gets 304 without a row being read.
ALTER TABLE agreements ADD COLUMN data_version BIGINT NOT NULL DEFAULT 1;
