//! One file per view, and the pieces a view is made of (the chart, the Monitor's curves and
//! metric picker).

pub mod attention;
pub mod chart;
pub mod compare;
pub mod compare_diff;
pub mod compare_rows;
pub mod confusion;
pub mod inspect;
pub mod inspect_timeline;
pub mod metric_picker;
pub mod monitor;
pub mod monitor_curves;
pub mod rank_line;
pub mod recon;
pub mod runs;
pub mod scoreboard;
