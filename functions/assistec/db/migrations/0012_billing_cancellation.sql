-- A shop that cancels keeps its access until the end of what it paid for (the next due date, or the
-- trial's end); the daily run then marks it cancelled. A shop in arrears is cancelled at once.
alter table tenant_subscriptions add column cancel_on date;
create index tenant_subscriptions_cancelling on tenant_subscriptions (cancel_on) where cancel_on is not null;
