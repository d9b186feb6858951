-- Ledger linkage (PostgreSQL). Keep in step with ../sqlite/0004_ledger.sql.
-- Times are BIGINT milliseconds (UTC) bound from Rust; JSON is TEXT; identifiers are TEXT.

-- The changes feed of each authority: accepted registry changes and decided cases, numbered
-- 1, 2, 3 … per authority with no gap. `seq` is taken from the counter row
-- `ledger_feed:<authority_code>` (table `counters`) inside the transaction that makes the
-- change, so a later number can never commit before an earlier one.
CREATE TABLE ledger_feed (
    authority_code TEXT NOT NULL REFERENCES authorities(code),
    seq            BIGINT NOT NULL,
    kind           TEXT NOT NULL,
    case_id        TEXT NULL REFERENCES cases(id),
    at             BIGINT NOT NULL,
    payload        TEXT NOT NULL,
    PRIMARY KEY (authority_code, seq)
);

-- Where an authority wants feed entries pushed. `secret` signs the bodies (HMAC-SHA256) and
-- must be readable to sign, so it is stored as is; `active` is 0 or 1.
CREATE TABLE webhook_endpoints (
    id             TEXT PRIMARY KEY,
    authority_code TEXT NOT NULL REFERENCES authorities(code),
    url            TEXT NOT NULL,
    secret         TEXT NOT NULL,
    description    TEXT NOT NULL,
    active         BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_authority ON webhook_endpoints(authority_code);

-- One feed entry to one endpoint. `id` is sent as `Madoguchi-Delivery` (the same on every
-- attempt and redelivery, so receivers can drop duplicates); `status` is pending, delivered
-- or failed; `job_key` is the dedup key of the job currently carrying it (a manual
-- redelivery starts a new round, hence a new job).
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints(id),
    authority_code   TEXT NOT NULL,
    seq              BIGINT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    job_key          TEXT NOT NULL,
    last_status_code BIGINT NULL,
    last_error       TEXT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    delivered_at     BIGINT NULL,
    UNIQUE (endpoint_id, seq),
    FOREIGN KEY (authority_code, seq) REFERENCES ledger_feed(authority_code, seq)
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, seq);

-- Every HTTP attempt of a delivery, shown to the authority's admin. `outcome` is ok,
-- http_error (a non-2xx answer), network_error or timeout.
CREATE TABLE webhook_attempts (
    id          TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id),
    attempt_no  BIGINT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    status_code BIGINT NULL,
    error       TEXT NULL,
    UNIQUE (delivery_id, attempt_no)
);
