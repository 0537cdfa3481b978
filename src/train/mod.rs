//! Training (DESIGN §4, §6): run configs, the worker and its loops, the optimiser, the
//! schedule, losses, checkpoints, evaluation and metrics.

/// `println!` that cannot panic: a worker's stdout is its `log.txt`, and a full disk must fail
/// the run through its error path (status `failed`, the file named), not abort in a print.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
/// `eprintln!` that cannot panic (see `say!`).
macro_rules! say_err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use {say, say_err};

pub mod adamw;
pub mod attn_artifacts;
pub mod attn_rollout;
pub mod checkpoint_state;
pub mod classification_loss;
pub mod clip_source;
pub mod config_locations;
pub mod crash_point;
pub mod cross_validation;
pub mod data_adapter;
pub mod eta_clock;
pub mod eval_gather;
pub mod eval_report;
pub mod evaluation;
pub mod finetune_run;
pub mod launch;
pub mod loss_scale;
pub mod metrics;
pub mod param_rules;
pub mod pretrain_run;
pub mod recipe;
pub mod recon_artifacts;
pub mod regression_loss;
pub mod run_config;
pub mod run_config_checks;
pub mod run_main;
pub mod schedule;
pub mod throughput_window;
pub mod trainer;
pub mod worker;
