-- Pings no longer keep an index of deadlines up to date.
--
-- Every ping moves its check's deadline. With next_due_at indexed, PostgreSQL could not
-- update a check in place (a HOT update): each ping wrote a new index entry into every
-- index of the table, and the table and its indexes bloated under load. The watcher
-- reads the few checks that are due with a scan of the checks table instead, a few
-- milliseconds for 100,000 checks, once per watch.
DROP INDEX checks_next_due;
-- Room on each page for the next version of a row, so an update stays on its page.
-- (Pages written before this migration get the room as they are pruned.)
ALTER TABLE checks SET (fillfactor = 70);
