-- One webhook signing secret per recipient (Standard Webhooks), instead of the one secret every
-- recipient shared (READMIT_DISPATCH__WEBHOOK_SECRET, gone). A secret is stored only wrapped
-- (AES-GCM) by a master key of READMIT_MASTER_KEYS, bound to its officer; during a rotation the
-- previous secret signs beside the new one until `webhook_previous_until`.
--
-- Officers who already have a webhook URL get no secret here: the master key is not the
-- database's to know. Their webhooks wait (and are retried) until `readmit directory import`
-- or `readmit directory webhook-secret` issues one and shows it once.
ALTER TABLE officers
    ADD COLUMN webhook_secret_key_id  text,
    ADD COLUMN webhook_secret         bytea,
    ADD COLUMN webhook_secret_issued_at timestamptz,
    ADD COLUMN webhook_previous_key_id text,
    ADD COLUMN webhook_previous_secret bytea,
    ADD COLUMN webhook_previous_until timestamptz,
    ADD CONSTRAINT officers_webhook_secret_wrapped
        CHECK ((webhook_secret IS NULL) = (webhook_secret_key_id IS NULL)
           AND (webhook_secret IS NULL) = (webhook_secret_issued_at IS NULL)),
    ADD CONSTRAINT officers_webhook_previous_wrapped
        CHECK ((webhook_previous_secret IS NULL) = (webhook_previous_key_id IS NULL)
           AND (webhook_previous_secret IS NULL) = (webhook_previous_until IS NULL)),
    ADD CONSTRAINT officers_webhook_secret_needs_url
        CHECK (webhook_url IS NOT NULL OR (webhook_secret IS NULL AND webhook_previous_secret IS NULL));
