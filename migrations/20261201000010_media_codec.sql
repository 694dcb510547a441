-- A video's codec, read from its MP4 boxes (e.g. h264), for platform rules.
ALTER TABLE media ADD COLUMN codec text;
