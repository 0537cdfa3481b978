//! Key handlers, one file per view (and one for the dialogs), each an `impl Ctx` block:
//! the app hands every action a view owns to its handler.

pub mod compare;
pub mod dialogs;
pub mod images;
pub mod inspect;
pub mod monitor;
pub mod runs;
