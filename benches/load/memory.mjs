// The memory comparison of `make load` (benches/load/load.mjs): workerd's steady-state RSS
// growth per request after a warm-up, ours against the pass-through's, robust to the
// noise of a shared machine.
//
// * Warm-up: the first samples hold one-time costs (V8 compiling and tiering up the wasm
//   module, Miniflare's services starting): a sample counts once both `warmupSeconds` have
//   passed and `warmupRequests` requests have completed, the same rule for both Workers.
// * Slope: the Theil–Sen estimator of RSS against requests completed over the samples
//   after the warm-up: the median of the slopes between every two samples (about 1,200
//   pairs for 50 samples). A noisy sample or a step of the staircase RSS climbs in (a
//   heap or arena expanding at once) moves that median less than it moves max − warm-up
//   or a least-squares line: it tolerates up to 29% of outlying points.
// * Verdict: ours ≤ pass-through × (1 + tolerance), conclusive only with enough samples and
//   requests after the warm-up.

/** The median of `xs` (null when empty). */
export function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Theil–Sen slope of `points` (`[{ x, y }]`): the median of `(y2 - y1) / (x2 - x1)` over
 * the pairs with `x2 - x1 >= minDx` (null when there is no such pair).
 */
export function theilSen(points, minDx = 0) {
  const slopes = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dx = points[j].x - points[i].x;
      if (dx > 0 && dx >= minDx) slopes.push((points[j].y - points[i].y) / dx);
    }
  }
  return median(slopes);
}

/** Samples needed after the warm-up for a conclusive slope. */
export const MIN_SAMPLES = 10;
/** Requests needed after the warm-up for a conclusive slope. */
export const MIN_REQUESTS = 1000;

/**
 * Steady-state growth of `key` (KiB) in `samples` (`[{ t, done, [key] }]`: seconds into
 * the run, requests completed, the reading): `{ from: { t, done }, samples, requests,
 * kibPerRequest, conclusive }` (`kibPerRequest` null without two samples).
 */
export function steadyGrowth(samples, { key = 'runtime', warmupSeconds, warmupRequests }) {
  const after = samples.filter((s) => s[key] != null && s.done != null && s.t >= warmupSeconds && s.done >= warmupRequests);
  const points = after.map((s) => ({ x: s.done, y: s[key] }));
  const requests = points.length ? points.at(-1).x - points[0].x : 0;
  return {
    from: after.length ? { t: after[0].t, done: after[0].done } : null,
    samples: points.length,
    requests,
    kibPerRequest: theilSen(points),
    conclusive: points.length >= MIN_SAMPLES && requests >= MIN_REQUESTS,
  };
}

/**
 * Ours against the pass-through: `{ ratio, limit, within, conclusive }`, `limit` the
 * pass-through's slope × (1 + tolerance). A slope at or below zero is within any limit.
 */
export function compareGrowth(ours, pass, tolerance = 0.1) {
  const conclusive = ours.conclusive && pass.conclusive && ours.kibPerRequest != null && pass.kibPerRequest != null;
  if (!conclusive) return { conclusive, ratio: null, limit: null, within: null };
  const limit = Math.max(0, pass.kibPerRequest) * (1 + tolerance);
  return {
    conclusive,
    ratio: pass.kibPerRequest > 0 ? ours.kibPerRequest / pass.kibPerRequest : null,
    limit,
    within: ours.kibPerRequest <= limit,
  };
}
