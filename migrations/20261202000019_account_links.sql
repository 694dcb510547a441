-- Email verification and password reset, and scoped, expiring API tokens.

-- Accounts from before verification existed keep connecting as they did.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
UPDATE users SET email_verified_at = created_at;

-- Single-use links sent by mail; only the SHA-256 of the token is kept.
CREATE TABLE account_links (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX account_links_user_idx ON account_links (user_id, purpose);

-- Tokens from before scopes existed could do everything; they still can.
ALTER TABLE api_tokens
    ADD COLUMN scopes text[] NOT NULL DEFAULT '{posts:write,posts:read,connections,tokens}',
    ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ALTER COLUMN scopes DROP DEFAULT;
