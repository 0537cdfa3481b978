//! The MPI side of [`super::World`] (cargo feature `mpi`): rsmpi over the system MPI.
//!
//! Collectives are started non-blocking and polled, which is what gives them a timeout
//! (MPI's blocking calls have none) and keeps a waiting rank from spinning a core for
//! minutes: the first 50 ms are polled back to back (a step's all-reduce completes there),
//! then once a millisecond.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::*;

pub struct MpiComm {
    world: SimpleCommunicator,
    local_rank: usize,
    local_size: usize,
    /// Finalises MPI when dropped (after the last collective).
    _universe: Universe,
}

/// Bytes of a host name in the start-up all-gather.
const HOST_BYTES: usize = 256;

impl MpiComm {
    pub fn init() -> Result<Self> {
        let universe = mpi::initialize()
            .context("MPI could not be initialised (MPI_Init failed or ran before)")?;
        let world = universe.world();
        // The ranks that share this host's memory: the order among them is the local rank.
        let local = world.split_shared(world.rank());
        let (local_rank, local_size) = (local.rank() as usize, local.size() as usize);
        Ok(Self {
            world,
            local_rank,
            local_size,
            _universe: universe,
        })
    }

    pub fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    pub fn size(&self) -> usize {
        self.world.size() as usize
    }

    pub fn local_rank(&self) -> usize {
        self.local_rank
    }

    pub fn local_size(&self) -> usize {
        self.local_size
    }

    /// Every rank's host name (MPI's processor name), by rank.
    pub fn all_hosts(&self) -> Vec<String> {
        let name =
            mpi::environment::processor_name().unwrap_or_else(|_| crate::session::host::hostname());
        let mut mine = [0u8; HOST_BYTES];
        let bytes = name.as_bytes();
        let n = bytes.len().min(HOST_BYTES);
        mine[..n].copy_from_slice(&bytes[..n]);
        let mut all = vec![0u8; HOST_BYTES * self.size()];
        self.world.all_gather_into(&mine[..], &mut all[..]);
        all.chunks(HOST_BYTES)
            .map(|c| {
                let end = c.iter().position(|&b| b == 0).unwrap_or(c.len());
                String::from_utf8_lossy(&c[..end]).into_owned()
            })
            .collect()
    }

    /// Sum over ranks, in place; after `timeout`, `on_timeout` then `MPI_Abort`.
    ///
    /// The deadline is kept by a non-blocking barrier (every rank has arrived), the sum
    /// itself is MPI's blocking all-reduce: Open MPI's non-blocking one (libnbc) moved a
    /// 21 MB buffer between two local ranks at 0.6 GB/s, the blocking one (tuned
    /// collectives) several times faster. A rank that dies inside the sum is mpirun's to
    /// notice.
    pub fn all_reduce_sum(&self, values: &mut [f32], timeout: Duration, on_timeout: &dyn Fn()) {
        self.barrier(timeout, on_timeout);
        let send = values.to_vec();
        self.world
            .all_reduce_into(&send[..], values, SystemOperation::sum());
    }

    /// Rank 0's `bytes` to every rank.
    pub fn broadcast_bytes(&self, bytes: &mut [u8]) {
        self.world.process_at_rank(0).broadcast_into(bytes);
    }

    pub fn barrier(&self, timeout: Duration, on_timeout: &dyn Fn()) {
        let mut request = self.world.immediate_barrier();
        let start = Instant::now();
        loop {
            match request.test() {
                Ok(_) => return,
                Err(pending) => request = pending,
            }
            self.wait_a_little(start, timeout, on_timeout);
        }
    }

    fn wait_a_little(&self, start: Instant, timeout: Duration, on_timeout: &dyn Fn()) {
        let waited = start.elapsed();
        if waited > timeout {
            on_timeout();
            self.abort(3);
        }
        if waited > Duration::from_millis(50) {
            std::thread::sleep(Duration::from_millis(1));
        } else {
            std::hint::spin_loop();
        }
    }

    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }
}
