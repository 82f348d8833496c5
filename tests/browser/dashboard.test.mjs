// The dashboard (/_torii/dashboard/, docs/dashboard.md) in a real browser: Debian's
// Chromium driven by playwright-core, against the real dev Worker under wrangler dev with
// local D1 (tests/e2e/worker.mjs). No application is seeded: the test creates one with
// the operator secret, as an operator would, then does everything else in the pages.
//
// Steps run in order on one page (each needs the state the previous left): serving and
// CSP; connect (sessionStorage, "remember" → localStorage, forget); a template typed in
// the editor with the Preview following; each validation error marked at its JSON
// pointer; save; set default → a new session token carries its claims; a named template
// minted for a session and decoded; an API key shown once (gone after a reload), a
// Try it call listing users with it, revoked, the next Try it refused; users, sessions
// and signing keys; axe-core on every view; no CSP violation or page error throughout.
// Screenshots go to DASHBOARD_SCREENSHOTS (default target/dashboard-screenshots;
// `DASHBOARD_SCREENSHOTS=docs/img` refreshes the README's).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { BUILDS, ROOT, startWorker } from '../e2e/worker.mjs';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SECRET = 'browser-dashboard-master-secret-not-for-production-0123';
const OPERATOR = 'browser-dashboard-operator-secret-not-for-production-01';
const SHOTS = join(ROOT, process.env.DASHBOARD_SCREENSHOTS ?? 'target/dashboard-screenshots');
const DASH = '/_torii/dashboard/';
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; connect-src 'self' https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const HASURA = `{
  "https://hasura.io/jwt/claims": {
    "x-hasura-user-id": "{{ user.id }}",
    "x-hasura-default-role": "{{ user.public_metadata.role || \\"user\\" }}"
  }
}`;
const require = createRequire(import.meta.url);

const skip = !existsSync(CHROMIUM) && 'no /usr/bin/chromium (run `make browser-tools`)';

describe('the deployable build serves the dashboard too', () => {
  test('same files, same headers, no dev route', async () => {
    const w = await startWorker({ TORII_MASTER_SECRET: SECRET, TORII_LOG: 'off' }, { tenants: [], build: BUILDS.deployable });
    try {
      for (const [path, type] of [['', 'text/html; charset=utf-8'], ['app.js', 'text/javascript; charset=utf-8'], ['torii-edge/pkg/torii_edge_bg.wasm', 'application/wasm']]) {
        const res = await fetch(`${w.origin}${DASH}${path}`);
        assert.equal(res.status, 200, path);
        assert.equal(res.headers.get('content-type'), type);
        assert.equal(res.headers.get('content-security-policy'), CSP);
        assert.ok((await res.arrayBuffer()).byteLength > 100);
      }
      // An asset's name outside the prefix is not served (run_worker_first: the gateway has it).
      assert.notEqual((await fetch(`${w.origin}/app.js`)).status, 200);
      assert.equal((await fetch(`${w.origin}/_torii/devtools/counters`)).status, 404);
    } finally {
      await w.stop();
    }
  });
});

