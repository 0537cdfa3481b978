//! One file per command.

pub mod bench_model;
pub mod infer;
pub mod model_import;
pub mod model_info;
