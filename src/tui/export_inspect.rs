//! `e` in the Inspect view: the timeline as CSV (one row per window, a column per class) and
//! as a chart, and the current window's attention over the face (PNG + SVG).

use super::export_plot::Plot;
use super::state::State;
use super::views::inspect::{current, current_window};
use super::views::inspect_timeline::class_points;
use crate::session::inspection::Inspection;

/// What the Inspect view exports: the file stem, tables (file suffix, rows) and plots
/// (file suffix, plot).
pub struct InspectExport {
    pub stem: String,
    pub tables: Vec<(String, Vec<Vec<String>>)>,
    pub plots: Vec<(String, Plot)>,
}

pub fn inspect_export(state: &State, stamp: &str) -> Result<InspectExport, String> {
    let data = current(state).ok_or("no video inspected yet")?;
    let insp = data
        .inspection()
        .ok_or_else(|| format!("{} is still being scored", data.name))?;
    let stem = format!("inspect-{}-{stamp}", data.name);
    let mut tables = Vec::new();
    let mut plots = Vec::new();
    let classes = insp.probs.len();
    let mut header = vec![
        "window".to_string(),
        "first_frame".into(),
        "last_frame".into(),
        "start_s".into(),
        "end_s".into(),
    ];
    header.extend((0..classes).map(|c| insp.label(c)));
    header.push("top".into());
    let mut rows = vec![header];
    for (i, w) in insp.windows.iter().enumerate() {
        let mut row = vec![
            (i + 1).to_string(),
            w.first.to_string(),
            w.last.to_string(),
            w.start_s.to_string(),
            w.end_s.to_string(),
        ];
        row.extend(w.probs.iter().map(|p| p.to_string()));
        row.push(
            Inspection::top(&w.probs)
                .map(|t| insp.label(t))
                .unwrap_or_default(),
        );
        rows.push(row);
    }
    let mut video = vec!["video".to_string(), String::new(), String::new()];
    video.push("0".into());
    video.push(insp.windows.last().map_or(0.0, |w| w.end_s).to_string());
    video.extend(insp.probs.iter().map(|p| p.to_string()));
    video.push(
        Inspection::top(&insp.probs)
            .map(|t| insp.label(t))
            .unwrap_or_default(),
    );
    rows.push(video);
    tables.push(("-timeline".into(), rows));
    let series = class_points(insp)
        .into_iter()
        .enumerate()
        .map(|(c, p)| (insp.label(c), p))
        .collect();
    let video_name = insp
        .video
        .file_name()
        .map_or(data.name.clone(), |n| n.to_string_lossy().into_owned());
    plots.push((
        "-timeline".into(),
        Plot::Curves {
            title: format!("{video_name} · class probability per window"),
            x_label: "seconds",
            y_label: if insp.regression {
                "output"
            } else {
                "probability"
            }
            .into(),
            series,
            log: false,
        },
    ));
    let w = current_window(state, insp);
    if let Some(a) = state
        .images
        .inspect_attn
        .as_ref()
        .filter(|a| a.key.step == w as u64)
        && let (Some(g), Some(frame_png)) = (&a.heat, &a.frame_png)
    {
        plots.push((
            format!("-window{}-attention-over-face", w + 1),
            Plot::OverFrame {
                title: format!(
                    "{video_name} window {} · {} · colour: blue lowest → red highest",
                    w + 1,
                    g.label
                ),
                grid: g.clone(),
                frame_png: frame_png.clone(),
            },
        ));
    }
    Ok(InspectExport {
        stem,
        tables,
        plots,
    })
}
