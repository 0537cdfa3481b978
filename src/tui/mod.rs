//! The terminal workbench (DESIGN §4): app state, actions, keymap, event loop, views,
//! widgets, themes. Reads only the session folder through `crate::session`; never imports
//! the model or training code.

pub mod action;
pub mod app;
pub mod draw;
pub mod draw_helpers;
pub mod event_loop;
pub mod export;
pub mod gpu;
pub mod imager;
pub mod keymap;
pub mod loader;
pub mod state;
pub mod theme;
pub mod views;
pub mod widgets;

pub use action::Action;
pub use app::{App, Headless, Options};
pub use event_loop::run;
pub use state::{State, View};
