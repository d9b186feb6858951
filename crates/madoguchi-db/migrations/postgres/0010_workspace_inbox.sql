-- Authority workspace, inbox and case view (issue #4). Keep in step with
-- ../sqlite/0010_workspace_inbox.sql: same tables, columns and indexes.
--
-- cases.search_text: what the inbox's free-text search looks in (到達番号, corporation name and
-- number, establishment names, kana and 事業所番号), NFKC-normalised and lower-cased, filled at
-- submission; searched with LIKE '%…%' so one- and two-character Japanese queries work.
-- cases.service_codes: the case's service type codes as ',15,78,' (filter: LIKE '%,15,%').
ALTER TABLE cases ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN service_codes TEXT NOT NULL DEFAULT '';

-- Backfill what SQL can compute for cases submitted before this migration (normalised NFKC
-- like the application does; the kana readings the application adds are not backfilled).
UPDATE cases SET
    service_codes = COALESCE((
        SELECT ',' || string_agg(DISTINCT d.service_code, ',') || ','
        FROM case_designations cd JOIN designations d ON d.id = cd.designation_id
        WHERE cd.case_id = cases.id), ''),
    search_text = lower(normalize(
        cases.reference || chr(10)
        || COALESCE((SELECT co.name || chr(10) || COALESCE(co.corporate_number, '')
                     FROM corporations co WHERE co.id = cases.corporation_id), '') || chr(10)
        || COALESCE((SELECT string_agg(e.name || chr(10) || e.office_number, chr(10))
                     FROM filing_establishments fe JOIN establishments e ON e.id = fe.establishment_id
                     WHERE fe.filing_id = cases.filing_id), ''), NFKC));

-- The inbox's orders, each ending in id so keyset pages need no sort step: newest activity
-- (the default), received, and due date (cases without one last), each also per status.
DROP INDEX cases_inbox;
CREATE INDEX cases_inbox_updated ON cases(authority_code, updated_at, id);
CREATE INDEX cases_inbox_status_updated ON cases(authority_code, status, updated_at, id);
CREATE INDEX cases_inbox_received ON cases(authority_code, submitted_at, id);
CREATE INDEX cases_inbox_status_received ON cases(authority_code, status, submitted_at, id);
CREATE INDEX cases_inbox_due ON cases(authority_code, COALESCE(due_on, '9999-12-31'), id);
CREATE INDEX cases_inbox_status_due ON cases(authority_code, status, COALESCE(due_on, '9999-12-31'), id);
CREATE INDEX cases_inbox_assignee ON cases(authority_code, assignee_id, updated_at, id);

-- When each reviewer last opened each case: unread and "changed since I last looked".
CREATE TABLE case_reads (
    case_id TEXT NOT NULL REFERENCES cases(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, user_id)
);

-- A reviewer's saved inbox queries (the query string of /inbox, without paging).
CREATE TABLE saved_filters (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, name)
);
