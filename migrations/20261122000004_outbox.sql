-- Task hand-offs waiting to be sent to SQS (queue.kind = "sqs"). Rows are
-- written by the same statement that makes a task runnable, and marked sent
-- only after SQS accepted the message, so a crash between the two re-sends
-- (at least once) and never loses one. No foreign keys: a row may outlive its
-- task (a deleted connection) and is then sent, found gone, and dropped.
CREATE TABLE outbox (
    id             bigserial PRIMARY KEY,
    task_id        uuid NOT NULL,
    job_id         uuid NOT NULL,
    connection_id  uuid NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- A relay leases rows until then; after a failed send, the next try.
    available_at   timestamptz NOT NULL DEFAULT now(),
    attempts       integer NOT NULL DEFAULT 0,
    sent_at        timestamptz
);

CREATE INDEX outbox_unsent_idx ON outbox (available_at, id) WHERE sent_at IS NULL;
CREATE INDEX outbox_unsent_task_idx ON outbox (task_id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;
