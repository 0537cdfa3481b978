//! What `infer` prints: a table for people, `--json` and `--csv` for scripts. One video gives
//! its timeline (a row per window) and the video's mean; many videos give a row each.

use std::fmt::Write as _;

use serde_json::{Value, json};
use svfap_tui::inference::many::ManyScores;
use svfap_tui::inference::scorer::argmax;
use svfap_tui::inference::timeline::Timeline;
use svfap_tui::model::input_spec::InputSpec;
use svfap_tui::report::csv_field;

/// `m:ss.ss` for a time in seconds.
fn clock(s: f64) -> String {
    format!("{}:{:05.2}", (s / 60.0) as u64, s % 60.0)
}

fn names(spec: &InputSpec, n: usize) -> Vec<String> {
    (0..n).map(|i| spec.label(i)).collect()
}

/// A probability as a percentage, or a regression output as it is.
fn cell(spec: &InputSpec, v: f32) -> String {
    if spec.regression {
        format!("{v:.3}")
    } else {
        format!("{:.1}", v * 100.0)
    }
}

fn top(spec: &InputSpec, probs: &[f32]) -> Value {
    if spec.regression {
        Value::Null
    } else {
        spec.label(argmax(probs)).into()
    }
}

pub fn timeline_table(t: &Timeline, spec: &InputSpec, size: usize) -> String {
    let k = t.probs.len();
    let labels = names(spec, k);
    let widths: Vec<usize> = labels.iter().map(|l| l.chars().count().max(6)).collect();
    let duration = t.frames_in_file as f64 / t.fps;
    let mut out = String::new();
    let fps_note = if t.fps_known {
        ""
    } else {
        " (assumed: frame folder; set --fps)"
    };
    writeln!(
        out,
        "{}: {} frames at {:.2} fps{fps_note}, {}; {} window(s) of {} frames × stride {} at {size}², every {:.2} s",
        t.path.display(),
        t.frames_in_file,
        t.fps,
        clock(duration),
        t.windows.len(),
        t.clip.frames,
        t.clip.stride,
        t.step as f64 / t.fps,
    )
    .ok();
    if let Some(f) = &t.faces {
        let several = if f.tracks > 1 {
            format!("; {} faces tracked, the main one scored", f.tracks)
        } else {
            String::new()
        };
        writeln!(
            out,
            "face: on {} of {} frames ({} detected, {} interpolated); {} without it (centre crop used){several}",
            f.frames - f.missing,
            f.frames,
            f.detected,
            f.interpolated,
            f.missing,
        )
        .ok();
    }
    let unit = if spec.regression {
        "outputs"
    } else {
        "probabilities, %"
    };
    write!(out, "{:>6}  {:>8}  {:>8}", "window", "start", "end").ok();
    for (l, w) in labels.iter().zip(&widths) {
        write!(out, "  {l:>w$}").ok();
    }
    writeln!(out, "{}", if spec.regression { "" } else { "  top" }).ok();
    // Windows count from 1, as the workbench and `--attention-window` count them.
    for (i, w) in t.windows.iter().enumerate() {
        write!(
            out,
            "{:>6}  {:>8}  {:>8}",
            i + 1,
            clock(w.start_s),
            clock(w.end_s)
        )
        .ok();
        for (v, width) in w.score.probs.iter().zip(&widths) {
            write!(out, "  {:>width$}", cell(spec, *v)).ok();
        }
        if !spec.regression {
            write!(out, "  {}", spec.label(argmax(&w.score.probs))).ok();
        }
        writeln!(out).ok();
    }
    writeln!(out, "video (mean of {} windows, {unit}):", t.windows.len()).ok();
    let mut order: Vec<usize> = (0..k).collect();
    if !spec.regression {
        order.sort_by(|&a, &b| t.probs[b].total_cmp(&t.probs[a]));
    }
    for i in order {
        let v = if spec.regression {
            format!("{:.4}", t.probs[i])
        } else {
            format!("{:6.2}%", t.probs[i] * 100.0)
        };
        writeln!(out, "{:>16}  {v}", labels[i]).ok();
    }
    out
}

pub fn timeline_json(t: &Timeline, spec: &InputSpec, size: usize) -> Value {
    let windows: Vec<Value> = t
        .windows
        .iter()
        .map(|w| {
            json!({
                "first_frame": w.window.first,
                "last_frame": w.window.last,
                "start_s": w.start_s,
                "end_s": w.end_s,
                "frames": w.window.frames,
                "probs": w.score.probs,
                "top": top(spec, &w.score.probs),
            })
        })
        .collect();
    json!({
        "input": t.path.display().to_string(),
        "frames": t.frames_in_file,
        "fps": t.fps,
        "fps_from_input": t.fps_known,
        "clip": {"frames": t.clip.frames, "stride": t.clip.stride, "size": size},
        "window_step_frames": t.step,
        "task": if spec.regression { "regression" } else { "classification" },
        "labels": names(spec, t.probs.len()),
        "windows": windows,
        "video": {"probs": t.probs, "top": top(spec, &t.probs)},
        "warnings": t.warnings,
        "seconds": t.seconds,
        "faces": t.faces.as_ref().map(|f| json!({
            "frames": f.frames,
            "detected": f.detected,
            "interpolated": f.interpolated,
            "missing": f.missing,
            "tracks": f.tracks,
        })),
    })
}

