-- The identity's sequence hands out ids from a cache of 32 by default. On embedded H2 each refill is
-- a commit of its own (and, with WRITE_DELAY=0, a write of the database file), three or four per
-- ledger batch of 100 rows: 28% of the ledger writer's CPU. A gap in the ids after a restart is harmless
-- (reports order by created_at, then id).
ALTER TABLE usage ALTER COLUMN id SET CACHE 10000;
