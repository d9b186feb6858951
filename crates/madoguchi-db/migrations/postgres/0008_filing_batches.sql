-- Provider portal, part A (issue #4): drafts prepared together, and where prefilled answers
-- came from. A batch is either the 変更届 drafts one registry change on マイページ called for
-- ('change'), or a 一括申請 of one procedure for several establishments ('bulk'); its drafts
-- are reviewed and submitted together. Each filing belongs to at most one batch.
CREATE TABLE filing_batches (
    id             TEXT PRIMARY KEY,
    corporation_id TEXT NOT NULL REFERENCES corporations(id),
    kind           TEXT NOT NULL,
    procedure_id   TEXT NOT NULL,
    -- JSON: for 'change', the changed registry values (target, key, label, old, new).
    summary        TEXT NOT NULL,
    created_by     TEXT NOT NULL REFERENCES users(id),
    created_at     BIGINT NOT NULL
);
CREATE INDEX filing_batches_corporation ON filing_batches(corporation_id, created_at);

CREATE TABLE filing_batch_members (
    batch_id  TEXT NOT NULL REFERENCES filing_batches(id),
    filing_id TEXT NOT NULL UNIQUE REFERENCES filings(id),
    position  BIGINT NOT NULL,
    PRIMARY KEY (batch_id, filing_id)
);

-- One row per answer filled in for the provider when a draft was started (or a 付表 copied):
-- 'registry' (source_ref = registry key), 'previous' (source_ref = the earlier filing's id),
-- 'change' (the new value entered on マイページ), 'annex' (source_ref = the filing copied
-- from). `value` is the JSON answer as filled; the label is shown while the answer still
-- equals it.
CREATE TABLE filing_prefill_sources (
    filing_id  TEXT NOT NULL REFERENCES filings(id),
    path       TEXT NOT NULL,
    source     TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    label      TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (filing_id, path)
);
