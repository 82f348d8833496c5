//! The timing harness the benches share (no criterion): cases run round-robin in short
//! batches, the order rotating each round, so load on a shared machine hits them alike;
//! reports are medians over rounds and per-round ratios to a base case (paired, so load
//! drifting over the run cancels out).
#![allow(dead_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long and how often to time.
pub struct Plan {
    /// Target wall time of one timed batch, in ns.
    pub batch_ns: u128,
    /// Timed rounds (one batch of every case each).
    pub rounds: usize,
    /// Warmup per case before sizing its batches.
    pub warmup: Duration,
}

/// One timed closure; `R` is what it returns (kept so callers can check it once).
pub struct Case<R> {
    pub name: &'static str,
    pub run: Box<dyn FnMut() -> R>,
    iters: u64,
    samples: Vec<f64>,
}

impl<R> Case<R> {
    pub fn new(name: &'static str, run: impl FnMut() -> R + 'static) -> Self {
        Self {
            name,
            run: Box::new(run),
            iters: 1,
            samples: Vec::new(),
        }
    }

    /// Runs one batch; returns ns per iteration.
    fn batch(&mut self) -> f64 {
        let start = Instant::now();
        for _ in 0..self.iters {
            black_box((self.run)());
        }
        start.elapsed().as_nanos() as f64 / self.iters as f64
    }

    /// Warms up, then picks the iteration count of one ~`batch_ns` batch.
    fn warm_up(&mut self, plan: &Plan) {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < plan.warmup {
            black_box((self.run)());
            n += 1;
        }
        let per_op = plan.warmup.as_nanos().max(1) / u128::from(n.max(1));
        self.iters = u64::try_from((plan.batch_ns / per_op.max(1)).max(1)).unwrap_or(u64::MAX);
    }

    /// Median ns/op over the rounds.
    pub fn median(&self) -> f64 {
        median(self.samples.clone())
    }

    /// Median over rounds of this case's time divided by `base`'s time in the same round.
    pub fn paired_ratio(&self, base: &Case<R>) -> f64 {
        median(
            self.samples
                .iter()
                .zip(&base.samples)
                .map(|(a, b)| a / b)
                .collect(),
        )
    }

    /// Half the interquartile range, relative to the median (a spread indicator).
    pub fn spread(&self) -> f64 {
        let mut s = self.samples.clone();
        s.sort_by(f64::total_cmp);
        let (q1, q3) = (s[s.len() / 4], s[(3 * s.len()) / 4]);
        (q3 - q1) / 2.0 / self.median()
    }
}

/// Warms every case up, then times `plan.rounds` rounds of one batch per case, rotating
/// which case goes first.
pub fn run_rounds<R>(cases: &mut [Case<R>], plan: &Plan) {
    for c in cases.iter_mut() {
        c.warm_up(plan);
        c.samples.reserve(plan.rounds);
    }
    let n = cases.len();
    for round in 0..plan.rounds {
        for k in 0..n {
            let c = &mut cases[(round + k) % n];
            let ns = c.batch();
            c.samples.push(ns);
        }
    }
}

fn median(mut s: Vec<f64>) -> f64 {
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}
