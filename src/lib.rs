//! svfap-tui: SVFAP (Sun et al., IEEE TAC 2024) on burn and a terminal workbench around it.

pub mod backend;
pub mod cpu_kernels;
pub mod data;
pub mod distributed;
pub mod example_configs;
pub mod faces;
pub mod inference;
pub mod model;
pub mod npy;
pub mod report;
pub mod session;
pub mod train;
pub mod tui;
