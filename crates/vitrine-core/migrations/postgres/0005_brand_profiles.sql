-- PostgreSQL twin of migrations/sqlite/0005_brand_profiles.sql.
CREATE TABLE brand_profiles (
    name        TEXT COLLATE "C" PRIMARY KEY,
    profile     TEXT NOT NULL CHECK (vitrine_json_valid(profile)),
    updated_at  TEXT COLLATE "C" NOT NULL
);
