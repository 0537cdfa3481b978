//! `e` in any view: the view's plots as PNG + SVG and its tables as CSV, into `exports/`.
//! The job copies what it needs from the state, so it can run on another thread.

use std::path::PathBuf;

use super::state::{MonitorOpts, State, View};
use super::views;
use crate::session::artifacts::EvalReport;
use crate::tui::imager::{Grid, compose_recon_grid};

pub enum Plot {
    Curves {
        title: String,
        series: Vec<(String, Vec<(f64, f64)>)>,
        log: bool,
    },
    Confusion(Box<EvalReport>),
    Recon {
        title: String,
        dir: PathBuf,
        sample: usize,
        frames: usize,
    },
    Heat {
        title: String,
        grid: Grid,
    },
}

/// `name` as one file name inside the exports folder: metric, dataset and split names come
/// from files a run wrote (or anyone edited), so `/` and `..` must not reach a path.
pub fn file_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    if safe.is_empty() {
        "export".into()
    } else {
        safe.into()
    }
}

pub struct ExportJob {
    pub dir: PathBuf,
    /// File name stem, e.g. `monitor-<run>-<time>`.
    pub stem: String,
    pub tables: Vec<(String, Vec<Vec<String>>)>,
    pub plots: Vec<(String, Plot)>,
}

impl ExportJob {
    pub fn run(self) -> Result<Vec<PathBuf>, String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let mut out = Vec::new();
        for (suffix, rows) in &self.tables {
            let p = self
                .dir
                .join(file_name(&format!("{}{suffix}.csv", self.stem)));
            crate::report::write_csv(&p, rows)?;
            out.push(p);
        }
        for (suffix, plot) in self.plots {
            let stem = self.dir.join(file_name(&format!("{}{suffix}", self.stem)));
            let files = match plot {
                Plot::Curves { title, series, log } => {
                    crate::report::curves(&stem, &title, &series, log)?
                }
                Plot::Confusion(e) => crate::report::confusion(&stem, &e)?,
                Plot::Recon {
                    title,
                    dir,
                    sample,
                    frames,
                } => {
                    let grid = compose_recon_grid(&dir, sample, frames)?;
                    crate::report::recon_grid(&stem, &title, &grid, frames)?
                }
                Plot::Heat { title, grid } => {
                    crate::report::heatmap(&stem, &title, grid.w, grid.h, &grid.values)?
                }
            };
            out.extend(files);
        }
        Ok(out)
    }
}

