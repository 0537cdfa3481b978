//! Flags shared by the commands that run a checkpoint over videos (`infer`, `features`).

use anyhow::{Result, bail};
use clap::Args;

use super::bounded;

#[derive(Args, Debug)]
pub struct ScoringArgs {
    /// Frame stride of a clip (default: the checkpoint's, else 4 as in the paper).
    #[arg(long, value_parser = bounded(1, 64))]
    pub stride: Option<usize>,
    /// One video: seconds between the starts of two windows (default: half a window).
    #[arg(long)]
    pub window_stride: Option<f64>,
    /// Clips per forward pass (1–512).
    #[arg(long, default_value_t = 8, value_parser = bounded(1, 512))]
    pub batch: usize,
    /// Decoding threads for many videos (default: all cores).
    #[arg(long, value_parser = bounded(1, 256))]
    pub workers: Option<usize>,
}

impl ScoringArgs {
    /// Refuses what clap's types let through.
    pub fn check(&self) -> Result<()> {
        if let Some(s) = self.window_stride
            && !(s.is_finite() && s > 0.0)
        {
            bail!("--window-stride {s}: must be a positive number of seconds");
        }
        Ok(())
    }

    pub fn workers(&self) -> usize {
        self.workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
    }
}
