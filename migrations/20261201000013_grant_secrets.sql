-- What a grant needs besides its tokens, opaque to all but the platform's
-- adapter, sealed like a token: Bluesky's DPoP key with the client and
-- issuer its tokens are bound to; a Mastodon instance's app credentials. A
-- pending authorization keeps the one it began with until the callback.
ALTER TABLE platform_connections ADD COLUMN grant_secret jsonb;
ALTER TABLE oauth_states ADD COLUMN grant_secret jsonb;
