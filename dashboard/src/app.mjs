// The dashboard: one page, one view per `#fragment`, every call to the Backend API made
// with the Connection the user typed (sent only as headers). No inline script or style
// (the Worker's CSP allows neither); the template Preview and its diagnostics come from
// the npm package's browser entry (the same wasm core as the edge).
import * as torii from "./torii-edge/src/browser.mjs";
import { createEditor } from "./editor.mjs";
import { didYouMean, locate, rangeOf } from "./pointer.mjs";
import { decodeJwt } from "./jwt.mjs";

const $ = (id) => document.getElementById(id);
const BUDGET = 1200;
const STORE_KEY = "torii-dashboard-connection";
const SCOPES = ["admin", "users:read", "users:write", "sessions:read", "sessions:write", "templates:read", "templates:write", "api_keys:read", "api_keys:write", "signing_keys:read", "signing_keys:write"];

/** A DOM element: `h("td", { class: "x" }, child, …)`. Text children are text nodes. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}
const time = (s) => (s === null || s === undefined ? "never" : new Date(s * 1000).toISOString().replace(".000Z", "Z"));
const pretty = (v) => JSON.stringify(v, null, 2);
const say = (id, text, ok = true) => {
  const el = $(id);
  el.textContent = text;
  el.className = ok ? "ok" : "error";
};
const errorText = (r) => {
  const b = r.body || {};
  const where = [b.field && `field ${b.field}`, b.pointer !== undefined && b.pointer !== null && `at ${b.pointer || "/"}`].filter(Boolean).join(", ");
  if (!r.status) return b.message;
  return `${r.status} ${b.code ?? "error"}: ${b.message ?? ""}${where ? ` (${where})` : ""}`;
};

// ------------------------------------------------------------------ connection

let conn = null;
function loadConnection() {
  for (const store of [sessionStorage, localStorage]) {
    try {
      const c = JSON.parse(store.getItem(STORE_KEY) || "null");
      if (c && c.base && c.app && c.key) return { ...c, remembered: store === localStorage };
    } catch {}
  }
  return null;
}
function saveConnection(c, remember) {
  forgetConnection();
  (remember ? localStorage : sessionStorage).setItem(STORE_KEY, JSON.stringify({ base: c.base, app: c.app, key: c.key }));
  conn = { ...c, remembered: remember };
}
function forgetConnection() {
  sessionStorage.removeItem(STORE_KEY);
  localStorage.removeItem(STORE_KEY);
  conn = null;
}
function showConnection() {
  $("conn-state").textContent = conn ? `Connected: ${conn.app} at ${conn.base}` : "Not connected";
}

/** One Backend API call with the Connection: `{ status, body, headers }`. */
async function api(method, path, body, extraHeaders = {}) {
  // Failures before any answer have status 0 and no code (codes are the server's table).
  if (!conn) return { status: 0, body: { message: "connect first (Connection)" } };
  const headers = { authorization: `Bearer ${conn.key}`, "x-application-id": conn.app, ...extraHeaders };
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(new URL(path, conn.base), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit", cache: "no-store" });
  } catch (e) {
    return { status: 0, body: { message: `no answer from ${conn.base}: ${e.message || e}` } };
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { message: `not JSON: ${text.slice(0, 200)}` };
  }
  return { status: res.status, body: json, headers: res.headers };
}

function initConnection() {
  conn = loadConnection();
  $("c-base").value = conn?.base ?? location.origin;
  $("c-app").value = conn?.app ?? "";
  $("c-key").value = conn?.key ?? "";
  $("c-remember").checked = Boolean(conn?.remembered);
  showConnection();
  $("connect-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    let base;
    try {
      base = new URL($("c-base").value).origin;
    } catch {
      return say("c-result", "The base URL is not a URL", false);
    }
    saveConnection({ base, app: $("c-app").value.trim(), key: $("c-key").value.trim() }, $("c-remember").checked);
    showConnection();
    const r = await api("GET", "/v1/applications/current");
    if (r.status === 200) {
      app = r.body;
      say("c-result", `Connected to ${r.body.id} (${r.body.environment}), issuer ${r.body.issuer}`);
    } else if (r.status === 403) {
      say("c-result", "Connected (this key is not admin: the application itself cannot be read)");
    } else say("c-result", `Saved, but the key was refused: ${errorText(r)}`, false);
    renderPreview();
  });
  $("c-forget").addEventListener("click", () => {
    forgetConnection();
    $("c-key").value = "";
    $("c-app").value = "";
    $("c-remember").checked = false;
    app = null;
    showConnection();
    say("c-result", "Forgotten: nothing of the connection is left in this browser's storage");
  });
}
let app = null; // GET /v1/applications/current, when the key may read it

