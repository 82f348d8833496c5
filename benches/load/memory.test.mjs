// Self-tests of the memory comparison (benches/load/memory.mjs): the estimator and the
// warm-up rule on synthetic curves, so the verdict of `make load` means what it says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareGrowth, median, steadyGrowth, theilSen } from './memory.mjs';

/** One sample a second at `rps`, RSS from `f(done)`; `noise(i)` added. */
const curve = (seconds, rps, f, noise = () => 0) =>
  Array.from({ length: seconds + 1 }, (_, i) => ({ t: i, done: i * rps, runtime: f(i * rps) + noise(i) }));
const opts = { warmupSeconds: 12, warmupRequests: 1000 };

test('median and Theil–Sen', () => {
  assert.equal(median([]), null);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(theilSen([{ x: 0, y: 0 }, { x: 1, y: 2 }, { x: 2, y: 4 }]), 2);
  // One outlier among many points does not move the slope.
  const pts = Array.from({ length: 20 }, (_, i) => ({ x: i, y: 3 * i + (i === 7 ? 500 : 0) }));
  assert.equal(theilSen(pts), 3);
  assert.equal(theilSen([{ x: 0, y: 0 }]), null);
});

test('the warm-up step is excluded; the steady slope is found in KiB per request', () => {
  // A 60 MiB step within the first 300 requests, then 10 KiB per request.
  const s = curve(60, 150, (d) => 90_000 + Math.min(d, 300) * 200 + d * 10);
  const g = steadyGrowth(s, opts);
  assert.deepEqual(g.from, { t: 12, done: 1800 });
  assert.equal(g.kibPerRequest, 10);
  assert.ok(g.conclusive);
  // The warm-up waits for its requests too: at 50 requests/s, 1000 are done at 20 s.
  assert.equal(steadyGrowth(curve(60, 50, (d) => d), opts).from.t, 20);
});

test('a transient spike does not move the slope (max − warm-up takes all of it); a late step moves it by a bounded amount', () => {
  const noise = (i) => ((i * 7919) % 13) * 150 - 900; // ±1 MiB, deterministic
  const spike = (i) => (i === 58 ? 15_000 : 0); // one sample near the end 15 MiB high (garbage not yet collected)
  const spiky = curve(60, 150, (d) => 100_000 + d * 10, (i) => noise(i) + spike(i));
  assert.equal(steadyGrowth(spiky, opts).kibPerRequest, 10);
  const warm = spiky.find((x) => x.t >= 12).runtime;
  assert.ok(Math.max(...spiky.map((x) => x.runtime)) - warm > 10 * (60 - 12) * 150 + 8_000);
  const step = (d) => (d > 6000 ? 5_000 : 0); // at 40 s
  const stepped = steadyGrowth(curve(60, 150, (d) => 100_000 + d * 10 + step(d), noise), opts);
  assert.ok(stepped.kibPerRequest > 10 && stepped.kibPerRequest < 11.5, `${stepped.kibPerRequest}`);
  // A bigger step's pull is bounded: 20 MiB (28% of the window's growth) moves it by a fifth.
  const big = (d) => (d > 6000 ? 20_000 : 0);
  const bigger = steadyGrowth(curve(60, 150, (d) => 100_000 + d * 10 + big(d), noise), opts);
  assert.ok(bigger.kibPerRequest <= 12.1, `${bigger.kibPerRequest}`);
});

test('the verdict: within, over, inconclusive', () => {
  const g = (k) => steadyGrowth(curve(60, 150, (d) => 50_000 + d * k), opts);
  assert.equal(compareGrowth(g(10.5), g(10)).within, true);
  assert.equal(compareGrowth(g(12), g(10)).within, false);
  assert.ok(Math.abs(compareGrowth(g(12), g(10)).ratio - 1.2) < 1e-9);
  // A flat or shrinking baseline: ours must not grow.
  assert.equal(compareGrowth(g(0), g(-1)).within, true);
  assert.equal(compareGrowth(g(1), g(0)).within, false);
  // Too short after the warm-up (a 10 s smoke run): no verdict.
  const short = steadyGrowth(curve(10, 150, (d) => d), opts);
  assert.equal(short.conclusive, false);
  assert.deepEqual(compareGrowth(short, g(10)), { conclusive: false, ratio: null, limit: null, within: null });
});
