//! What the run worker needs from the data pipeline: training batches in a reproducible
//! order that can restart mid-epoch, the test views of each video, and fixed held-out clips
//! for reconstructions. Clips are normalised f32 `[3, T, H, W]`, batches concatenated.

use anyhow::Result;

pub use crate::data::manifest::Label;
use crate::data::registry::Task;
use crate::distributed::DataShard;

/// What the model predicts for a run's data: the task and the name of each output (classes
/// in label order, or regression targets), from the dataset registry (DESIGN §7).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSpace {
    pub task: Task,
    pub names: Vec<String>,
}

/// One training batch.
pub struct ClipBatch {
    /// [B, 3, T, H, W] values, C order.
    pub clips: Vec<f32>,
    pub size: usize,
    /// One label per clip: a class, regression targets, or `Label::None` (pre-training).
    pub labels: Vec<Label>,
    /// Samples the loader skipped as unreadable while filling this batch.
    pub skipped: u64,
    /// Videos of the epoch consumed after this batch: where a resumed run continues.
    pub position: u64,
}

/// One test video: its N uniformly spaced clips (its path and label are the test manifest's
/// entry `index`, [`ClipSource::test_entries`]).
pub struct TestVideo {
    /// Position in the test manifest.
    pub index: usize,
    /// [N, 3, T, H, W]
    pub clips: Vec<f32>,
    pub views: usize,
}

pub trait ClipSource {
    /// Clip shape [3, T, H, W].
    fn clip_shape(&self) -> [usize; 4];
    /// Training batches per epoch of this rank's share (incomplete last batch dropped).
    fn batches_per_epoch(&self) -> usize;
    /// Reads only this rank's share of each training epoch from now on.
    fn set_shard(&mut self, shard: DataShard);
    /// Batches of `epoch` from index `position` of this rank's share on; the order depends
    /// only on (seed, epoch) and the share.
    fn epoch_batches(
        &mut self,
        epoch: u64,
        position: u64,
    ) -> Box<dyn Iterator<Item = Result<ClipBatch>> + '_>;
    /// Test videos of this rank's share (every one on one process; rank r of n takes
    /// videos r, r + n, …), each with its views (unreadable ones skipped and counted).
    fn test_videos(&mut self) -> Box<dyn Iterator<Item = Result<TestVideo>> + '_>;
    /// Every test video's path and label, in manifest order (all ranks alike).
    fn test_entries(&self) -> Vec<(String, Label)>;
    /// `n` fixed clips (same every call) with a display name each, for reconstructions.
    fn held_out(&mut self, n: usize) -> Result<Vec<(String, Vec<f32>)>>;
    /// Videos in the training (or, with `test`, the test) manifest.
    fn videos(&self, test: bool) -> usize;
    /// Unreadable videos met so far in the training (or this rank's share of the test) data
    /// by this process.
    fn unreadable(&self, test: bool) -> Unreadable;
}

/// Skipped videos: how many times one was skipped, and the distinct ones (`path: reason`).
#[derive(Debug, Clone, Default)]
pub struct Unreadable {
    pub skips: usize,
    pub listed: Vec<String>,
}

impl Unreadable {
    /// The list for an error message: one per line, at most `max`, with the rest counted.
    pub fn describe(&self, max: usize) -> String {
        let mut out: Vec<String> = self
            .listed
            .iter()
            .take(max)
            .map(|l| format!("  {l}"))
            .collect();
        if self.listed.len() > max {
            out.push(format!(
                "  … and {} more (see log.txt)",
                self.listed.len() - max
            ));
        }
        out.join("\n")
    }
}
