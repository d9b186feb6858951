-- Provider portal, part B (issue #4): the provider's answers to a return, item by item.
-- Keep in step with ../postgres/0009_portal_tracking.sql.
--
-- A return (差戻し, a `case_events` row of kind 'returned') pins fields and files by path
-- (`fields.x`, `establishments.<id>.x`, `attachments.<requirement>` …). While correcting, the
-- provider may answer a pinned item with a short reply (回答) instead of changing it; the
-- resubmission is refused until every pinned item is changed or answered. At resubmission
-- every pinned item gets its row (`changed` 0/1, the reply, possibly empty) and
-- `sent_version_id` = the version that answered it; rows with `sent_version_id` NULL are
-- replies being written.
CREATE TABLE return_replies (
    event_id        TEXT NOT NULL REFERENCES case_events(id),
    case_id         TEXT NOT NULL REFERENCES cases(id),
    item            TEXT NOT NULL,
    reply           TEXT NOT NULL,
    changed         BIGINT NOT NULL DEFAULT 0,
    user_id         TEXT NOT NULL REFERENCES users(id),
    updated_at      BIGINT NOT NULL,
    sent_version_id TEXT NULL REFERENCES filing_versions(id),
    PRIMARY KEY (event_id, item)
);
CREATE INDEX return_replies_case ON return_replies(case_id);

-- The notification list pages by user, unread first; the digest looks for unmailed rows.
CREATE INDEX notifications_user_unread ON notifications(user_id, read_at);
