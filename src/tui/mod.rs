//! The terminal workbench (DESIGN §4): app state, actions, keymap, event loop, views,
//! widgets, themes. Reads only the session folder through `crate::session`; never imports
//! the model or training code.
//!
//! Dependencies run one way: `view`, `view_state`, `series`, `run_data`, `theme`, `loader`,
//! `gpu` and `imager` hold data; `state` gathers them; `draw_helpers`, `views` and `widgets`
//! draw a `&State`; `handlers` (one per view, on a `Ctx`) change it; `app` dispatches
//! actions and applies background results; `headless` and `event_loop` drive the app.

pub mod action;
pub mod app;
pub mod config_leaves;
pub mod ctx;
pub mod draw;
pub mod draw_helpers;
pub mod event_loop;
pub mod export;
pub mod export_inspect;
pub mod export_plot;
pub mod gpu;
pub mod handlers;
pub mod headless;
pub mod host;
pub mod image_redraw;
pub mod imager;
pub mod inspect_data;
pub mod inspect_frame;
mod inspect_requests;
pub mod keymap;
pub mod launch_config;
pub mod loader;
pub mod map_overlay;
pub mod options;
pub mod path_completion;
pub mod request;
pub mod run_data;
pub mod series;
pub mod state;
pub mod theme;
pub mod view;
pub mod view_state;
pub mod views;
pub mod widgets;

pub use action::Action;
pub use app::App;
pub use event_loop::run;
pub use headless::Headless;
pub use options::Options;
pub use state::State;
pub use view::View;
