-- Which process holds a pending task in memory (in-process hand-off), and
-- which processes are alive. The scheduler hands out only tasks nobody holds,
-- so a long backlog in a live process's mailboxes is never handed out again,
-- and a dead process's tasks are released once its heartbeat stops.
CREATE TABLE engine_processes (
    owner        text PRIMARY KEY,
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE publish_tasks ADD COLUMN held_by text;

-- The scheduler's query reads only pending tasks nobody holds.
DROP INDEX publish_tasks_due_idx;
CREATE INDEX publish_tasks_unheld_due_idx ON publish_tasks (next_attempt_at)
    WHERE status IN ('queued', 'retry_scheduled', 'unconfirmed') AND held_by IS NULL;
