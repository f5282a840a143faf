-- Admins invited by e-mail before they have an account: the role is granted when the
-- owner of the address signs in with it verified (as for the order's customer e-mail).
CREATE TABLE admin_invites (
    id            INTEGER PRIMARY KEY,
    agreement_id  INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('super_admin', 'admin')),
    language      TEXT NOT NULL,
    invited_by    INTEGER REFERENCES users(id),
    invited_at    INTEGER NOT NULL,
    UNIQUE (agreement_id, email)
);
CREATE INDEX admin_invites_email ON admin_invites(email);
