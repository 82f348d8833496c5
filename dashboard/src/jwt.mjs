// Decodes a JWT's header and payload for display (no verification: the Worker minted it).
const part = (s) => JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "=")), (c) => c.charCodeAt(0))));

export function decodeJwt(jwt) {
  const [header, payload] = String(jwt).split(".");
  try {
    return { header: part(header), payload: part(payload) };
  } catch {
    return { header: null, payload: null };
  }
}
