//! Metric curves as a figure: one line per series (several runs overlaid), markers on sparse
//! series (evaluations), ticks that read (`1e-3` on a log axis, not `1e0.3`), the metric as
//! the y label, and the legend in its own column beside the plot, never over the data.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::min_max_buckets::min_max_buckets;
use super::{DynErr, two};

/// Series with at most this many points get a marker at each point.
const SPARSE: usize = 60;

pub const PALETTE: [(u8, u8, u8); 8] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (23, 190, 207),
];

/// Columns a dense series is reduced to before drawing (about the plot's width in pixels).
const PLOT_COLUMNS: usize = 900;

/// What a curve figure shows.
pub struct CurveFigure<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: &'a [(String, Vec<(f64, f64)>)],
    pub log_y: bool,
}

/// A tick label with no more digits than the axis needs: `0.25`, `1200`, `3e-5`.
pub fn tick(v: f64, span: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        let (m, e) = s.split_once('e').expect("exponent notation");
        let m = m.trim_end_matches('0').trim_end_matches('.');
        return format!("{m}e{e}");
    }
    // One digit more than the tick spacing (about span / 5) needs, trailing zeros dropped.
    let digits = if span > 0.0 {
        (-(span / 5.0).log10().floor() + 1.0).clamp(0.0, 6.0) as usize
    } else {
        3
    };
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A log-axis tick: the power of ten it stands on (`1e-3`), or the value when between.
fn log_tick(v: f64) -> String {
    let e = v.log10();
    if (e - e.round()).abs() < 1e-9 {
        format!("1e{}", e.round() as i64)
    } else {
        tick(v, v)
    }
}

pub fn curves(stem: &Path, fig: &CurveFigure) -> Result<Vec<PathBuf>, String> {
    let log_y = fig.log_y;
    let pts: Vec<&(f64, f64)> = fig
        .series
        .iter()
        .flat_map(|s| s.1.iter())
        .filter(|p| p.0.is_finite() && p.1.is_finite() && (!log_y || p.1 > 0.0))
        .collect();
    if pts.is_empty() {
        return Err(format!("{}: no points to plot", fig.title));
    }
    let (x0, x1) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (y0, y1) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    let (y0, y1) = match (y1 > y0, log_y) {
        (true, false) => {
            let pad = (y1 - y0) * 0.04;
            (y0 - pad, y1 + pad)
        }
        (true, true) => (y0 / 1.1, y1 * 1.1),
        (false, false) => (y0 - 0.5, y0 + 0.5),
        (false, true) => (y0 / 2.0, y0 * 2.0),
    };
    let legend_w = fig
        .series
        .iter()
        .map(|s| s.0.chars().count() as u32)
        .max()
        .unwrap_or(0)
        .clamp(6, 34)
        * 8
        + 50;
    let x_span = x1 - x0;
    let y_span = y1 - y0;
    macro_rules! plot {
        ($root:expr) => {{
            let root = $root;
            root.fill(&WHITE)?;
            let (w, _) = root.dim_in_pixel();
            let (plot_area, legend_area) = root.split_horizontally(w - legend_w);
            let mut builder = ChartBuilder::on(&plot_area);
            builder
                .caption(fig.title, ("sans-serif", 22))
                .margin(14)
                .x_label_area_size(44)
                .y_label_area_size(78);
            let x_fmt = |v: &f64| tick(*v, x_span);
            let y_fmt = |v: &f64| {
                if log_y {
                    log_tick(*v)
                } else {
                    tick(*v, y_span)
                }
            };
            macro_rules! draw {
                ($chart:expr) => {{
                    let mut chart = $chart;
                    chart
                        .configure_mesh()
                        .x_desc(fig.x_label)
                        .y_desc(fig.y_label)
                        .x_labels(8)
                        .y_labels(8)
                        .x_label_formatter(&x_fmt)
                        .y_label_formatter(&y_fmt)
                        .label_style(("sans-serif", 14))
                        .axis_desc_style(("sans-serif", 16))
                        .light_line_style(RGBColor(235, 235, 235))
                        .draw()?;
                    for (i, (_, s)) in fig.series.iter().enumerate() {
                        let (r, g, b) = PALETTE[i % PALETTE.len()];
                        let c = RGBColor(r, g, b);
                        let points: Vec<(f64, f64)> = s
                            .iter()
                            .copied()
                            .filter(|p| p.0.is_finite() && p.1.is_finite() && (!log_y || p.1 > 0.0))
                            .collect();
                        // Segment by segment: plotters joins a thick polyline with
                        // uncapped inner corners, which on a sharp spike reach far past
                        // the data (below the x axis). Lone segments have no joins.
                        let line = min_max_buckets(&points, 2 * PLOT_COLUMNS);
                        chart.draw_series(
                            line.windows(2)
                                .map(|w| PathElement::new(vec![w[0], w[1]], c.stroke_width(2))),
                        )?;
                        if points.len() <= SPARSE {
                            chart.draw_series(
                                points.iter().map(|p| Circle::new(*p, 4, c.filled())),
                            )?;
                        }
                    }
                }};
            }
            if log_y {
                draw!(builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?)
            } else {
                draw!(builder.build_cartesian_2d(x0..x1, y0..y1)?)
            }
            legend(&legend_area, fig.series)?;
            Ok(())
        }};
    }
    let plot_bm = |root: &DrawingArea<BitMapBackend, Shift>| -> Result<(), DynErr> { plot!(root) };
    let plot_svg = |root: &DrawingArea<SVGBackend, Shift>| -> Result<(), DynErr> { plot!(root) };
    two(stem, (960 + legend_w, 540), plot_bm, plot_svg)
}

