// The log scanner finds what it looks for (so a clean scan of every e2e Worker means
// something), and passes ordinary log lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveSeed, mintDevToken } from '../../scripts/dev-token.mjs';
import { findLeaks } from './log-scan.mjs';

const MASTER = 'log-scan-master-secret-not-for-production-0123456789';

test('tokens, secret keys, secrets and derived seeds are found; ordinary lines are not', async () => {
  const token = await mintDevToken({ masterSecret: MASTER, issuer: 'http://127.0.0.1:1' });
  const vars = { TORII_MASTER_SECRET: MASTER, TORII_OPERATOR_SECRET: 'operator-secret-value-123' };
  const clean = '{"msg":"torii-edge gateway","request_id":"abc","tenant":"demo","status":401,"code":"invalid_signature"}';
  assert.deepEqual(findLeaks(clean, vars, ['demo']), []);
  for (const [leak, what] of [
    [`bearer ${token}`, 'a token'],
    ['key sk_live_0123456789abcdefghij0123456789', 'a secret API key'],
    [`secret=${MASTER}`, 'TORII_MASTER_SECRET'],
    ['op operator-secret-value-123', 'TORII_OPERATOR_SECRET'],
    [`seed ${deriveSeed(MASTER, 'demo', 2).toString('hex')}`, 'the signing seed of demo v2'],
    [`seed ${deriveSeed(MASTER, 'acme', 1).toString('base64url')}`, 'the signing seed of acme v1'],
  ]) {
    const found = findLeaks(`${clean}\n${leak}\n`, vars, ['demo', 'acme']).map(([w]) => w);
    assert.ok(found.includes(what), `${what} not found in ${leak.slice(0, 30)}: ${found}`);
  }
});
