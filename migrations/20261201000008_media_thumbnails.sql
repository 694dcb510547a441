-- A small JPEG of each image (and a GIF's first frame) for the web app.
ALTER TABLE media ADD COLUMN thumb_sha256 bytea;