/// One entry per series: its colour (a line, with a marker for sparse series) and its name.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<(), DynErr>
where
    DB::ErrorType: 'static,
{
    for (i, (name, points)) in series.iter().enumerate() {
        let (r, g, b) = PALETTE[i % PALETTE.len()];
        let c = RGBColor(r, g, b);
        let y = 60 + i as i32 * 24;
        area.draw(&PathElement::new(vec![(6, y), (30, y)], c.stroke_width(3)))?;
        if points.len() <= SPARSE {
            area.draw(&Circle::new((18, y), 4, c.filled()))?;
        }
        area.draw(&Text::new(
            name.clone(),
            (38, y - 8),
            ("sans-serif", 15).into_font(),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_have_the_digits_the_axis_needs() {
        assert_eq!(tick(0.25, 1.0), "0.25");
        assert_eq!(tick(1200.0, 5000.0), "1200");
        assert_eq!(tick(3e-5, 1e-4), "3e-5");
        assert_eq!(tick(0.6123, 0.05), "0.612");
        assert_eq!(log_tick(1e-3), "1e-3");
        assert_eq!(log_tick(1.0), "1e0");
    }

    /// Rows of `png` below its x axis (the lowest row that is mostly black in the plot's
    /// columns) holding pixels of the first series' colour, left of the legend column.
    fn series_pixels_below_the_x_axis(png: &Path, plot_w: u32) -> usize {
        let img = image::open(png).unwrap().into_rgb8();
        let (r, g, b) = PALETTE[0];
        let axis = (0..img.height())
            .rev()
            .find(|&y| {
                (0..plot_w)
                    .filter(|&x| img.get_pixel(x, y).0 == [0, 0, 0])
                    .count()
                    > plot_w as usize / 2
            })
            .expect("an x axis line");
        (axis + 2..img.height())
            .flat_map(|y| (0..plot_w).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == [r, g, b])
            .count()
    }

    #[test]
    fn sharp_spikes_of_a_dense_series_stay_above_the_x_axis() {
        // A loss curve as the exporter gets it: thousands of steps on a flat floor with
        // narrow spikes (points a fraction of a pixel apart), the floor on the range's bottom.
        let series = vec![(
            "train".to_string(),
            (0..6000)
                .map(|i| {
                    let spike = (i * 7919) % 23 == 0 || (i * 104_729) % 31 == 0;
                    (
                        i as f64,
                        if spike {
                            1.0 + (i % 7) as f64 * 0.3
                        } else {
                            0.0
                        },
                    )
                })
                .collect::<Vec<_>>(),
        )];
        let dir = tempfile::tempdir().unwrap();
        let fig = CurveFigure {
            title: "loss",
            x_label: "step",
            y_label: "loss",
            series: &series,
            log_y: false,
        };
        let files = curves(&dir.path().join("spikes"), &fig).unwrap();
        assert_eq!(series_pixels_below_the_x_axis(&files[0], 900), 0);
    }

    #[test]
    fn curves_write_png_and_svg_on_linear_and_log_axes_with_a_legend_column() {
        let dir = tempfile::tempdir().unwrap();
        let series = vec![
            (
                "lr1e-3 train".to_string(),
                (1..200).map(|s| (s as f64, 2.0 / s as f64)).collect(),
            ),
            (
                "lr1e-3 val".to_string(),
                vec![(50.0, 0.5), (100.0, 0.3), (150.0, 0.2)],
            ),
        ];
        for log_y in [false, true] {
            let fig = CurveFigure {
                title: "loss",
                x_label: "step",
                y_label: "loss",
                series: &series,
                log_y,
            };
            let files = curves(&dir.path().join(format!("loss-{log_y}")), &fig).unwrap();
            let (w, h) = image::image_dimensions(&files[0]).unwrap();
            assert!(w > 960 && h == 540, "{w}×{h}");
            let svg = std::fs::read_to_string(&files[1]).unwrap();
            assert!(svg.contains("<svg") && svg.contains("lr1e-3 val"));
        }
        let empty = CurveFigure {
            title: "loss",
            x_label: "step",
            y_label: "loss",
            series: &[],
            log_y: false,
        };
        assert!(curves(&dir.path().join("empty"), &empty).is_err());
    }
}
