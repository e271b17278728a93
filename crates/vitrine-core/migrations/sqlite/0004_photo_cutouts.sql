-- The product cut out of each photo (PNG with alpha), made at ingest: the
-- try-on preview and white-background listing images reuse it. NULL for
-- photos ingested before cut-outs existed, until they are re-analysed.
ALTER TABLE photos ADD COLUMN cutout_path TEXT;
