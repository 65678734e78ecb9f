-- Money states (issue 10 §3).
--
-- A refund Asaas reports as requested or in progress (REFUND_REQUESTED, REFUND_IN_PROGRESS) is its
-- own charge state, 'refunding': the money is still the shop's until Asaas says REFUNDED, so the
-- order's received amount keeps counting it, and it is neither open (no cancel) nor refundable again.
alter table charges drop constraint charges_status_check;
alter table charges add constraint charges_status_check check (status in (
    'pending', 'overdue', 'paid', 'refunding', 'refunded', 'chargeback', 'cancelled'));

-- The id of our webhook in the shop's Asaas account, so a reconnection removes it from the account
-- it was registered in (null for accounts connected before this migration: found by its URL).
alter table payment_accounts add column asaas_webhook_id text;

-- A reconnection forgets the shop's customers' ids in the old Asaas account (the new key cannot use
-- them; each is found again by its external reference, or created, on the next charge).
grant delete on asaas_customers to assistec_app;
