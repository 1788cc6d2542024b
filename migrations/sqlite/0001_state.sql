-- The bot's state (SQLite). Keep in step with migrations/postgres: the same tables and
-- columns; only the automatic ids differ. Flags are INTEGER 0 or 1 (sqlx's Any driver maps
-- no SQLite BOOLEAN).
-- Quiz answers: one row per member per quiz question (the quiz message), so an answer is
-- counted once however many shards or retries see it. Scores are sums over these rows.
CREATE TABLE IF NOT EXISTS quiz_answers (
    message BIGINT NOT NULL,
    member BIGINT NOT NULL,
    guild BIGINT,
    channel BIGINT NOT NULL,
    at BIGINT NOT NULL,
    passage TEXT NOT NULL,
    correct INTEGER NOT NULL,
    PRIMARY KEY (message, member)
);
CREATE INDEX IF NOT EXISTS quiz_answers_channel ON quiz_answers (channel, at);
CREATE INDEX IF NOT EXISTS quiz_answers_guild ON quiz_answers (guild, at);
CREATE INDEX IF NOT EXISTS quiz_answers_member ON quiz_answers (member, at);

-- Per-server settings, edited with /settings by the server's admins.
CREATE TABLE IF NOT EXISTS guild_settings (
    guild BIGINT PRIMARY KEY,
    moderator_role BIGINT,
    shared_library INTEGER NOT NULL DEFAULT 1,
    default_briefing TEXT,
    cooldown_questions INTEGER,
    term_start BIGINT,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT NOT NULL
);

-- The audit trail of content changes: who (id and name, as the old audit file had them),
-- where, what, to what, and how it ended.
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor BIGINT NOT NULL,
    actor_name TEXT NOT NULL,
    guild BIGINT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS audit_guild ON audit (guild, at);

-- 👍 / 👎 votes on quotes. No user id or name: the interaction's id only keeps a vote
-- from being counted twice.
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    interaction BIGINT UNIQUE,
    at BIGINT NOT NULL,
    guild BIGINT,
    question TEXT NOT NULL,
    passage TEXT NOT NULL,
    up INTEGER NOT NULL,
    index_version TEXT
);
CREATE INDEX IF NOT EXISTS votes_at ON votes (at);

-- Files of an older briefbot read in (audit.jsonl, feedback.jsonl), by a hash of their
-- bytes: a file is read in once even if renaming it afterwards failed.
CREATE TABLE IF NOT EXISTS imports (
    digest TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    at BIGINT NOT NULL,
    lines BIGINT NOT NULL
);