describe('dashboard in Chromium', { skip }, () => {
  let worker;
  let browser;
  let page;
  let adminKey;
  const problems = []; // CSP violations, page errors, console errors
  let ciSecret;
  let step = 'start'; // the running test, for the problems' log

  beforeEach((t) => (step = t.name));
  const url = (hash = '') => `${worker.origin}${DASH}${hash}`;
  const text = (sel) => page.locator(sel).textContent();
  const go = async (hash) => {
    await page.evaluate((h) => (location.hash = h), hash);
    await page.locator(`[data-view="${hash.slice(1)}"]`).waitFor({ state: 'visible' });
  };
  const connect = async (key, { remember = false } = {}) => {
    await go('#connection');
    await page.fill('#c-app', 'demo');
    await page.fill('#c-key', key);
    await page.setChecked('#c-remember', remember);
    await page.evaluate(() => (document.getElementById('c-result').textContent = ''));
    await page.click('#connect-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('c-result').textContent !== '');
  };
  /** Replaces the editor's text, pasted from the clipboard (no auto-closed brackets). */
  const setClaims = async (claims) => {
    await page.evaluate((t) => navigator.clipboard.writeText(t), claims);
    await page.locator('#t-editor .cm-content').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Control+V');
    await waitFor((t) => document.querySelector('#t-editor').shadowRoot.querySelector('.cm-content').textContent === t, claims.replaceAll('\n', ''));
  };
  const keyRow = (name) => page.locator('#k-rows tr', { has: page.locator('td:first-child', { hasText: new RegExp(`^${name}$`) }) });
  const waitFor = (fn, arg) => page.waitForFunction(fn, arg, { timeout: 20_000 });
  const storage = () => page.evaluate(() => ({ session: JSON.stringify({ ...sessionStorage }), local: JSON.stringify({ ...localStorage }) }));

  before(async () => {
    worker = await startWorker({ TORII_MASTER_SECRET: SECRET, TORII_OPERATOR_SECRET: OPERATOR, TORII_LOG: 'off' }, { tenants: [] });
    const res = await fetch(`${worker.origin}/v1/applications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'demo', environment: 'development' }),
    });
    assert.equal(res.status, 201);
    adminKey = (await res.json()).api_key.secret;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: worker.origin });
    page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e}`));
    page.on('console', (m) => {
      // A refused API call (401, 403) is logged as a failed resource: those are expected;
      // a dashboard file that fails to load is caught by the response check below.
      if (/^Failed to load resource/.test(m.text())) return;
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`${step}: console ${m.type()}: ${m.text()}`);
    });
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith(DASH) && r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await worker?.stop();
  });

  test('served by the Worker with a strict CSP and no inline script or style', async () => {
    const res = await fetch(url());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-security-policy'), CSP);
    // docs/dashboard.md shows every header as served.
    const docs = readFileSync(join(ROOT, 'docs', 'dashboard.md'), 'utf8');
    for (const name of ['content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy', 'permissions-policy']) {
      assert.ok(docs.includes(`\n${name}: ${res.headers.get(name)}\n`), `docs/dashboard.md shows ${name} as served`);
    }
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const html = await res.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'no inline script');
    assert.doesNotMatch(html, /<style|\sstyle=/i, 'no inline style');
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline handler');
    const bare = await fetch(`${worker.origin}/_torii/dashboard`, { redirect: 'manual' });
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.get('location'), DASH);
    assert.equal((await fetch(`${worker.origin}${DASH}nope.js`)).status, 404);
    assert.equal((await fetch(url(), { method: 'POST' })).status, 405);
    const wasm = await fetch(`${worker.origin}${DASH}torii-edge/pkg/torii_edge_bg.wasm`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal(wasm.headers.get('content-security-policy'), CSP);
  });

  test('connect: kept in sessionStorage, "remember" in localStorage, forget clears both', async () => {
    await page.goto(url());
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    assert.equal(await page.inputValue('#c-base'), worker.origin);
    await connect(adminKey);
    assert.match(await text('#c-result'), /^Connected to demo \(development\)/);
    let s = await storage();
    assert.ok(s.session.includes(adminKey));
    assert.ok(!s.local.includes(adminKey));
    await page.click('#c-forget');
    s = await storage();
    assert.ok(!s.session.includes(adminKey) && !s.local.includes(adminKey));
    assert.equal(await page.inputValue('#c-key'), '');
    await connect(adminKey, { remember: true });
    s = await storage();
    assert.ok(s.local.includes(adminKey));
    assert.ok(!s.session.includes(adminKey));
    await page.reload();
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    assert.match(await text('#conn-state'), /Connected: demo/);
    // Back to this tab only, for the rest of the run.
    await connect(adminKey);
    assert.ok(!(await storage()).local.includes(adminKey));
  });

  test('templates: the Preview follows the typing, rendered by the wasm core', async () => {
    await go('#templates');
    await page.fill('#t-name', 'claims1');
    await setClaims('{"who": "{{ user.first_name }}", "x": ""}');
    await waitFor(() => document.getElementById('t-preview').textContent.includes('"who": "Ada"'));
    // Into the empty string of "x", one key at a time.
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    for (const typed of ['a', 'ab', 'abc']) {
      await page.keyboard.type(typed.at(-1));
      await waitFor((t) => JSON.parse(document.getElementById('t-preview').textContent).x === t, typed);
    }
    assert.equal(await page.locator('#t-diag').textContent(), '');
    assert.match(await text('#t-size-text'), /^\d+ \/ 1200 bytes$/);
    // The sample user is editable.
    const user = JSON.parse(await page.inputValue('#t-user'));
    await page.fill('#t-user', JSON.stringify({ ...user, first_name: 'Grace' }, null, 2));
    await waitFor(() => document.getElementById('t-preview').textContent.includes('"who": "Grace"'));
    const standard = JSON.parse(await text('#t-standard'));
    assert.equal(standard.sub, 'user_sample');
    assert.equal(standard.iss, worker.origin);
    assert.equal(standard.tpl, 'claims1');
  });

  test('each validation error is marked at its JSON pointer', async () => {
    const cases = [
      ['{"ok": 1, "iss": "x"}', 'reserved_claim', '/iss', '"iss"'],
      ['{"e": "{{ user.emial }}"}', 'unknown_shortcode', '/e', '"{{ user.emial }}"', /did you mean `user\.email`/],
      ['{"a": {"b": "{{ user.private_metadata.ssn }}"}}', 'private_metadata_not_allowed', '/a/b', '"{{ user.private_metadata.ssn }}"'],
      ['{"a": ["ok", "{{ user.email"]}', 'invalid_shortcode', '/a/1', '"{{ user.email"'],
      ['{"a": "{{ user.public_metadata }}", "b": "{{ user.unsafe_metadata }}", "c": "{{ user.public_metadata }}"}', 'template_too_large', '', null, /1552/],
      ['{"a": }', 'invalid_template', '', '}'],
    ];
    for (const [claims, code, pointer, marked, message] of cases) {
      await setClaims(claims);
      await waitFor((c) => document.getElementById('t-diag').dataset.code === c, code);
      assert.equal(await page.getAttribute('#t-diag', 'data-pointer'), pointer, code);
      if (message) assert.match(await text('#t-diag'), message);
      // CodeMirror's lint decoration over the offending text (one or more spans).
      await page.locator('#t-editor .cm-lintRange-error').first().waitFor();
      const got = (await page.locator('#t-editor .cm-lintRange-error').allTextContents()).join('');
      assert.equal(got, marked ?? claims, `${code}: marked text`);
      await page.locator('#t-editor .cm-lint-marker-error').first().waitFor();
      if (code === 'unknown_shortcode') await page.locator('[data-view="templates"] .cols3 > div:nth-child(2)').screenshot({ path: join(SHOTS, 'dashboard-diagnostic.png') });
    }
    // The lifetime is the core's check too (30 s … 86 400 s).
    await setClaims('{"ok": 1}');
    await waitFor(() => document.getElementById('t-diag').textContent === '');
    await page.fill('#t-lifetime', '5');
    await waitFor(() => document.getElementById('t-diag').dataset.code === 'invalid_lifetime');
    await page.fill('#t-lifetime', '');
    await waitFor(() => document.getElementById('t-diag').textContent === '');
    // A shortcode completion: typing `{{ user.em` offers `user.email`.
    await setClaims('{"m": ""}');
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.type('{{ user.em', { delay: 20 });
    await page.locator('.cm-tooltip-autocomplete li', { hasText: 'user.email' }).first().waitFor();
    // CodeMirror ignores an Enter within 75 ms of the list opening (interactionDelay).
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
    await waitFor(() => document.getElementById('t-preview').textContent.includes('"m": "ada@example.com"')).catch(() => {});
    assert.equal(await page.locator('#t-editor .cm-content').textContent(), '{"m": "{{ user.email }}"}');
    assert.match(await text('#t-preview'), /"m": "ada@example.com"/);
  });

  test('save, set as default: a new session token carries the claims', async () => {
    await setClaims('{"role": "{{ user.public_metadata.role || \\"member\\" }}", "mail": "{{ user.email }}"}');
    await waitFor(() => document.getElementById('t-diag').textContent === '');
    await page.click('#t-save');
    await waitFor(() => document.getElementById('t-result').textContent.startsWith('Created claims1'));
    await page.locator('#t-list [data-template="claims1"]').waitFor();
    await page.click('#t-make-default');
    await waitFor(() => document.getElementById('t-result').textContent === 'Saved claims1 (default)');
    await page.locator('#t-list [data-template="claims1"] .star').waitFor();
    // A user, created in the Users page.
    await go('#users');
    await page.fill('#u-id', 'user_ada');
    await page.fill('#u-email', 'ada@example.com');
    await page.fill('#u-first', 'Ada');
    await page.fill('#u-public', '{"role": "admin"}');
    await page.fill('#u-private', '{"ssn": "000-00-0000"}');
    assert.equal(await text('#u-private-size'), '21 / 512 bytes');
    await page.click('#u-submit');
    await waitFor(() => document.getElementById('u-result').textContent === 'Created user_ada');
    // A session: its first token carries the default template's claims.
    await page.click('button[aria-label="Sessions of user_ada"]');
    await page.locator('[data-view="sessions"]').waitFor({ state: 'visible' });
    await page.click('#s-create');
    await waitFor(() => document.getElementById('s-result').textContent.startsWith('Created sess_'));
    const shown = await text('#s-token');
    const payload = JSON.parse(shown.slice(shown.indexOf('payload ') + 8));
    assert.equal(payload.role, 'admin');
    assert.equal(payload.mail, 'ada@example.com');
    assert.equal(payload.sub, 'user_ada');
    assert.equal(payload.tpl, undefined);
    assert.ok(!shown.includes('000-00-0000'), 'private metadata never in a token');
  });

  test('a named template minted for a session, shown decoded', async () => {
    await go('#templates');
    await page.click('#t-new');
    await page.fill('#t-name', 'hasura');
    await page.fill('#t-lifetime', '300');
    await setClaims(HASURA);
    await page.click('#t-save');
    await waitFor(() => document.getElementById('t-result').textContent === 'Created hasura');
    await page.locator('#t-list [data-template="hasura"]').waitFor();
    await page.screenshot({ path: join(SHOTS, 'dashboard-templates.png') });
    await go('#sessions');
    await page.fill('#s-user', 'user_ada');
    await page.click('#s-form button[type=submit]');
    await page.fill('#s-template', 'hasura');
    await page.locator('button[aria-label^="Mint a token for sess_"]').first().click();
    await waitFor(() => document.getElementById('s-result').textContent.startsWith('Minted a hasura template token'));
    const shown = await text('#s-token');
    const payload = JSON.parse(shown.slice(shown.indexOf('payload ') + 8, shown.lastIndexOf('}\n{') + 1 || undefined));
    assert.equal(payload.tpl, 'hasura');
    assert.deepEqual(payload['https://hasura.io/jwt/claims'], { 'x-hasura-user-id': 'user_ada', 'x-hasura-default-role': 'admin' });
    assert.equal(payload.exp - payload.iat, 300);
    assert.equal(payload.role, undefined, 'a template token has only its own claims');
    // Revoked: the row says so and it can mint no more.
    const sid = payload.sid;
    await page.click(`button[aria-label="Revoke ${sid}"]`);
    await waitFor((s) => document.getElementById('s-result').textContent === `Revoked ${s}`, sid);
    await page.locator('#s-rows tr', { hasText: sid }).filter({ hasText: 'revoked' }).waitFor();
    assert.ok(await page.locator(`button[aria-label="Mint a token for ${sid}"]`).isDisabled());
    // Deleted: gone from the list, and no longer mintable.
    await go('#templates');
    await page.click('#t-list [data-template="hasura"]');
    await waitFor(() => document.getElementById('t-name').value === 'hasura');
    await page.click('#t-delete');
    await waitFor(() => document.getElementById('t-result').textContent !== '');
    assert.equal(await text('#t-result'), 'Deleted hasura');
    await page.locator('#t-list [data-template="hasura"]').waitFor({ state: 'detached' });
    await go('#sessions');
    await page.click('#s-create');
    await waitFor(() => document.getElementById('s-result').textContent.startsWith('Created sess_'));
    await page.locator('button[aria-label^="Mint a token for sess_"]:not([disabled])').first().click();
    await waitFor(() => /^404 jwt_template_not_found/.test(document.getElementById('s-result').textContent));
  });

  test('an API key is shown once; gone after a reload; Try it with it; revoked, refused', async () => {
    await go('#api-keys');
    await page.fill('#k-name', 'ci');
    await page.check('#k-scope-users\\:read');
    await page.click('#k-form button[type=submit]');
    await waitFor(() => document.getElementById('k-result').textContent.startsWith('Created ci'));
    ciSecret = await page.inputValue('#k-secret');
    assert.match(ciSecret, /^sk_test_[A-Za-z0-9]{12}_[A-Za-z0-9]{49}$/);
    assert.ok(await page.locator('#k-secret-box').isVisible());
    await page.click('#k-copy');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), ciSecret);
    const row = keyRow('ci');
    assert.match(await row.textContent(), /users:read.*active/);
    assert.ok(!(await row.textContent()).includes(ciSecret.slice(-10, -4)));
    await page.reload();
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    await keyRow('ci').waitFor();
    assert.ok(!(await page.locator('#k-secret-box').isVisible()));
    assert.equal(await page.inputValue('#k-secret'), '');
    assert.ok(!(await page.content()).includes(ciSecret), 'the secret is not in the page');
    const s = await storage();
    assert.ok(!s.session.includes(ciSecret) && !s.local.includes(ciSecret), 'nor in storage');

    // Try it: list users with the new key.
    await connect(ciSecret);
    await go('#reference');
    const op = page.locator('#op-users-list');
    await op.locator('summary').click();
    await op.locator('input[data-param="email"]').fill('ada@example.com');
    await op.locator('[data-try="users.list"]').click();
    await waitFor(() => document.querySelector('[data-response="users.list"]').dataset.status === '200');
    assert.match(await op.locator('pre').textContent(), /"id": "user_ada"/);
    await op.screenshot({ path: join(SHOTS, 'dashboard-reference.png') });

    // Revoked as admin, in the API keys page; the next Try it with it is refused.
    await connect(adminKey);
    await go('#api-keys');
    await page.click('button[aria-label="Revoke ci"]');
    await waitFor(() => document.getElementById('k-result').textContent === 'Revoked ci');
    await keyRow('ci').filter({ hasText: 'revoked' }).waitFor();
    await connect(ciSecret);
    assert.match(await text('#c-result'), /refused: 401/);
    await go('#reference');
    await op.locator('[data-try="users.list"]').click();
    await waitFor(() => document.querySelector('[data-response="users.list"]').dataset.status === '401');
    assert.match(await op.locator('pre').textContent(), /"code": "invalid_api_key"/);
    await connect(adminKey);
    // Rolled (another key): a new secret, shown once; the old one stops at once.
    await go('#api-keys');
    await page.fill('#k-name', 'roller');
    await page.check('#k-scope-users\\:read');
    await page.click('#k-form button[type=submit]');
    await waitFor(() => document.getElementById('k-result').textContent.startsWith('Created roller'));
    const first = await page.inputValue('#k-secret');
    await page.click('button[aria-label="Roll roller"]');
    await waitFor(() => document.getElementById('k-result').textContent.startsWith('Rolled roller'));
    const rolled = await page.inputValue('#k-secret');
    assert.notEqual(rolled, first);
    const users = (key) => fetch(`${worker.origin}/v1/users`, { headers: { authorization: `Bearer ${key}`, 'x-application-id': 'demo' } }).then((r) => r.status);
    assert.equal(await users(first), 401);
    assert.equal(await users(rolled), 200);
    await page.click('#k-dismiss');
    assert.equal(await page.inputValue('#k-secret'), '');
    assert.ok(!(await page.content()).includes(rolled));
  });

  test('Try it: path, query, header parameters and a body', async () => {
    await go('#reference');
    const get = page.locator('#op-users-get');
    await get.locator('summary').click();
    await get.locator('input[data-param="user_id"]').fill('user_ada');
    await get.locator('[data-try="users.get"]').click();
    await waitFor(() => document.querySelector('[data-response="users.get"]').dataset.status === '200');
    const etag = /^etag: (.+)$/m.exec(await get.locator('pre').textContent())?.[1];
    assert.match(etag, /^"v\d+-/);
    const patch = page.locator('#op-users-update');
    await patch.locator('summary').click();
    await patch.locator('input[data-param="user_id"]').fill('user_ada');
    await patch.locator('input[data-param="If-Match"]').fill('"v0-stale"');
    await patch.locator('textarea').fill('{"last_name": "Byron"}');
    await patch.locator('[data-try="users.update"]').click();
    await waitFor(() => document.querySelector('[data-response="users.update"]').dataset.status === '412');
    assert.match(await patch.locator('pre').textContent(), /"code": "precondition_failed"/);
    await patch.locator('input[data-param="If-Match"]').fill(etag);
    await patch.locator('[data-try="users.update"]').click();
    await waitFor(() => document.querySelector('[data-response="users.update"]').dataset.status === '200');
    assert.match(await patch.locator('pre').textContent(), /"last_name": "Byron"/);
    // Idempotency-Key: the same call again is replayed.
    const create = page.locator('#op-users-create');
    await create.locator('summary').click();
    await create.locator('input[data-param="Idempotency-Key"]').fill('try-it-1');
    await create.locator('textarea').fill('{"id": "user_try"}');
    for (const replayed of [false, true]) {
      await create.locator('[data-try="users.create"]').click();
      await waitFor(() => document.querySelector('[data-response="users.create"]').dataset.status === '201');
      await waitFor((r) => document.querySelector('[data-response="users.create"]').textContent.includes('idempotent-replayed: true') === r, replayed);
      await page.evaluate(() => (document.querySelector('[data-response="users.create"]').dataset.status = ''));
    }
  });

  test('users: search by email, edit, metadata meters; signing keys: list, rotate', async () => {
    await go('#users');
    await page.fill('#u-email-filter', 'ada@example.com');
    await page.click('#u-search button');
    await page.locator('#u-rows tr', { hasText: 'user_ada' }).waitFor();
    await page.click('button[aria-label="Edit user_ada"]');
    await waitFor(() => document.getElementById('u-form-title').textContent === 'Edit user_ada');
    await page.fill('#u-last', 'Lovelace');
    await page.fill('#u-unsafe', JSON.stringify({ big: 'x'.repeat(600) }));
    assert.equal(await text('#u-unsafe-size'), '610 / 512 bytes');
    await page.click('#u-submit');
    await waitFor(() => /validation_failed/.test(document.getElementById('u-result').textContent));
    await page.fill('#u-unsafe', '{}');
    await page.click('#u-submit');
    await waitFor(() => document.getElementById('u-result').textContent === 'Saved user_ada');
    await page.locator('#u-rows tr', { hasText: 'Ada Lovelace' }).waitFor();
    // Created and deleted here.
    await page.click('#u-clear');
    await page.fill('#u-id', 'user_tmp');
    await page.click('#u-submit');
    await waitFor(() => document.getElementById('u-result').textContent === 'Created user_tmp');
    await page.fill('#u-email-filter', '');
    await page.click('#u-search button');
    await page.click('button[aria-label="Delete user_tmp"]');
    await waitFor(() => document.getElementById('u-result').textContent.startsWith('Deleted user_tmp'));
    await page.locator('#u-rows tr', { hasText: 'user_tmp' }).waitFor({ state: 'detached' });
    await page.locator('#u-rows tr', { hasText: 'user_ada' }).waitFor();

    await go('#signing-keys');
    await page.locator('#g-rows tr', { hasText: 'active' }).waitFor();
    await page.click('#g-rotate');
    await waitFor(() => document.getElementById('g-result').textContent.startsWith('Published version 2'));
    await page.locator('#g-rows tr', { hasText: 'published' }).waitFor();
  });

  test('keyboard: the skip link and the navigation are reachable with Tab', async () => {
    await go('#connection');
    const focused = () => page.evaluate(() => document.activeElement.textContent);
    // Focus navigation from the brand text (not focusable itself).
    await page.click('header .brand');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
    await page.click('header .brand');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'Connection');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'JWT templates');
    await page.keyboard.press('Enter');
    await page.locator('[data-view="templates"]').waitFor({ state: 'visible' });
  });

  test('axe-core: no serious or critical violation in any view', async () => {
    // Evaluated through the DevTools protocol, not an inline <script>: the CSP stays on.
    await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
    for (const view of ['connection', 'templates', 'users', 'sessions', 'api-keys', 'signing-keys', 'reference']) {
      await go(`#${view}`);
      if (view === 'reference') await page.locator('#op-users-list summary').click();
      const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
      const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], view);
    }
  });

  test('no CSP violation, page error or console error', () => {
    assert.deepEqual(problems, []);
  });
});
