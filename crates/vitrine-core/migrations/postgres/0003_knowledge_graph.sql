-- PostgreSQL twin of migrations/sqlite/0003_knowledge_graph.sql: the
-- product knowledge graph (see assets/kg/README.md). List-valued fields are
-- JSON arrays of strings, as text.

CREATE TABLE kg_categories (
    key          TEXT COLLATE "C" PRIMARY KEY NOT NULL CHECK (length(key) > 0),
    en           TEXT NOT NULL,
    zh           TEXT NOT NULL,
    synonyms_en  TEXT NOT NULL DEFAULT '[]' CHECK (vitrine_json_valid(synonyms_en)),
    synonyms_zh  TEXT NOT NULL DEFAULT '[]' CHECK (vitrine_json_valid(synonyms_zh)),
    attributes   TEXT NOT NULL DEFAULT '[]' CHECK (vitrine_json_valid(attributes)),
    origin       TEXT NOT NULL CHECK (origin IN ('builtin', 'user'))
);

CREATE TABLE kg_attributes (
    key          TEXT COLLATE "C" PRIMARY KEY NOT NULL CHECK (length(key) > 0),
    en           TEXT NOT NULL,
    zh           TEXT NOT NULL,
    multi        BIGINT NOT NULL CHECK (multi IN (0, 1)),
    values_from  TEXT,
    origin       TEXT NOT NULL CHECK (origin IN ('builtin', 'user'))
);

CREATE TABLE kg_values (
    attribute    TEXT COLLATE "C" NOT NULL REFERENCES kg_attributes (key) ON DELETE CASCADE,
    key          TEXT COLLATE "C" NOT NULL CHECK (length(key) > 0),
    en           TEXT NOT NULL,
    zh           TEXT NOT NULL,
    synonyms_en  TEXT NOT NULL DEFAULT '[]' CHECK (vitrine_json_valid(synonyms_en)),
    synonyms_zh  TEXT NOT NULL DEFAULT '[]' CHECK (vitrine_json_valid(synonyms_zh)),
    -- Insertion order, so values list as their file wrote them.
    position     BIGINT NOT NULL,
    origin       TEXT NOT NULL CHECK (origin IN ('builtin', 'user')),
    PRIMARY KEY (attribute, key)
);

CREATE TABLE kg_relations (
    kind      TEXT COLLATE "C" NOT NULL CHECK (kind IN ('goes_with', 'bundle_with')),
    from_key  TEXT COLLATE "C" NOT NULL,
    to_key    TEXT COLLATE "C" NOT NULL,
    origin    TEXT NOT NULL CHECK (origin IN ('builtin', 'user')),
    PRIMARY KEY (kind, from_key, to_key)
);

CREATE TABLE kg_imagenet (
    idx       BIGINT PRIMARY KEY NOT NULL CHECK (idx BETWEEN 0 AND 999),
    label     TEXT NOT NULL,
    category  TEXT NOT NULL,
    origin    TEXT NOT NULL CHECK (origin IN ('builtin', 'user'))
);

-- The digest of the built-in files last seeded.
CREATE TABLE kg_meta (
    id              BIGINT PRIMARY KEY CHECK (id = 1),
    builtin_digest  TEXT NOT NULL
);
