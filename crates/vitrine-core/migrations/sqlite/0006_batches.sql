-- Catalogue imports and batch jobs.
--
-- A product imported from a catalogue keeps the shop's handle (its key in
-- the shop, so a second import of the same file updates rather than
-- duplicates) and the rows it came from, so an export can write them back
-- with only the copy replaced.

ALTER TABLE products ADD COLUMN handle TEXT;
CREATE UNIQUE INDEX products_handle ON products (handle) WHERE handle IS NOT NULL;

CREATE TABLE product_sources (
    product_id   INTEGER PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    -- `shopify`, `generic` or `folder`.
    format       TEXT NOT NULL,
    file         TEXT NOT NULL,
    line         INTEGER NOT NULL,
    -- The parsed catalogue product (its original rows included) as JSON.
    data         TEXT NOT NULL CHECK (json_valid(data)),
    imported_at  TEXT NOT NULL
);

-- A batch: what to generate for which products. Status: queued, running,
-- paused, cancelled, done. A batch is `running` only while a process holds
-- its lock file; a crashed runner leaves `running` behind, which the next
-- runner treats as paused.
CREATE TABLE batches (
    id           INTEGER PRIMARY KEY,
    source       TEXT NOT NULL,
    spec         TEXT NOT NULL CHECK (json_valid(spec)),
    status       TEXT NOT NULL DEFAULT 'queued',
    -- Why the batch stopped, when it stopped on an error (a full disk).
    error        TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    finished_at  TEXT
);

-- One unit of work: one output, in one language, for one product.
-- Status: pending, running, done, failed, skipped.
CREATE TABLE batch_items (
    id           INTEGER PRIMARY KEY,
    batch_id     INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    product_id   INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    lang         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    draft_id     INTEGER REFERENCES drafts (id) ON DELETE SET NULL,
    error        TEXT,
    started_at   TEXT,
    finished_at  TEXT,
    -- Time in the pipeline, and time in the job system around it.
    gen_ms       INTEGER,
    overhead_us  INTEGER,
    UNIQUE (batch_id, product_id, kind, lang)
);

CREATE INDEX batch_items_status ON batch_items (batch_id, status);

-- Rows of the batch's catalogue that could not be imported.
CREATE TABLE batch_import_errors (
    id        INTEGER PRIMARY KEY,
    batch_id  INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    line      INTEGER,
    handle    TEXT,
    message   TEXT NOT NULL
);

-- The draft a batch item produced. Unique: an item can never produce two
-- drafts, whatever happens to the process in between.
ALTER TABLE drafts ADD COLUMN batch_item_id INTEGER REFERENCES batch_items (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX drafts_batch_item ON drafts (batch_item_id) WHERE batch_item_id IS NOT NULL;
