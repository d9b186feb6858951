-- Staff credentials (PostgreSQL). Keep in step with ../sqlite/0003_staff_credentials.sql.
-- Times are BIGINT milliseconds (UTC) bound from Rust; identifiers are TEXT.

-- Password and TOTP of a staff account (authority staff and operators; providers sign in by
-- OpenID Connect and have no row here). The password is an Argon2id PHC string; the TOTP
-- secret is base32; `totp_last_step` is the 30-second step of the last accepted code, so a
-- code is never accepted twice.
CREATE TABLE staff_credentials (
    user_id          TEXT PRIMARY KEY REFERENCES users(id),
    password_hash    TEXT NULL,
    password_set_at  BIGINT NULL,
    totp_secret      TEXT NULL,
    totp_enrolled_at BIGINT NULL,
    totp_last_step   BIGINT NULL,
    updated_at       BIGINT NOT NULL
);

-- Single-use recovery codes (120 random bits each, stored as SHA-256).
CREATE TABLE staff_recovery_codes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    code_hash  TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    used_at    BIGINT NULL
);
CREATE INDEX staff_recovery_codes_user ON staff_recovery_codes(user_id);

-- A sign-in between the password and the second factor: bound to a short-lived cookie whose
-- SHA-256 is the key. `enrol_secret` holds the TOTP secret offered at first sign-in until a
-- code from it is confirmed.
CREATE TABLE staff_pending_sign_ins (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    enrol_secret TEXT NULL,
    failures     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX staff_pending_sign_ins_user ON staff_pending_sign_ins(user_id);
