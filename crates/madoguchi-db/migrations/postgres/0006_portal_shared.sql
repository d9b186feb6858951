-- Provider portal and authority workspace (issue #4): the tables more than one part of the
-- product reads. Satisfaction ratings are written by providers after a submission and read
-- by the authorities' statistics; notifications are written by the use cases that decide
-- cases, by the deadline/expiry sweep, and read by the in-app list and the e-mail digest.
CREATE TABLE satisfaction_ratings (
    id         TEXT PRIMARY KEY,
    filing_id  TEXT NOT NULL REFERENCES filings(id),
    user_id    TEXT NOT NULL REFERENCES users(id),
    score      BIGINT NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment    TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (filing_id, user_id)
);

CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    href       TEXT NOT NULL,
    -- One notification per (user, reason): e.g. 'expiry:<designation id>:3m'.
    dedupe_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at    BIGINT NULL,
    -- Set when the notification was included in an e-mail (immediately or in a digest).
    mailed_at  BIGINT NULL,
    UNIQUE (user_id, dedupe_key)
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);

CREATE TABLE notification_preferences (
    user_id    TEXT PRIMARY KEY REFERENCES users(id),
    -- 'immediate' (one mail per notification), 'daily' (one digest a day) or 'none'.
    email_mode TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
