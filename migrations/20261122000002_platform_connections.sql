-- Platforms, the accounts users connected on them, and in-flight OAuth authorizations.

-- Kept in step with the adapter registry at start-up (one row per adapter).
CREATE TABLE platforms (
    id           text PRIMARY KEY,
    display_name text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE platform_connections (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform_id         text NOT NULL REFERENCES platforms (id),
    external_account_id text NOT NULL,
    handle              text NOT NULL,
    display_name        text NOT NULL,
    -- Envelope-encrypted (see src/crypto); NULL once revoked and wiped.
    access_token        jsonb,
    refresh_token       jsonb,
    expires_at          timestamptz,
    scopes              text[] NOT NULL DEFAULT '{}',
    status              text NOT NULL CHECK (status IN ('active', 'needs_reauth', 'revoked')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- Reconnecting the same platform account updates this row instead of adding one.
    UNIQUE (user_id, platform_id, external_account_id)
);
CREATE INDEX platform_connections_user_idx ON platform_connections (user_id);

CREATE TABLE oauth_states (
    -- SHA-256 of the state parameter; the state itself only travels in the URL.
    state_hash     bytea PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform_id    text NOT NULL REFERENCES platforms (id),
    -- Envelope-encrypted PKCE verifier.
    pkce_verifier  jsonb NOT NULL,
    redirect_uri   text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
);
CREATE INDEX oauth_states_expires_idx ON oauth_states (expires_at);