fn stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// What to export from the current view.
pub fn job_for(state: &State) -> Result<ExportJob, String> {
    let dir = state.session.exports();
    let run = state.selected_run();
    let run_id = run.map(|r| r.summary.id.clone()).unwrap_or_default();
    let mut job = ExportJob {
        dir,
        stem: String::new(),
        tables: vec![],
        plots: vec![],
    };
    match state.gui.view {
        View::Runs => {
            job.stem = format!("runs-{}", stamp());
            let mut rows = vec![
                [
                    "run",
                    "kind",
                    "dataset",
                    "preset",
                    "state",
                    "step",
                    "total_steps",
                    "epoch",
                    "total_epochs",
                    "clips_per_s",
                    "eta_seconds",
                    "best_metric",
                    "best_value",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
            ];
            for &i in &state.visible_runs() {
                let r = &state.data.runs[i];
                let s = r.summary.status.clone().unwrap_or_default();
                let best = r.best_metric();
                rows.push(vec![
                    r.summary.id.clone(),
                    r.summary.kind.clone(),
                    r.summary.dataset.clone(),
                    r.summary.preset.clone(),
                    r.shown_state(state.now).label().to_string(),
                    s.step.to_string(),
                    s.total_steps.to_string(),
                    s.epoch.to_string(),
                    s.total_epochs.to_string(),
                    format!("{}", s.throughput),
                    s.eta_seconds.map(|e| e.to_string()).unwrap_or_default(),
                    best.as_ref().map(|b| b.0.clone()).unwrap_or_default(),
                    best.map(|b| b.1.to_string()).unwrap_or_default(),
                ]);
            }
            job.tables.push((String::new(), rows));
        }
        View::Monitor => {
            let run = run.ok_or("no run selected")?;
            job.stem = format!("monitor-{run_id}-{}", stamp());
            let names: Vec<String> = run
                .metrics
                .names()
                .into_iter()
                .filter(|n| n != "lr" && n != "clips_per_s")
                .collect();
            if names.is_empty() {
                return Err("this run has no metrics yet".into());
            }
            let opts = &state.gui.monitor;
            let name = names[opts.metric % names.len()].clone();
            let plain = MonitorOpts {
                log_scale: false,
                ..opts.clone()
            };
            let mut series = Vec::new();
            let mut rows = vec![vec![
                "split".to_string(),
                "name".into(),
                "step".into(),
                "value".into(),
            ]];
            for ((split, n), s) in &run.metrics.series {
                for (x, y) in s.points_with_last() {
                    rows.push(vec![
                        split.clone(),
                        n.clone(),
                        format!("{x}"),
                        format!("{y}"),
                    ]);
                }
                if *n == name {
                    series.push((split.clone(), views::monitor::prepare(s, &plain, 4000)));
                }
            }
            job.tables.push(("-metrics".into(), rows));
            job.plots.push((
                format!("-{name}"),
                Plot::Curves {
                    title: format!("{run_id} {name}"),
                    series,
                    log: opts.log_scale,
                },
            ));
            if let Some(lr) = run.metrics.get("train", "lr") {
                job.plots.push((
                    "-lr".into(),
                    Plot::Curves {
                        title: format!("{run_id} learning rate"),
                        series: vec![("lr".into(), lr.points_with_last().collect())],
                        log: false,
                    },
                ));
            }
        }
        View::Recon => {
            let (dir, meta) =
                views::recon::current_meta(state).ok_or("no reconstruction selected")?;
            let sample = meta
                .samples
                .get(
                    state
                        .gui
                        .recon
                        .sample
                        .min(meta.samples.len().saturating_sub(1)),
                )
                .ok_or("no samples")?;
            job.stem = format!(
                "recon-{run_id}-step{}-s{:02}-{}",
                meta.step,
                sample.index,
                stamp()
            );
            let title = format!(
                "{run_id} step {} sample {} mse {:.4}",
                meta.step, sample.index, sample.mse
            );
            job.plots.push((
                String::new(),
                Plot::Recon {
                    title,
                    dir,
                    sample: sample.index,
                    frames: meta.frames,
                },
            ));
            let mut rows = vec![vec!["index".to_string(), "source".into(), "mse".into()]];
            rows.extend(
                meta.samples
                    .iter()
                    .map(|s| vec![s.index.to_string(), s.source.clone(), s.mse.to_string()]),
            );
            job.tables.push(("-samples".into(), rows));
        }
        View::Attention => {
            let a = state
                .images
                .attn
                .as_ref()
                .ok_or("no attention map loaded")?;
            job.stem = format!("attention-{run_id}-step{}-{}", a.key.step, stamp());
            for (suffix, g) in [
                ("-heat", &a.heat),
                ("-assignment", &a.assign),
                ("-cross", &a.cross),
            ] {
                if let Some(g) = g {
                    job.plots.push((
                        suffix.into(),
                        Plot::Heat {
                            title: g.label.clone(),
                            grid: g.clone(),
                        },
                    ));
                }
            }
            if job.plots.is_empty() {
                return Err("no attention map loaded".into());
            }
        }
        View::Compare => {
            job.stem = format!("compare-{}", stamp());
            let mut rows = vec![vec!["run".to_string(), "dataset".into()]];
            for m in views::compare::METRICS {
                rows[0].push(format!("{m}_final"));
                rows[0].push(format!("{m}_best"));
            }
            for r in views::compare::sorted_rows(state) {
                let mut row = vec![r.run.clone(), r.dataset.clone()];
                for m in views::compare::METRICS {
                    let v = r.values.get(m);
                    row.push(v.map(|v| v.0.to_string()).unwrap_or_default());
                    row.push(v.map(|v| v.1.to_string()).unwrap_or_default());
                }
                rows.push(row);
            }
            job.tables.push((String::new(), rows));
            let ids = views::compare::diff_runs(state);
            if ids.len() >= 2 {
                let configs: Vec<Option<&toml::Value>> = ids
                    .iter()
                    .map(|id| state.data.run(id).and_then(|r| r.summary.config.as_ref()))
                    .collect();
                let mut diff = vec![
                    std::iter::once("key".to_string())
                        .chain(ids.iter().cloned())
                        .collect::<Vec<_>>(),
                ];
                diff.extend(
                    views::compare::config_diff(&configs)
                        .into_iter()
                        .map(|(k, v)| std::iter::once(k).chain(v).collect()),
                );
                job.tables.push(("-config-diff".into(), diff));
            }
            if let Some(e) = views::compare::selected_eval(state) {
                job.plots.push((
                    format!("-confusion-{}-{}", e.dataset, e.split),
                    Plot::Confusion(Box::new(e.clone())),
                ));
            }
        }
    }
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn export_names_stay_one_file_name() {
        assert_eq!(file_name("monitor-r1-uar"), "monitor-r1-uar");
        assert_eq!(file_name("x-../../etc/passwd"), "x-.._.._etc_passwd");
        assert_eq!(file_name("../up"), "_up");
        assert_eq!(file_name(".."), "export");
        assert_eq!(file_name("a b/c"), "a_b_c");
    }
}
