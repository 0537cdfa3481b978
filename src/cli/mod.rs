//! One file per command.

pub mod bench_data;
pub mod bench_model;
pub mod bench_train;
pub mod bench_tui;
pub mod cv_pool;
pub mod cv_run;
pub mod data_clip;
pub mod data_probe;
pub mod demo;
pub mod demo_data;
pub mod infer;
pub mod launch;
pub mod log_tee;
pub mod model_import;
pub mod model_info;
pub mod model_steps;
pub mod run_worker;
pub mod status;
pub mod tui;
pub mod warmup;
