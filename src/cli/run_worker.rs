//! `svfap-tui run <run-dir>` and `svfap-tui resume <run-dir>`: execute a run folder's
//! frozen config (what `launch --detach` starts; also what a batch script or cluster job
//! calls). Both continue from the latest complete checkpoint when there is one; `resume`
//! insists on one, and with `--detach` starts the worker in the background.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use svfap_tui::session::RunDir;
use svfap_tui::session::run_lock::holder;
use svfap_tui::train::data_adapter::open_source;
use svfap_tui::train::launch::spawn_worker;
use svfap_tui::train::run_main::run_worker;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Run folder (sessions/<session>/runs/<run-id>).
    pub run_dir: PathBuf,
    /// Start in the background (own process session, output to log.txt).
    #[arg(long)]
    pub detach: bool,
}

pub fn run(args: &RunArgs, resume: bool) -> Result<()> {
    if args.detach {
        let run = RunDir::new(&args.run_dir);
        // The worker refuses too (into its log); refusing here says it to the user.
        if let Some(holder) = holder(&run) {
            anyhow::bail!(
                "{}: already has a worker ({holder}); stop it first",
                run.root.display()
            );
        }
        let pid = spawn_worker(&run, resume)?;
        eprintln!(
            "started run {} (pid {pid}); log: {}",
            run.id(),
            run.log_txt().display()
        );
        return Ok(());
    }
    run_worker(&args.run_dir, resume, &open_source).map(drop)
}
