-- The SLA scan reads the clock-moving history of every open ticket on each pass. This
-- index holds those columns in ticket order, so the scan can read the index alone
-- rather than one table row per event (a ticket's events are spread over the table in
-- the order they happened). It extends the (ticket_id, id) index, which it replaces.
CREATE INDEX ticket_events_clock ON ticket_events (ticket_id, id) INCLUDE (at, kind, from_value, to_value);
DROP INDEX ticket_events_ticket;
