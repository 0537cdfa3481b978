//! `metrics.jsonl`: one JSON object per line, appended whole; read incrementally.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SessionError;

/// `{"step":…,"epoch":…,"split":"train|val|test","name":…,"value":…,"time":…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRecord {
    pub step: u64,
    #[serde(default)]
    pub epoch: u64,
    pub split: String,
    pub name: String,
    pub value: f64,
    /// Unix seconds.
    #[serde(default)]
    pub time: f64,
}

/// Appends records as whole lines (one `write` per line, flushed), so a reader sees either
/// the line or nothing (or a torn tail it skips until complete).
pub struct MetricsWriter {
    /// None: records are dropped (a run's ranks other than 0, which write nothing).
    file: Option<File>,
    path: PathBuf,
}

/// What [`MetricsWriter::open_for_resume`] cut from an existing file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MetricsRepair {
    /// Bytes of a torn last line (a writer killed mid-line, or a full disk) removed.
    pub torn_bytes: usize,
    /// Records past the resumed checkpoint's step removed (the resumed run logs them again).
    pub dropped_records: usize,
}

impl MetricsRepair {
    /// One line for the run's log, or `None` when nothing was cut.
    pub fn describe(&self, path: &Path) -> Option<String> {
        let mut parts = vec![];
        if self.torn_bytes > 0 {
            parts.push(format!(
                "removed a torn last line ({} bytes)",
                self.torn_bytes
            ));
        }
        if self.dropped_records > 0 {
            parts.push(format!(
                "removed {} records logged after the checkpoint it resumes from",
                self.dropped_records
            ));
        }
        (!parts.is_empty()).then(|| format!("{}: {}", path.display(), parts.join("; ")))
    }
}

impl MetricsWriter {
    /// Opens for appending; a torn last line is removed first, so the next record starts on
    /// a line of its own.
    pub fn open(path: &Path) -> Result<Self, SessionError> {
        Ok(Self::open_for_resume(path, None)?.0)
    }

    /// As [`MetricsWriter::open`], and with `Some(point)` also drops what was logged after
    /// that checkpoint: a run resumed from it logs those records again.
    pub fn open_for_resume(
        path: &Path,
        resume_from: Option<ResumePoint>,
    ) -> Result<(Self, MetricsRepair), SessionError> {
        let repair = repair(path, resume_from)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(SessionError::io(path))?;
        Ok((
            Self {
                file: Some(file),
                path: path.to_path_buf(),
            },
            repair,
        ))
    }

    /// A writer that keeps nothing (the metrics of a run are rank 0's to write).
    pub fn discard(path: &Path) -> Self {
        Self {
            file: None,
            path: path.to_path_buf(),
        }
    }

    pub fn append(&mut self, record: &MetricRecord) -> Result<(), SessionError> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        let mut line =
            serde_json::to_string(record).map_err(|e| SessionError::parse(&self.path, e))?;
        line.push('\n');
        super::fault::check(&self.path)
            .and_then(|()| file.write_all(line.as_bytes()))
            .map_err(SessionError::io(&self.path))
    }

    /// Convenience: one record stamped with the current time.
    pub fn log(
        &mut self,
        step: u64,
        epoch: u64,
        split: &str,
        name: &str,
        value: f64,
    ) -> Result<(), SessionError> {
        self.append(&MetricRecord {
            step,
            epoch,
            split: split.into(),
            name: name.into(),
            value,
            time: super::now_unix(),
        })
    }
}

/// The checkpoint a run resumes from: its step, and when it was written (Unix seconds).
/// Records of later steps come again; so do the records of its own step logged after it
/// was written (an evaluation at the end of the epoch it closed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResumePoint {
    pub step: u64,
    pub written: f64,
}

impl ResumePoint {
    fn replays(&self, r: &MetricRecord) -> bool {
        r.step > self.step || (r.step == self.step && r.time > self.written)
    }
}

