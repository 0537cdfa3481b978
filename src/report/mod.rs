//! Figures (PNG and SVG through plotters, with an embedded font so no system fonts are
//! needed) and CSV tables, written into a session's `exports/`: curves, confusion matrices
//! and reconstructions each in their own file; here the shared pieces and heat maps.

pub mod confusion;
pub mod contact_sheet;
pub mod curves;
pub mod min_max_buckets;
pub mod raster_figure;

pub use confusion::confusion;
pub use curves::{CurveFigure, curves};
pub use min_max_buckets::min_max_buckets;
pub use raster_figure::{raster_figure, recon_grid};

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");

pub(crate) fn ensure_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let _ = plotters::style::register_font("sans-serif", style, FONT);
        }
    });
}

pub(crate) type DynErr = Box<dyn std::error::Error + Send + Sync>;

pub(crate) fn err<E: std::fmt::Display>(path: &Path) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

/// One CSV field: quoted (quotes doubled) when it holds a comma, a quote or a newline.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes rows as CSV (fields with commas, quotes or newlines quoted).
pub fn write_csv(path: &Path, rows: &[Vec<String>]) -> Result<(), String> {
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    std::fs::write(path, out).map_err(err(path))
}

fn rgb(c: (u8, u8, u8)) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

pub(crate) fn two(
    stem: &Path,
    size: (u32, u32),
    bm: impl Fn(&DrawingArea<BitMapBackend, Shift>) -> Result<(), DynErr>,
    svg: impl Fn(&DrawingArea<SVGBackend, Shift>) -> Result<(), DynErr>,
) -> Result<Vec<PathBuf>, String> {
    ensure_font();
    let png = stem.with_extension("png");
    let svg_path = stem.with_extension("svg");
    let mut buf = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        bm(&root).map_err(err(&png))?;
        root.present().map_err(err(&png))?;
    }
    image::RgbImage::from_raw(size.0, size.1, buf)
        .ok_or("bad image buffer")?
        .save(&png)
        .map_err(err(&png))?;
    {
        let root = SVGBackend::new(&svg_path, size).into_drawing_area();
        svg(&root).map_err(err(&svg_path))?;
        root.present().map_err(err(&svg_path))?;
    }
    Ok(vec![png, svg_path])
}

/// Generic drawing of a labelled cell grid (confusion matrix, heat map, image pixels).
#[allow(clippy::too_many_arguments)]
fn cells<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    w: usize,
    h: usize,
    color: &dyn Fn(usize, usize) -> (u8, u8, u8),
    text: &dyn Fn(usize, usize) -> Option<String>,
    row_labels: &[String],
    col_labels: &[String],
) -> Result<(), DynErr>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (pw, ph) = root.dim_in_pixel();
    let left = if row_labels.is_empty() { 10 } else { 110 };
    let top = if col_labels.is_empty() { 40 } else { 70 };
    root.draw(&Text::new(
        title.to_string(),
        (10, 8),
        ("sans-serif", 20).into_font(),
    ))?;
    let cw = ((pw as i32 - left - 10) / w.max(1) as i32).max(1);
    let ch = ((ph as i32 - top - 10) / h.max(1) as i32).max(1);
    for (j, l) in col_labels.iter().enumerate() {
        root.draw(&Text::new(
            l.clone(),
            (left + j as i32 * cw + 2, top - 22),
            ("sans-serif", 13).into_font(),
        ))?;
    }
    for (i, l) in row_labels.iter().enumerate() {
        root.draw(&Text::new(
            l.clone(),
            (6, top + i as i32 * ch + ch / 2 - 7),
            ("sans-serif", 13).into_font(),
        ))?;
    }
    for y in 0..h {
        for x in 0..w {
            let (x0, y0) = (left + x as i32 * cw, top + y as i32 * ch);
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + cw, y0 + ch)],
                rgb(color(x, y)).filled(),
            ))?;
            if let Some(t) = text(x, y) {
                root.draw(&Text::new(
                    t,
                    (x0 + 4, y0 + ch / 2 - 7),
                    ("sans-serif", 13).into_font(),
                ))?;
            }
        }
    }
    Ok(())
}

fn heat_rgb(v: f32) -> (u8, u8, u8) {
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    (
        (255.0 * v) as u8,
        (255.0 * (1.0 - (2.0 * v - 1.0).abs())) as u8,
        (255.0 * (1.0 - v)) as u8,
    )
}

/// A heat map grid (e.g. attention over a frame).
pub fn heatmap(
    stem: &Path,
    title: &str,
    w: usize,
    h: usize,
    values: &[f32],
) -> Result<Vec<PathBuf>, String> {
    let (lo, hi) = values
        .iter()
        .fold((f32::MAX, f32::MIN), |a, &v| (a.0.min(v), a.1.max(v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let color =
        |x: usize, y: usize| heat_rgb((values.get(y * w + x).copied().unwrap_or(0.0) - lo) / span);
    let none = |_: usize, _: usize| None;
    let size = (60 + 40 * w as u32, 60 + 40 * h as u32);
    let size = (size.0.max(480), size.1.max(200));
    two(
        stem,
        size,
        |r| cells(r, title, w, h, &color, &none, &[], &[]),
        |r| cells(r, title, w, h, &color, &none, &[], &[]),
    )
}
