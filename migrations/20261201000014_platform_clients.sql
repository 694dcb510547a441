-- Prasaran's own registration as an OAuth client at one server of a platform
-- with many (an app per Mastodon instance), made once and reused by every
-- user who connects an account there. The credentials are sealed.
CREATE TABLE platform_clients (
    platform_id   text NOT NULL,
    service_url   text NOT NULL,
    redirect_uri  text NOT NULL,
    secret        jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform_id, service_url, redirect_uri)
);
