-- 0003: a stand-in that changes nothing. The storage helper's migration
-- 0003 takes this number on merge; this file only keeps the versions of
-- this branch contiguous until then, and is deleted at that merge.
SELECT 1;
