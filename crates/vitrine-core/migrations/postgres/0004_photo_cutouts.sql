-- PostgreSQL twin of migrations/sqlite/0004_photo_cutouts.sql: the product
-- cut out of each photo (PNG with alpha), NULL until the photo is analysed.
ALTER TABLE photos ADD COLUMN cutout_path TEXT;
