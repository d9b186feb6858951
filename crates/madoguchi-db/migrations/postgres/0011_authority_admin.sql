-- Authority admin (issue #4, workspace part B; PostgreSQL). Keep in step with the other backend's
-- 0011_authority_admin.sql. Times are BIGINT milliseconds (UTC) bound from Rust.

-- Local rules (独自ルール) an authority's admin published through the admin pages: one row per
-- publication, never updated, so the rule in force at any time can be read back. The newest
-- row of an (authority, procedure) replaces the embedded file of the same pair; `source` is
-- the rule's TOML document (the format of procedures/local-rules/, checked by the same loader).
CREATE TABLE authority_local_rules (
    id             TEXT PRIMARY KEY,
    authority_code TEXT NOT NULL REFERENCES authorities(code),
    procedure_id   TEXT NOT NULL,
    source         TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    published_by   TEXT NOT NULL REFERENCES users(id),
    published_at   BIGINT NOT NULL
);
CREATE INDEX authority_local_rules_current
    ON authority_local_rules(authority_code, procedure_id, published_at);

-- The admin's working copy of a rule, edited through forms and previewed before publishing.
CREATE TABLE authority_local_rule_drafts (
    authority_code TEXT NOT NULL REFERENCES authorities(code),
    procedure_id   TEXT NOT NULL,
    source         TEXT NOT NULL,
    updated_by     TEXT NOT NULL REFERENCES users(id),
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (authority_code, procedure_id)
);

-- What an authority shows providers besides its name and e-mail (kept in `authorities`):
-- its postal address and telephone number for enquiries.
CREATE TABLE authority_details (
    authority_code TEXT PRIMARY KEY REFERENCES authorities(code),
    address        TEXT NOT NULL,
    phone          TEXT NOT NULL,
    updated_by     TEXT NOT NULL REFERENCES users(id),
    updated_at     BIGINT NOT NULL
);
