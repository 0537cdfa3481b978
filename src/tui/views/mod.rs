//! One file per view.

pub mod attention;
pub mod compare;
pub mod monitor;
pub mod recon;
pub mod runs;
