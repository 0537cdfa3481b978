//! The ranks of a run of several processes, for the Runs view's details: how many, on
//! which hosts, and each rank's step and throughput from its own heartbeat, a rank whose
//! heartbeat is late in the warning colour (the first sign of a hung or lost rank).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::distributed::world::ranks_per_host;
use crate::session::RunStatus;
use crate::tui::theme::Theme;

/// A rank's heartbeat older than this (seconds) is shown as late.
const LATE_AFTER: f64 = 10.0;

/// None for a run of one process.
pub fn rank_line(status: &RunStatus, running: bool, now: f64, t: &Theme) -> Option<Line<'static>> {
    if status.world_size <= 1 {
        return None;
    }
    let label = Style::default().fg(t.muted);
    let hosts = ranks_per_host(status.ranks.iter().map(|r| r.host.as_str()))
        .iter()
        .map(|(h, n)| format!("{h} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut spans = vec![
        Span::styled("processes ", label),
        Span::raw(format!("{}", status.world_size)),
    ];
    if !hosts.is_empty() {
        spans.push(Span::raw(format!(" ({hosts})")));
    }
    for r in &status.ranks {
        let age = r
            .updated
            .as_deref()
            .and_then(crate::session::parse_rfc3339)
            .map(|u| (now - u).max(0.0));
        let late = running && age.is_none_or(|a| a > LATE_AFTER);
        let style = if late {
            Style::default().fg(t.warn)
        } else {
            Style::default()
        };
        spans.push(Span::styled(format!("  rank {} ", r.rank), label));
        let mut text = format!("step {} · {:.1}/s", r.step, r.throughput);
        if late {
            text.push_str(&format!(
                " · silent {}",
                age.map_or("?".into(), |a| format!("{a:.0} s"))
            ));
        }
        spans.push(Span::styled(text, style));
    }
    Some(Line::from(spans))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::RankStatus;

    fn rank(rank: u64, updated: &str) -> RankStatus {
        RankStatus {
            rank,
            host: "gpu1".into(),
            pid: 10 + rank as u32,
            step: 41,
            throughput: 20.5,
            updated: Some(updated.into()),
        }
    }

    #[test]
    fn each_rank_is_listed_and_a_late_one_says_so() {
        let now = crate::session::parse_rfc3339("2026-12-07T10:00:30Z").unwrap();
        let status = RunStatus {
            world_size: 2,
            ranks: vec![
                rank(0, "2026-12-07T10:00:29Z"),
                rank(1, "2026-12-07T10:00:00Z"),
            ],
            ..RunStatus::default()
        };
        let theme = Theme::default();
        let text: String = rank_line(&status, true, now, &theme)
            .unwrap()
            .spans
            .iter()
            .map(|s| s.content.to_string())
            .collect();
        assert_eq!(
            text,
            "processes 2 (gpu1 ×2)  rank 0 step 41 · 20.5/s  rank 1 step 41 · 20.5/s · silent 30 s"
        );
        // A finished run's old heartbeats are no news.
        let line = rank_line(&status, false, now, &theme).unwrap();
        assert!(!line.spans.iter().any(|s| s.content.contains("silent")));
        assert!(rank_line(&RunStatus::default(), true, now, &theme).is_none());
    }
}
