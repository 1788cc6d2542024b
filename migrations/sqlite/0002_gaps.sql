-- The unanswered-questions report (SQLite). Keep in step with migrations/postgres.
-- What members could not find (the unanswered-questions report, /gaps): every refused
-- question and every answer voted 👎, with the server, whether it was asked in a DM, the
-- index version and the nearest briefings — no user id or name. A 👎 may carry a reason.
CREATE TABLE IF NOT EXISTS unanswered (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    guild BIGINT,
    in_dm INTEGER NOT NULL,
    kind TEXT NOT NULL,
    question TEXT NOT NULL,
    index_version TEXT,
    nearest TEXT NOT NULL,
    passage TEXT,
    reason_kind TEXT,
    reason TEXT,
    interaction BIGINT UNIQUE
);
CREATE INDEX IF NOT EXISTS unanswered_guild ON unanswered (guild, at);
CREATE INDEX IF NOT EXISTS unanswered_at ON unanswered (at);

-- How many questions were asked, per server (0: DMs) and day: the denominator of the
-- report's unanswered share. Counts only, no text.
CREATE TABLE IF NOT EXISTS question_counts (
    guild BIGINT NOT NULL,
    day BIGINT NOT NULL,
    asked BIGINT NOT NULL,
    PRIMARY KEY (guild, day)
);

-- A member's own choice not to have their unanswered questions recorded (/privacy).
CREATE TABLE IF NOT EXISTS member_privacy (
    member BIGINT PRIMARY KEY,
    record_questions INTEGER NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A server's choice not to record its members' unanswered questions (/settings).
ALTER TABLE guild_settings ADD COLUMN record_questions INTEGER NOT NULL DEFAULT 1;
