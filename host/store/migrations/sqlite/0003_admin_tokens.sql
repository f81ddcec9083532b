-- Admin-plane bearer tokens, kept as sha256 digests (the token is shown once, never stored).
CREATE TABLE admin_tokens (
    name         TEXT   PRIMARY KEY,
    hash         TEXT   NOT NULL UNIQUE,
    scope        TEXT   NOT NULL,
    connection   TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
