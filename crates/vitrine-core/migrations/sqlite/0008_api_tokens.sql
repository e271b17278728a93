-- Bearer tokens for `vitrine serve` (see docs/API.md). Only the sha256 of a
-- token is stored: whoever reads the database cannot call the API with it.
-- Each token acts as a review-workflow profile, so the audit log names the
-- person behind every HTTP action and the profile's role decides what the
-- token may do.

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    -- hex sha256 of the whole token.
    token_sha256  TEXT NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
    -- The token's first characters, so a list can tell tokens apart.
    prefix        TEXT NOT NULL,
    profile_id    INTEGER NOT NULL REFERENCES profiles (id),
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);

CREATE INDEX api_tokens_profile ON api_tokens (profile_id);
