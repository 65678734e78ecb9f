-- The shop's WhatsApp choices for quotes and media (issue 11 §2, §5): send every new quote through the
-- quote flow by itself, its reminder and expiry (hours), and whether customers' photos, audios and
-- documents are fetched to S3 (up to a size).
alter table whatsapp_settings
    add column auto_send_quotes boolean not null default false,
    add column quote_reminder_hours integer not null default 24 check (quote_reminder_hours between 1 and 168),
    add column quote_expire_hours integer not null default 72 check (quote_expire_hours between 2 and 720),
    add column fetch_media boolean not null default false,
    add constraint whatsapp_settings_expiry_after_reminder check (quote_expire_hours > quote_reminder_hours);
