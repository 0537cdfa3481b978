//! `svfap-tui cv pool <run-dir>...`: pools finished fold runs (each with `data.fold` set and
//! an `eval/<dataset>-test.json`) into `cv/<cv-id>/` without running anything: metrics of
//! all folds' predictions together, per-fold metrics and their mean ± std.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use svfap_tui::session::RunDir;
use svfap_tui::train::cross_validation::{describe, pool_runs};

#[derive(Args, Debug)]
pub struct CvPoolArgs {
    /// Run folders of the folds (sessions/<session>/runs/<run-id>).
    #[arg(required = true)]
    pub run_dirs: Vec<PathBuf>,
    /// Session folder the result goes into (default: the session of the first run).
    #[arg(long)]
    pub session: Option<PathBuf>,
    /// Short name in the result's folder name.
    #[arg(long, default_value = "pooled")]
    pub name: String,
}

pub fn run(args: &CvPoolArgs) -> Result<()> {
    let session = match &args.session {
        Some(s) => s.clone(),
        None => {
            let first = &args.run_dirs[0];
            first
                .parent()
                .and_then(|runs| runs.parent())
                .map(PathBuf::from)
                .with_context(|| {
                    format!(
                        "{}: not under <session>/runs/; give --session",
                        first.display()
                    )
                })?
        }
    };
    let runs: Vec<RunDir> = args.run_dirs.iter().map(RunDir::new).collect();
    let (dir, summary) = pool_runs(&session, &args.name, &runs)?;
    print!("{}", describe(&summary));
    println!("{}", dir.root.display());
    Ok(())
}