// ------------------------------------------------------------------ views

const loaders = {};
function show() {
  const name = location.hash.slice(1) || "connection";
  const views = document.querySelectorAll("[data-view]");
  if (![...views].some((v) => v.dataset.view === name)) return;
  for (const v of views) v.hidden = v.dataset.view !== name;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === `#${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  loaders[name]?.();
}

// ------------------------------------------------------------------ templates

const SAMPLE_USER = {
  id: "user_sample",
  email: "ada@example.com",
  email_verified: true,
  first_name: "Ada",
  last_name: "Lovelace",
  public_metadata: { role: "admin", plan: "pro" },
  unsafe_metadata: {},
  private_metadata: { ssn: "never in a token" },
};
const NEW_TEMPLATE = `{
  "email": "{{ user.email }}",
  "role": "{{ user.public_metadata.role || \\"member\\" }}"
}`;
let editor;
let templates = [];
let current = null; // the template loaded from the API (name, etag)

function lifetimeValue() {
  const v = $("t-lifetime").value.trim();
  return v === "" ? undefined : Number(v);
}

/** The core's verdict on the editor's text: diagnostics, and the size meter. */
function diagnose(text) {
  const { error: syntax } = locate(text);
  if (syntax) {
    const pos = Math.min(syntax.pos, text.length);
    showDiag(`invalid_template: ${syntax.message}`, "invalid_template", "");
    setSize(null);
    return [{ from: pos, to: Math.min(pos + 1, text.length), severity: "error", source: "invalid_template", message: `Not JSON: ${syntax.message}` }];
  }
  const lifetime = lifetimeValue();
  const v = torii.validateTemplate(text, { lifetime: Number.isFinite(lifetime) ? lifetime : undefined });
  if (v.valid) {
    showDiag("", null, null);
    setSize(v.worstCaseSize);
    return [];
  }
  const { code, pointer, message } = v.error;
  setSize(code === "template_too_large" ? Number(/(\d+)/.exec(message)?.[1]) : null);
  let text2 = message;
  if (code === "unknown_shortcode") {
    const sc = /`([^`]+)`/.exec(message)?.[1];
    const guess = sc && didYouMean(sc);
    if (guess) text2 += `; did you mean \`${guess}\`?`;
  }
  if (code === "private_metadata_not_allowed") text2 += " (private metadata never goes into a token)";
  if (code === "invalid_lifetime") {
    showDiag(`${code}: ${text2}`, code, "lifetime");
    return [];
  }
  // A member's name is at fault for a reserved claim or a shortcode in a key.
  const key = code === "reserved_claim" || (pointer ?? "").split("/").pop().includes("{{");
  const { from, to } = rangeOf(text, pointer, { key });
  showDiag(`${code}: ${text2}`, code, pointer ?? "");
  return [{ from, to, severity: "error", source: code, message: `${code}: ${text2}` }];
}
function showDiag(text, code, pointer) {
  const el = $("t-diag");
  el.textContent = text;
  el.dataset.code = code ?? "";
  el.dataset.pointer = pointer ?? "";
}
function setSize(size) {
  const meter = $("t-size");
  if (size === null || !Number.isFinite(size)) {
    meter.value = 0;
    $("t-size-text").textContent = "not computed (fix the template first)";
    return;
  }
  meter.value = Math.min(size, BUDGET);
  $("t-size-text").textContent = `${size} / ${BUDGET} bytes`;
}

function sampleUser() {
  try {
    return { user: JSON.parse($("t-user").value) };
  } catch (e) {
    return { error: `The sample user is not JSON: ${e.message}` };
  }
}

/** Renders the editor's template for the sample user, with the core of the npm package. */
function renderPreview() {
  if (!editor) return;
  const { user, error } = sampleUser();
  const now = Math.floor(Date.now() / 1000);
  const lifetime = lifetimeValue();
  const name = $("t-name").value.trim();
  const standard = {
    iss: app?.issuer ?? (conn ? `(the issuer of ${conn.app})` : "(the application's issuer)"),
    sub: user?.id ?? "(the user's id)",
    pid: conn?.app ?? app?.id ?? "(the application id)",
    sid: "sess_…",
    iat: now,
    exp: now + (Number.isFinite(lifetime) ? lifetime : 60),
  };
  if (!$("t-default").checked && name) standard.tpl = name;
  $("t-standard").textContent = pretty(standard);
  const out = $("t-preview");
  if (error) {
    out.textContent = error;
    out.dataset.state = "error";
    return;
  }
  try {
    out.textContent = pretty(torii.renderTemplate(editor.get(), user));
    out.dataset.state = "ok";
  } catch (e) {
    out.textContent = `${e.code ?? "error"}: ${e.message}${e.field ? ` (user field ${e.field})` : ""}`;
    out.dataset.state = "error";
  }
}

function loadIntoEditor(t) {
  current = t ? { name: t.name, etag: null } : null;
  $("t-name").value = t?.name ?? "";
  $("t-lifetime").value = t?.lifetime ?? "";
  $("t-default").checked = Boolean(t?.default);
  editor.set(t ? pretty(t.claims) : NEW_TEMPLATE);
  say("t-result", "");
  renderPreview();
}

async function listTemplates() {
  const r = await api("GET", "/v1/jwt-templates?limit=100");
  const list = $("t-list");
  list.replaceChildren();
  if (r.status !== 200) return say("t-result", errorText(r), false);
  templates = r.body.data;
  for (const t of templates) {
    list.append(
      h("li", {}, h("button", { type: "button", class: "link", "data-template": t.name, "aria-label": `${t.name}${t.default ? " (default)" : ""}`, onclick: () => loadIntoEditor(t) },
        t.default ? h("span", { class: "star", "aria-hidden": "true" }, "★ ") : null, t.name)),
    );
  }
  if (!templates.length) list.append(h("li", { class: "note" }, "No template yet"));
}

async function saveTemplate(makeDefault) {
  const name = $("t-name").value.trim();
  if (!name) return say("t-result", "Name the template first", false);
  let claims;
  try {
    claims = JSON.parse(editor.get());
  } catch (e) {
    return say("t-result", `The claims are not JSON: ${e.message}`, false);
  }
  const body = { claims, default: makeDefault || $("t-default").checked };
  const lifetime = lifetimeValue();
  if (lifetime !== undefined) body.lifetime = lifetime;
  const r = await api("PUT", `/v1/jwt-templates/${encodeURIComponent(name)}`, body);
  if (r.status === 200 || r.status === 201) {
    $("t-default").checked = r.body.default;
    say("t-result", `${r.status === 201 ? "Created" : "Saved"} ${r.body.name}${r.body.default ? " (default)" : ""}`);
    current = { name, etag: r.headers.get("etag") };
    await listTemplates();
    renderPreview();
  } else {
    say("t-result", errorText(r), false);
  }
}

function initTemplates() {
  $("t-user").value = pretty(SAMPLE_USER);
  editor = createEditor($("t-editor"), {
    doc: NEW_TEMPLATE,
    label: "Template claims (JSON)",
    diagnose,
    onChange: renderPreview,
  });
  $("t-editor").setAttribute("aria-labelledby", "t-editor-label");
  $("t-user").addEventListener("input", renderPreview);
  $("t-name").addEventListener("input", renderPreview);
  $("t-default").addEventListener("change", renderPreview);
  $("t-lifetime").addEventListener("input", () => {
    renderPreview();
    editor.relint();
  });
  $("t-new").addEventListener("click", () => loadIntoEditor(null));
  $("t-save").addEventListener("click", () => saveTemplate(false));
  $("t-make-default").addEventListener("click", () => saveTemplate(true));
  $("t-delete").addEventListener("click", async () => {
    const name = $("t-name").value.trim();
    if (!name) return;
    const r = await api("DELETE", `/v1/jwt-templates/${encodeURIComponent(name)}`);
    if (r.status === 204) {
      loadIntoEditor(null);
      say("t-result", `Deleted ${name}`);
      await listTemplates();
    } else say("t-result", errorText(r), false);
  });
  loaders.templates = listTemplates;
  renderPreview();
}

// ------------------------------------------------------------------ users

let editingUser = null; // { id, etag }
const BAGS = ["public", "private", "unsafe"];
function bagSize(name) {
  const text = $(`u-${name}`).value;
  let size;
  try {
    size = new TextEncoder().encode(JSON.stringify(JSON.parse(text || "{}"))).length;
  } catch {
    $(`u-${name}-size`).textContent = "not JSON";
    return;
  }
  $(`u-${name}-meter`).value = Math.min(size, 512);
  $(`u-${name}-size`).textContent = `${size} / 512 bytes`;
}
function userForm(u) {
  editingUser = u ? { id: u.id, etag: u.etag ?? null } : null;
  $("u-id").value = u?.id ?? "";
  $("u-id").readOnly = Boolean(u);
  $("u-email").value = u?.email ?? "";
  $("u-first").value = u?.first_name ?? "";
  $("u-last").value = u?.last_name ?? "";
  for (const b of BAGS) {
    $(`u-${b}`).value = pretty(u?.[`${b}_metadata`] ?? {});
    bagSize(b);
  }
  $("u-form-title").textContent = u ? `Edit ${u.id}` : "Create a user";
  $("u-submit").textContent = u ? "Save user" : "Create user";
}
async function listUsers() {
  const email = $("u-email-filter").value.trim();
  const r = await api("GET", `/v1/users?limit=100${email ? `&email=${encodeURIComponent(email)}` : ""}`);
  const rows = $("u-rows");
  rows.replaceChildren();
  if (r.status !== 200) return say("u-result", errorText(r), false);
  for (const u of r.body.data) {
    rows.append(h("tr", {},
      h("td", {}, h("code", {}, u.id)), h("td", {}, u.email ?? ""), h("td", {}, [u.first_name, u.last_name].filter(Boolean).join(" ")),
      h("td", { class: "buttons" },
        h("button", { type: "button", "aria-label": `Edit ${u.id}`, onclick: async () => {
          const g = await api("GET", `/v1/users/${encodeURIComponent(u.id)}`);
          if (g.status === 200) userForm({ ...g.body, etag: g.headers.get("etag") });
          else say("u-result", errorText(g), false);
        } }, "Edit"),
        h("button", { type: "button", "aria-label": `Sessions of ${u.id}`, onclick: () => {
          $("s-user").value = u.id;
          location.hash = "#sessions";
        } }, "Sessions"),
        h("button", { type: "button", class: "danger", "aria-label": `Delete ${u.id}`, onclick: async () => {
          const d = await api("DELETE", `/v1/users/${encodeURIComponent(u.id)}`);
          if (d.status === 204) say("u-result", `Deleted ${u.id} (its sessions are revoked)`);
          else say("u-result", errorText(d), false);
          listUsers();
        } }, "Delete"))));
  }
  if (!r.body.data.length) rows.append(h("tr", {}, h("td", { colspan: 4, class: "note" }, "No user")));
}
function initUsers() {
  for (const b of BAGS) $(`u-${b}`).addEventListener("input", () => bagSize(b));
  userForm(null);
  $("u-search").addEventListener("submit", (e) => {
    e.preventDefault();
    listUsers();
  });
  $("u-clear").addEventListener("click", () => userForm(null));
  $("u-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {};
    const str = (v) => (v.trim() === "" ? null : v.trim());
    body.email = str($("u-email").value);
    body.first_name = str($("u-first").value);
    body.last_name = str($("u-last").value);
    for (const b of BAGS) {
      try {
        body[`${b}_metadata`] = JSON.parse($(`u-${b}`).value || "{}");
      } catch (err) {
        return say("u-result", `${b} metadata is not JSON: ${err.message}`, false);
      }
    }
    let r;
    if (editingUser) {
      r = await api("PATCH", `/v1/users/${encodeURIComponent(editingUser.id)}`, body, editingUser.etag ? { "if-match": editingUser.etag } : {});
    } else {
      for (const k of ["email", "first_name", "last_name"]) if (body[k] === null) delete body[k];
      const id = str($("u-id").value);
      if (id) body.id = id;
      r = await api("POST", "/v1/users", body);
    }
    if (r.status === 200 || r.status === 201) {
      say("u-result", `${r.status === 201 ? "Created" : "Saved"} ${r.body.id}`);
      userForm({ ...r.body, etag: r.headers.get("etag") });
      listUsers();
    } else say("u-result", errorText(r), false);
  });
  loaders.users = listUsers;
}

