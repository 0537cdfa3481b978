//! A progress line on stderr for long commands: `label  done/total  rate  ETA`. Redrawn in
//! place on a terminal; a plain line every 10% (and at the end) when stderr is a file or a
//! pipe, so logs stay readable.

use std::io::{IsTerminal, Write};
use std::time::Instant;

pub struct Progress {
    label: String,
    unit: &'static str,
    total: usize,
    start: Instant,
    tty: bool,
    last_decile: usize,
    drawn: bool,
}

impl Progress {
    pub fn new(label: impl Into<String>, unit: &'static str, total: usize) -> Self {
        Self {
            label: label.into(),
            unit,
            total,
            start: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            last_decile: 0,
            drawn: false,
        }
    }

    /// For work whose size is known only once it starts.
    pub fn set_total(&mut self, total: usize) {
        self.total = total;
    }

    pub fn update(&mut self, done: usize) {
        let line = self.line(done);
        let mut err = std::io::stderr().lock();
        if self.tty {
            write!(err, "\r\x1b[2K{line}").ok();
            err.flush().ok();
            self.drawn = true;
        } else {
            let decile = (done * 10).checked_div(self.total).unwrap_or(10);
            if decile > self.last_decile || done == self.total {
                self.last_decile = decile.max(self.last_decile + 1);
                writeln!(err, "{line}").ok();
            }
        }
    }

    /// Ends the redrawn line so the next output starts on its own.
    pub fn finish(&mut self) {
        if self.tty && self.drawn {
            eprintln!();
            self.drawn = false;
        }
    }

    fn line(&self, done: usize) -> String {
        let secs = self.start.elapsed().as_secs_f64();
        let rate = done as f64 / secs.max(1e-9);
        let eta = if done > 0 && done < self.total {
            let left = (self.total - done) as f64 / rate;
            format!("  ETA {:02}:{:02}", (left / 60.0) as u64, left as u64 % 60)
        } else {
            String::new()
        };
        format!(
            "{}  {done}/{} {}  {rate:.1}/s{eta}",
            self.label, self.total, self.unit
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_the_count_and_the_eta() {
        let p = Progress::new("scoring", "windows", 10);
        let line = p.line(5);
        assert!(line.starts_with("scoring  5/10 windows"), "{line}");
        assert!(line.contains("ETA 00:00"), "{line}");
        assert!(!p.line(10).contains("ETA"));
    }
}
