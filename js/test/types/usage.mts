// Type-checked by test/types.test.mjs (tsc --noEmit): every export used as documented,
// through the package's own name and export conditions (ESM).
import {
  createVerifier,
  verifyToken,
  verifyEdgeAssertion,
  createEdgeAssertionVerifier,
  validateTemplate,
  renderTemplate,
  createServerClient,
  createTokenClient,
  errorCodes,
  ToriiError,
  JwksCachePolicy,
  DEFAULT_CACHE_CONFIG,
  EDGE_ASSERTION_HEADER,
  type Claims,
  type ToriiErrorCode,
  type CoreErrorCode,
  type User,
  type ApiKeyWithSecret,
  type Page,
  type Scope,
  MAX_API_RESPONSE_BYTES,
} from "torii-edge";

export async function all(header: string, request: Request): Promise<void> {
  const v = createVerifier({ issuer: "https://a", jwksUrl: new URL("https://a/jwks"), audience: ["x"], clockTolerance: 5 });
  const c: Claims = await v.verify(header, { currentDate: new Date() });
  const sub: string | undefined = c.sub;
  const typed = await verifyToken<Claims & { org_role: string }>(header, { issuer: "https://a", jwks: { keys: [] } });
  const role: string = typed.org_role;
  // @ts-expect-error: `issuer` is required
  createVerifier({ jwks: "{}" });
  // @ts-expect-error: not both key sources
  createVerifier({ issuer: "i", jwks: "{}", jwksUrl: "https://a" });

  const fromEdge = await verifyEdgeAssertion(request, { issuer: "https://edge", audience: "https://api" });
  const who: string | undefined = fromEdge?.sub;
  const ev = createEdgeAssertionVerifier({ issuer: "https://edge", audience: "https://api", jwks: { keys: [] } });
  await ev.verify(new Headers(), { url: "https://api/x", method: "GET" });
  await ev.verify({ method: "GET", url: "/x", headers: { "x-torii-edge-assertion": "t" } });

  const r = validateTemplate({ a: "{{ user.id }}" }, { budget: 2000, lifetime: 60 });
  if (r.valid) {
    const n: number = r.worstCaseSize;
  } else {
    const p: string | undefined = r.error.pointer;
    const code: ToriiErrorCode = r.error.code;
  }
  const out: Record<string, unknown> = renderTemplate("{}", { id: "u", public_metadata: { a: 1 } });

  const server = createServerClient({ baseUrl: "https://edge", applicationId: "app", apiKey: "sk" });
  const sc = await server.verifyToken(header);
  const res: Response = await server.fetch("/v1/users");
  // The Backend API groups.
  const created = await server.users.create({ email: "a@b.co", public_metadata: { plan: "pro" } }, { idempotencyKey: "k1" });
  const tag: string | undefined = created.etag;
  const page: Page<User> = await server.users.list({ email: "a@b.co", limit: 2, startingAfter: "c" });
  const more: boolean = page.has_more;
  const next: string | null = page.next_cursor;
  for await (const u of server.users.list({ limit: 2 })) {
    const id: string = u.id;
    void id;
  }
  for await (const u of page) void u.email;
  await server.users.update(created.id, { first_name: null }, { ifMatch: tag ?? "*" });
  await server.users.updateMetadata(created.id, { public_metadata: { plan: null } });
  const gone: void = await server.users.delete(created.id);
  const { session, token } = await server.sessions.create({ user_id: created.id, aal: "aal2", actor: { sub: "admin_1" } });
  const status: "active" | "revoked" | "expired" = session.status;
  const jwt: string = (await server.sessions.createToken(session.id, { template: "hasura" })).jwt;
  const revoked: number = (await server.sessions.revokeAllOfUser(created.id)).revoked;
  for await (const s of server.sessions.list({ userId: created.id, status: "active" })) void s.expires_at;
  await server.sessions.revoke(session.id);
  await server.sessions.get(session.id);
  const tpl = await server.jwtTemplates.put("hasura", { claims: { a: "{{user.email}}" }, lifetime: 300, default: true });
  const lifetime: number | null = tpl.lifetime;
  await server.jwtTemplates.get("hasura");
  await server.jwtTemplates.list();
  await server.jwtTemplates.preview({ claims: {}, user: { email: "x@y.z" } });
  await server.jwtTemplates.delete("hasura", { ifMatch: "*" });
  const scopes: Scope[] = ["users:read"];
  const key: ApiKeyWithSecret = await server.apiKeys.create({ name: "ci", scopes, expires_in: 3600 });
  const secret: string | null = key.secret;
  const rolled: ApiKeyWithSecret = await server.apiKeys.roll(key.id, { expire_previous_in: 60 });
  await server.apiKeys.revoke(rolled.id);
  await server.apiKeys.get(key.id);
  for await (const k of server.apiKeys.list()) void k.last_four;
  for await (const sk of server.signingKeys.list()) void sk.kid;
  const rotated: number = (await server.signingKeys.rotate()).version;
  const max: number = MAX_API_RESPONSE_BYTES;
  // @ts-expect-error: an unknown scope
  await server.apiKeys.create({ name: "x", scopes: ["root"] });
  // @ts-expect-error: a session needs user_id
  await server.sessions.create({ aal: "aal1" });
  void [more, next, gone, token, status, jwt, revoked, lifetime, secret, rotated, max];
  const tokens = createTokenClient({ baseUrl: "https://edge", getSessionToken: async () => null });
  const t: string | null = await tokens.getToken({ template: "hasura" });
  tokens.clear();

  const codes: CoreErrorCode[] = errorCodes();
  try {
    await v.verify(null);
  } catch (e) {
    if (e instanceof ToriiError) {
      const s: number = e.status;
      const retry: number | undefined = e.retryAfter;
      const rid: string | undefined = e.requestId;
      const field: string | undefined = e.field;
      void [rid, field];
    }
  }
  const policy = new JwksCachePolicy<string>({ cooldown: 10 });
  const d = policy.lookup(true, 0);
  if (d.kind === "unavailable") {
    const n: number = d.retryAfter;
  }
  const ttl: number = DEFAULT_CACHE_CONFIG.defaultTtl;
  const h: "x-torii-edge-assertion" = EDGE_ASSERTION_HEADER;
  void [sub, role, who, out, sc, res, t, codes, ttl, h];
}
