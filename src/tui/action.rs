//! Everything the user can ask for. Keys become actions through the keymap; the app and
//! the headless driver consume actions only.

use serde::{Deserialize, Serialize};

use super::view::View;

macro_rules! actions {
    ($($variant:ident => $name:literal : $help:literal),* $(,)?) => {
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Action {
            $($variant,)*
            /// A typed character while a text field has focus.
            Char(char),
            Backspace,
            /// A terminal resize to (width, height).
            Resize(u16, u16),
            /// Nothing (an unbound key).
            None,
        }

        impl Action {
            /// The keymap name of an action, `None` for the non-bindable ones.
            pub fn name(&self) -> Option<&'static str> {
                match self {
                    $(Action::$variant => Some($name),)*
                    _ => None,
                }
            }
            pub fn from_name(name: &str) -> Option<Action> {
                match name {
                    $($name => Some(Action::$variant),)*
                    _ => None,
                }
            }
            /// One-line description for the help screen.
            pub fn help(&self) -> &'static str {
                match self {
                    $(Action::$variant => $help,)*
                    _ => "",
                }
            }
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];
        }
    };
}

actions! {
    Quit => "quit": "quit (UI state is saved)",
    Help => "help": "show or hide this help",
    Back => "back": "close a dialog / the help",
    NextView => "next_view": "next view",
    PrevView => "prev_view": "previous view",
    ViewRuns => "view_runs": "Runs view",
    ViewMonitor => "view_monitor": "Monitor view",
    ViewRecon => "view_recon": "Reconstructions view",
    ViewAttention => "view_attention": "Attention view",
    ViewCompare => "view_compare": "Compare view",
    ViewInspect => "view_inspect": "Inspect view (one video scored window by window)",
    Up => "up": "move up / previous",
    Down => "down": "move down / next",
    Left => "left": "previous value",
    Right => "right": "next value",
    PageUp => "page_up": "page up",
    PageDown => "page_down": "page down",
    Top => "top": "first",
    Bottom => "bottom": "last",
    Select => "select": "open / confirm",
    Filter => "filter": "filter runs by text",
    Export => "export": "export plots (PNG+SVG), tables (CSV)",
    NextTheme => "next_theme": "next colour theme",
    Refresh => "refresh": "rescan the session now",
    Launch => "launch": "launch a run from an example config",
    Stop => "stop": "stop the selected run (SIGTERM)",
    Resume => "resume": "resume the selected run from its latest checkpoint",
    Duplicate => "duplicate": "launch a copy of the selected run's config",
    Delete => "delete": "delete the selected run (asks first)",
    DemoPretrain => "demo_pretrain": "demo: make demo data, launch CPU pre-training",
    DemoFinetune => "demo_finetune": "demo: launch fine-tuning from the demo pre-training",
    NextMetric => "next_metric": "next metric",
    PrevMetric => "prev_metric": "previous metric",
    Smoothing => "smoothing": "cycle EMA smoothing",
    LogScale => "log_scale": "toggle log scale",
    Window => "window": "toggle full / recent window",
    Overlay => "overlay": "toggle train vs val overlay",
    LogUp => "log_up": "scroll the log up a line",
    LogDown => "log_down": "scroll the log down a line",
    LogPageUp => "log_page_up": "scroll the log up a page",
    LogPageDown => "log_page_down": "scroll the log down a page",
    LogTop => "log_top": "show the start of the log",
    LogFollow => "log_follow": "follow the end of the log",
    NextStep => "next_step": "next artifact step",
    PrevStep => "prev_step": "previous artifact step",
    NextMap => "next_map": "next attention map (block / kind)",
    PrevMap => "prev_map": "previous attention map",
    NextHead => "next_head": "next head",
    PrevHead => "prev_head": "previous head",
    Mark => "mark": "mark a run: overlaid in Monitor, diffed in Compare",
    UnmarkAll => "unmark_all": "unmark every run",
    MetricSearch => "metric_search": "pick the metric by name (type to search)",
    Grid => "grid": "toggle the grid of several metrics",
    XAxis => "x_axis": "x axis: steps, epochs or wall time",
    SortNext => "sort_next": "sort by the next column",
    SortReverse => "sort_reverse": "reverse the sort order",
    NextEval => "next_eval": "next evaluation's confusion matrix",
    OpenVideo => "open_video": "open a video or frame folder and score it with a fine-tuned run",
    WindowAttention => "window_attention": "compute the attention maps of the current window",
    Complete => "complete": "complete the typed path",
}

impl Action {
    /// The action that switches to `view`.
    pub fn for_view(view: View) -> Action {
        match view {
            View::Runs => Action::ViewRuns,
            View::Monitor => Action::ViewMonitor,
            View::Recon => Action::ViewRecon,
            View::Attention => Action::ViewAttention,
            View::Compare => Action::ViewCompare,
            View::Inspect => Action::ViewInspect,
        }
    }

    /// The view an action switches to, if it is a view switch.
    pub fn view(&self) -> Option<View> {
        match self {
            Action::ViewRuns => Some(View::Runs),
            Action::ViewMonitor => Some(View::Monitor),
            Action::ViewRecon => Some(View::Recon),
            Action::ViewAttention => Some(View::Attention),
            Action::ViewCompare => Some(View::Compare),
            Action::ViewInspect => Some(View::Inspect),
            _ => None,
        }
    }
}
