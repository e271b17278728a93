-- The review workflow: local profiles with roles, comments anchored to a
-- draft version's field, and the append-only, hash-chained audit log (see
-- docs/review.md). Plain SQL apart from the two triggers, so the schema
-- ports to PostgreSQL (there: BIGINT ids, and the triggers become one
-- trigger function raising an exception).
--
-- (0006 is the batch jobs' migration.)

CREATE TABLE profiles (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    role        TEXT NOT NULL CHECK (role IN ('author', 'reviewer', 'admin')),
    created_at  TEXT NOT NULL
);

CREATE TABLE comments (
    id          INTEGER PRIMARY KEY,
    draft_id    INTEGER NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL CHECK (version >= 1),
    -- `title`, `bullets[2]` (1-based, as findings name them), `description`…
    field       TEXT NOT NULL CHECK (length(field) > 0),
    -- Character offsets [start, end) in the field's text of that version;
    -- both NULL for a comment on the whole field.
    span_start  INTEGER,
    span_end    INTEGER,
    author      TEXT NOT NULL,
    body        TEXT NOT NULL CHECK (length(trim(body)) > 0),
    created_at  TEXT NOT NULL,
    CHECK ((span_start IS NULL AND span_end IS NULL)
        OR (span_start >= 0 AND span_end >= span_start))
);

CREATE INDEX comments_draft ON comments (draft_id, version);

-- One row per state change, edit, comment, override or profile change,
-- written in the same transaction as the change. Ids are assigned by the
-- writer (previous id + 1) because the id is part of the hashed row; rows
-- outlive what they describe, so entity_id has no foreign key.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   INTEGER NOT NULL,
    before_sha  TEXT CHECK (before_sha IS NULL OR length(before_sha) = 64),
    after_sha   TEXT CHECK (after_sha IS NULL OR length(after_sha) = 64),
    -- JSON object text, hashed exactly as stored.
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL CHECK (length(prev_hash) = 64),
    hash        TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
);

CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

-- Append-only: the application never updates or deletes a row, and these
-- stop anything else that goes through SQLite from doing so by mistake.
-- (Someone with the file can drop them; `vitrine audit verify` catches
-- what they then change.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
