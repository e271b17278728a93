-- The product knowledge graph (see assets/kg/README.md). Seeded from the
-- built-in files whenever they change; rows a user imported have origin
-- 'user' and are never overwritten by a seed. List-valued fields are JSON
-- arrays of strings.

CREATE TABLE kg_categories (
    key          TEXT PRIMARY KEY NOT NULL CHECK (length(key) > 0),
    en           TEXT NOT NULL,
    zh           TEXT NOT NULL,
    synonyms_en  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(synonyms_en)),
    synonyms_zh  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(synonyms_zh)),
    attributes   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attributes)),
    origin       TEXT NOT NULL CHECK (origin IN ('builtin', 'user'))
);

CREATE TABLE kg_attributes (
    key          TEXT PRIMARY KEY NOT NULL CHECK (length(key) > 0),
    en           TEXT NOT NULL,
    zh           TEXT NOT NULL,
    multi        INTEGER NOT NULL CHECK (multi IN (0, 1)),
    values_from  TEXT,
    origin       TEXT NOT NULL CHECK (origin IN ('builtin', 'user'))
);

CREATE TABLE kg_values (
    attribute    TEXT NOT NULL REFERENCES kg_attributes (key) ON DELETE CASCADE,
    key          TEXT NOT NULL CHECK (length(key) > 0),
    en           TEXT NOT NULL,
    zh           TEXT NOT NULL,
    synonyms_en  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(synonyms_en)),
    synonyms_zh  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(synonyms_zh)),
    -- Insertion order, so values list as their file wrote them.
    position     INTEGER NOT NULL,
    origin       TEXT NOT NULL CHECK (origin IN ('builtin', 'user')),
    PRIMARY KEY (attribute, key)
);

CREATE TABLE kg_relations (
    kind      TEXT NOT NULL CHECK (kind IN ('goes_with', 'bundle_with')),
    from_key  TEXT NOT NULL,
    to_key    TEXT NOT NULL,
    origin    TEXT NOT NULL CHECK (origin IN ('builtin', 'user')),
    PRIMARY KEY (kind, from_key, to_key)
);

CREATE TABLE kg_imagenet (
    idx       INTEGER PRIMARY KEY NOT NULL CHECK (idx BETWEEN 0 AND 999),
    label     TEXT NOT NULL,
    category  TEXT NOT NULL,
    origin    TEXT NOT NULL CHECK (origin IN ('builtin', 'user'))
);

-- The digest of the built-in files last seeded.
CREATE TABLE kg_meta (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    builtin_digest  TEXT NOT NULL
);
