// The capturing origin of `make load`: a loopback node:http server (port 0) that records
// every request it receives, by its `x-request-id`, and answers 200 with a marker header
// (`x-load-origin: 1`) and a tiny body. Nothing is verified here, so the origin adds no
// CPU to the run; the harness judges the records afterwards.
import { createServer } from 'node:http';

export async function startCapturingOrigin() {
  const seen = new Map(); // request id → record
  const duplicates = [];
  const anonymous = []; // requests without an x-request-id
  let count = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      count++;
      const rec = {
        at: Date.now(),
        method: req.method,
        url: req.url,
        headers: req.headers, // lower-cased names; repeated ones joined
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const rid = req.headers['x-request-id'];
      if (typeof rid !== 'string') anonymous.push(rec);
      else if (seen.has(rid)) duplicates.push(rec);
      else seen.set(rid, rec);
      res.writeHead(200, { 'content-type': 'application/json', 'x-load-origin': '1', 'content-length': '11' });
      res.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    duplicates,
    anonymous,
    get count() {
      return count;
    },
    /** Forgets everything seen so far (readiness probes, another target's run). */
    reset() {
      seen.clear();
      duplicates.length = 0;
      anonymous.length = 0;
      count = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
