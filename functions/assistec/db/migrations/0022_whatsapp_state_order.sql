-- connection.update arrives out of order (webhook retries, parallel deliveries): the state kept is the
-- newest by the envelope's date_time (the server's clock; wrong by its UTC offset, PROVIDERS §1.4,
-- but the same for every event of one server), so an older "connecting" never overwrites "open".
alter table whatsapp_instances add column state_event_at timestamptz;
