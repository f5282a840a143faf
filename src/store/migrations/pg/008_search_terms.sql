-- PostgreSQL form of migration 008 (search terms).
-- The subscribers' filter box: each subscription's search terms (folded words of its name,
-- sign-in e-mail and reference, see store/search.h), kept on the row for checking a
-- candidate and once per term in sub_terms for finding candidates. sub_terms is ordered
-- by (term, name) so the rows holding a term come out already in the list's default
-- order: the first page of a filter reads about a page of entries, whatever the size.
-- NULL search: terms not computed yet (rows written before this table existed); the
-- store fills them in when it opens.
-- Terms compare byte by byte (COLLATE "C", SQLite's BINARY): the words a filter starts are
-- found as the range from the word to the word with its last byte bumped, which holds
-- exactly the terms starting with it only in byte order, whatever the database's locale.
ALTER TABLE subscriptions ADD COLUMN search TEXT;

CREATE TABLE sub_terms (
    agreement_id  BIGINT NOT NULL,
    term          TEXT COLLATE "C" NOT NULL,
    name          TEXT NOT NULL,
    sub_id        BIGINT NOT NULL,
    PRIMARY KEY (agreement_id, term, name, sub_id)
);
-- Finds the rows still without terms at start-up without reading the whole table; empty
-- once they are filled in.
CREATE INDEX subscriptions_unsearched ON subscriptions(id) WHERE search IS NULL;

-- How many subscriptions of an agreement hold each term, kept with sub_terms: the total
-- of a one-word filter ("engineering": 100,000 of a million) without counting rows.
CREATE TABLE sub_term_counts (
    agreement_id  BIGINT NOT NULL,
    term          TEXT COLLATE "C" NOT NULL,
    n             BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (agreement_id, term)
);
