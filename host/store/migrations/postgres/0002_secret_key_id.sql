-- The id of the master key that sealed each secret (NULL: sealed in the v1 format, before key ids).
ALTER TABLE secrets ADD COLUMN key_id TEXT;
