-- The pending-scheduled quota counts a user's posts still to come: each window
-- of the count reads an index (posts made now are not in this one, so the
-- publish path writes no more than before).
CREATE INDEX posts_user_scheduled_idx ON posts (user_id, scheduled_at) WHERE scheduled_at IS NOT NULL;
