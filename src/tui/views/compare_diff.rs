//! The config diff of the marked runs in Compare: only the keys whose values differ, with
//! paths inside the session written `<session>/…` (a moved or copied session is no
//! difference), the shared start of long values elided and their ends kept (the useful
//! part of a path or a checkpoint name).

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Row, Table};

use crate::tui::draw_helpers::{block, note, note_panel};
use crate::tui::state::State;

/// Dotted path → value for every leaf of a config.
pub fn flatten(v: &toml::Value) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, x) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, x, out);
                }
            }
            toml::Value::String(s) => {
                out.insert(prefix.to_string(), s.clone());
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", v, &mut out);
    out
}

/// Keys whose values differ between the configs: (key, value per config, `-` when absent).
/// Each config's own session folder (`sessions[i]`, when given) is written `<session>` first.
pub fn config_diff(
    configs: &[Option<&toml::Value>],
    sessions: &[Option<String>],
) -> Vec<(String, Vec<String>)> {
    let flat: Vec<BTreeMap<String, String>> = configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut m = c.map(flatten).unwrap_or_default();
            if let Some(Some(root)) = sessions.get(i).filter(|s| s.is_some()) {
                for v in m.values_mut() {
                    if let Some(rest) = v.strip_prefix(root.as_str())
                        && (rest.is_empty() || rest.starts_with('/'))
                    {
                        *v = format!("<session>{rest}");
                    }
                }
            }
            m
        })
        .collect();
    let mut keys: Vec<&String> = flat.iter().flat_map(|m| m.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let vals: Vec<String> = flat
                .iter()
                .map(|m| m.get(k).cloned().unwrap_or_else(|| "-".into()))
                .collect();
            vals.iter()
                .any(|v| *v != vals[0])
                .then(|| (k.clone(), vals))
        })
        .collect()
}

/// The values without the part they all start with, up to a `/` (so that
/// `/data/dfew/split01/train.txt` and `…/split02/train.txt` read `…/split01/train.txt`).
pub fn without_shared_start(vals: &[String]) -> Vec<String> {
    let first = &vals[0];
    let mut cut = first.len();
    for v in &vals[1..] {
        cut = cut.min(
            first
                .bytes()
                .zip(v.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    let cut = first[..cut].rfind('/').unwrap_or(0);
    if cut == 0 {
        return vals.to_vec();
    }
    vals.iter().map(|v| format!("…{}", &v[cut..])).collect()
}

/// `text` in `width` columns, keeping its end: `…plit01/train.txt`.
pub fn tail(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width || width == 0 {
        return text.to_string();
    }
    let keep: String = text.chars().skip(n - (width - 1)).collect();
    format!("…{keep}")
}

/// The runs the diff compares: the marked ones, in id order.
pub fn diff_runs(state: &State) -> Vec<String> {
    state
        .gui
        .marked
        .iter()
        .filter(|id| state.data.run(id).is_some())
        .cloned()
        .collect()
}

/// The marked runs' differences as the panel and the export show them.
pub fn marked_diff(state: &State) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let ids = diff_runs(state);
    let configs: Vec<Option<&toml::Value>> = ids
        .iter()
        .map(|id| state.data.run(id).and_then(|r| r.summary.config.as_ref()))
        .collect();
    let session = std::fs::canonicalize(&state.session.root)
        .unwrap_or_else(|_| state.session.root.clone())
        .display()
        .to_string();
    let sessions = vec![Some(session); ids.len()];
    let diff = config_diff(&configs, &sessions);
    (ids, diff)
}

pub fn draw(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let (ids, diff) = marked_diff(state);
    if ids.len() < 2 {
        let b = block(" config diff ", t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        note(
            f,
            inner,
            "mark two or more runs (space) to see how their configs differ",
            t,
        );
        return;
    }
    let header = Row::new(
        std::iter::once("key".to_string()).chain(ids.iter().map(|i| {
            crate::session::layout::split_run_id(i).map_or(i.clone(), |(_, _, n)| n.to_string())
        })),
    )
    .style(Style::default().fg(t.title).add_modifier(Modifier::BOLD));
    let n = ids.len() as u32;
    let inner_w = area.width.saturating_sub(2) as u32;
    let value_w = (inner_w / (n + 2)).saturating_sub(1).max(4) as usize;
    let rows: Vec<Row> = diff
        .iter()
        .map(|(k, vals)| {
            let vals = without_shared_start(vals);
            Row::new(std::iter::once(k.clone()).chain(vals.iter().map(|v| tail(v, value_w))))
        })
        .collect();
    let mut widths = vec![Constraint::Ratio(2, n + 2)];
    widths.extend((0..n).map(|_| Constraint::Ratio(1, n + 2)));
    let title = format!(" config diff: {} differences ", diff.len());
    if rows.is_empty() {
        note_panel(f, area, &title, "identical configs", t);
    } else {
        f.render_widget(
            Table::new(rows, widths)
                .header(header)
                .block(block(title, t)),
            area,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> toml::Value {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn paths_inside_each_session_are_no_difference() {
        let a = value("[data]\nroot = \"/home/a/sessions/s1/data\"\nfold = 1");
        let b = value("[data]\nroot = \"/mnt/copy/s1/data\"\nfold = 2");
        let diff = config_diff(
            &[Some(&a), Some(&b)],
            &[
                Some("/home/a/sessions/s1".into()),
                Some("/mnt/copy/s1".into()),
            ],
        );
        assert_eq!(
            diff,
            vec![("data.fold".to_string(), vec!["1".into(), "2".into()])]
        );
    }

    #[test]
    fn long_values_keep_their_ends() {
        let vals = vec![
            "/data/ycs/AC/Dataset/DFEW/split01/train.txt".to_string(),
            "/data/ycs/AC/Dataset/DFEW/split02/train.txt".to_string(),
        ];
        let short = without_shared_start(&vals);
        assert_eq!(short, vec!["…/split01/train.txt", "…/split02/train.txt"]);
        assert_eq!(
            tail("checkpoints/step-000500.safetensors", 16),
            "…500.safetensors"
        );
        assert_eq!(tail("short", 12), "short");
        assert_eq!(
            without_shared_start(&["1".into(), "2".into()]),
            vec!["1", "2"]
        );
    }
}
