-- What the server a connected account is on allows, where that varies (a
-- Mastodon instance's character and media limits), read when it connected.
ALTER TABLE platform_connections ADD COLUMN limits jsonb;