/// Cuts a torn tail, and with `resume_from` the records after it (rewritten atomically).
fn repair(path: &Path, resume_from: Option<ResumePoint>) -> Result<MetricsRepair, SessionError> {
    let mut repair = MetricsRepair::default();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(repair),
        Err(e) => return Err(SessionError::io(path)(e)),
    };
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    repair.torn_bytes = bytes.len() - whole;
    let mut kept = Vec::with_capacity(whole);
    for line in bytes[..whole].split_inclusive(|&b| b == b'\n') {
        let after = resume_from.is_some_and(|point| {
            serde_json::from_slice::<MetricRecord>(trim_ascii(line))
                .is_ok_and(|r| point.replays(&r))
        });
        if after {
            repair.dropped_records += 1;
        } else {
            kept.extend_from_slice(line);
        }
    }
    if repair.dropped_records > 0 {
        super::write_atomic(path, &kept)?;
    } else if repair.torn_bytes > 0 {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(SessionError::io(path))?;
        f.set_len(whole as u64).map_err(SessionError::io(path))?;
    }
    Ok(repair)
}

/// What one [`MetricsTail::poll`] read.
#[derive(Debug, Default)]
pub struct TailChunk {
    pub records: Vec<MetricRecord>,
    /// Lines that were complete but did not parse (skipped).
    pub bad_lines: usize,
    /// True when the file shrank or was replaced: the caller should drop what it had.
    pub reset: bool,
}

/// Incremental reader: remembers a byte offset and an incomplete trailing line, so each poll
/// reads only new bytes (at most `max_bytes`), never the whole file again.
#[derive(Debug)]
pub struct MetricsTail {
    path: PathBuf,
    offset: u64,
    pending: Vec<u8>,
    file_len: u64,
    skip_partial: bool,
}

impl MetricsTail {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            offset: 0,
            pending: Vec::new(),
            file_len: 0,
            skip_partial: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Bytes consumed so far (complete lines plus a pending torn tail).
    pub fn offset(&self) -> u64 {
        self.offset
    }
    /// Length of the file at the last poll.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }
    /// True while the file has bytes not yet read.
    pub fn behind(&self) -> bool {
        self.offset < self.file_len
    }

    /// Starts reading at `offset`, dropping the (probably partial) line it falls in.
    pub fn skip_to(&mut self, offset: u64) {
        self.offset = offset;
        self.pending.clear();
        self.skip_partial = offset > 0;
    }

    /// Reads up to `max_bytes` of new data. A missing file is not an error (no records yet).
    pub fn poll(&mut self, max_bytes: usize) -> Result<TailChunk, SessionError> {
        let mut chunk = TailChunk::default();
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if self.offset > 0 {
                    chunk.reset = true;
                    self.offset = 0;
                    self.pending.clear();
                }
                self.file_len = 0;
                return Ok(chunk);
            }
            Err(e) => {
                return Err(SessionError::Io {
                    path: self.path.clone(),
                    error: e,
                });
            }
        };
        let len = file.metadata().map_err(SessionError::io(&self.path))?.len();
        if len < self.offset {
            // Truncated or replaced: start again.
            chunk.reset = true;
            self.offset = 0;
            self.pending.clear();
        }
        self.file_len = len;
        if len == self.offset {
            return Ok(chunk);
        }
        file.seek(SeekFrom::Start(self.offset))
            .map_err(SessionError::io(&self.path))?;
        let want = ((len - self.offset) as usize).min(max_bytes.max(1));
        let mut buf = Vec::with_capacity(self.pending.len() + want);
        buf.extend_from_slice(&self.pending);
        let start = buf.len();
        buf.resize(start + want, 0);
        let n = read_full(&mut file, &mut buf[start..]).map_err(SessionError::io(&self.path))?;
        buf.truncate(start + n);
        self.offset += n as u64;
        let complete = match buf.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => 0,
        };
        let mut first = 0;
        if self.skip_partial && complete > 0 {
            first = buf.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
            self.skip_partial = false;
        }
        for line in buf[first..complete].split(|&b| b == b'\n') {
            let line = trim_ascii(line);
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<MetricRecord>(line) {
                Ok(r) => chunk.records.push(r),
                Err(_) => chunk.bad_lines += 1,
            }
        }
        self.pending = buf[complete..].to_vec();
        // A pending tail of megabytes means the file has no newlines at all: give up on it.
        if self.pending.len() > 1 << 20 {
            self.pending.clear();
            chunk.bad_lines += 1;
        }
        Ok(chunk)
    }
}

fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn trim_ascii(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest
        } else {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_reads_only_new_lines_and_waits_for_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.jsonl");
        let mut w = MetricsWriter::open(&path).unwrap();
        w.log(1, 0, "train", "loss", 1.0).unwrap();
        let mut tail = MetricsTail::new(&path);
        assert_eq!(tail.poll(1 << 20).unwrap().records.len(), 1);
        // A torn line: half a record without newline.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(br#"{"step":2,"epoch":0,"split":"train","na"#)
            .unwrap();
        let c = tail.poll(1 << 20).unwrap();
        assert_eq!((c.records.len(), c.bad_lines), (0, 0));
        f.write_all(b"me\":\"loss\",\"value\":0.5,\"time\":0}\nnot json\n")
            .unwrap();
        let c = tail.poll(1 << 20).unwrap();
        assert_eq!(c.records.len(), 1);
        assert_eq!(c.records[0].value, 0.5);
        assert_eq!(c.bad_lines, 1);
        std::fs::write(&path, b"").unwrap();
        assert!(tail.poll(1 << 20).unwrap().reset);
    }

    #[test]
    fn a_torn_tail_is_cut_before_appending_and_a_resume_drops_later_steps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.jsonl");
        let mut w = MetricsWriter::open(&path).unwrap();
        for step in 1..=5 {
            w.log(step, 0, "train", "loss", step as f64).unwrap();
        }
        drop(w);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(br#"{"step":6,"epoch":0,"spl"#).unwrap();
        drop(f);
        let (mut w, repair) = MetricsWriter::open_for_resume(&path, None).unwrap();
        assert_eq!(repair.torn_bytes, 24);
        assert!(repair.describe(&path).unwrap().contains("torn last line"));
        w.log(6, 0, "train", "loss", 6.0).unwrap();
        let c = MetricsTail::new(&path).poll(1 << 20).unwrap();
        assert_eq!((c.records.len(), c.bad_lines), (6, 0));
        drop(w);
        let point = ResumePoint {
            step: 4,
            written: f64::INFINITY,
        };
        let (_, repair) = MetricsWriter::open_for_resume(&path, Some(point)).unwrap();
        assert_eq!(repair.dropped_records, 2);
        let steps: Vec<u64> = MetricsTail::new(&path)
            .poll(1 << 20)
            .unwrap()
            .records
            .iter()
            .map(|r| r.step)
            .collect();
        assert_eq!(steps, vec![1, 2, 3, 4]);
        let (_, repair) = MetricsWriter::open_for_resume(&path, Some(point)).unwrap();
        assert_eq!(repair, MetricsRepair::default());
        assert_eq!(repair.describe(&path), None);
        // Logged at the checkpoint's step but after it was written: an end-of-epoch
        // evaluation that the resumed run repeats.
        let written = crate::session::now_unix();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let mut w = MetricsWriter::open(&path).unwrap();
        w.log(4, 0, "test", "uar", 0.5).unwrap();
        drop(w);
        let (_, repair) =
            MetricsWriter::open_for_resume(&path, Some(ResumePoint { step: 4, written })).unwrap();
        assert_eq!(repair.dropped_records, 1);
    }

    #[test]
    fn tail_respects_the_byte_budget() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.jsonl");
        let mut w = MetricsWriter::open(&path).unwrap();
        for i in 0..1000 {
            w.log(i, 0, "train", "loss", i as f64).unwrap();
        }
        let mut tail = MetricsTail::new(&path);
        let mut total = 0;
        let mut polls = 0;
        loop {
            let c = tail.poll(4096).unwrap();
            total += c.records.len();
            polls += 1;
            if !tail.behind() {
                break;
            }
        }
        assert_eq!(total, 1000);
        assert!(polls > 10);
    }
}
