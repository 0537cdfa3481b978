//! `e` in any view: the view's plots as PNG + SVG and its tables as CSV, into `exports/`.
//! The job copies what it needs from the state, so it can run on another thread.

use std::path::PathBuf;

pub use super::export_plot::Plot;
use super::state::State;
use super::view::View;
use super::view_state::MonitorOpts;
use super::views;
use crate::tui::imager::compose_recon_grid;
use crate::tui::map_overlay::compose_over_frame;

/// Shorter side of an exported map-over-frame picture, in pixels (frames are 64–224).
const OVER_FRAME_SIDE: u32 = 480;

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
                Plot::Curves {
                    title,
                    x_label,
                    y_label,
                    series,
                    log,
                } => crate::report::curves(
                    &stem,
                    &crate::report::CurveFigure {
                        title: &title,
                        x_label,
                        y_label: &y_label,
                        series: &series,
                        log_y: log,
                    },
                )?,
                Plot::Confusion { owner, eval } => crate::report::confusion(&stem, &owner, &eval)?,
                Plot::Recon {
                    title,
                    dir,
                    sample,
                    frames,
                } => {
                    let grid = compose_recon_grid(&dir, sample, frames)?;
                    crate::report::recon_grid(&stem, &title, &grid)?
                }
                Plot::Heat { title, grid } => {
                    crate::report::heatmap(&stem, &title, grid.w, grid.h, &grid.values)?
                }
                Plot::OverFrame {
                    title,
                    grid,
                    frame_png,
                } => {
                    let picture = compose_over_frame(&frame_png, &grid, OVER_FRAME_SIDE)?;
                    crate::report::raster_figure(&stem, &title, &picture, &[])?
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
            let name = opts.chosen(&names).cloned().unwrap_or_default();
            let plain = MonitorOpts {
                log_scale: false,
                ..opts.clone()
            };
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
            }
            job.tables.push(("-metrics".into(), rows));
            // The chosen metric of the selected run and every marked run, as the Monitor
            // overlays them.
            let runs = state.overlay_runs();
            let ids: Vec<&str> = runs.iter().map(|r| r.id()).collect();
            let mut series = Vec::new();
            for r in &runs {
                let label = views::monitor_curves::short_label(r.id(), &ids);
                for ((split, n), s) in &r.metrics.series {
                    if *n == name {
                        let points = views::monitor::prepare(s, &plain, 4000);
                        let label = if runs.len() > 1 {
                            format!("{label} {split}")
                        } else {
                            split.clone()
                        };
                        series.push((label, points));
                    }
                }
            }
            let title = if runs.len() > 1 {
                format!("{name} · {} runs", runs.len())
            } else {
                format!(
                    "{} · {name}",
                    views::monitor_curves::short_label(&run_id, &ids)
                )
            };
            job.plots.push((
                format!("-{name}"),
                Plot::Curves {
                    title,
                    x_label: "step",
                    y_label: name.clone(),
                    series,
                    log: opts.log_scale,
                },
            ));
            if let Some(lr) = run.metrics.get("train", "lr") {
                job.plots.push((
                    "-lr".into(),
                    Plot::Curves {
                        x_label: "step",
                        title: format!(
                            "{} · learning rate",
                            views::monitor_curves::short_label(&run_id, &[])
                        ),
                        y_label: "lr".into(),
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
                    if let Some(frame_png) = &a.frame_png {
                        let scale = if g.groups > 0 {
                            "colour: bottleneck group"
                        } else {
                            "colour: blue lowest → red highest"
                        };
                        job.plots.push((
                            format!("{suffix}-over-frame"),
                            Plot::OverFrame {
                                title: format!("{} · {scale}", g.label),
                                grid: g.clone(),
                                frame_png: frame_png.clone(),
                            },
                        ));
                    }
                }
            }
            if job.plots.is_empty() {
                return Err("no attention map loaded".into());
            }
        }
        View::Compare => {
            job.stem = format!("compare-{}", stamp());
            let mut rows = vec![vec!["run".to_string(), "dataset".into(), "source".into()]];
            for m in views::compare::METRICS {
                rows[0].push(format!("{m}_final"));
                rows[0].push(format!("{m}_best"));
            }
            for r in views::compare::sorted_rows(state) {
                let mut row = vec![r.run.clone(), r.dataset.clone()];
                row.push(r.source.to_string());
                for m in views::compare::METRICS {
                    let v = r.values.get(m);
                    row.push(v.map(|v| v.0.to_string()).unwrap_or_default());
                    row.push(v.map(|v| v.1.to_string()).unwrap_or_default());
                }
                rows.push(row);
            }
            job.tables.push((String::new(), rows));
            let (ids, config_diff) = views::compare::marked_diff(state);
            if ids.len() >= 2 {
                let mut diff = vec![
                    std::iter::once("key".to_string())
                        .chain(ids.iter().cloned())
                        .collect::<Vec<_>>(),
                ];
                diff.extend(
                    config_diff
                        .into_iter()
                        .map(|(k, v)| std::iter::once(k).chain(v).collect()),
                );
                job.tables.push(("-config-diff".into(), diff));
            }
            if let Some((e, owner)) = views::compare::selected_eval(state) {
                job.plots.push((
                    format!("-confusion-{}-{}", e.dataset, e.split),
                    Plot::Confusion {
                        owner,
                        eval: Box::new(e.clone()),
                    },
                ));
            }
        }
        View::Inspect => {
            let e = super::export_inspect::inspect_export(state, &stamp())?;
            job.stem = e.stem;
            job.tables = e.tables;
            job.plots = e.plots;
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