pub fn timeline_csv(t: &Timeline, spec: &InputSpec) -> String {
    let labels = names(spec, t.probs.len());
    let mut out = String::from("window,start_s,end_s,first_frame,last_frame");
    for l in &labels {
        write!(out, ",{}", csv_field(l)).ok();
    }
    out.push_str(",top\n");
    let mut row = |name: String, start: f64, end: f64, first: usize, last: usize, p: &[f32]| {
        write!(out, "{name},{start:.3},{end:.3},{first},{last}").ok();
        for v in p {
            write!(out, ",{v}").ok();
        }
        let top = if spec.regression {
            String::new()
        } else {
            csv_field(&spec.label(argmax(p)))
        };
        writeln!(out, ",{top}").ok();
    };
    for (i, w) in t.windows.iter().enumerate() {
        row(
            (i + 1).to_string(),
            w.start_s,
            w.end_s,
            w.window.first,
            w.window.last,
            &w.score.probs,
        );
    }
    let end = t.windows.last().map_or(0.0, |w| w.end_s);
    row(
        "video".into(),
        0.0,
        end,
        0,
        t.frames_in_file.saturating_sub(1),
        &t.probs,
    );
    out
}

fn label_of(v: &svfap_tui::inference::many::VideoScore) -> Option<usize> {
    v.label.class()
}

pub fn many_table(m: &ManyScores, spec: &InputSpec) -> String {
    let mut out = String::new();
    let width = m
        .videos
        .iter()
        .map(|v| v.raw_path.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 60);
    let labelled = m.videos.iter().all(|v| label_of(v).is_some()) && !m.videos.is_empty();
    write!(out, "{:<width$}  {:>16}  {:>7}", "video", "prediction", "").ok();
    if labelled {
        write!(out, "  label").ok();
    }
    writeln!(out).ok();
    for v in &m.videos {
        let shown: String = if v.raw_path.chars().count() > width {
            let tail: String = v.raw_path.chars().rev().take(width - 1).collect();
            format!("…{}", tail.chars().rev().collect::<String>())
        } else {
            v.raw_path.clone()
        };
        let (pred, score) = if spec.regression {
            let vals: Vec<String> = v.probs.iter().map(|x| format!("{x:.3}")).collect();
            (vals.join(" "), String::new())
        } else {
            let i = argmax(&v.probs);
            (spec.label(i), format!("{:6.2}%", v.probs[i] * 100.0))
        };
        write!(out, "{shown:<width$}  {pred:>16}  {score:>7}").ok();
        if labelled && let Some(l) = label_of(v) {
            let mark = if argmax(&v.probs) == l { "✓" } else { "✗" };
            write!(out, "  {} {mark}", spec.label(l)).ok();
        }
        writeln!(out).ok();
    }
    for (path, reason) in &m.skipped {
        writeln!(out, "skipped {}: {reason}", path.display()).ok();
    }
    out
}

pub fn many_json(m: &ManyScores, spec: &InputSpec, metrics: Option<&Value>) -> Value {
    let videos: Vec<Value> = m
        .videos
        .iter()
        .map(|v| {
            json!({
                "path": v.raw_path,
                "label": label_of(v),
                "probs": v.probs,
                "top": top(spec, &v.probs),
                "clips": v.clips.iter().map(|c| &c.probs).collect::<Vec<_>>(),
            })
        })
        .collect();
    let skipped: Vec<Value> = m
        .skipped
        .iter()
        .map(|(p, r)| json!({"path": p.display().to_string(), "reason": r}))
        .collect();
    json!({
        "task": if spec.regression { "regression" } else { "classification" },
        "labels": names(spec, m.videos.first().map_or(spec.labels.len(), |v| v.probs.len())),
        "videos": videos,
        "skipped": skipped,
        "clips": m.clips,
        "seconds": m.seconds,
        "clips_per_s": m.clips as f64 / m.seconds.max(1e-9),
        "metrics": metrics,
    })
}

pub fn many_csv(m: &ManyScores, spec: &InputSpec) -> String {
    let k = m
        .videos
        .first()
        .map_or(spec.labels.len(), |v| v.probs.len());
    let mut out = String::from("path,label");
    for l in names(spec, k) {
        write!(out, ",{}", csv_field(&l)).ok();
    }
    out.push_str(",top\n");
    for v in &m.videos {
        let label = label_of(v).map(|l| l.to_string()).unwrap_or_default();
        write!(out, "{},{label}", csv_field(&v.raw_path)).ok();
        for p in &v.probs {
            write!(out, ",{p}").ok();
        }
        let top = if spec.regression {
            String::new()
        } else {
            csv_field(&spec.label(argmax(&v.probs)))
        };
        writeln!(out, ",{top}").ok();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_csv_quoting() {
        assert_eq!(clock(75.5), "1:15.50");
        assert_eq!(clock(0.0), "0:00.00");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\","), "\"say \"\"hi\"\",\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
