//! `svfap-tui status`: the session's runs as a plain table (for pipes, CI and scripts).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use svfap_tui::session::SessionDir;
use svfap_tui::session::metrics::MetricsTail;
use svfap_tui::session::scan::read_run;
use svfap_tui::tui::run_data::RunData;
use svfap_tui::tui::series::RunMetrics;

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Session folder.
    #[arg(long, default_value = "sessions/default")]
    pub session: PathBuf,
}

/// Metrics bytes read from the end of each run's metrics.jsonl for the "best" column.
const TAIL_BYTES: u64 = 4 << 20;

pub fn run(args: &StatusArgs) -> Result<()> {
    if !args.session.join("runs").is_dir() {
        anyhow::bail!(
            "{}: not a session folder (no runs/ inside); sessions are made by `launch --session` and the workbench",
            args.session.display()
        );
    }
    print!("{}", table(&args.session, svfap_tui::session::now_unix()));
    Ok(())
}

/// The table as text (one header line, one line per run).
pub fn table(session: &std::path::Path, now: f64) -> String {
    let dir = SessionDir::new(session);
    let mut rows = vec![
        [
            "run", "kind", "dataset", "state", "step", "epoch", "clips/s", "eta", "best",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for run in dir.list_runs() {
        let summary = read_run(&run);
        let mut metrics = RunMetrics::default();
        let path = run.metrics_jsonl();
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mut tail = MetricsTail::new(&path);
        if len > TAIL_BYTES {
            // Only the recent part of a big file (the first, partial line is dropped).
            tail.skip_to(len - TAIL_BYTES);
        }
        while let Ok(chunk) = tail.poll(8 << 20) {
            metrics.apply(&chunk.records);
            if !tail.behind() {
                break;
            }
        }
        let data = RunData {
            metrics,
            ..RunData::new(summary, None, None)
        };
        let s = data.summary.status.clone().unwrap_or_default();
        let frac = |a: u64, b: u64| {
            if b > 0 {
                format!("{a}/{b}")
            } else {
                a.to_string()
            }
        };
        rows.push(vec![
            data.summary.id.clone(),
            data.summary.kind.clone(),
            data.summary.dataset.clone(),
            data.shown_state(now).label().to_string(),
            frac(s.step, s.total_steps),
            frac(s.epoch, s.total_epochs),
            if s.throughput > 0.0 {
                format!("{:.1}", s.throughput)
            } else {
                String::new()
            },
            s.eta_seconds
                .filter(|_| data.shown_state(now).label() == "running")
                .map(svfap_tui::tui::draw_helpers::duration)
                .unwrap_or_default(),
            data.best_metric()
                .map(|(k, v)| format!("{k} {}", svfap_tui::tui::draw_helpers::num(v)))
                .unwrap_or_default(),
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if rows.len() == 1 {
        out.push_str(&format!("(no runs in {})\n", dir.root.display()));
    }
    out
}
