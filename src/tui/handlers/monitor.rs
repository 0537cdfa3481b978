//! Keys of the Monitor view: metric, smoothing, scale, window, overlay, log scrolling.

use crate::session::log_window::LogPosition;
use crate::tui::action::Action;
use crate::tui::ctx::Ctx;
use crate::tui::view_state::{MetricPicker, SMOOTHING, fuzzy_matches};
use crate::tui::views;

impl Ctx<'_> {
    pub fn monitor_action(&mut self, action: Action) {
        let page = views::monitor::log_rows(self.state.size)
            .saturating_sub(1)
            .max(1) as isize;
        let delta = match action {
            Action::LogUp => Some(-1),
            Action::LogDown => Some(1),
            Action::LogPageUp => Some(-page),
            Action::LogPageDown => Some(page),
            _ => None,
        };
        if let Some(delta) = delta {
            return self.scroll_log(delta);
        }
        match action {
            Action::LogTop => self.state.gui.log_position = LogPosition::Top(0),
            Action::LogFollow => self.state.gui.log_position = LogPosition::Follow,
            _ => {}
        }
        if self.common_move(&action) {
            return;
        }
        let names = views::monitor_curves::metric_names(self.state);
        let m = &mut self.state.gui.monitor;
        let step = |m: &mut crate::tui::view_state::MonitorOpts, delta: isize| {
            let n = names.len() as isize;
            if n == 0 {
                return;
            }
            let at = names.iter().position(|x| *x == m.metric).unwrap_or(0) as isize;
            m.metric = names[(at + delta).rem_euclid(n) as usize].clone();
        };
        match action {
            Action::NextMetric | Action::Right => step(m, 1),
            Action::PrevMetric | Action::Left => step(m, -1),
            Action::Smoothing => m.smoothing = (m.smoothing + 1) % SMOOTHING.len(),
            Action::LogScale => m.log_scale = !m.log_scale,
            Action::Window => m.recent = !m.recent,
            Action::Overlay => m.overlay = !m.overlay,
            Action::Grid => m.grid = !m.grid,
            Action::XAxis => m.x_axis = m.x_axis.next(),
            Action::MetricSearch => m.picker = Some(MetricPicker::default()),
            _ => {}
        }
    }

    /// Keys while the metric picker is open: typing narrows the list, ↑↓ move, Enter picks
    /// (the name is kept for every run), Esc closes.
    pub fn picker_action(&mut self, action: Action) {
        let names = views::monitor_curves::metric_names(self.state);
        let m = &mut self.state.gui.monitor;
        let Some(p) = m.picker.as_mut() else {
            return;
        };
        let n = fuzzy_matches(&names, &p.query).len();
        match action {
            Action::Char(c) => {
                p.query.push(c);
                p.cursor = 0;
            }
            Action::Backspace => {
                p.query.pop();
                p.cursor = 0;
            }
            Action::Up => p.cursor = p.cursor.saturating_sub(1),
            Action::Down => p.cursor = (p.cursor + 1).min(n.saturating_sub(1)),
            Action::Select => {
                if let Some(name) = fuzzy_matches(&names, &p.query).get(p.cursor) {
                    m.metric = (*name).clone();
                }
                m.picker = None;
            }
            Action::Back => m.picker = None,
            _ => {}
        }
    }

    /// Moves the log pane's top line by `delta` lines; reaching the end follows it again.
    pub fn scroll_log(&mut self, delta: isize) {
        let rows = views::monitor::log_rows(self.state.size);
        let Some(log) = views::monitor::selected_log(self.state) else {
            return;
        };
        let window = &log.window;
        let lines = window.lines();
        if lines.is_empty() || rows == 0 {
            return;
        }
        let bottom = lines.len().saturating_sub(rows);
        let current = match self.state.gui.log_position {
            LogPosition::Follow => bottom,
            LogPosition::Top(top) => window.index_of(top),
        };
        let new = (current as isize + delta).clamp(0, lines.len() as isize - 1) as usize;
        self.state.gui.log_position = if new >= bottom && window.reaches_end() {
            LogPosition::Follow
        } else {
            LogPosition::Top(lines[new].offset)
        };
    }
}