// ------------------------------------------------------------------ sessions

function showToken(label, jwt, extra = {}) {
  const d = decodeJwt(jwt);
  $("s-token").textContent = `${label}\n\n${jwt}\n\nheader ${pretty(d.header)}\npayload ${pretty(d.payload)}${Object.keys(extra).length ? `\n${pretty(extra)}` : ""}`;
}
async function listSessions() {
  const user = $("s-user").value.trim();
  const rows = $("s-rows");
  rows.replaceChildren();
  if (!user) return;
  const r = await api("GET", `/v1/sessions?limit=100&user_id=${encodeURIComponent(user)}`);
  if (r.status !== 200) return say("s-result", errorText(r), false);
  for (const s of r.body.data) {
    rows.append(h("tr", {}, h("td", {}, h("code", {}, s.id)), h("td", {}, s.status), h("td", {}, time(s.expires_at)),
      h("td", { class: "buttons" },
        h("button", { type: "button", "aria-label": `Mint a token for ${s.id}`, disabled: s.status !== "active", onclick: async () => {
          const t = $("s-template").value.trim();
          const m = await api("POST", `/v1/sessions/${encodeURIComponent(s.id)}/tokens${t ? `?template=${encodeURIComponent(t)}` : ""}`);
          if (m.status === 200) {
            showToken(t ? `Template token (${t})` : "Session token", m.body.jwt, { expires_at: m.body.expires_at });
            say("s-result", `Minted a ${t ? `${t} template` : "session"} token for ${s.id}`);
          } else say("s-result", errorText(m), false);
        } }, "Mint token"),
        h("button", { type: "button", class: "danger", "aria-label": `Revoke ${s.id}`, disabled: s.status !== "active", onclick: async () => {
          const v = await api("POST", `/v1/sessions/${encodeURIComponent(s.id)}/revoke`);
          say("s-result", v.status === 200 ? `Revoked ${s.id}` : errorText(v), v.status === 200);
          listSessions();
        } }, "Revoke"))));
  }
  if (!r.body.data.length) rows.append(h("tr", {}, h("td", { colspan: 4, class: "note" }, "No session")));
}
function initSessions() {
  $("s-form").addEventListener("submit", (e) => {
    e.preventDefault();
    listSessions();
  });
  $("s-create").addEventListener("click", async () => {
    const user = $("s-user").value.trim();
    if (!user) return say("s-result", "Name the user first", false);
    const r = await api("POST", "/v1/sessions", { user_id: user });
    if (r.status === 201) {
      say("s-result", `Created ${r.body.session.id}`);
      showToken("Session token (of the new session)", r.body.token.jwt);
      listSessions();
    } else say("s-result", errorText(r), false);
  });
  loaders.sessions = listSessions;
}

