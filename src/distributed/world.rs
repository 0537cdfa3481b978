//! This process's place among a run's processes: rank, world size, local rank, hosts, and
//! the collectives the trainer needs (a sum all-reduce, a barrier), each with a timeout.
//!
//! One process per device, as Horovod and torch DDP run: `mpirun -np N svfap-tui run DIR`
//! or `srun --mpi=pmix …` starts the processes, MPI (rsmpi over the system's Open MPI,
//! cargo feature `mpi`) tells each its rank. A process started without a launcher is the
//! one rank of a world of one, and no collective does anything.
//!
//! A collective that does not complete within the timeout (a rank hung, or gone without
//! mpirun noticing) runs the timeout hook (the worker records the failure in
//! `status.json`) and aborts the whole job with `MPI_Abort`: no rank waits forever.

use std::sync::Mutex;
use std::time::Duration;

use anyhow::Result;
#[cfg(not(feature = "mpi"))]
use anyhow::bail;

/// Called with a description of the collective that timed out, before the job is aborted.
pub type TimeoutHook = Box<dyn Fn(&str) + Send + Sync>;

pub struct World {
    pub rank: usize,
    pub size: usize,
    /// Rank among the processes of this host: the device this rank takes.
    pub local_rank: usize,
    /// Processes of this job on this host.
    pub local_size: usize,
    /// Host of each rank.
    pub hosts: Vec<String>,
    /// How long a training collective may wait for the slowest rank (MPI collectives only).
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    timeout: Duration,
    on_timeout: Mutex<Option<TimeoutHook>>,
    #[cfg(feature = "mpi")]
    comm: Option<super::mpi_comm::MpiComm>,
}

/// Environment variables a launcher sets for each process it starts: Open MPI's mpirun,
/// PMIx (srun --mpi=pmix, Open MPI 5), and the PMI of MPICH and Intel MPI.
const LAUNCHER_SIZE_VARIABLES: [&str; 3] = ["OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"];
const LAUNCHER_RANK_VARIABLES: [&str; 3] = ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"];

/// Each distinct host of `hosts` with how many ranks it runs, in order of appearance.
pub fn ranks_per_host<'a>(hosts: impl IntoIterator<Item = &'a str>) -> Vec<(&'a str, usize)> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for h in hosts {
        match counts.iter_mut().find(|(name, _)| *name == h) {
            Some((_, n)) => *n += 1,
            None => counts.push((h, 1)),
        }
    }
    counts
}

/// Whether an MPI launcher started this process (then MPI must be initialised).
pub fn started_by_launcher() -> bool {
    LAUNCHER_SIZE_VARIABLES
        .iter()
        .chain(&LAUNCHER_RANK_VARIABLES)
        .any(|v| std::env::var_os(v).is_some())
}

/// `Some((task, tasks))` (1-based) when SLURM's `srun` started this process as one of
/// several tasks without an MPI process interface (`--mpi=pmix`): no launcher variable
/// gives it a rank, so it would take the whole run for itself (or start its own mpirun)
/// beside the other tasks. `env` reads a variable.
pub fn srun_task_without_mpi(env: impl Fn(&str) -> Option<String>) -> Option<(usize, usize)> {
    if LAUNCHER_SIZE_VARIABLES
        .iter()
        .chain(&LAUNCHER_RANK_VARIABLES)
        .any(|v| env(v).is_some())
    {
        return None;
    }
    let tasks: usize = env("SLURM_NTASKS")?.parse().ok()?;
    let task: usize = env("SLURM_PROCID")?.parse().ok()?;
    (tasks > 1).then_some((task + 1, tasks))
}

/// The world size the launcher announced, where it says (Open MPI and PMI do).
#[cfg(not(feature = "mpi"))]
fn launcher_size() -> Option<usize> {
    LAUNCHER_SIZE_VARIABLES
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok())
}

impl World {
    /// A world of one: this process alone.
    pub fn single() -> Self {
        Self {
            rank: 0,
            size: 1,
            local_rank: 0,
            local_size: 1,
            hosts: vec![crate::session::host::hostname()],
            timeout: Duration::MAX,
            on_timeout: Mutex::new(None),
            #[cfg(feature = "mpi")]
            comm: None,
        }
    }

    /// The world this process was started into: MPI's when a launcher started it, else one.
    /// `timeout` bounds every training collective.
    pub fn join(timeout: Duration) -> Result<Self> {
        if !started_by_launcher() {
            return Ok(Self::single());
        }
        #[cfg(feature = "mpi")]
        {
            let comm = super::mpi_comm::MpiComm::init()?;
            let (rank, size) = (comm.rank(), comm.size());
            let (local_rank, local_size) = (comm.local_rank(), comm.local_size());
            let hosts = comm.all_hosts();
            Ok(Self {
                rank,
                size,
                local_rank,
                local_size,
                hosts,
                timeout,
                on_timeout: Mutex::new(None),
                comm: Some(comm),
            })
        }
        #[cfg(not(feature = "mpi"))]
        {
            let _ = timeout;
            match launcher_size() {
                Some(1) | None => Ok(Self::single()),
                Some(n) => bail!(
                    "started as one of {n} processes by an MPI launcher, but this svfap-tui was built without MPI (cargo feature `mpi`): rebuild with `--features mpi`, or run one process"
                ),
            }
        }
    }

