//! What an export draws: curves, a confusion matrix, a reconstruction grid, a heat map, or
//! a map blended over its frame.

use std::path::PathBuf;

use crate::session::artifacts::EvalReport;
use crate::tui::map_overlay::Grid;

pub enum Plot {
    Curves {
        title: String,
        x_label: &'static str,
        /// The metric (the y axis).
        y_label: String,
        series: Vec<(String, Vec<(f64, f64)>)>,
        log: bool,
    },
    /// An evaluation's confusion matrix; `owner` names the run (and step) or the
    /// cross-validation.
    Confusion {
        owner: String,
        eval: Box<EvalReport>,
    },
    Recon {
        title: String,
        dir: PathBuf,
        sample: usize,
        frames: usize,
    },
    Heat {
        title: String,
        grid: Grid,
    },
    /// A map blended over the frame it was computed on.
    OverFrame {
        title: String,
        grid: Grid,
        frame_png: PathBuf,
    },
}