// ------------------------------------------------------------------ API keys

function showSecret(secret) {
  // Held by this input only: never stored, gone with a reload or "Done".
  $("k-secret").value = secret;
  $("k-secret-box").hidden = false;
  $("k-secret").focus();
  $("k-secret").select();
}
async function listKeys() {
  const r = await api("GET", "/v1/api-keys?limit=100");
  const rows = $("k-rows");
  rows.replaceChildren();
  if (r.status !== 200) return say("k-result", errorText(r), false);
  for (const k of r.body.data) {
    rows.append(h("tr", { "data-key": k.id }, h("td", {}, k.name), h("td", {}, h("code", {}, `${k.prefix}…${k.last_four}`)), h("td", {}, k.scopes.join(" ")),
      h("td", {}, k.status), h("td", {}, time(k.last_used_at)),
      h("td", { class: "buttons" },
        h("button", { type: "button", "aria-label": `Roll ${k.name}`, disabled: k.status !== "active", onclick: async () => {
          const x = await api("POST", `/v1/api-keys/${encodeURIComponent(k.id)}/roll`, {});
          if (x.status === 201) {
            showSecret(x.body.secret);
            say("k-result", `Rolled ${k.name}: the previous secret no longer works`);
          } else say("k-result", errorText(x), false);
          listKeys();
        } }, "Roll"),
        h("button", { type: "button", class: "danger", "aria-label": `Revoke ${k.name}`, disabled: k.status !== "active", onclick: async () => {
          const x = await api("POST", `/v1/api-keys/${encodeURIComponent(k.id)}/revoke`, {});
          say("k-result", x.status === 200 ? `Revoked ${k.name}` : errorText(x), x.status === 200);
          listKeys();
        } }, "Revoke"))));
  }
}
function initKeys() {
  $("k-scopes").append(...SCOPES.map((s) => h("span", {}, h("input", { type: "checkbox", id: `k-scope-${s}`, value: s }), " ", h("label", { for: `k-scope-${s}` }, s))));
  $("k-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const scopes = SCOPES.filter((s) => $(`k-scope-${s}`).checked);
    const r = await api("POST", "/v1/api-keys", { name: $("k-name").value.trim(), scopes });
    if (r.status === 201) {
      showSecret(r.body.secret);
      say("k-result", `Created ${r.body.name} (${r.body.prefix}…${r.body.last_four})`);
      listKeys();
    } else say("k-result", errorText(r), false);
  });
  $("k-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("k-secret").value);
      say("k-result", "Copied");
    } catch {
      $("k-secret").select();
      say("k-result", "Select and copy it by hand (the clipboard is not available)", false);
    }
  });
  $("k-dismiss").addEventListener("click", () => {
    $("k-secret").value = "";
    $("k-secret-box").hidden = true;
  });
  loaders["api-keys"] = listKeys;
}

