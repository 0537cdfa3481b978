//! One file per command.

pub mod bench_data;
pub mod bench_faces;
pub mod bench_model;
pub mod bench_train;
pub mod bench_tui;
pub mod cv_pool;
pub mod cv_run;
pub mod data_audit;
pub mod data_clip;
pub mod data_faces;
pub mod data_pack;
pub mod data_probe;
pub mod demo;
pub mod demo_data;
pub mod features;
pub mod infer;
pub mod infer_output;
pub mod launch;
pub mod log_tee;
pub mod model_import;
pub mod model_info;
pub mod model_steps;
pub mod progress;
pub mod run_worker;
pub mod scoring_args;
pub mod status;
pub mod tui;
pub mod warmup;

/// A count in `low..=high` for a clap flag, refused by clap naming the flag and the range.
pub fn bounded(low: u64, high: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(low..=high)
}

/// For commands whose output is meant for pipes (`infer … | head`): a closed pipe ends the
/// process quietly, as it does for `cat`, instead of a panic in `println!`. Not for training
/// commands, whose worker must outlive a closed terminal pipe.
pub fn end_quietly_on_closed_pipe() {
    // SAFETY: restores the default disposition of one signal; no handler is installed.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
