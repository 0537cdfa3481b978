//! Drawing helpers shared by the views and widgets: the screen split, bordered blocks,
//! empty-state notes, centred rectangles, and number and duration formatting. Below the
//! views (`draw.rs` dispatches to them), so that no view imports the dispatcher.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Borders, Cell, Clear, Paragraph, Row, Wrap};

use super::state::Level;
use super::theme::Theme;

/// Header, body, status line and footer; the status line only when there is room, so the
/// body (and image areas computed from it) do not move when a message appears.
pub fn split(area: Rect) -> [Rect; 4] {
    let status_h = u16::from(area.height >= 8);
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(status_h),
        Constraint::Length(1),
    ])
    .areas(area)
}

pub fn level_style(t: &Theme, level: Level) -> Style {
    Style::default().fg(match level {
        Level::Info => t.ok,
        Level::Warn => t.warn,
        Level::Error => t.error,
    })
}

/// A bordered block with the theme's colours.
pub fn block<'a>(title: impl Into<Line<'a>>, t: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(t.border))
        .title(title.into().style(Style::default().fg(t.title)))
}

/// A centred rectangle of at most `w`×`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// A bordered panel titled `title` with a one-line `text` in its middle (empty states).
pub fn note_panel(f: &mut Frame, area: Rect, title: &str, text: &str, t: &Theme) {
    let b = block(title.to_string(), t);
    let inner = b.inner(area);
    f.render_widget(b, area);
    note(f, inner, text, t);
}

/// A one-line note in the middle of an area (empty states).
pub fn note(f: &mut Frame, area: Rect, text: &str, t: &Theme) {
    let p = Paragraph::new(text.to_string())
        .style(Style::default().fg(t.muted))
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true });
    let h = (text.len() as u16 / area.width.max(1) + 1).min(area.height);
    let y = area.y + area.height.saturating_sub(h) / 2;
    f.render_widget(p, Rect::new(area.x, y, area.width, h));
}

pub fn clear(f: &mut Frame, area: Rect) {
    f.render_widget(Clear, area);
}

/// `1h02m`, `3m05s`, `12s`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "-".into();
    }
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

/// A number in at most ~6 characters.
pub fn num(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}

/// The columns of a table, given as (width, priority), that fit in `room` cells with one
/// space between columns: the lowest priorities (highest numbers) are dropped first, so a
/// narrow terminal loses whole columns instead of cutting every value. The column of
/// priority 0 always stays; the first column takes what the others leave.
pub struct FittedColumns {
    keep: Vec<usize>,
    widths: Vec<Constraint>,
}

impl FittedColumns {
    pub fn new(columns: &[(u16, u8)], room: u16) -> Self {
        let mut order: Vec<usize> = (0..columns.len()).collect();
        order.sort_by_key(|&c| columns[c].1);
        let mut keep: Vec<usize> = Vec::new();
        let mut used = 0usize;
        for c in order {
            let need = columns[c].0 as usize + usize::from(!keep.is_empty());
            if used + need <= room as usize || keep.is_empty() {
                used += need;
                keep.push(c);
            }
        }
        keep.sort();
        let widths = keep
            .iter()
            .map(|&c| match c {
                0 => Constraint::Min(columns[0].0),
                _ => Constraint::Length(columns[c].0),
            })
            .collect();
        Self { keep, widths }
    }

    /// The kept cells of a row of every column (missing ones at the end are empty).
    pub fn row<'a>(&self, mut cells: Vec<Cell<'a>>) -> Row<'a> {
        if let Some(&last) = self.keep.last()
            && cells.len() <= last
        {
            cells.resize(last + 1, Cell::from(""));
        }
        Row::new(
            self.keep
                .iter()
                .map(|&c| std::mem::take(&mut cells[c]))
                .collect::<Vec<_>>(),
        )
    }

    pub fn widths(&self) -> Vec<Constraint> {
        self.widths.clone()
    }
}
