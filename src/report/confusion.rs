//! The confusion matrix as a figure for a paper: counts in row-normalised colour (white
//! digits on dark cells), each class's recall in its own column, a colour bar, and the run,
//! the split and UAR/WAR in the title.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DynErr, two};
use crate::session::artifacts::EvalReport;

/// White → deep blue for a share in [0, 1].
fn blue(v: f64) -> RGBColor {
    let v = v.clamp(0.0, 1.0);
    let mix = |a: f64, b: f64| (a + (b - a) * v).round() as u8;
    RGBColor(mix(247.0, 8.0), mix(251.0, 48.0), mix(255.0, 107.0))
}

/// Black digits on light cells, white on dark ones.
fn ink(c: RGBColor) -> RGBColor {
    let luma = 0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64;
    if luma > 140.0 { BLACK } else { WHITE }
}

/// `DFEW test · run-name · UAR 62.83 · WAR 74.27`.
pub fn title(owner: &str, e: &EvalReport) -> String {
    let mut parts = vec![format!("{} {}", e.dataset, e.split)];
    if !owner.is_empty() {
        parts.push(owner.to_string());
    }
    for (key, label) in [("uar", "UAR"), ("war", "WAR"), ("weighted_f1", "F1")] {
        if let Some(v) = e.metrics.get(key) {
            parts.push(format!("{label} {:.2}", v * 100.0));
        }
    }
    parts.join(" · ")
}

pub fn confusion(stem: &Path, owner: &str, e: &EvalReport) -> Result<Vec<PathBuf>, String> {
    let n = e.confusion.len();
    if n == 0 {
        return Err(format!("{}-{}: no confusion matrix", e.dataset, e.split));
    }
    let names: Vec<String> = (0..n)
        .map(|i| {
            e.class_names
                .get(i)
                .cloned()
                .unwrap_or_else(|| i.to_string())
        })
        .collect();
    let title = title(owner, e);
    let longest = names.iter().map(|s| s.chars().count()).max().unwrap_or(1) as i32;
    let left = 16 + longest * 9;
    let cell = 64i32;
    let top = 96;
    let recall_w = 80;
    let bar_h = 70;
    let width =
        (left + cell * n as i32 + recall_w + 20).max(title.chars().count() as i32 * 11 + 20);
    let height = top + cell * n as i32 + bar_h;
    macro_rules! draw {
        ($root:expr) => {{
            let root = $root;
            root.fill(&WHITE)?;
            root.draw(&Text::new(
                title.clone(),
                (12, 10),
                ("sans-serif", 20).into_font(),
            ))?;
            root.draw(&Text::new(
                "rows: true class · columns: predicted · colour: share of the row".to_string(),
                (12, 38),
                ("sans-serif", 13).into_font().color(&RGBColor(90, 90, 90)),
            ))?;
            for (j, name) in names.iter().enumerate() {
                // Column names rotated would clip; they go above, centred, shortened to fit.
                let shown: String = name.chars().take((cell / 8) as usize).collect();
                root.draw(&Text::new(
                    shown,
                    (left + j as i32 * cell + 4, top - 22),
                    ("sans-serif", 13).into_font(),
                ))?;
            }
            root.draw(&Text::new(
                "recall".to_string(),
                (left + n as i32 * cell + 12, top - 22),
                ("sans-serif", 13).into_font(),
            ))?;
            for (i, row) in e.confusion.iter().enumerate() {
                let y0 = top + i as i32 * cell;
                root.draw(&Text::new(
                    names[i].clone(),
                    (8, y0 + cell / 2 - 8),
                    ("sans-serif", 14).into_font(),
                ))?;
                let total: u64 = row.iter().sum();
                for (j, &count) in row.iter().enumerate() {
                    let share = count as f64 / total.max(1) as f64;
                    let bg = blue(share);
                    let x0 = left + j as i32 * cell;
                    root.draw(&Rectangle::new(
                        [(x0, y0), (x0 + cell, y0 + cell)],
                        bg.filled(),
                    ))?;
                    root.draw(&Rectangle::new(
                        [(x0, y0), (x0 + cell, y0 + cell)],
                        RGBColor(255, 255, 255).stroke_width(1),
                    ))?;
                    let style = ("sans-serif", if i == j { 17 } else { 15 })
                        .into_font()
                        .color(&ink(bg));
                    root.draw(&Text::new(
                        count.to_string(),
                        (x0 + 8, y0 + cell / 2 - 9),
                        style,
                    ))?;
                }
                let recall = row.get(i).copied().unwrap_or(0) as f64 / total.max(1) as f64;
                root.draw(&Text::new(
                    if total > 0 {
                        format!("{:.1}%", recall * 100.0)
                    } else {
                        "-".into()
                    },
                    (left + n as i32 * cell + 12, y0 + cell / 2 - 8),
                    ("sans-serif", 15).into_font(),
                ))?;
            }
            // Colour bar: 0 % … 100 % of the row.
            let by = top + n as i32 * cell + 24;
            let bw = (cell * n as i32).max(200);
            for k in 0..bw {
                let c = blue(k as f64 / (bw - 1) as f64);
                root.draw(&Rectangle::new(
                    [(left + k, by), (left + k + 1, by + 14)],
                    c.filled(),
                ))?;
            }
            for (v, label) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100% of the row")] {
                root.draw(&Text::new(
                    label.to_string(),
                    (
                        left + (v * (bw - 1) as f64) as i32 - if v > 0.9 { 40 } else { 0 },
                        by + 18,
                    ),
                    ("sans-serif", 12).into_font(),
                ))?;
            }
            Ok(())
        }};
    }
    let bm = |r: &DrawingArea<BitMapBackend, Shift>| -> Result<(), DynErr> { draw!(r) };
    let svg = |r: &DrawingArea<SVGBackend, Shift>| -> Result<(), DynErr> { draw!(r) };
    two(stem, (width as u32, height as u32), bm, svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dark_cells_get_white_digits_and_the_title_names_the_scores() {
        assert_eq!(ink(blue(1.0)), WHITE);
        assert_eq!(ink(blue(0.0)), BLACK);
        let e = crate::session::fixtures::eval_report("dfew", 0.6283, 0.7427);
        assert_eq!(
            title("lr1e-3 · step 400", &e),
            "dfew test · lr1e-3 · step 400 · UAR 62.83 · WAR 74.27 · F1 73.27"
        );
        let dir = tempfile::tempdir().unwrap();
        let files = confusion(&dir.path().join("c"), "lr1e-3", &e).unwrap();
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert!(svg.contains("recall") && svg.contains("UAR 62.83"));
    }
}
