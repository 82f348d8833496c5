-- Backend API (/v1): applications' environment and CORS origins, API keys, idempotency
-- records, and the columns users and templates need for ETags and uniqueness.
-- Times are seconds since the Unix epoch. SQLite: ADD COLUMN takes constant defaults only.

-- Applications are tenants: their environment decides the prefix of their secret keys
-- (development: sk_test_, production: sk_live_).
ALTER TABLE tenants ADD COLUMN environment TEXT NOT NULL DEFAULT 'development'
  CHECK (environment IN ('development', 'production'));
-- Origins allowed to call the application from browsers: a JSON array of strings.
ALTER TABLE tenants ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]'
  CHECK (json_valid(allowed_origins) AND json_type(allowed_origins) = 'array');

-- Secret keys (src/api/keys.rs). Never the secret: its key id (public, the lookup key)
-- and a SHA-256 / HMAC-SHA256 hash of the whole key (64 hex characters).
CREATE TABLE IF NOT EXISTS api_keys (
  key_id       TEXT PRIMARY KEY NOT NULL CHECK (length(key_id) = 12),
  tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  scopes       TEXT NOT NULL CHECK (json_valid(scopes) AND json_type(scopes) = 'array'),
  secret_hash  TEXT NOT NULL CHECK (length(secret_hash) = 64),
  prefix       TEXT NOT NULL CHECK (prefix LIKE 'sk_test_%' OR prefix LIKE 'sk_live_%'),
  last_four    TEXT NOT NULL CHECK (length(last_four) = 4),
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  expires_at   INTEGER CHECK (expires_at IS NULL OR expires_at > created_at),
  revoked_at   INTEGER
);
-- Names are unique per application (among keys not revoked: a rolled or revoked key
-- frees its name).
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_name ON api_keys(tenant_id, name)
  WHERE revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS api_keys_list ON api_keys(tenant_id, created_at, key_id);

-- Idempotency-Key records (src/api/idempotency.rs): the first response to a key, for
-- 24 h. `status` is NULL while the first request is in flight.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  key         TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  fingerprint TEXT NOT NULL CHECK (length(fingerprint) = 64),
  status      INTEGER CHECK (status IS NULL OR status BETWEEN 100 AND 599),
  body        TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_age ON idempotency_keys(created_at);

-- Users: ETags (version, incremented by every write; updated_at) and one user per email
-- in an application (emails compared as stored; the API lower-cases nothing).
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE users ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE users SET updated_at = created_at WHERE updated_at = 0;
CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users(tenant_id, email)
  WHERE email IS NOT NULL;
CREATE INDEX IF NOT EXISTS users_list ON users(tenant_id, created_at, id);

-- Sessions: list order.
CREATE INDEX IF NOT EXISTS sessions_list ON sessions(tenant_id, created_at, id);

-- Templates: ETags and list order. The name is unique per application (the primary key
-- (tenant_id, name)) and at most one is the default (templates_one_default, 0001).
ALTER TABLE templates ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE templates ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
UPDATE templates SET created_at = updated_at WHERE created_at = 0;
CREATE INDEX IF NOT EXISTS templates_list ON templates(tenant_id, created_at, name);
