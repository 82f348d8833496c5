// Type-checked by test/types.test.mjs: the CommonJS entry's types (dist/node.d.cts).
import torii = require("torii-edge");

export async function check(header: string): Promise<string | undefined> {
  const v = torii.createVerifier({ issuer: "https://a", jwks: { keys: [] } });
  const claims = await v.verify(header);
  const err: torii.ToriiErrorCode = "token_expired";
  const server = torii.createServerClient({ baseUrl: "https://a", applicationId: "app", apiKey: "sk" });
  const user: torii.User = await server.users.get("u1");
  void [err, user];
  return claims.sub;
}
