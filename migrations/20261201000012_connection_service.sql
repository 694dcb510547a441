-- The server a connected account lives on, for platforms with many (a
-- Bluesky PDS, a Mastodon instance, a Matrix homeserver); NULL: the
-- platform's configured one (Manch).
ALTER TABLE platform_connections ADD COLUMN service_url text;
