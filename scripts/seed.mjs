// Demo data for local D1 (`make dev` and the end-to-end tests): a tenant, a user with
// public, unsafe and private metadata, a long-lived session, a default template and the
// seed-002 "hasura" template. `seedSql()` renders it as idempotent SQL (upserts) for
// `wrangler d1 execute DB --local --file`.
//
// CLI: node scripts/seed.mjs --issuer http://127.0.0.1:8787 [--tenant demo] > seed.sql

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const DEMO_TENANT = 'demo';
export const DEMO_USER = 'user_demo';
export const DEMO_SESSION = 'sess_demo';

/** The demo user (metadata bags ≤ 512 bytes each). */
export const DEMO_USER_ROW = {
  id: DEMO_USER,
  email: 'ada@example.com',
  email_verified: 1,
  first_name: 'Ada',
  last_name: 'Lovelace',
  public_metadata: { role: 'admin', plan: 'pro', team: 'engines' },
  unsafe_metadata: { theme: 'dark' },
  private_metadata: { stripe_customer: 'cus_demo_123' },
};

/** Templates: the default (session token claims) and seed 002's "hasura" example. */
export const DEMO_TEMPLATES = [
  {
    name: 'default',
    is_default: 1,
    lifetime: null,
    body: {
      role: '{{ user.public_metadata.role || "member" }}',
      email: '{{ user.email }}',
      plan: '{{ user.public_metadata.plan }}',
    },
  },
  {
    name: 'hasura',
    is_default: 0,
    lifetime: 300,
    body: {
      'https://hasura.io/jwt/claims': {
        'x-hasura-default-role': '{{ user.public_metadata.role || "user" }}',
        'x-hasura-user-id': '{{ user.id }}',
      },
    },
  },
];

const q = (v) =>
  v === null || v === undefined
    ? 'NULL'
    : typeof v === 'number'
      ? String(Math.trunc(v))
      : `'${String(typeof v === 'object' ? JSON.stringify(v) : v).replaceAll("'", "''")}'`;

/**
 * Idempotent SQL seeding `tenant` with `issuer` (and optional custom `domains`), the demo
 * user, session `sess_demo` (active, 30 days) and the templates. With `firstKey`, also
 * the tenant's key version 1, active since `now` (as the Worker creates it on the tenant's
 * first request): a tenant that has served requests before.
 */
export function seedSql({
  tenant = DEMO_TENANT,
  issuer,
  domains = [],
  user = DEMO_USER_ROW,
  templates = DEMO_TEMPLATES,
  session = DEMO_SESSION,
  firstKey = false,
  now = Math.floor(Date.now() / 1000),
}) {
  if (!issuer) throw new Error('seedSql: issuer is required');
  const lines = [
    `INSERT INTO tenants (id, issuer) VALUES (${q(tenant)}, ${q(issuer)}) ` +
      `ON CONFLICT(id) DO UPDATE SET issuer = excluded.issuer;`,
  ];
  for (const host of domains) {
    lines.push(
      `INSERT INTO tenant_domains (host, tenant_id) VALUES (${q(host.toLowerCase())}, ${q(tenant)}) ` +
        `ON CONFLICT(host) DO UPDATE SET tenant_id = excluded.tenant_id;`,
    );
  }
  if (user) {
    const cols = ['id', 'email', 'email_verified', 'first_name', 'last_name', 'public_metadata', 'unsafe_metadata', 'private_metadata'];
    lines.push(
      `INSERT INTO users (tenant_id, ${cols.join(', ')}) VALUES (${q(tenant)}, ${cols.map((c) => q(user[c])).join(', ')}) ` +
        `ON CONFLICT(tenant_id, id) DO UPDATE SET ${cols.slice(1).map((c) => `${c} = excluded.${c}`).join(', ')};`,
    );
    if (session) {
      lines.push(
        `INSERT INTO sessions (id, tenant_id, user_id, status, created_at, expires_at) ` +
          `VALUES (${q(session)}, ${q(tenant)}, ${q(user.id)}, 'active', ${now}, ${now + 30 * 86400}) ` +
          `ON CONFLICT(id) DO UPDATE SET status = 'active', expires_at = excluded.expires_at;`,
      );
    }
  }
  if (firstKey) {
    lines.push(
      `INSERT INTO key_versions (tenant_id, version, state, created_at, activated_at) ` +
        `VALUES (${q(tenant)}, 1, 'active', ${now}, ${now}) ON CONFLICT(tenant_id, version) DO NOTHING;`,
    );
  }
  for (const t of templates) {
    lines.push(
      `INSERT INTO templates (tenant_id, name, body, lifetime, is_default) ` +
        `VALUES (${q(tenant)}, ${q(t.name)}, ${q(t.body)}, ${q(t.lifetime)}, ${t.is_default ? 1 : 0}) ` +
        `ON CONFLICT(tenant_id, name) DO UPDATE SET body = excluded.body, lifetime = excluded.lifetime, ` +
        `is_default = excluded.is_default, updated_at = unixepoch();`,
    );
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      issuer: { type: 'string', default: 'http://127.0.0.1:8787' },
      tenant: { type: 'string', default: DEMO_TENANT },
    },
  });
  process.stdout.write(seedSql({ tenant: values.tenant, issuer: values.issuer }));
}
