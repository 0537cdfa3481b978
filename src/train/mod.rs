//! Training: schedules, parameter rules, the optimiser, metrics.

pub mod adamw;
pub mod checkpoint_state;
pub mod classification_loss;
pub mod metrics;
pub mod param_rules;
pub mod run_config;
pub mod schedule;
pub mod trainer;
