-- Media a user uploaded, the media of each post (ordered), and what each task
-- already uploaded to its platform (so a retry never uploads twice).

CREATE TABLE media (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('image', 'gif', 'video')),
    mime          text NOT NULL,
    bytes         bigint NOT NULL,
    width         integer,
    height        integer,
    duration_ms   bigint,
    -- The upload as received (content address of the original object).
    sha256        bytea NOT NULL,
    -- What is sent to platforms: re-encoded without metadata (images), or the
    -- original (GIF, video).
    clean_sha256  bytea NOT NULL,
    clean_bytes   bigint NOT NULL,
    alt_text      text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Set when a post first uses it; unattached uploads expire.
    attached_at   timestamptz
);
CREATE INDEX media_user_idx ON media (user_id, created_at DESC);
CREATE INDEX media_unattached_idx ON media (created_at) WHERE attached_at IS NULL;

CREATE TABLE post_media (
    post_id   uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    position  smallint NOT NULL,
    -- Deleting media is refused while a pending post uses it; a finished
    -- post's record of its media goes with the media.
    media_id  uuid NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, position)
);
CREATE INDEX post_media_media_idx ON post_media (media_id);

CREATE TABLE task_media (
    task_id            uuid NOT NULL REFERENCES publish_tasks (id) ON DELETE CASCADE,
    position           smallint NOT NULL,
    platform_media_id  text NOT NULL,
    uploaded_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, position)
);

-- How many media a post has, read with its content when a task is claimed, so
-- a text-only task costs no further query.
ALTER TABLE posts ADD COLUMN media_count smallint NOT NULL DEFAULT 0;
