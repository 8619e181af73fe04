-- Long-lived API tokens for scripts: a token acts as its user (with the
-- user's permissions) until it expires or is revoked. Only the SHA-256
-- of the token is kept; the token itself is shown once.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    expires TEXT,
    last_used TEXT,
    UNIQUE (username, name)
);