// ------------------------------------------------------------------ signing keys

async function listSigning() {
  const r = await api("GET", "/v1/signing-keys");
  const rows = $("g-rows");
  rows.replaceChildren();
  if (r.status !== 200) return say("g-result", errorText(r), false);
  for (const k of r.body.data) {
    rows.append(h("tr", {}, h("td", {}, k.version), h("td", {}, h("code", {}, k.kid)), h("td", {}, k.state), h("td", {}, time(k.published_at)), h("td", {}, time(k.signs_from)), h("td", {}, time(k.signs_until))));
  }
}
function initSigning() {
  $("g-rotate").addEventListener("click", async () => {
    const r = await api("POST", "/v1/signing-keys/rotate", {});
    say("g-result", r.status === 201 ? `Published version ${r.body.version} (${r.body.kid}); it signs from ${time(r.body.signs_from)}` : errorText(r), r.status === 201);
    listSigning();
  });
  loaders["signing-keys"] = listSigning;
}

// ------------------------------------------------------------------ API reference

let referenceFor = null;
function param(doc, p) {
  if (!p.$ref) return p;
  return p.$ref.split("/").slice(1).reduce((o, k) => o?.[k], doc);
}
async function loadReference() {
  const base = conn?.base ?? location.origin;
  if (referenceFor === base) return;
  const box = $("r-ops");
  let doc;
  try {
    const res = await fetch(new URL("/v1/openapi.json", base), { credentials: "omit" });
    doc = await res.json();
  } catch (e) {
    box.textContent = `Could not read ${base}/v1/openapi.json: ${e.message}`;
    return;
  }
  referenceFor = base;
  box.replaceChildren(h("p", {}, `${doc.info?.title ?? "API"} ${doc.info?.version ?? ""}`));
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      box.append(operation(doc, path, method.toUpperCase(), op));
    }
  }
}
/** Text with `code` spans, as nodes (the document's descriptions use backticks). */
const md = (text) => String(text).split("`").map((part, i) => (i % 2 ? h("code", {}, part) : part));

