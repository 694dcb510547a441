-- Accounts and server-side browser sessions.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    -- Stored trimmed and lower-cased; the unique index on lower() guards every writer.
    email         text NOT NULL CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254),
    -- PHC string ($argon2id$v=19$m=19456,t=2,p=1$...), never the password.
    password_hash text NOT NULL,
    role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE sessions (
    -- SHA-256 of the session key from the cookie: a leaked table cannot be replayed.
    key_hash            bytea PRIMARY KEY,
    -- Lifted out of the state so every session of a user can be ended at once.
    user_id             uuid REFERENCES users (id) ON DELETE CASCADE,
    state               jsonb NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    -- Idle expiry, pushed forward on use but never past the absolute expiry.
    expires_at          timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
