//! `svfap-tui launch <config.toml>`: freeze a config into a new run folder and run it
//! (in the foreground, or detached with `--detach`), or only create it (`--create-only`) for
//! a scheduler to start (`srun svfap-tui run RUN_DIR` in a SLURM batch script).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use svfap_tui::train::data_adapter::open_source;
use svfap_tui::train::launch::{create_run, ensure_session, prepare_config, spawn_worker};
use svfap_tui::train::run_main::run_processes;
use svfap_tui::train::run_main::run_worker;

use super::log_tee::LogTee;

#[derive(Args, Debug)]
pub struct LaunchArgs {
    /// Run config (see assets/*.toml).
    pub config: PathBuf,
    /// Session folder the run goes into.
    #[arg(long, default_value = "sessions/default")]
    pub session: PathBuf,
    /// Override a config key, e.g. `--set optim.base_lr=1e-4` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Start the worker in its own process session with output to the run's log.txt and
    /// return at once (survives closing the terminal or a dropped SSH link).
    #[arg(long, conflicts_with = "create_only")]
    pub detach: bool,
    /// Only create the run folder (state `queued`) and print its path, for a scheduler to
    /// start: `RUN=$(svfap-tui launch CONFIG --create-only)`, then
    /// `srun --mpi=pmix svfap-tui run "$RUN"`.
    #[arg(long)]
    pub create_only: bool,
}

pub fn run(args: &LaunchArgs) -> Result<()> {
    ensure_session(&args.session)?;
    let config = prepare_config(&args.config, &args.session, &args.overrides)?;
    let run = create_run(&config, &args.session)?;
    if args.create_only {
        println!("{}", run.root.display());
        eprintln!(
            "created run {} ({} device(s)); start it with `svfap-tui run {}`",
            run.id(),
            config.devices.len(),
            run.root.display()
        );
        return Ok(());
    }
    if args.detach {
        let pid = spawn_worker(&run, false, config.devices.len())?;
        println!("{}", run.root.display());
        eprintln!(
            "started run {} (pid {pid}); log: {}",
            run.id(),
            run.log_txt().display()
        );
        return Ok(());
    }
    eprintln!("run {} in {}", run.id(), run.root.display());
    // log.txt as a detached run has one; the terminal still sees everything.
    let tee = match LogTee::start(&run.log_txt()) {
        Ok(tee) => Some(tee),
        Err(e) => {
            eprintln!("warning: no log.txt for this run: {e:#}");
            None
        }
    };
    let result = if config.devices.len() > 1 {
        run_processes(&run, false, config.devices.len())
    } else {
        run_worker(&run.root, false, &open_source).map(drop)
    };
    if let Err(e) = &result {
        // main prints the error after the copy ends: put it in the log here.
        eprintln!("error: {e:#}");
    }
    drop(tee);
    result
        .map_err(|_| anyhow::anyhow!("the run failed (see above and {})", run.log_txt().display()))
}