function operation(doc, path, method, op) {
  const id = op.operationId.replace(/[^a-z0-9]+/gi, "-");
  const params = (op.parameters ?? []).map((p) => param(doc, p)).filter((p) => p && ["path", "query", "header"].includes(p.in));
  const security = (op.security ?? []).flatMap((s) => Object.entries(s).map(([k, v]) => (v.length ? `${k}: ${v.join(", ")}` : k)));
  const inputs = params.map((p) => {
    const inputId = `r-${id}-${p.name}`;
    return h("p", {}, h("label", { for: inputId }, `${p.name} (${p.in}${p.required ? ", required" : ""})`), " ",
      h("input", { id: inputId, "data-param": p.name, "data-in": p.in, spellcheck: "false", autocomplete: "off", "aria-describedby": p.description ? `${inputId}-d` : null }),
      p.description ? h("span", { id: `${inputId}-d`, class: "note" }, " ", md(p.description)) : null);
  });
  const bodyId = `r-${id}-body`;
  const body = op.requestBody ? h("p", {}, h("label", { for: bodyId }, `Body (JSON${op.requestBody.required ? ", required" : ""})`), h("textarea", { id: bodyId, rows: 4, spellcheck: "false" }, "{}")) : null;
  const out = h("pre", { class: "response", role: "region", tabindex: 0, "aria-label": `Response of ${op.operationId}`, "data-response": op.operationId });
  const send = h("button", { type: "button", "data-try": op.operationId, onclick: async () => {
    let url = path;
    const query = new URLSearchParams();
    const headers = {};
    for (const input of inputs.map((p) => p.querySelector("input"))) {
      const v = input.value.trim();
      if (input.dataset.in === "path") url = url.replace(`{${input.dataset.param}}`, encodeURIComponent(v));
      else if (v && input.dataset.in === "header") headers[input.dataset.param] = v;
      else if (v) query.set(input.dataset.param, v);
    }
    if ([...query].length) url += `?${query}`;
    let payload;
    if (body) {
      try {
        payload = JSON.parse(body.querySelector("textarea").value || "{}");
      } catch (e) {
        out.textContent = `The body is not JSON: ${e.message}`;
        return;
      }
    }
    out.textContent = "…";
    const r = await api(method, url, payload, headers);
    out.dataset.status = String(r.status);
    const shown = ["etag", "idempotent-replayed", "retry-after", "x-request-id"].flatMap((n) => (r.headers?.get(n) ? [`${n}: ${r.headers.get(n)}`] : []));
    out.textContent = `${method} ${url}\n${r.status}\n${shown.map((l) => `${l}\n`).join("")}${r.body === null ? "" : pretty(r.body)}`;
  } }, "Send");
  return h("details", { class: "op", id: `op-${id}` },
    h("summary", {}, h("span", { class: `method m-${method.toLowerCase()}` }, method), " ", h("code", {}, path), " ", md(op.summary ?? "")),
    h("p", { class: "note" }, `${op.operationId}. Security: ${security.length ? security.join("; ") : "none (public)"}`),
    op.description ? h("p", {}, md(op.description)) : null,
    h("div", { class: "try" }, h("h3", {}, "Try it"), inputs, body, h("p", {}, send), out));
}

// ------------------------------------------------------------------ start

initConnection();
initTemplates();
initUsers();
initSessions();
initKeys();
initSigning();
loaders.reference = loadReference;
window.addEventListener("hashchange", show);
show();
if (conn) {
  api("GET", "/v1/applications/current").then((r) => {
    if (r.status === 200) {
      app = r.body;
      renderPreview();
    }
  });
}
document.documentElement.dataset.ready = "true";
