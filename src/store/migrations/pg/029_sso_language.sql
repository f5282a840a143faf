-- The language of the page a sign-in through a provider was started from: an account the
-- callback creates speaks it from the first page on, as one made by signing up does.
ALTER TABLE sso_requests ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
