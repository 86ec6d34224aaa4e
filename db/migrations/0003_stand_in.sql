-- 0003: changes nothing. The number was held for a retention migration,
-- which turned out to need no schema change (retention.go keeps its
-- cursors in meta, and incremental auto-vacuum is switched on at open,
-- which a migration's transaction could not do). Databases made by every
-- build since have run this file at version 3, so it stays.
SELECT 1;
