//! Training (DESIGN §4, §6): run configs, the worker and its loops, the optimiser, the
//! schedule, losses, checkpoints, evaluation and metrics.

pub mod adamw;
pub mod checkpoint_state;
pub mod classification_loss;
pub mod clip_source;
// pending session/data merge: pub mod data_adapter;
// pending session/data merge: pub mod evaluation;
// pending session/data merge: pub mod finetune_run;
// pending session/data merge: pub mod launch;
pub mod metrics;
pub mod param_rules;
// pending session/data merge: pub mod pretrain_run;
pub mod run_config;
pub mod schedule;
pub mod trainer;
// pending session/data merge: pub mod worker;
