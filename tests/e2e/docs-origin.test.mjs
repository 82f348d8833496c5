// End-to-end: the origin recipe of docs/origin.md, run as written (only its two
// constants and its port changed), behind the real Worker: it accepts what the edge
// forwards and refuses a request that did not come through the edge or was altered.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mintDevToken } from '../../scripts/dev-token.mjs';
import { ROOT, startWorker } from './worker.mjs';

const SECRET = 'e2e-docs-origin-master-secret-not-for-production-0123456';

/** docs/origin.md's ```js block, with ISSUER and ORIGIN from the environment and port 0. */
function recipe() {
  const page = readFileSync(join(ROOT, 'docs', 'origin.md'), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(page)?.[1];
  assert.ok(code, 'docs/origin.md has a js block');
  const replaced = code
    .replace(/const ISSUER = '[^']*';/, 'const ISSUER = process.env.ISSUER;')
    .replace(/const ORIGIN = '[^']*';/, 'const ORIGIN = process.env.ORIGIN;')
    .replace(/\.listen\(8788\);/, ".listen(0, '127.0.0.1', function () { process.send({ port: this.address().port }); });");
  assert.notEqual(replaced, code);
  assert.match(replaced, /process\.env\.ISSUER/);
  assert.match(replaced, /process\.env\.ORIGIN/);
  assert.match(replaced, /process\.send/);
  return replaced;
}

describe('the docs/origin.md recipe behind the edge', () => {
  let worker;
  let front;
  let child;
  let dir;
  let childPort;

  before(async () => {
    // The Worker's ORIGIN_URL must be known before the recipe starts (it is its audience):
    // a loopback relay on a kernel-chosen port forwards to the recipe once it is up.
    front = createServer((req, res) => {
      const out = httpRequest(
        { host: '127.0.0.1', port: childPort, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode, r.headers);
          r.pipe(res);
        },
      );
      out.on('error', () => res.writeHead(502).end());
      req.pipe(out);
    });
    await new Promise((r) => front.listen(0, '127.0.0.1', r));
    const originUrl = `http://127.0.0.1:${front.address().port}`;
    worker = await startWorker({ TORII_MASTER_SECRET: SECRET, ORIGIN_URL: originUrl, TORII_LOG: 'off' });
    dir = mkdtempSync(join(tmpdir(), 'torii-recipe-'));
    // Inside the repository's tree resolution would find jose; the temp file imports it by path.
    const file = join(dir, 'origin.mjs');
    const jose = join(ROOT, 'node_modules', 'jose', 'dist', 'webapi', 'index.js');
    writeFileSync(file, recipe().replace("from 'jose'", `from ${JSON.stringify(jose)}`));
    child = fork(file, [], { env: { ...process.env, ISSUER: worker.origin, ORIGIN: originUrl }, stdio: 'pipe' });
    childPort = await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`recipe exited with ${code}`)));
    });
  });
  after(async () => {
    child?.kill();
    await worker?.stop();
    front?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a verified request reaches the recipe as its user', async () => {
    const token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin });
    const res = await fetch(`${worker.origin}/api/hello?x=1`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello user_demo');
  });

  test('straight to the recipe, or with an identity header changed: 401', async () => {
    const direct = await fetch(`http://127.0.0.1:${childPort}/api/hello`);
    assert.equal(direct.status, 401);
    // Capture what the edge sends, then replay it with one header changed.
    let captured;
    const spy = (req) => {
      captured = { ...req.headers };
    };
    front.prependOnceListener('request', spy);
    const token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin });
    await (await fetch(`${worker.origin}/api/hello`, { headers: { authorization: `Bearer ${token}` } })).text();
    assert.ok(captured['x-torii-edge-assertion']);
    const send = (headers) =>
      fetch(`http://127.0.0.1:${childPort}/api/hello`, {
        headers: Object.fromEntries(Object.entries(headers).filter(([n]) => n.startsWith('x-torii-'))),
      });
    assert.equal((await send(captured)).status, 200);
    assert.equal((await send({ ...captured, 'x-torii-user-id': 'admin' })).status, 401);
    assert.equal((await send({ ...captured, 'x-torii-org-role': 'owner' })).status, 401);
  });
});
