//! A run's metric series as the workbench holds them: decimated past a cap with exact
//! min/max/last, one series per (split, metric), filled incrementally from `metrics.jsonl`.

use crate::session::metrics::MetricRecord;

/// Most points a series keeps; beyond it every other point is dropped and the stride doubles
/// (min/max/last stay exact), so a 1 GB metrics file needs bounded memory.
pub const SERIES_CAP: usize = 20_000;

#[derive(Debug, Clone, Default)]
pub struct Series {
    /// (step, value), steps increasing as written.
    pub points: Vec<(f64, f64)>,
    /// (epoch, unix seconds) of each point, for the Monitor's other x axes.
    pub when: Vec<(f64, f64)>,
    stride: u64,
    seen: u64,
    pub last: Option<(f64, f64)>,
    pub last_when: (f64, f64),
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Series {
    pub fn push(&mut self, x: f64, y: f64) {
        self.push_at(x, (0.0, 0.0), y);
    }
    /// A value at step `x`, written at `when` = (epoch, unix seconds).
    pub fn push_at(&mut self, x: f64, when: (f64, f64), y: f64) {
        if !y.is_finite() {
            return;
        }
        self.last = Some((x, y));
        self.last_when = when;
        self.min = Some(self.min.map_or(y, |m| m.min(y)));
        self.max = Some(self.max.map_or(y, |m| m.max(y)));
        let stride = self.stride.max(1);
        if self.seen.is_multiple_of(stride) {
            self.points.push((x, y));
            self.when.push(when);
            if self.points.len() > SERIES_CAP {
                let kept: Vec<(f64, f64)> = self.points.iter().copied().step_by(2).collect();
                self.points = kept;
                let kept: Vec<(f64, f64)> = self.when.iter().copied().step_by(2).collect();
                self.when = kept;
                self.stride = stride * 2;
            }
        }
        self.seen += 1;
    }
    /// Points plus the exact last point when decimation skipped it.
    pub fn points_with_last(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let extra = match (self.points.last(), self.last) {
            (Some(p), Some(l)) if *p != l => Some(l),
            _ => None,
        };
        self.points.iter().copied().chain(extra)
    }
    /// Like [`Self::points_with_last`] with each point's (epoch, unix seconds).
    pub fn points_when(&self) -> impl Iterator<Item = ((f64, f64), (f64, f64))> + '_ {
        let extra = match (self.points.last(), self.last) {
            (Some(p), Some(l)) if *p != l => Some((l, self.last_when)),
            _ => None,
        };
        self.points
            .iter()
            .copied()
            .zip(self.when.iter().copied())
            .chain(extra)
    }
    pub fn count(&self) -> u64 {
        self.seen
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunMetrics {
    /// ((split, name), series), sorted by key; a run has a handful of series, so a sorted
    /// vector searched without allocating beats a map keyed by owned strings.
    pub series: Vec<((String, String), Series)>,
    pub bytes_read: u64,
    pub file_len: u64,
    pub bad_lines: usize,
}

impl RunMetrics {
    fn position(&self, split: &str, name: &str) -> Result<usize, usize> {
        self.series
            .binary_search_by(|((sp, n), _)| (sp.as_str(), n.as_str()).cmp(&(split, name)))
    }
    pub fn apply(&mut self, records: &[MetricRecord]) {
        let mut last: Option<usize> = None;
        for r in records {
            // Consecutive records often share a series: check the last one first.
            let i = match last {
                Some(i) if self.series[i].0.0 == r.split && self.series[i].0.1 == r.name => i,
                _ => match self.position(&r.split, &r.name) {
                    Ok(i) => i,
                    Err(i) => {
                        self.series
                            .insert(i, ((r.split.clone(), r.name.clone()), Series::default()));
                        i
                    }
                },
            };
            self.series[i]
                .1
                .push_at(r.step as f64, (r.epoch as f64, r.time), r.value);
            last = Some(i);
        }
    }
    pub fn get(&self, split: &str, name: &str) -> Option<&Series> {
        self.position(split, name).ok().map(|i| &self.series[i].1)
    }
    /// Metric names in display order: loss first, then the rest alphabetically.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.series.iter().map(|((_, n), _)| n.clone()).collect();
        names.sort();
        names.dedup();
        names.sort_by_key(|n| (n != "loss", n.clone()));
        names
    }
    pub fn loading(&self) -> bool {
        self.bytes_read < self.file_len
    }
}

/// A metric where larger is better (accuracy-like) or smaller is better (loss-like).
pub fn higher_is_better(name: &str) -> bool {
    !matches!(name, "loss" | "mae" | "mse" | "grad_norm" | "rmse")
}
