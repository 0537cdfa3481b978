//! `log.txt` seen through a bounded window of its lines. The end is followed incrementally
//! (only bytes appended since the last read), earlier parts are read in chunks when the
//! view scrolls back, and at most [`MAX_LINES`] lines are held, so a 1 GB log costs no more
//! memory than a small one.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// One line of the log and the byte offset it starts at (stable while the file grows).
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub offset: u64,
    pub text: String,
}

/// Bytes read per step backwards, and when starting at the end.
pub const CHUNK: u64 = 64 * 1024;
/// Most lines a window holds.
pub const MAX_LINES: usize = 2000;
/// Appended bytes read at once while following; a larger jump starts again at the end.
const FOLLOW_READ: u64 = 4 * CHUNK;

/// Which lines a view of the log wants: from the line starting at `top`, or the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogPosition {
    #[default]
    Follow,
    /// Byte offset of the top line shown.
    Top(u64),
}

#[derive(Debug, Clone)]
pub struct LogWindow {
    path: PathBuf,
    lines: Vec<LogLine>,
    /// Where the first line held starts.
    start: u64,
    /// Just past the last complete line held.
    end: u64,
    /// Length of the file at the last read.
    file_len: u64,
    /// The last forward read reached the end of the file (only a torn line may follow).
    reaches_end: bool,
    /// `end` may fall inside a line: drop bytes up to the next newline first.
    skip_partial: bool,
}

impl LogWindow {
    /// An empty window; nothing is read before [`LogWindow::update`].
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lines: Vec::new(),
            start: 0,
            end: 0,
            file_len: 0,
            reaches_end: false,
            skip_partial: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn lines(&self) -> &[LogLine] {
        &self.lines
    }
    /// Byte offset of the first line held (0: the window starts at the top of the file).
    pub fn start(&self) -> u64 {
        self.start
    }
    pub fn file_len(&self) -> u64 {
        self.file_len
    }
    /// True when no complete line of the file lies after the window.
    pub fn reaches_end(&self) -> bool {
        self.reaches_end
    }
    /// Index of the line starting at (or first after) `offset`.
    pub fn index_of(&self, offset: u64) -> usize {
        self.lines.partition_point(|l| l.offset < offset)
    }

    /// Reads what a view at `position` showing `rows` lines needs and the file added since
    /// the last call. Returns whether the window changed. A missing file is an empty log.
    pub fn update(&mut self, position: LogPosition, rows: usize) -> std::io::Result<bool> {
        let before = (self.start, self.end, self.file_len, self.lines.len());
        let len = match std::fs::metadata(&self.path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        if len < self.end {
            // Truncated or replaced: start again.
            self.reset_at(0);
        }
        match position {
            LogPosition::Follow => {
                if !self.reaches_end || len - self.end > FOLLOW_READ {
                    self.reset_at(len.saturating_sub(CHUNK));
                }
                self.read_forward(FOLLOW_READ)?;
                self.trim_around(None);
            }
            LogPosition::Top(top) => {
                if top < self.start || top > self.end {
                    // A jump (to the top of the file, or after a trim): read from there.
                    self.reset_at(top);
                    self.skip_partial = false;
                }
                let mut index = self.index_of(top);
                while index < rows && self.start > 0 {
                    let added = self.read_back()?;
                    if added == 0 {
                        break;
                    }
                    index += added;
                }
                if self.lines.len() - index < 2 * rows || self.reaches_end {
                    self.read_forward(CHUNK)?;
                }
                self.trim_around(Some(top));
            }
        }
        Ok(before != (self.start, self.end, self.file_len, self.lines.len()))
    }

    fn reset_at(&mut self, offset: u64) {
        self.lines.clear();
        self.start = offset;
        self.end = offset;
        self.reaches_end = false;
        self.skip_partial = offset > 0;
    }

    /// Appends the complete lines in the next `max` bytes after `end`.
    fn read_forward(&mut self, max: u64) -> std::io::Result<()> {
        let buf = match read_range(&self.path, self.end, max) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        self.file_len = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        let read_to = self.end + buf.len() as u64;
        self.reaches_end = read_to >= self.file_len;
        let complete = match buf.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            // A whole chunk without a newline: one over-long line, taken in pieces.
            None if buf.len() as u64 == max => buf.len(),
            None => 0,
        };
        let mut first = 0;
        if self.skip_partial {
            match buf[..complete].iter().position(|&b| b == b'\n') {
                Some(i) => {
                    first = i + 1;
                    self.skip_partial = false;
                }
                None => first = complete,
            }
        }
        let base = self.end + first as u64;
        self.lines.extend(split_lines(&buf[first..complete], base));
        self.end += complete as u64;
        self.start = self.lines.first().map_or(self.end, |l| l.offset);
        Ok(())
    }

