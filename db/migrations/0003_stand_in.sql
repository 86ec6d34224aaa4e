-- 0003: changes nothing. The number was held for the storage work while it
-- was being done; databases made by every build since have run this file
-- at version 3, so it stays, and that work's schema change is 0005.
SELECT 1;
