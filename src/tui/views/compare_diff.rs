//! The config diff of the marked runs in Compare: only the keys whose values differ, with
//! paths inside the session written `<session>/…` (a moved or copied session is no
//! difference), the shared start of long values elided and their ends kept (the useful
//! part of a path or a checkpoint name).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Row, Table};

use crate::tui::config_leaves::ConfigLeaves;
use crate::tui::draw_helpers::{block, note, note_panel};
use crate::tui::state::State;

/// Keys whose values differ between the configs' leaves: (key, value per config, `-` when
/// absent); a run without a config counts as one without keys.
pub fn config_diff(configs: &[Option<&ConfigLeaves>]) -> Vec<(String, Vec<String>)> {
    let empty = ConfigLeaves::new();
    let flat: Vec<&ConfigLeaves> = configs.iter().map(|c| c.unwrap_or(&empty)).collect();
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
    let configs: Vec<Option<&ConfigLeaves>> = ids
        .iter()
        .map(|id| state.data.run(id).and_then(|r| r.config_leaves.as_ref()))
        .collect();
    let diff = config_diff(&configs);
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

    #[test]
    fn only_differing_keys_are_listed_and_a_missing_one_reads_dash() {
        let leaves = |pairs: &[(&str, &str)]| -> ConfigLeaves {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let a = leaves(&[("data.root", "<session>/data"), ("data.fold", "1")]);
        let b = leaves(&[
            ("data.root", "<session>/data"),
            ("data.fold", "2"),
            ("x", "y"),
        ]);
        assert_eq!(
            config_diff(&[Some(&a), Some(&b), None]),
            vec![
                (
                    "data.fold".to_string(),
                    vec!["1".into(), "2".into(), "-".into()]
                ),
                (
                    "data.root".to_string(),
                    vec!["<session>/data".into(), "<session>/data".into(), "-".into()]
                ),
                ("x".to_string(), vec!["-".into(), "y".into(), "-".into()]),
            ]
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
