-- The inbox's due filters (期限切れ, 7日以内) over open cases, in due-date order: one range of
-- this partial index, already in page order, so a page of 50 reads about 50 entries however
-- many cases the authority has. Without it, the filter read every case of the authority due in
-- the range (all statuses) through cases_authority_due, then sorted. Measured with
-- `madoguchi bench inbox` (BENCHMARKS.md). Keep in step with the other backend's 0012.
CREATE INDEX cases_inbox_open_due ON cases(authority_code, COALESCE(due_on, '9999-12-31'), id)
    WHERE status IN ('submitted', 'returned');
