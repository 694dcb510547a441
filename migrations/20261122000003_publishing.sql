-- Posts, their publish jobs, one task per target connection, every transition,
-- idempotency keys for POST /api/v1/posts, and personal API tokens.

CREATE TABLE posts (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content      text NOT NULL,
    -- UTC instant; NULL means publish now.
    scheduled_at timestamptz,
    -- The IANA zone the user picked the time in, for display.
    time_zone    text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX posts_user_history_idx ON posts (user_id, created_at DESC, id DESC);

CREATE TABLE publish_jobs (
    id           uuid PRIMARY KEY,
    post_id      uuid NOT NULL UNIQUE REFERENCES posts (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Derived from the tasks by the job's coordinator.
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'running', 'succeeded', 'partially_failed', 'failed', 'cancelled', 'missed')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
CREATE INDEX publish_jobs_user_idx ON publish_jobs (user_id);

CREATE TABLE publish_tasks (
    -- Also the Idempotency-Key sent to the platform: one post per task, ever.
    id               uuid PRIMARY KEY,
    job_id           uuid NOT NULL REFERENCES publish_jobs (id) ON DELETE CASCADE,
    connection_id    uuid NOT NULL REFERENCES platform_connections (id) ON DELETE CASCADE,
    platform_id      text NOT NULL REFERENCES platforms (id),
    status           text NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'retry_scheduled', 'unconfirmed',
                                       'succeeded', 'failed', 'cancelled', 'missed')),
    attempt_count    integer NOT NULL DEFAULT 0,
    -- When the task may next run (scheduled time, retry time).
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    last_error_kind  text,
    external_post_id text,
    external_url     text,
    -- When a process last took it into memory to run; the scheduler re-hands
    -- tasks that sat due and untouched (their process died, a message was lost).
    dispatched_at    timestamptz,
    -- Which process runs it and until when: a crashed process's lease runs out.
    claimed_by       text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz
);
CREATE INDEX publish_tasks_job_idx ON publish_tasks (job_id);
-- Only pending work is indexed: the scheduler's due-task query never scans finished tasks.
CREATE INDEX publish_tasks_due_idx ON publish_tasks (next_attempt_at)
    WHERE status IN ('queued', 'retry_scheduled', 'unconfirmed');
CREATE INDEX publish_tasks_running_idx ON publish_tasks (lease_expires_at)
    WHERE status = 'running';
CREATE INDEX publish_tasks_pending_connection_idx ON publish_tasks (connection_id)
    WHERE status IN ('queued', 'retry_scheduled', 'unconfirmed', 'running');

-- Append-only and written four times per task: no foreign keys, whose checks
-- would double the cost of every event (tasks and jobs are never deleted alone).
CREATE TABLE publish_task_events (
    id              bigserial PRIMARY KEY,
    task_id         uuid NOT NULL,
    job_id          uuid NOT NULL,
    from_status     text,
    to_status       text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    attempt         integer NOT NULL DEFAULT 0,
    -- What the attempt came to: ok, rate_limited, unauthorized, transient, rejected, revoked, unknown.
    outcome         text,
    platform_status integer,
    latency_ms      integer,
    detail          text
);
CREATE INDEX publish_task_events_job_idx ON publish_task_events (job_id, id);

CREATE TABLE idempotency_keys (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text NOT NULL,
    -- SHA-256 of the request body: the same key with another body is refused.
    request_hash bytea NOT NULL,
    -- No foreign key: the key row is written first, in the same statement as the
    -- post, so that the unique key alone decides which concurrent request wins.
    post_id      uuid NOT NULL,
    job_id       uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    -- SHA-256 of the token; the token itself is shown once, at creation.
    token_hash   bytea NOT NULL UNIQUE,
    -- First characters, so a user can tell tokens apart.
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);
