//! One file per command.

pub mod bench_data;
pub mod bench_model;
pub mod data_clip;
pub mod data_probe;
pub mod demo_data;
pub mod infer;
pub mod model_import;
pub mod model_info;
