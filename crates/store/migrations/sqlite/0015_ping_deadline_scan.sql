-- Pings no longer keep an index of deadlines up to date.
--
-- Every ping moves its check's deadline, so an index on next_due_at took a write of
-- its own per ping. The watcher reads the few checks that are due with a scan of the
-- checks table instead, a few milliseconds for 100,000 checks, once per watch.
DROP INDEX checks_next_due;
