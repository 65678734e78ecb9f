-- The payment flow (Step Functions) waits on a charge with a task token: kept here, server-side
-- only (never in an API answer), and handed back to Step Functions when the charge is paid.
alter table charges add column flow_task_token text check (length(flow_task_token) <= 2048);
