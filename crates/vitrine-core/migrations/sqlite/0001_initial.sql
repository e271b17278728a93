-- Vitrine's first schema: products, their photos and facts, and versioned
-- drafts of generated copy. Timestamps are RFC 3339 UTC text, so they sort
-- correctly as strings and read well in any SQLite client.

CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    created_at  TEXT NOT NULL
);

CREATE INDEX products_created_at ON products (created_at);

CREATE TABLE photos (
    id              INTEGER PRIMARY KEY,
    product_id      INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    -- The same file ingested twice is one photo: de-duplication relies on it.
    sha256          TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
    original_path   TEXT NOT NULL,
    thumbnail_path  TEXT NOT NULL,
    source_name     TEXT NOT NULL,
    width           INTEGER NOT NULL CHECK (width > 0),
    height          INTEGER NOT NULL CHECK (height > 0),
    format          TEXT NOT NULL CHECK (format IN ('jpeg', 'png', 'webp')),
    created_at      TEXT NOT NULL
);

CREATE INDEX photos_product_id ON photos (product_id);

-- Several facts may share a key (a product has more than one colour), so
-- there is deliberately no uniqueness on (product_id, key, value).
CREATE TABLE facts (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    key         TEXT NOT NULL CHECK (length(key) > 0),
    value       TEXT NOT NULL,
    label_en    TEXT NOT NULL,
    label_zh    TEXT NOT NULL,
    source      TEXT NOT NULL
                CHECK (source IN ('colour', 'classifier', 'vision', 'ocr', 'import', 'user')),
    confidence  REAL NOT NULL CHECK (confidence >= 0.0 AND confidence <= 1.0),
    data        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
    created_at  TEXT NOT NULL
);

CREATE INDEX facts_product_id ON facts (product_id, key);

-- Status is free text on purpose: the review workflow's states will grow,
-- and SQLite cannot alter a CHECK without rebuilding the table.
CREATE TABLE drafts (
    id           INTEGER PRIMARY KEY,
    product_id   INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    lang         TEXT NOT NULL,
    marketplace  TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'draft',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE INDEX drafts_product_id ON drafts (product_id);

CREATE TABLE draft_versions (
    id          INTEGER PRIMARY KEY,
    draft_id    INTEGER NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL CHECK (version >= 1),
    -- The Listing as JSON; provenance is absent for a person's edits.
    content     TEXT NOT NULL CHECK (json_valid(content)),
    provenance  TEXT CHECK (provenance IS NULL OR json_valid(provenance)),
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (draft_id, version)
);
