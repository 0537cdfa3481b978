//! A background thread that runs a closure every so often until dropped: the run's
//! heartbeats (`status.json`, each rank's file). Dropping it wakes the thread within 100 ms,
//! lets it tick once more (told it is the last time) and joins it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub struct Periodic {
    done: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Periodic {
    /// Runs `tick(last)` now and every `period` after; `last` is true on the tick after the
    /// drop. The thread ends early when `tick` returns false.
    pub fn start(period: Duration, mut tick: impl FnMut(bool) -> bool + Send + 'static) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let handle = std::thread::spawn(move || {
            loop {
                let last = flag.load(Ordering::Relaxed);
                if !tick(last) || last {
                    return;
                }
                let until = Instant::now() + period;
                while Instant::now() < until && !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        });
        Self {
            done,
            handle: Some(handle),
        }
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            h.join().ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn ticks_at_once_and_once_more_when_dropped() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let periodic = Periodic::start(Duration::from_secs(60), move |last| {
            log.lock().unwrap().push(last);
            true
        });
        std::thread::sleep(Duration::from_millis(50));
        drop(periodic);
        assert_eq!(*seen.lock().unwrap(), vec![false, true]);
    }
}
