//! Watches a session folder with notify (debounced). Network file systems drop events, so
//! the workbench also rescans periodically; this only makes updates arrive sooner.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_mini::{Debouncer, new_debouncer};

/// Keeps the OS watch alive while held; changed paths are sent to `tx` in batches.
pub struct SessionWatcher {
    _debouncer: Debouncer<notify::RecommendedWatcher>,
}

impl SessionWatcher {
    /// Watches `root` recursively; each debounced batch of changed paths goes to `on_change`.
    pub fn start<T: Send + 'static>(
        root: &Path,
        debounce: Duration,
        tx: Sender<T>,
        wrap: impl Fn(Vec<PathBuf>) -> T + Send + 'static,
    ) -> notify::Result<Self> {
        let mut debouncer = new_debouncer(
            debounce,
            move |res: notify_debouncer_mini::DebounceEventResult| {
                if let Ok(events) = res {
                    let paths: Vec<PathBuf> = events.into_iter().map(|e| e.path).collect();
                    if !paths.is_empty() {
                        let _ = tx.send(wrap(paths));
                    }
                }
            },
        )?;
        debouncer.watcher().watch(root, RecursiveMode::Recursive)?;
        Ok(Self {
            _debouncer: debouncer,
        })
    }
}
