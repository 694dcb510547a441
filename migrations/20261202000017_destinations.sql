-- Places inside an account a post can go to (the Matrix rooms it joined),
-- read when it connected, each with whether the user picked it.
ALTER TABLE platform_connections ADD COLUMN destinations jsonb;
-- A task posts to one of them; its name is kept for the job's view.
ALTER TABLE publish_tasks ADD COLUMN destination text;
ALTER TABLE publish_tasks ADD COLUMN destination_name text;
