-- "The previous filing of this procedure for this establishment" (answers carried over into a
-- new draft, batches::latest_submitted_for) walks this index from the newest submission and
-- stops at the first that covers the establishment. Without it, every new draft read all the
-- corporation's filings through filings_corporation and sorted them: a cost that grew with
-- every filing the corporation had ever made (seen in `madoguchi bench server`, which files
-- thousands for one corporation). Keep in step with the other backend's 0016.
CREATE INDEX filings_latest_submitted ON filings(corporation_id, procedure_id, submitted_at DESC, id DESC)
    WHERE status = 'submitted';
