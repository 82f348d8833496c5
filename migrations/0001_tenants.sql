-- torii-edge system of record (D1). KV holds caches only.
--
-- No private key is stored anywhere: a tenant's signing seeds are derived with HKDF from
-- the Worker secret TORII_MASTER_SECRET, the tenant id and the key version
-- (src/keys.rs). This schema holds only key versions, their states and timestamps.
-- Times are seconds since the Unix epoch.

-- Tenants (applications). `issuer` is the exact `iss` of the tenant's tokens; its
-- discovery document and JWKS are served at `<issuer>/.well-known/openid-configuration`
-- and `<issuer>/_torii/.well-known/jwks.json`.
CREATE TABLE IF NOT EXISTS tenants (
  id         TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 63),
  issuer     TEXT NOT NULL UNIQUE CHECK (length(issuer) BETWEEN 1 AND 255),
  created_at INTEGER NOT NULL DEFAULT (unixepoch())
);

-- Custom domains mapped to a tenant (besides `<tenant>.<TORII_BASE_DOMAIN>`).
-- `host` is lower case, without port.
CREATE TABLE IF NOT EXISTS tenant_domains (
  host      TEXT PRIMARY KEY NOT NULL CHECK (host = lower(host) AND length(host) BETWEEN 1 AND 253),
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS tenant_domains_tenant ON tenant_domains(tenant_id);

-- Signing-key versions (src/rotation.rs). A version is in the JWKS from `created_at`
-- (published), signs from `activated_at`, stops signing at `retired_at` and stays
-- published until `retired_at` + the longest token lifetime + skew. `state` is
-- informational (kept up to date by the rotation cron); the timestamps decide.
CREATE TABLE IF NOT EXISTS key_versions (
  tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  version      INTEGER NOT NULL CHECK (version >= 1),
  state        TEXT NOT NULL DEFAULT 'published'
               CHECK (state IN ('published', 'active', 'retiring', 'retired')),
  created_at   INTEGER NOT NULL,
  activated_at INTEGER NOT NULL CHECK (activated_at >= created_at),
  retired_at   INTEGER CHECK (retired_at IS NULL OR retired_at >= activated_at),
  PRIMARY KEY (tenant_id, version)
);

-- Users. Each metadata bag is a JSON object of at most 512 bytes. Private metadata never
-- reaches a token (templates cannot select it).
CREATE TABLE IF NOT EXISTS users (
  tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id               TEXT NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
  email            TEXT CHECK (email IS NULL OR length(email) <= 254),
  email_verified   INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
  first_name       TEXT CHECK (first_name IS NULL OR length(first_name) <= 256),
  last_name        TEXT CHECK (last_name IS NULL OR length(last_name) <= 256),
  public_metadata  TEXT NOT NULL DEFAULT '{}'
                   CHECK (json_valid(public_metadata) AND json_type(public_metadata) = 'object'
                          AND length(CAST(public_metadata AS BLOB)) <= 512),
  unsafe_metadata  TEXT NOT NULL DEFAULT '{}'
                   CHECK (json_valid(unsafe_metadata) AND json_type(unsafe_metadata) = 'object'
                          AND length(CAST(unsafe_metadata AS BLOB)) <= 512),
  private_metadata TEXT NOT NULL DEFAULT '{}'
                   CHECK (json_valid(private_metadata) AND json_type(private_metadata) = 'object'
                          AND length(CAST(private_metadata AS BLOB)) <= 512),
  created_at       INTEGER NOT NULL DEFAULT (unixepoch()),
  PRIMARY KEY (tenant_id, id)
);

-- Sessions. A session token (typ "JWT") carries `sid`; minting checks the row is active.
CREATE TABLE IF NOT EXISTS sessions (
  id         TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 128),
  tenant_id  TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  aal        TEXT,
  org_id     TEXT,
  org_role   TEXT,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()),
  expires_at INTEGER NOT NULL,
  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(tenant_id, user_id);

-- JWT templates (src/template.rs). At most one default per tenant: its claims go into
-- session tokens. `lifetime` (seconds, 30..=86400) overrides the default token lifetime.
CREATE TABLE IF NOT EXISTS templates (
  tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  body       TEXT NOT NULL CHECK (json_valid(body) AND length(CAST(body AS BLOB)) <= 4096),
  lifetime   INTEGER CHECK (lifetime IS NULL OR lifetime BETWEEN 30 AND 86400),
  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
  updated_at INTEGER NOT NULL DEFAULT (unixepoch()),
  PRIMARY KEY (tenant_id, name)
);
CREATE UNIQUE INDEX IF NOT EXISTS templates_one_default ON templates(tenant_id) WHERE is_default = 1;
