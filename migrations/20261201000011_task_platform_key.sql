-- How a task is made idempotent at its platform, chosen by the platform's
-- adapter when the task is created: the key it sends (NULL: the task's id, as
-- for Manch), and for platforms that need it the exact record to write (a
-- Bluesky post with its TID and createdAt), so every retry sends the same.
ALTER TABLE publish_tasks ADD COLUMN platform_key text;
ALTER TABLE publish_tasks ADD COLUMN platform_record jsonb;
