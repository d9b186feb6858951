-- Provider sign-in by OpenID Connect (postgres). Keep in step with ../sqlite/0002_oidc.sql.
-- Users signing in through an OpenID provider are keyed on (issuer, subject); the provider's
-- account type (GビズID: 1 エントリー, 2 プライム, 3 メンバー) is refreshed at every sign-in.
-- Local accounts (staff, demo users, API-only users) leave these columns NULL.

ALTER TABLE users ADD COLUMN oidc_issuer TEXT NULL;
ALTER TABLE users ADD COLUMN oidc_subject TEXT NULL;
ALTER TABLE users ADD COLUMN oidc_account_type TEXT NULL;
CREATE UNIQUE INDEX users_oidc_identity ON users(oidc_issuer, oidc_subject);

-- Authorization requests in flight: keyed by the SHA-256 of a random value held in a
-- short-lived HttpOnly cookie of the browser that started the sign-in; single use.
CREATE TABLE oidc_requests (
    key_hash      TEXT PRIMARY KEY,
    state         TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX oidc_requests_created ON oidc_requests(created_at);
