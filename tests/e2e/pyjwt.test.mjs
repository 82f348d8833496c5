// Interop with PyJWT (Python, pinned in tests/e2e/requirements.txt, installed into
// .tools/venv by `make py-tools`): tokens signed with the edge's key verify in PyJWT
// through the JWKS the real edge serves (PyJWKClient, OKP/Ed25519 via `cryptography`), as
// any OIDC library would: a session token from scripts/dev-token.mjs, and an edge
// assertion the Worker itself signed for a request it forwarded. Tampered or mis-issued
// tokens fail there too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, startWorker } from './worker.mjs';

const run = promisify(execFile);
const PYTHON = join(ROOT, '.tools', 'venv', 'bin', 'python');
const SECRET = 'e2e-pyjwt-master-secret-not-for-production-0123456789';
const JWKS_PATH = '/_torii/.well-known/jwks.json';

// argv: jwks_url issuer token typ [audience]; prints {"kid", "typ", "claims"} or {"error"}.
const VERIFY_PY = `
import json, sys
import jwt
jwks_url, issuer, token, typ = sys.argv[1:5]
audience = sys.argv[5] if len(sys.argv) > 5 else None
try:
    header = jwt.get_unverified_header(token)
    if header.get("typ") != typ:
        raise jwt.InvalidTokenError("typ is %r" % header.get("typ"))
    key = jwt.PyJWKClient(jwks_url, cache_keys=True).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["EdDSA"], issuer=issuer, audience=audience,
                        options={"require": ["exp", "iat", "iss"], "verify_aud": audience is not None})
    print(json.dumps({"kid": key.key_id, "typ": header["typ"], "key": type(key.key).__name__, "claims": claims}))
except Exception as e:
    print(json.dumps({"error": type(e).__name__, "message": str(e)}))
    sys.exit(1)
`;

// stdin: the identity headers as JSON {name: value}; prints base64url(SHA-256(canonical)),
// the recipe of docs/origin.md in Python's standard library.
const IHASH_PY = `
import base64, hashlib, json, sys
ORDER = ["x-torii-user-id", "x-torii-session-id", "x-torii-tenant-id", "x-torii-issuer",
         "x-torii-org-id", "x-torii-org-role", "x-torii-aal", "x-torii-claims"]
headers = json.load(sys.stdin)
canonical = "".join("%s:%s\\n" % (n, headers[n]) for n in ORDER if n in headers)
digest = hashlib.sha256(canonical.encode()).digest()
print(base64.urlsafe_b64encode(digest).rstrip(b"=").decode())
`;

async function pythonIhash(headers) {
  const child = run(PYTHON, ['-c', IHASH_PY], { timeout: 60_000 });
  child.child.stdin.end(JSON.stringify(headers));
  return (await child).stdout.trim();
}

async function pyjwt(...args) {
  try {
    const { stdout } = await run(PYTHON, ['-c', VERIFY_PY, ...args], { timeout: 60_000 });
    return JSON.parse(stdout);
  } catch (e) {
    if (e.stdout) return JSON.parse(e.stdout);
    throw e;
  }
}

describe('PyJWT verifies edge tokens through the served JWKS', () => {
  let worker;
  let origin;
  let originUrl;
  let captured = null;

  before(async () => {
    assert.ok(existsSync(PYTHON), `no ${PYTHON}: run \`make py-tools\``);
    origin = createServer((req, res) => {
      const identity = Object.fromEntries(Object.entries(req.headers).filter(([n]) => n.startsWith('x-torii-') && n !== 'x-torii-edge-assertion'));
      captured = { method: req.method, url: req.url, assertion: req.headers['x-torii-edge-assertion'], claims: req.headers['x-torii-claims'], identity };
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise((r) => origin.listen(0, '127.0.0.1', r));
    originUrl = `http://127.0.0.1:${origin.address().port}`;
    worker = await startWorker({ TORII_MASTER_SECRET: SECRET, ORIGIN_URL: originUrl });
  });
  after(async () => {
    await worker?.stop();
    origin?.close();
  });

  async function devToken() {
    const { stdout } = await run(process.execPath, [join(ROOT, 'scripts', 'dev-token.mjs'), '--issuer', worker.origin], {
      env: { ...process.env, TORII_MASTER_SECRET: SECRET },
    });
    return stdout.trim();
  }

  test('a session token (scripts/dev-token.mjs, the edge key)', async () => {
    const token = await devToken();
    const got = await pyjwt(worker.origin + JWKS_PATH, worker.origin, token, 'JWT');
    assert.equal(got.error, undefined, got.message);
    assert.equal(got.key, 'Ed25519PublicKey');
    assert.equal(got.claims.sub, 'user_demo');
    assert.equal(got.claims.iss, worker.origin);
    assert.equal(got.kid, JSON.parse(Buffer.from(token.split('.')[0], 'base64url')).kid);
    // The same token refused by PyJWT when tampered with or checked for another issuer.
    const [h, p, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), sub: 'admin' })).toString('base64url');
    assert.equal((await pyjwt(worker.origin + JWKS_PATH, worker.origin, `${h}.${forged}.${s}`, 'JWT')).error, 'InvalidSignatureError');
    assert.equal((await pyjwt(worker.origin + JWKS_PATH, 'https://other.example', token, 'JWT')).error, 'InvalidIssuerError');
  });

  test('an edge assertion the Worker signed for a forwarded request', async () => {
    const token = await devToken();
    const res = await fetch(`${worker.origin}/api/py?x=1`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.ok(captured?.assertion, 'the origin got an assertion');
    const got = await pyjwt(worker.origin + JWKS_PATH, worker.origin, captured.assertion, 'torii-edge-assertion+jwt', originUrl);
    assert.equal(got.error, undefined, got.message);
    assert.equal(got.claims.htm, 'GET');
    assert.equal(got.claims.htu, `${originUrl}/api/py?x=1`);
    assert.equal(got.claims.sub, 'user_demo');
    assert.ok(got.claims.exp - got.claims.iat <= 60);
    // The identity headers, hashed in Python as docs/origin.md says, are what ihash binds.
    assert.equal(captured.identity['x-torii-issuer'], worker.origin);
    assert.equal(await pythonIhash(captured.identity), got.claims.ihash);
    assert.notEqual(await pythonIhash({ ...captured.identity, 'x-torii-user-id': 'admin' }), got.claims.ihash);
    assert.equal((await pyjwt(worker.origin + JWKS_PATH, worker.origin, captured.assertion, 'torii-edge-assertion+jwt', 'https://elsewhere.example')).error, 'InvalidAudienceError');
  });
});
