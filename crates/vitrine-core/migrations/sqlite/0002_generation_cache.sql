-- Answers to identical generation requests (same model file, prompt,
-- prefill and sampling parameters including the seed), so asking again costs
-- a lookup instead of a model run. The key hashes the model's sha256, so a
-- changed model never hits old entries.
CREATE TABLE generation_cache (
    key              TEXT PRIMARY KEY NOT NULL,
    model_id         TEXT NOT NULL,
    model_sha256     TEXT NOT NULL,
    text             TEXT NOT NULL,
    prompt_tokens    INTEGER NOT NULL CHECK (prompt_tokens >= 0),
    generated_tokens INTEGER NOT NULL CHECK (generated_tokens >= 0),
    created_at       TEXT NOT NULL,
    hits             INTEGER NOT NULL DEFAULT 0 CHECK (hits >= 0),
    last_hit_at      TEXT
);

CREATE INDEX generation_cache_model ON generation_cache (model_sha256);

-- One row of running totals: lookups answered and lookups that ran a model.
CREATE TABLE generation_cache_stats (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    hits   INTEGER NOT NULL DEFAULT 0 CHECK (hits >= 0),
    misses INTEGER NOT NULL DEFAULT 0 CHECK (misses >= 0)
);
INSERT INTO generation_cache_stats (id, hits, misses) VALUES (1, 0, 0);
