-- Drafts, edits of waiting posts, and per-target text (issue 17).

-- What the user chose for the post, kept so an edit changes only what it names.
ALTER TABLE posts ADD COLUMN options jsonb;
ALTER TABLE posts ADD COLUMN variations jsonb;
ALTER TABLE posts ADD COLUMN edited_at timestamptz;

-- A target's own text (a variation); NULL: the post's.
ALTER TABLE publish_tasks ADD COLUMN content text;

-- Posts not yet handed to the engine: nothing runs until one is published.
-- Targets and media are kept as chosen (ids, no foreign keys): a connection
-- or an upload removed since is reported when the draft is published.
CREATE TABLE drafts (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content        text NOT NULL DEFAULT '',
    -- NULL: every active connection at publish time.
    connection_ids uuid[],
    media_ids      uuid[] NOT NULL DEFAULT '{}',
    scheduled_at   timestamptz,
    time_zone      text,
    options        jsonb,
    variations     jsonb,
    -- Once published the draft stays, pointing at what it became (a second
    -- publish answers that one; the draft can no longer change).
    published_post_id uuid,
    published_job_id  uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX drafts_user_idx ON drafts (user_id, updated_at DESC);

-- The calendar reads a user's posts by their time (scheduled, or created
-- when published at once).
CREATE INDEX posts_user_time_idx ON posts (user_id, (coalesce(scheduled_at, created_at)), id);
