//! Training (DESIGN §4, §6): run configs, the worker and its loops, the optimiser, the
//! schedule, losses, checkpoints, evaluation and metrics.

pub mod adamw;
pub mod attn_artifacts;
pub mod checkpoint_state;
pub mod classification_loss;
pub mod clip_source;
pub mod crash_point;
pub mod cross_validation;
pub mod data_adapter;
pub mod data_parallel;
pub mod eval_report;
pub mod evaluation;
pub mod finetune_run;
pub mod launch;
pub mod loss_scale;
pub mod metrics;
pub mod param_rules;
pub mod pretrain_run;
pub mod recon_artifacts;
pub mod regression_loss;
pub mod run_config;
pub mod run_main;
pub mod schedule;
pub mod trainer;
pub mod worker;
