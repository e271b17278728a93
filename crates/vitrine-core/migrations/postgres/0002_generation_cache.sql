-- PostgreSQL twin of migrations/sqlite/0002_generation_cache.sql.
CREATE TABLE generation_cache (
    key              TEXT PRIMARY KEY NOT NULL,
    model_id         TEXT NOT NULL,
    model_sha256     TEXT NOT NULL,
    text             TEXT NOT NULL,
    prompt_tokens    BIGINT NOT NULL CHECK (prompt_tokens >= 0),
    generated_tokens BIGINT NOT NULL CHECK (generated_tokens >= 0),
    created_at       TEXT COLLATE "C" NOT NULL,
    hits             BIGINT NOT NULL DEFAULT 0 CHECK (hits >= 0),
    last_hit_at      TEXT
);

CREATE INDEX generation_cache_model ON generation_cache (model_sha256);

-- One row of running totals: lookups answered and lookups that ran a model.
CREATE TABLE generation_cache_stats (
    id     BIGINT PRIMARY KEY CHECK (id = 1),
    hits   BIGINT NOT NULL DEFAULT 0 CHECK (hits >= 0),
    misses BIGINT NOT NULL DEFAULT 0 CHECK (misses >= 0)
);
INSERT INTO generation_cache_stats (id, hits, misses) VALUES (1, 0, 0);