    pub fn is_root(&self) -> bool {
        self.rank == 0
    }

    /// What runs when a collective times out (the worker records the failure).
    pub fn set_timeout_hook(&self, hook: TimeoutHook) {
        *self.on_timeout.lock().unwrap_or_else(|p| p.into_inner()) = Some(hook);
    }

    /// Element-wise sum of `values` over all ranks, in place. `what` names the collective in
    /// the timeout message.
    pub fn all_reduce_sum(&self, values: &mut [f32], what: &str) {
        #[cfg(feature = "mpi")]
        if let Some(comm) = &self.comm {
            comm.all_reduce_sum(values, self.rank_timeout(), &|| self.timed_out(what));
        }
        let _ = (values, what);
    }

    /// Rank 0's `bytes` to every rank (after a barrier with the training timeout).
    pub fn broadcast_bytes(&self, bytes: &mut [u8], what: &str) {
        #[cfg(feature = "mpi")]
        if let Some(comm) = &self.comm {
            comm.barrier(self.rank_timeout(), &|| self.timed_out(what));
            comm.broadcast_bytes(bytes);
        }
        let _ = (bytes, what);
    }

    /// Index of this rank's micro-batch `micro` among all micro-batches of a step
    /// (`DataShard::global_micro`).
    pub fn global_micro(&self, micro: usize) -> usize {
        micro * self.size + self.rank
    }

    /// Whether `mine` holds on every rank.
    pub fn all_agree(&self, mine: bool, what: &str) -> bool {
        if self.size == 1 {
            return mine;
        }
        let mut count = [mine as u8 as f32];
        self.all_reduce_sum(&mut count, what);
        count[0] as usize == self.size
    }

    /// For each flag, whether it holds on any rank.
    pub fn any_of<const N: usize>(&self, mine: [bool; N], what: &str) -> [bool; N] {
        if self.size == 1 {
            return mine;
        }
        let mut counts = mine.map(|b| b as u8 as f32);
        self.all_reduce_sum(&mut counts, what);
        counts.map(|c| c > 0.0)
    }

    /// Waits until every rank got here; `timeout` None waits as long as it takes (rank 0
    /// evaluating while the others wait).
    pub fn barrier(&self, what: &str, timeout: Option<Duration>) {
        #[cfg(feature = "mpi")]
        if let Some(comm) = &self.comm {
            let timeout = timeout.map_or(Duration::MAX, |t| self.scaled(t));
            comm.barrier(timeout, &|| self.timed_out(what));
        }
        let _ = (what, timeout);
    }

    /// Ends every rank of the job now (a rank that cannot go on).
    pub fn abort(&self, code: i32) -> ! {
        #[cfg(feature = "mpi")]
        if let Some(comm) = &self.comm {
            comm.abort(code);
        }
        std::process::exit(code)
    }

    /// Rank 0 gives up first and records why; the others wait a little longer, so that the
    /// one rank that writes `status.json` is the one that decides.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    fn rank_timeout(&self) -> Duration {
        self.scaled(self.timeout)
    }

    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    fn scaled(&self, timeout: Duration) -> Duration {
        if self.is_root() {
            timeout
        } else {
            timeout.saturating_add(Duration::from_secs(15))
        }
    }

    /// Runs the timeout hook and says why the job ends (the caller aborts it).
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    fn timed_out(&self, what: &str) {
        let message = format!(
            "{what} did not complete within {} s on rank {} of {}",
            self.timeout.as_secs(),
            self.rank,
            self.size
        );
        if let Some(hook) = self
            .on_timeout
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            hook(&message);
        }
        crate::train::say_err!("{message}; aborting the job");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srun_tasks_without_an_mpi_interface_are_recognised() {
        fn env<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
            move |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        }
        let plain = [("SLURM_NTASKS", "4"), ("SLURM_PROCID", "2")];
        assert_eq!(srun_task_without_mpi(env(&plain)), Some((3, 4)));
        // srun --mpi=pmix: PMIx gives the rank.
        let pmix = [
            ("SLURM_NTASKS", "4"),
            ("SLURM_PROCID", "2"),
            ("PMIX_RANK", "2"),
        ];
        assert_eq!(srun_task_without_mpi(env(&pmix)), None);
        // One task (an `salloc` shell, or `srun -n 1`) may start its own mpirun.
        let one = [("SLURM_NTASKS", "1"), ("SLURM_PROCID", "0")];
        assert_eq!(srun_task_without_mpi(env(&one)), None);
        assert_eq!(srun_task_without_mpi(env(&[])), None);
    }

    #[test]
    fn a_world_of_one_changes_nothing() {
        let world = World::single();
        let mut values = [1.0, 2.5];
        world.all_reduce_sum(&mut values, "test");
        world.barrier("test", None);
        assert_eq!(values, [1.0, 2.5]);
        assert!(world.is_root() && world.size == 1);
    }
}
