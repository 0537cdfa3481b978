//! Figures (PNG and SVG through plotters, with an embedded font so no system fonts are
//! needed) and CSV tables, written into a session's `exports/`.

pub mod contact_sheet;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::session::artifacts::EvalReport;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");

fn ensure_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let _ = plotters::style::register_font("sans-serif", style, FONT);
        }
    });
}

type DynErr = Box<dyn std::error::Error + Send + Sync>;

fn err<E: std::fmt::Display>(path: &Path) -> impl FnOnce(E) -> String + '_ {
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

const PALETTE: [(u8, u8, u8); 4] = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)];

/// Curves of one metric (one line per series), x = step.
pub fn curves(
    stem: &Path,
    title: &str,
    series: &[(String, Vec<(f64, f64)>)],
    log_y: bool,
) -> Result<Vec<PathBuf>, String> {
    let pts: Vec<&(f64, f64)> = series
        .iter()
        .flat_map(|s| s.1.iter())
        .filter(|p| !log_y || p.1 > 0.0)
        .collect();
    if pts.is_empty() {
        return Err(format!("{title}: no points to plot"));
    }
    let (x0, x1) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (y0, y1) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    let (y0, y1) = if y1 > y0 {
        (y0, y1)
    } else {
        (y0 - 0.5, y0 + 0.5)
    };
    macro_rules! draw_into {
        ($root:expr, $chart:expr) => {{
            let root = $root;
            root.fill(&WHITE)?;
            let mut chart = $chart;
            chart.configure_mesh().x_desc("step").y_desc(title).draw()?;
            for (i, (name, s)) in series.iter().enumerate() {
                let c = rgb(PALETTE[i % PALETTE.len()]);
                chart
                    .draw_series(LineSeries::new(
                        s.iter().copied().filter(|p| !log_y || p.1 > 0.0),
                        c.stroke_width(2),
                    ))?
                    .label(name.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()?;
            Ok(())
        }};
    }
    // One chart on either backend, linear or log y.
    macro_rules! plot {
        ($root:expr) => {{
            let root = $root;
            let mut builder = ChartBuilder::on(root);
            builder
                .caption(title, ("sans-serif", 24))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70);
            if log_y {
                draw_into!(
                    root,
                    builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?
                )
            } else {
                draw_into!(root, builder.build_cartesian_2d(x0..x1, y0..y1)?)
            }
        }};
    }
    let plot_bm = |root: &DrawingArea<BitMapBackend, Shift>| -> Result<(), DynErr> { plot!(root) };
    let plot_svg = |root: &DrawingArea<SVGBackend, Shift>| -> Result<(), DynErr> { plot!(root) };
    two(stem, (900, 540), plot_bm, plot_svg)
}

fn two(
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

/// Confusion matrix (row-normalised colours, counts written in).
pub fn confusion(stem: &Path, e: &EvalReport) -> Result<Vec<PathBuf>, String> {
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
    let title = format!(
        "{}-{} confusion (rows true, columns predicted)",
        e.dataset, e.split
    );
    let color = |x: usize, y: usize| {
        let row = &e.confusion[y];
        let total: u64 = row.iter().sum::<u64>().max(1);
        let v = row.get(x).copied().unwrap_or(0) as f32 / total as f32;
        let g = (255.0 * (1.0 - v)) as u8;
        (g, g, 255)
    };
    let text = |x: usize, y: usize| Some(e.confusion[y].get(x).copied().unwrap_or(0).to_string());
    let size = (140 + 70 * n as u32, 100 + 40 * n as u32);
    two(
        stem,
        size,
        |r| cells(r, &title, n, n, &color, &text, &names, &names),
        |r| cells(r, &title, n, n, &color, &text, &names, &names),
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

/// Reconstruction grid: rows original / masked / reconstruction, one column per frame.
/// The PNG keeps full resolution; the SVG draws each frame downsampled to ≤ 24 px a side.
pub fn recon_grid(
    stem: &Path,
    title: &str,
    grid: &image::RgbImage,
    frames: usize,
) -> Result<Vec<PathBuf>, String> {
    ensure_font();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    // PNG: the composed pixels under a title bar.
    let (gw, gh) = grid.dimensions();
    let mut canvas = image::RgbImage::from_pixel(gw + 100, gh + 40, image::Rgb([255, 255, 255]));
    image::imageops::replace(&mut canvas, grid, 100, 40);
    let (cw, chh) = canvas.dimensions();
    let mut buf = canvas.into_raw();
    {
        let root = BitMapBackend::with_buffer(&mut buf, (cw, chh)).into_drawing_area();
        let lab = |root: &DrawingArea<BitMapBackend, Shift>| -> Result<(), DynErr> {
            root.draw(&Text::new(
                title.to_string(),
                (6, 10),
                ("sans-serif", 18).into_font(),
            ))?;
            for (i, l) in ["original", "masked", "recon"].iter().enumerate() {
                root.draw(&Text::new(
                    l.to_string(),
                    (6, 40 + (i as i32 * gh as i32) / 3 + gh as i32 / 6 - 7),
                    ("sans-serif", 14).into_font(),
                ))?;
            }
            Ok(())
        };
        lab(&root).map_err(err(&png))?;
        root.present().map_err(err(&png))?;
    }
    image::RgbImage::from_raw(cw, chh, buf)
        .ok_or("bad image buffer")?
        .save(&png)
        .map_err(err(&png))?;
    // SVG: downsampled pixels as rectangles.
    let scale = ((gw / frames.max(1) as u32).max(1) as f32 / 24.0).max(1.0);
    let small = image::imageops::resize(
        grid,
        ((gw as f32 / scale) as u32).max(1),
        ((gh as f32 / scale) as u32).max(1),
        image::imageops::FilterType::Triangle,
    );
    let (sw, sh) = small.dimensions();
    let px = 4u32;
    {
        let root = SVGBackend::new(&svg, (sw * px + 100, sh * px + 40)).into_drawing_area();
        let draw = |root: &DrawingArea<SVGBackend, Shift>| -> Result<(), DynErr> {
            root.fill(&WHITE)?;
            root.draw(&Text::new(
                title.to_string(),
                (6, 10),
                ("sans-serif", 18).into_font(),
            ))?;
            for (i, l) in ["original", "masked", "recon"].iter().enumerate() {
                root.draw(&Text::new(
                    l.to_string(),
                    (
                        6,
                        40 + (i as i32 * (sh * px) as i32) / 3 + (sh * px) as i32 / 6 - 7,
                    ),
                    ("sans-serif", 14).into_font(),
                ))?;
            }
            for (x, y, p) in small.enumerate_pixels() {
                let (x0, y0) = (100 + (x * px) as i32, 40 + (y * px) as i32);
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + px as i32, y0 + px as i32)],
                    RGBColor(p.0[0], p.0[1], p.0[2]).filled(),
                ))?;
            }
            Ok(())
        };
        draw(&root).map_err(err(&svg))?;
        root.present().map_err(err(&svg))?;
    }
    Ok(vec![png, svg])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_write_png_and_svg_on_linear_and_log_axes() {
        let dir = std::env::temp_dir().join(format!("svfap-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let series = vec![(
            "train".to_string(),
            vec![(1.0, 2.0), (2.0, 1.0), (3.0, 0.5)],
        )];
        for log_y in [false, true] {
            let files = curves(&dir.join(format!("loss-{log_y}")), "loss", &series, log_y).unwrap();
            assert_eq!(image::image_dimensions(&files[0]).unwrap(), (900, 540));
            assert!(std::fs::read_to_string(&files[1]).unwrap().contains("<svg"));
        }
        assert!(curves(&dir.join("empty"), "loss", &[], false).is_err());
    }
}
