-- The servers the bot is in (PostgreSQL). Keep in step with migrations/sqlite.
-- Which servers the bot is in, and when it left one (no names): `briefbot libraries` tells
-- the libraries of servers it left, and `briefbot libraries prune` moves them aside.
CREATE TABLE IF NOT EXISTS servers (
    guild BIGINT PRIMARY KEY,
    joined_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    left_at BIGINT
);
