-- The API token a background job was started with (NULL: a browser session): the job acts
-- for its owner narrowed by that token, so revoking the token, its expiry or a capability it
-- lacks stops the job at its next checkpoint, as the owner's own loss of access does.
ALTER TABLE jobs ADD COLUMN token_id INTEGER REFERENCES api_tokens(id);
