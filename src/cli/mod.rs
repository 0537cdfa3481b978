//! One file per command.

pub mod bench_model;
pub mod bench_tui;
pub mod infer;
pub mod model_import;
pub mod model_info;
pub mod status;
pub mod tui;
