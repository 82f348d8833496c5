// End-to-end: the gateway checks signatures with WebCrypto (native Ed25519) plus the
// strict rules the core's backends enforce. Every Wycheproof Ed25519 vector and every
// speccheck case gives the same answer through the Worker's path as through the core's, and
// the expected one.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDemoOrigin } from '../../scripts/demo-origin.mjs';
import { mintDevToken } from '../../scripts/dev-token.mjs';
import { ROOT, startWorker } from './worker.mjs';

const SECRET = 'e2e-gateway-signatures-secret-not-for-production-0123';
// Ed25519's group order L, little-endian.
const L = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

describe('gateway signature checks under wrangler dev', () => {
  let worker;
  let origin;
  before(async () => {
    origin = await startDemoOrigin({ quiet: true });
    worker = await startWorker({ TORII_MASTER_SECRET: SECRET, ORIGIN_URL: origin.url, TORII_DEV_MODE: '1' });
    origin.edge = worker.origin;
  });
  after(async () => {
    await worker?.stop();
    await origin?.close();
  });
  /** `{ gateway, core }`: both paths' answer for a hex public key, message and signature. */
  const ed25519 = async (pk, msg, sig) => {
    const q = new URLSearchParams({ pk, msg, sig });
    return (await fetch(`${worker.origin}/_torii/dev/ed25519?${q}`)).json();
  };

  test('Wycheproof Ed25519: the Worker path agrees with the core and the expected result', async () => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'tests', 'data', 'vectors', 'wycheproof', 'ed25519_test.json'), 'utf8'));
    let n = 0;
    for (const group of doc.testGroups) {
      for (const t of group.tests) {
        const { gateway, core } = await ed25519(group.publicKey.pk, t.msg, t.sig);
        const expected = t.result === 'valid';
        assert.equal(core, expected, `core, tcId ${t.tcId} ${t.comment}`);
        assert.equal(gateway, expected, `gateway, tcId ${t.tcId} ${t.comment} ${t.flags}`);
        n++;
      }
    }
    assert.equal(n, doc.numberOfTests);
    const c = await (await fetch(`${worker.origin}/_torii/dev/counters`)).json();
    assert.ok(c.webcrypto_verifies > 0, 'WebCrypto was used');
    assert.equal(c.webcrypto_failures, 0);
  });

  test('speccheck ("Taming the many EdDSAs"): only case 3 is accepted, by the Worker path and the core', async () => {
    const cases = JSON.parse(readFileSync(join(ROOT, 'tests', 'data', 'vectors', 'speccheck', 'cases.json'), 'utf8'));
    assert.equal(cases.length, 12);
    for (const [i, c] of cases.entries()) {
      assert.deepEqual(await ed25519(c.pub_key, c.message, c.signature), { gateway: i === 3, core: i === 3 }, `speccheck case ${i}`);
    }
  });

  test('random keys and messages: valid, bit-flipped and small-order-R signatures agree with the core', async () => {
    const ask = (pk, msg, sig) => ed25519(pk.toString('hex'), msg.toString('hex'), sig.toString('hex'));
    const identity = Buffer.alloc(32);
    identity[0] = 1;
    for (let i = 0; i < 60; i++) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const pk = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
      const msg = randomBytes(i % 7 === 0 ? 0 : 1 + (i * 37) % 300);
      const sig = sign(null, msg, privateKey);
      assert.deepEqual(await ask(pk, msg, sig), { gateway: true, core: true }, `valid #${i}`);
      const flipped = Buffer.from(sig);
      flipped[(i * 13) % 64] ^= 1 << (i % 8);
      const r1 = await ask(pk, msg, flipped);
      assert.deepEqual(r1, { gateway: false, core: false }, `sig bit flip #${i}`);
      if (msg.length > 0) {
        const other = Buffer.from(msg);
        other[i % other.length] ^= 0x80;
        assert.deepEqual(await ask(pk, other, sig), { gateway: false, core: false }, `msg flip #${i}`);
      }
      const smallR = Buffer.concat([identity, sig.subarray(32)]);
      assert.deepEqual(await ask(pk, msg, smallR), { gateway: false, core: false }, `small-order R #${i}`);
    }
  });

  test('a token whose S was malleated to S + L is refused (401 invalid_signature)', async () => {
    const token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin });
    const ok = await fetch(`${worker.origin}/api/x`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    const [h, p, s] = token.split('.');
    const sig = Buffer.from(s, 'base64url');
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const v = sig[32 + i] + L[i] + carry;
      sig[32 + i] = v & 0xff;
      carry = v >> 8;
    }
    assert.equal(carry, 0, 'S + L fits in 32 bytes');
    const seen = origin.requests.length;
    const res = await fetch(`${worker.origin}/api/x`, {
      headers: { authorization: `Bearer ${h}.${p}.${sig.toString('base64url')}` },
    });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).code, 'invalid_signature');
    assert.equal(origin.requests.length, seen);
  });
});
