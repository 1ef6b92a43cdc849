-- Indexes the ping writer keeps up to date, cut to what is read.
--
-- Run ids are rare, but a full index on (check_id, rid) took a random page write for
-- every ping; only pings with a run id are ever looked up by it (`rid = $2`).
DROP INDEX pings_check_rid;
CREATE INDEX pings_check_rid ON pings(check_id, rid) WHERE rid IS NOT NULL;

-- The retention job drops hourly ping counts older than it keeps (400 days), oldest
-- first; this index lets it find them without reading every check's hours.
CREATE INDEX ping_hours_hour ON ping_hours(hour);
