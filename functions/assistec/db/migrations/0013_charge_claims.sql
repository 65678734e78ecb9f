-- A claim on a charge while a request talks to Asaas about it (creating its payment, refunding or
-- cancelling it): committed state, not a lock held across the call. A second request that finds a
-- live claim is refused (409) and calls Asaas for nothing; a claim whose request died runs out
-- (claimed_until), and the next try finishes the charge under the same external reference.
alter table charges
    add column claim_token uuid,
    add column claimed_until timestamptz;
