// Every end-to-end test's Worker logs are scanned when it stops (tests/e2e/worker.mjs):
// no token, secret API key, master or operator secret, or derived signing seed may appear
// in anything the Worker or wrangler printed. A finding fails the test file that caused it.
import { deriveSeed } from '../../scripts/dev-token.mjs';

/** A compact JWS/JWT: three base64url parts, the first a JSON header. */
const JWT = /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{40,}/;
/** A secret API key (`sk_test_…`/`sk_live_…`) with a body. */
const SECRET_KEY = /sk_(test|live)_[A-Za-z0-9_]{20,}/;

/**
 * The leaks in `output`, as `[what, sample]` pairs (empty: clean). `vars` are the Worker's
 * vars (their secrets are looked for verbatim), `tenants` the seeded tenant ids (their
 * derived seeds for key versions 1–4 are looked for in hex and base64url).
 */
export function findLeaks(output, vars = {}, tenants = []) {
  const leaks = [];
  const jwt = JWT.exec(output);
  if (jwt) leaks.push(['a token', jwt[0].slice(0, 24)]);
  const key = SECRET_KEY.exec(output);
  if (key) leaks.push(['a secret API key', key[0].slice(0, 12)]);
  for (const name of ['TORII_MASTER_SECRET', 'TORII_OPERATOR_SECRET']) {
    const value = vars[name];
    if (typeof value === 'string' && value.length >= 8 && output.includes(value)) leaks.push([name, name]);
  }
  const master = vars.TORII_MASTER_SECRET;
  if (typeof master === 'string' && master.length >= 32) {
    for (const tenant of tenants) {
      for (let version = 1; version <= 4; version++) {
        const seed = deriveSeed(master, tenant, version);
        for (const form of [seed.toString('hex'), seed.toString('base64url'), seed.toString('base64')]) {
          if (output.includes(form)) leaks.push([`the signing seed of ${tenant} v${version}`, form.slice(0, 8)]);
        }
      }
    }
  }
  return leaks;
}

/** Throws when `output` leaks anything `findLeaks` looks for. */
export function assertNoLeaks(output, vars, tenants) {
  const leaks = findLeaks(output, vars, tenants);
  if (leaks.length) {
    throw new Error(`the Worker's logs leak ${leaks.map(([what, s]) => `${what} (${s}…)`).join(', ')}`);
  }
}
