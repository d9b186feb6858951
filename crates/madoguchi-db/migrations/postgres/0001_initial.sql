-- Madoguchi initial schema (PostgreSQL). Keep in step with ../sqlite/0001_initial.sql:
-- same tables, same columns, same names. Times are BIGINT milliseconds since the Unix
-- epoch (UTC), bound from Rust; JSON documents are TEXT; identifiers are TEXT.

CREATE TABLE authorities (
    code            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    prefecture_code TEXT NOT NULL,
    delegate_code   TEXT NULL REFERENCES authorities(code),
    email           TEXT NOT NULL DEFAULT ''
);

CREATE TABLE corporations (
    id               TEXT PRIMARY KEY,
    corporate_number TEXT NULL UNIQUE,
    name             TEXT NOT NULL,
    profile          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE TABLE establishments (
    id                TEXT PRIMARY KEY,
    corporation_id    TEXT NOT NULL REFERENCES corporations(id),
    office_number     TEXT NOT NULL UNIQUE,
    municipality_code TEXT NOT NULL REFERENCES authorities(code),
    name              TEXT NOT NULL,
    profile           TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX establishments_corporation ON establishments(corporation_id);

CREATE TABLE designations (
    id               TEXT PRIMARY KEY,
    establishment_id TEXT NOT NULL REFERENCES establishments(id),
    service_code     TEXT NOT NULL,
    authority_code   TEXT NOT NULL REFERENCES authorities(code),
    valid_from       TEXT NOT NULL,
    valid_until      TEXT NOT NULL,
    UNIQUE (establishment_id, service_code)
);
CREATE INDEX designations_authority ON designations(authority_code);

CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    login        TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    disabled_at  BIGINT NULL
);

CREATE TABLE memberships (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id),
    role           TEXT NOT NULL,
    corporation_id TEXT NULL REFERENCES corporations(id),
    authority_code TEXT NULL REFERENCES authorities(code),
    created_at     BIGINT NOT NULL
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    token_hash   TEXT NOT NULL UNIQUE,
    label        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT NULL
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE filings (
    id                TEXT PRIMARY KEY,
    corporation_id    TEXT NOT NULL REFERENCES corporations(id),
    procedure_id      TEXT NOT NULL,
    procedure_version TEXT NOT NULL,
    status            TEXT NOT NULL,
    data              TEXT NOT NULL,
    reference         TEXT NULL UNIQUE,
    created_by        TEXT NOT NULL REFERENCES users(id),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    submitted_at      BIGINT NULL,
    lock_version      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX filings_corporation ON filings(corporation_id, updated_at);

CREATE TABLE filing_establishments (
    filing_id        TEXT NOT NULL REFERENCES filings(id),
    establishment_id TEXT NOT NULL REFERENCES establishments(id),
    PRIMARY KEY (filing_id, establishment_id)
);

CREATE TABLE filing_versions (
    id             TEXT PRIMARY KEY,
    filing_id      TEXT NOT NULL REFERENCES filings(id),
    version_no     BIGINT NOT NULL,
    data           TEXT NOT NULL,
    attachments    TEXT NOT NULL,
    establishments TEXT NOT NULL,
    created_by     TEXT NOT NULL REFERENCES users(id),
    created_at     BIGINT NOT NULL,
    UNIQUE (filing_id, version_no)
);

CREATE TABLE cases (
    id                 TEXT PRIMARY KEY,
    filing_id          TEXT NOT NULL REFERENCES filings(id),
    corporation_id     TEXT NOT NULL REFERENCES corporations(id),
    authority_code     TEXT NOT NULL REFERENCES authorities(code),
    procedure_id       TEXT NOT NULL,
    status             TEXT NOT NULL,
    current_version_id TEXT NOT NULL REFERENCES filing_versions(id),
    reference          TEXT NOT NULL UNIQUE,
    assignee_id        TEXT NULL REFERENCES users(id),
    submitted_at       BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    decided_at         BIGINT NULL,
    UNIQUE (filing_id, authority_code)
);
CREATE INDEX cases_inbox ON cases(authority_code, status, updated_at);
CREATE INDEX cases_filing ON cases(filing_id);

CREATE TABLE case_designations (
    case_id        TEXT NOT NULL REFERENCES cases(id),
    designation_id TEXT NOT NULL REFERENCES designations(id),
    PRIMARY KEY (case_id, designation_id)
);

CREATE TABLE case_events (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    kind        TEXT NOT NULL,
    visibility  TEXT NOT NULL,
    actor_id    TEXT NOT NULL REFERENCES users(id),
    at          BIGINT NOT NULL,
    version_id  TEXT NULL REFERENCES filing_versions(id),
    message     TEXT NOT NULL,
    fields      TEXT NOT NULL,
    attachments TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events(case_id, at);

CREATE TABLE attachments (
    id             TEXT PRIMARY KEY,
    sha256         TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    content_type   TEXT NOT NULL,
    filename       TEXT NOT NULL,
    corporation_id TEXT NULL REFERENCES corporations(id),
    authority_code TEXT NULL REFERENCES authorities(code),
    uploaded_by    TEXT NOT NULL REFERENCES users(id),
    created_at     BIGINT NOT NULL
);
CREATE INDEX attachments_sha256 ON attachments(sha256);

CREATE TABLE filing_attachments (
    filing_id      TEXT NOT NULL REFERENCES filings(id),
    attachment_id  TEXT NOT NULL REFERENCES attachments(id),
    requirement_id TEXT NOT NULL,
    added_at       BIGINT NOT NULL,
    PRIMARY KEY (filing_id, attachment_id, requirement_id)
);

CREATE TABLE registry_changes (
    id             TEXT PRIMARY KEY,
    case_id        TEXT NOT NULL REFERENCES cases(id),
    authority_code TEXT NOT NULL REFERENCES authorities(code),
    target_kind    TEXT NOT NULL,
    target_id      TEXT NOT NULL,
    field_key      TEXT NOT NULL,
    old_value      TEXT NOT NULL,
    new_value      TEXT NOT NULL,
    at             BIGINT NOT NULL
);
CREATE INDEX registry_changes_target ON registry_changes(target_kind, target_id);

CREATE TABLE idempotency_keys (
    user_id    TEXT NOT NULL REFERENCES users(id),
    idem_key   TEXT NOT NULL,
    filing_id  TEXT NOT NULL REFERENCES filings(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

CREATE TABLE audit_events (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    dedup_key    TEXT NULL UNIQUE,
    status       TEXT NOT NULL,
    attempts     BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    run_at       BIGINT NOT NULL,
    locked_until BIGINT NULL,
    last_error   TEXT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs(status, run_at);

CREATE TABLE job_attempts (
    id          TEXT PRIMARY KEY,
    job_id      TEXT NOT NULL REFERENCES jobs(id),
    attempt_no  BIGINT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    error       TEXT NULL
);
CREATE INDEX job_attempts_job ON job_attempts(job_id);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
