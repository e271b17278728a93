-- Brand profiles (voice, word lists, required phrases, examples) as JSON,
-- one row per brand; `vitrine brand import` replaces a brand's row whole.
CREATE TABLE brand_profiles (
    name        TEXT PRIMARY KEY,
    profile     TEXT NOT NULL CHECK (json_valid(profile)),
    updated_at  TEXT NOT NULL
);
