//! `svfap-tui run <run-dir>` and `svfap-tui resume <run-dir>`: execute a run folder's
//! frozen config (what `launch --detach` starts; also what a batch script or cluster job
//! calls). Both continue from the latest complete checkpoint when there is one; `resume`
//! insists on one, and with `--detach` starts the worker in the background. A run whose
//! config lists several devices starts one process per device under mpirun (`--processes`
//! chooses another number: a run resumed on fewer processes keeps its effective batch);
//! under a launcher (mpirun, srun) the worker is the rank it was started as.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use svfap_tui::distributed::world::{srun_task_without_mpi, started_by_launcher};
use svfap_tui::session::RunDir;
use svfap_tui::session::run_lock::holder;
use svfap_tui::train::data_adapter::open_source;
use svfap_tui::train::launch::{processes_of, spawn_worker};
use svfap_tui::train::run_main::{run_processes, run_worker};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Run folder (sessions/<session>/runs/<run-id>).
    pub run_dir: PathBuf,
    /// Start in the background (own process session, output to log.txt).
    #[arg(long)]
    pub detach: bool,
    /// Processes to run as (under mpirun when several); default: one per device in
    /// run.toml's `devices`. Ignored when mpirun or srun started this process.
    #[arg(long, value_name = "N")]
    pub processes: Option<usize>,
}

pub fn run(args: &RunArgs, resume: bool) -> Result<()> {
    let run = RunDir::new(&args.run_dir);
    let processes = match args.processes {
        Some(0) => anyhow::bail!("--processes: 0 (at least one process runs a run)"),
        Some(n) => n,
        None if run.run_toml().is_file() => processes_of(&run)?,
        None => 1,
    };
    if args.detach {
        // The worker refuses too (into its log); refusing here says it to the user.
        if let Some(holder) = holder(&run) {
            anyhow::bail!(
                "{}: already has a worker ({holder}); stop it first",
                run.root.display()
            );
        }
        let pid = spawn_worker(&run, resume, processes)?;
        eprintln!(
            "started run {} (pid {pid}); log: {}",
            run.id(),
            run.log_txt().display()
        );
        return Ok(());
    }
    if let Some((task, tasks)) = srun_task_without_mpi(|v| std::env::var(v).ok()) {
        anyhow::bail!(
            "started by srun as task {task} of {tasks} without an MPI process interface, so \
             no task knows its rank; start the run with `srun --mpi=pmix …` (or set \
             MpiDefault=pmix in slurm.conf)"
        );
    }
    if processes > 1 && !started_by_launcher() {
        return run_processes(&run, resume, processes);
    }
    run_worker(&args.run_dir, resume, &open_source).map(drop)
}
