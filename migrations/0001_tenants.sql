-- Tenants: one row per issuer host. Signing keys are derived from the master secret
-- (HKDF, see src/keys.rs), so only the current key version is stored here.
CREATE TABLE IF NOT EXISTS tenants (
  id          TEXT PRIMARY KEY NOT NULL,          -- e.g. "demo"
  issuer      TEXT NOT NULL UNIQUE,               -- exact `iss` of this tenant's tokens
  key_version INTEGER NOT NULL DEFAULT 1 CHECK (key_version >= 1),
  created_at  INTEGER NOT NULL DEFAULT (unixepoch())
);
