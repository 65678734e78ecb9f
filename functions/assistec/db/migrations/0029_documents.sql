-- Documents (issue 13 §1): what a shop prints on its intake receipt, quotes and delivery receipt
-- besides its name, CNPJ, phone and e-mail (tenants): its address, its own intake terms, the extra
-- terms of its warranty, and the logo it uploaded (an S3 key of the devices bucket, always under
-- logos/<the shop's id>/). Columns of the shop's settings row: that table's RLS (tenant_isolation,
-- 0002), ops read policy (0003) and assistec_app grants cover them; no new table, no new policy.
alter table tenant_settings
    add column logo_key text check (
        logo_key ~ '^logos/[0-9a-f-]{36}/[0-9a-f-]{36}\.(png|jpg)$'
        and starts_with(logo_key, 'logos/' || tenant_id::text || '/')
    ),
    add column address text check (length(address) <= 300),
    add column intake_terms text check (length(intake_terms) <= 4000),
    add column warranty_terms text check (length(warranty_terms) <= 4000);
