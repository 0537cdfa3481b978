//! Evaluation on several ranks: each scores its share of the test videos, then one sum over
//! a buffer with a slot per test video gives every rank all predictions in manifest order —
//! the predictions one process makes, value for value (each slot is one rank's f32 outputs
//! plus zeros), so the scores do not depend on how many processes computed them.

use super::clip_source::Label;
use super::evaluation::prediction;
use crate::data::registry::Task;
use crate::distributed::World;
use crate::session::artifacts::Prediction;

/// Every rank's predictions and skips, combined.
#[derive(Debug)]
pub struct GatheredPredictions {
    /// In manifest order; unreadable videos have none.
    pub predictions: Vec<Prediction>,
    /// Unreadable test videos skipped, over all ranks.
    pub skipped: usize,
    /// Videos each rank scored.
    pub per_rank: Vec<usize>,
}

/// Combines `mine` — this rank's (manifest index, averaged outputs) pairs, `width` values
/// each (class probabilities or regression outputs) — with every other rank's, into the
/// predictions of all scored videos. `entries` are the test manifest's paths and labels, alike
/// on every rank.
pub fn gather_predictions(
    world: &World,
    mine: Vec<(usize, Vec<f32>)>,
    skipped: usize,
    entries: &[(String, Label)],
    width: usize,
    task: Task,
) -> GatheredPredictions {
    let predict =
        |i: usize, values: &[f32]| prediction(task, entries[i].0.clone(), &entries[i].1, values);
    if world.size == 1 {
        return GatheredPredictions {
            per_rank: vec![mine.len()],
            predictions: mine.iter().map(|(i, v)| predict(*i, v)).collect(),
            skipped,
        };
    }
    let slot = 1 + width;
    let n = entries.len();
    // [scored flag, values…] per video, then each rank's count, then the skips.
    let mut buf = vec![0f32; n * slot + world.size + 1];
    for (i, values) in &mine {
        assert_eq!(values.len(), width, "prediction width");
        buf[i * slot] = 1.0;
        buf[i * slot + 1..(i + 1) * slot].copy_from_slice(values);
    }
    buf[n * slot + world.rank] = mine.len() as f32;
    buf[n * slot + world.size] = skipped as f32;
    world.all_reduce_sum(&mut buf, "the evaluation's predictions");
    debug_assert!(
        (0..n).all(|i| buf[i * slot] < 1.5),
        "a test video was scored by two ranks"
    );
    let predictions = (0..n)
        .filter(|i| buf[i * slot] > 0.5)
        .map(|i| predict(i, &buf[i * slot + 1..(i + 1) * slot]))
        .collect();
    GatheredPredictions {
        predictions,
        skipped: buf[n * slot + world.size] as usize,
        per_rank: buf[n * slot..n * slot + world.size]
            .iter()
            .map(|&c| c as usize)
            .collect(),
    }
}
