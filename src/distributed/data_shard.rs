//! Which samples of an epoch each rank reads (torch's `DistributedSampler`, made
//! independent of the world size).
//!
//! Every rank shuffles the epoch the same way (seed, epoch) and cuts it into blocks of one
//! micro-batch. Step `s` takes the `world × accumulation` blocks `[s·E, (s+1)·E)` of the
//! permutation (E = batch × world × accumulation, the effective batch); micro-batch `m` of
//! rank `r` is block `s·world·A + m·world + r`. So a step always trains on the same samples
//! whatever the world size (2 ranks × accumulation 1 see exactly the samples of 1 process ×
//! accumulation 2), and each sample keeps its global position, from which its augmentation
//! is seeded. What is left after the last full step (fewer than E samples) is dealt out
//! round-robin: a rank fills a micro-batch from there when one of its samples is unreadable.

/// One rank's part of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataShard {
    pub rank: usize,
    pub world: usize,
    /// Micro-batches per rank per step.
    pub accumulation: usize,
}

impl DataShard {
    /// The whole data, for one process.
    pub fn whole(accumulation: usize) -> Self {
        Self {
            rank: 0,
            world: 1,
            accumulation,
        }
    }

    /// Steps in an epoch of `samples` samples at micro-batch size `batch`.
    pub fn steps_per_epoch(&self, samples: usize, batch: usize) -> usize {
        samples / self.effective_batch(batch)
    }

    pub fn effective_batch(&self, batch: usize) -> usize {
        batch * self.world * self.accumulation
    }

    /// The positions (indices into the epoch's permutation) this rank reads, in order.
    pub fn positions(&self, samples: usize, batch: usize) -> Vec<usize> {
        let (world, accumulation) = (self.world.max(1), self.accumulation.max(1));
        if world == 1 {
            return (0..samples).collect();
        }
        let effective = batch * world * accumulation;
        let steps = samples / effective;
        let mut out = Vec::with_capacity(samples / world + batch);
        for step in 0..steps {
            for micro in 0..accumulation {
                let block = step * world * accumulation + micro * world + self.rank;
                out.extend(block * batch..(block + 1) * batch);
            }
        }
        let tail = steps * effective;
        out.extend((tail..samples).filter(|p| (p - tail) % world == self.rank));
        out
    }

    /// Where this rank continues an epoch after `steps_done` steps that skipped no sample:
    /// the index into its `positions`. (A run resumed with another world size starts its
    /// ranks here; with the same world size each rank continues from its own saved index.)
    pub fn resume_index(&self, steps_done: u64, batch: usize) -> u64 {
        steps_done * (batch * self.accumulation.max(1)) as u64
    }

    /// Global index of this rank's micro-batch `micro` within a step, the index that seeds
    /// its masks, mixing and drop path: the same micro-batch of samples gets the same draws
    /// whatever the world size.
    pub fn global_micro(&self, micro: usize) -> usize {
        micro * self.world + self.rank
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(rank: usize, world: usize, accumulation: usize) -> DataShard {
        DataShard {
            rank,
            world,
            accumulation,
        }
    }

    #[test]
    fn ranks_read_disjoint_samples_that_cover_the_epoch() {
        for (samples, batch, world, acc) in [(37, 2, 2, 1), (100, 4, 3, 2), (9, 1, 4, 2)] {
            let mut all: Vec<usize> = (0..world)
                .flat_map(|r| shard(r, world, acc).positions(samples, batch))
                .collect();
            all.sort();
            assert_eq!(
                all,
                (0..samples).collect::<Vec<_>>(),
                "{samples} {batch} {world} {acc}"
            );
        }
    }

    #[test]
    fn a_step_trains_on_the_same_samples_whatever_the_world_size() {
        let (samples, batch) = (40, 2);
        // 1 process × accumulation 4 against 2 ranks × 2 and 4 ranks × 1.
        let one = shard(0, 1, 4).positions(samples, batch);
        for (world, acc) in [(2, 2), (4, 1)] {
            let steps = shard(0, world, acc).steps_per_epoch(samples, batch);
            assert_eq!(steps, shard(0, 1, 4).steps_per_epoch(samples, batch));
            for step in 0..steps {
                let per_rank = batch * acc;
                let mut seen: Vec<(usize, usize)> = (0..world)
                    .flat_map(|r| {
                        let s = shard(r, world, acc);
                        let p = s.positions(samples, batch);
                        (0..acc).flat_map(move |m| {
                            let start = step * per_rank + m * batch;
                            p[start..start + batch]
                                .iter()
                                .map(move |&pos| (s.global_micro(m), pos))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                seen.sort();
                let expected: Vec<(usize, usize)> = (0..4)
                    .flat_map(|g| {
                        let start = step * batch * 4 + g * batch;
                        one[start..start + batch].iter().map(move |&p| (g, p))
                    })
                    .collect();
                assert_eq!(seen, expected, "world {world}, step {step}");
            }
        }
    }

    #[test]
    fn one_process_reads_the_epoch_in_order_and_a_rank_its_blocks() {
        assert_eq!(shard(0, 1, 3).positions(5, 2), vec![0, 1, 2, 3, 4]);
        assert_eq!(shard(1, 2, 1).positions(7, 2), vec![2, 3, 5]);
    }
}
