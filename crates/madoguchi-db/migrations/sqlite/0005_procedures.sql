-- Procedures as data (issue #3): the due date of each case, from its procedure's deadline or
-- the authority's own (local rules), and the form version a draft was migrated from (so the
-- form can mark the fields that are new in its current version).
ALTER TABLE cases ADD COLUMN due_on TEXT NULL;
CREATE INDEX cases_authority_due ON cases(authority_code, due_on);
ALTER TABLE filings ADD COLUMN migrated_from TEXT NULL;
