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
