// Internal helpers shared by lib.mjs and clients.mjs (not re-exported by the entries).

/** Reads a response body as UTF-8 text, refusing more than `limit` bytes (declared or streamed). */
export async function readBody(response, limit) {
  const declared = Number(response.headers.get("content-length"));
  if (declared > limit) throw new Error(`the response is ${declared} bytes, more than ${limit}`);
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new Error(`the response is more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}
