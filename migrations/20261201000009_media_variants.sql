-- Copies of an image made to fit a platform's byte limit, made when first
-- needed and kept for the next post to that platform.
CREATE TABLE media_variants (
    media_id   uuid NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    max_bytes  bigint NOT NULL,
    sha256     bytea NOT NULL,
    bytes      bigint NOT NULL,
    mime       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (media_id, max_bytes)
);
