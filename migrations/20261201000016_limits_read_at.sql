-- When the server's limits were last read: they are read again after a day.
ALTER TABLE platform_connections ADD COLUMN limits_read_at timestamptz;
UPDATE platform_connections SET limits_read_at = updated_at WHERE limits IS NOT NULL;