    /// Prepends the lines in up to [`CHUNK`] bytes before `start`; returns how many.
    fn read_back(&mut self) -> std::io::Result<usize> {
        let from = self.start.saturating_sub(CHUNK);
        let buf = read_range(&self.path, from, self.start - from)?;
        let mut skip = 0;
        if from > 0 {
            // The first line is probably cut; a chunk inside one long line is taken whole.
            skip = match buf.iter().position(|&b| b == b'\n') {
                Some(i) if i + 1 < buf.len() => i + 1,
                _ => 0,
            };
        }
        let base = from + skip as u64;
        let mut lines = split_lines(&buf[skip..], base);
        let added = lines.len();
        lines.append(&mut self.lines);
        self.lines = lines;
        self.start = base;
        Ok(added)
    }

    /// Keeps at most [`MAX_LINES`] lines: the last ones while following, else those around
    /// the line at `keep`.
    fn trim_around(&mut self, keep: Option<u64>) {
        let len = self.lines.len();
        if len <= MAX_LINES {
            return;
        }
        let lo = match keep {
            None => len - MAX_LINES,
            Some(offset) => self
                .index_of(offset)
                .saturating_sub(MAX_LINES / 2)
                .min(len - MAX_LINES),
        };
        let hi = lo + MAX_LINES;
        if hi < len {
            self.end = self.lines[hi].offset;
            self.reaches_end = false;
            self.skip_partial = false;
            self.lines.truncate(hi);
        }
        self.lines.drain(..lo);
        self.start = self.lines[0].offset;
    }
}

/// Up to `max` bytes of `path` from `offset`.
fn read_range(path: &Path, offset: u64, max: u64) -> std::io::Result<Vec<u8>> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Lines of `bytes` (each ended by a newline, or the whole rest), lossy UTF-8, tabs as spaces.
fn split_lines(bytes: &[u8], base: u64) -> Vec<LogLine> {
    let mut out = Vec::new();
    let mut offset = base;
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = rest[..n].strip_suffix(b"\n").unwrap_or(&rest[..n]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        out.push(LogLine {
            offset,
            text: String::from_utf8_lossy(line).replace('\t', "    "),
        });
        offset += n as u64;
        rest = &rest[n..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_lines(path: &Path, from: usize, to: usize) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        for i in from..to {
            writeln!(f, "line {i:07}").unwrap();
        }
    }

    fn texts(w: &LogWindow) -> Vec<&str> {
        w.lines().iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn following_reads_only_the_end_and_waits_for_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        let mut w = LogWindow::new(&path);
        assert!(!w.update(LogPosition::Follow, 10).unwrap());
        assert!(w.lines().is_empty());
        // 100k lines of 13 bytes: far more than one chunk.
        write_lines(&path, 0, 100_000);
        assert!(w.update(LogPosition::Follow, 10).unwrap());
        assert_eq!(w.lines().len(), MAX_LINES);
        assert_eq!(w.lines().last().unwrap().text, "line 0099999");
        assert!(w.reaches_end() && w.start() > 0);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"torn")
            .unwrap();
        w.update(LogPosition::Follow, 10).unwrap();
        assert_eq!(w.lines().last().unwrap().text, "line 0099999");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b" line\n")
            .unwrap();
        w.update(LogPosition::Follow, 10).unwrap();
        assert_eq!(w.lines().last().unwrap().text, "torn line");
    }

    #[test]
    fn scrolling_back_reads_earlier_chunks_and_holds_at_most_max_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        write_lines(&path, 0, 100_000);
        let mut w = LogWindow::new(&path);
        w.update(LogPosition::Follow, 10).unwrap();
        // Walk up a page at a time, as the view does, to the first line.
        let mut top = w.lines()[w.lines().len() - 10].offset;
        while top > 0 {
            let page_up = w.index_of(top).saturating_sub(10);
            top = w.lines()[page_up].offset;
            w.update(LogPosition::Top(top), 10).unwrap();
            assert!(w.lines().len() <= MAX_LINES);
            let i = w.index_of(top);
            assert_eq!(w.lines()[i].offset, top, "the top line is held");
            assert!(i >= 10 || w.start() == 0, "lines above the top are read");
        }
        assert_eq!(w.start(), 0);
        assert_eq!(texts(&w)[0], "line 0000000");
        assert!(!w.reaches_end(), "the end was dropped to stay bounded");
        // Following again reads the end afresh.
        w.update(LogPosition::Follow, 10).unwrap();
        assert_eq!(w.lines().last().unwrap().text, "line 0099999");
    }

    #[test]
    fn a_jump_to_the_top_reads_from_the_first_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        write_lines(&path, 0, 100_000);
        let mut w = LogWindow::new(&path);
        w.update(LogPosition::Follow, 10).unwrap();
        w.update(LogPosition::Top(0), 10).unwrap();
        assert_eq!(w.start(), 0);
        assert_eq!(texts(&w)[..2], ["line 0000000", "line 0000001"]);
    }

    #[test]
    fn a_truncated_log_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        write_lines(&path, 0, 100);
        let mut w = LogWindow::new(&path);
        w.update(LogPosition::Follow, 10).unwrap();
        std::fs::write(&path, "fresh\n").unwrap();
        w.update(LogPosition::Follow, 10).unwrap();
        assert_eq!(texts(&w), ["fresh"]);
    }
}
