// The baseline of `make load` (benches/load/load.mjs): a bare pass-through Worker that
// forwards every request to ORIGIN_URL unchanged (method, headers, body; redirects passed
// back) and checks nothing. Run under `wrangler dev` with its own config
// (pass-through.wrangler.toml), exactly like the real Worker, to compare memory.
export default {
  fetch(req, env) {
    const u = new URL(req.url);
    return fetch(env.ORIGIN_URL + u.pathname + u.search, req);
  },
};
