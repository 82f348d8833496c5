//! The timing harness the benches share (no criterion): cases run round-robin in short
//! batches, the order rotating each round, so load on a shared machine hits them alike;
//! reports are medians over rounds and per-round ratios to a base case (paired, so load
//! drifting over the run cancels out).
#![allow(dead_code)]

pub mod gateway;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The bench binary's own options (after `cargo bench --bench NAME --`; cargo adds
/// `--bench`, ignored): `--json FILE` writes the figures as JSON for `benches/report.mjs`,
/// `--quick` (or `BENCH_QUICK=1`) runs a tenth of the rounds with a short warm-up.
pub struct Args {
    pub json: Option<PathBuf>,
    pub quick: bool,
}

impl Args {
    pub fn parse() -> Self {
        let mut json = None;
        let mut quick = std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--json" => json = args.next().map(PathBuf::from),
                "--quick" => quick = true,
                _ => {}
            }
        }
        Self { json, quick }
    }

    /// The plan, cut down in quick mode.
    pub fn plan(&self, batch_ns: u128, rounds: usize, warmup: Duration) -> Plan {
        if self.quick {
            Plan {
                batch_ns: batch_ns / 5,
                rounds: (rounds / 10).max(11),
                warmup: warmup / 5,
            }
        } else {
            Plan {
                batch_ns,
                rounds,
                warmup,
            }
        }
    }

    /// Writes `value` to the `--json` file, if one was given (its folder created).
    pub fn write_json(&self, value: &serde_json::Value) {
        if let Some(path) = &self.json {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).unwrap();
            }
            std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
        }
    }
}

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

    /// This case's figures for the `--json` output: median ns/op, the paired ratio to
    /// `base`, the relative spread and the number of rounds.
    pub fn to_json(&self, id: &str, base: &Case<R>) -> serde_json::Value {
        serde_json::json!({
            "id": id,
            "name": self.name,
            "ns": self.median(),
            "ratio_to_base": self.paired_ratio(base),
            "spread": self.spread(),
            "rounds": self.samples.len(),
        })
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
