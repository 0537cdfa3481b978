//! Writing a [`FramePack`](super::frame_pack::FramePack): videos decoded in parallel, each
//! written at an offset reserved for it, each finished video recorded in a journal beside the
//! unfinished file. An interrupted pack resumes from its journal; `finish` appends the index
//! and renames `OUT.partial` to `OUT`.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::decode_options::DecodeOptions;
use super::error::{DataError, DataErrorKind, DataResult};
use super::frame_pack::{
    FORMAT_VERSION, HEADER_BYTES, PACK_MAGIC, PackIndex, PackedSize, PackedVideo, SourceStamp,
    TRAILER_MAGIC,
};
use super::source::ClipSource;

/// Frames decoded per read while packing (bounds a long video's memory).
const FRAMES_PER_READ: usize = 32;

/// The journal's first line.
#[derive(Debug, Serialize, Deserialize)]
struct JournalHead {
    version: u32,
    size: PackedSize,
}

struct Written {
    next_offset: u64,
    journal: File,
    videos: Vec<PackedVideo>,
}

pub struct FramePackWriter {
    out: PathBuf,
    partial: PathBuf,
    journal_path: PathBuf,
    file: File,
    size: PackedSize,
    written: Mutex<Written>,
}

/// What a finished pack holds.
#[derive(Debug, Clone, Copy)]
pub struct PackSummary {
    pub videos: usize,
    pub frames: usize,
    pub bytes: u64,
}

fn io_err(path: &Path, e: std::io::Error) -> DataError {
    DataError::io(path, &e)
}

/// Where `data pack` reports the videos of pack `out` it could not pack.
pub fn report_path(out: &Path) -> PathBuf {
    with_suffix(out, ".report.json")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

impl FramePackWriter {
    /// Starts `out` (as `out.partial`), or continues an interrupted one made at the same size.
    pub fn create_or_resume(out: &Path, size: PackedSize) -> DataResult<Self> {
        let partial = with_suffix(out, ".partial");
        let journal_path = with_suffix(out, ".partial.jsonl");
        let resumed = if partial.exists() && journal_path.exists() {
            read_journal(&journal_path, size)?
        } else {
            None
        };
        let (file, written) = match resumed {
            Some(videos) => {
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&partial)
                    .map_err(|e| io_err(&partial, e))?;
                let next_offset = videos
                    .iter()
                    .map(|v| v.offset + v.bytes())
                    .max()
                    .unwrap_or(HEADER_BYTES);
                let journal = OpenOptions::new()
                    .append(true)
                    .open(&journal_path)
                    .map_err(|e| io_err(&journal_path, e))?;
                (
                    file,
                    Written {
                        next_offset,
                        journal,
                        videos,
                    },
                )
            }
            None => {
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&partial)
                    .map_err(|e| io_err(&partial, e))?;
                let mut header = [0u8; HEADER_BYTES as usize];
                header[..8].copy_from_slice(PACK_MAGIC);
                file.write_all_at(&header, 0)
                    .map_err(|e| io_err(&partial, e))?;
                let mut journal =
                    File::create(&journal_path).map_err(|e| io_err(&journal_path, e))?;
                let head = JournalHead {
                    version: FORMAT_VERSION,
                    size,
                };
                writeln!(journal, "{}", serde_json::to_string(&head).unwrap())
                    .map_err(|e| io_err(&journal_path, e))?;
                (
                    file,
                    Written {
                        next_offset: HEADER_BYTES,
                        journal,
                        videos: Vec::new(),
                    },
                )
            }
        };
        Ok(Self {
            out: out.to_path_buf(),
            partial,
            journal_path,
            file,
            size,
            written: Mutex::new(written),
        })
    }

    /// Sources already packed (from an interrupted run).
    pub fn packed_sources(&self) -> HashSet<PathBuf> {
        let w = self.written.lock().unwrap();
        w.videos.iter().map(|v| v.source.clone()).collect()
    }

    /// Reserves `bytes` for one video; returns its offset (64-byte aligned).
    fn reserve(&self, bytes: u64) -> u64 {
        let mut w = self.written.lock().unwrap();
        let at = w.next_offset.next_multiple_of(64);
        w.next_offset = at + bytes;
        at
    }

    /// Records a video whose frames are written.
    fn record(&self, video: PackedVideo) -> DataResult<()> {
        let mut w = self.written.lock().unwrap();
        let line = serde_json::to_string(&video).unwrap();
        // One write per line, so an interruption leaves whole lines and at most one cut one.
        w.journal
            .write_all(format!("{line}\n").as_bytes())
            .map_err(|e| io_err(&self.journal_path, e))?;
        w.videos.push(video);
        Ok(())
    }

    /// Decodes every frame of `source` at the pack's size and writes them. The source is
    /// canonicalised; frames of different sizes within one source are refused.
    pub fn add(&self, source: &Path) -> DataResult<PackedVideo> {
        let canonical = std::fs::canonicalize(source).map_err(|e| io_err(source, e))?;
        let stamp = SourceStamp::of(&canonical).map_err(|e| io_err(source, e))?;
        let opts = DecodeOptions {
            resize: self.size.resize(),
            ..Default::default()
        };
        let mut src = ClipSource::open(&canonical, &opts)?;
        let frames = src.len();
        if frames == 0 {
            return Err(DataError::new(
                source,
                DataErrorKind::NoFrames("0 frames".into()),
            ));
        }
        let mut warnings: Vec<String> = Vec::new();
        let mut offset = None;
        let mut geometry = (0, 0);
        for start in (0..frames).step_by(FRAMES_PER_READ) {
            let chunk: Vec<usize> = (start..(start + FRAMES_PER_READ).min(frames)).collect();
            let decoded = src.read(&chunk, &opts)?;
            for w in decoded.warnings {
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
            for (k, f) in decoded.frames.iter().enumerate() {
                let at = *offset.get_or_insert_with(|| {
                    geometry = (f.width, f.height);
                    self.reserve((f.data.len() * frames) as u64)
                });
                if (f.width, f.height) != geometry {
                    return Err(DataError::new(
                        source,
                        DataErrorKind::Other(format!(
                            "frame {} is {}x{}, earlier frames are {}x{}: a pack holds one size per video",
                            start + k,
                            f.width,
                            f.height,
                            geometry.0,
                            geometry.1
                        )),
                    ));
                }
                let pos = at + ((start + k) * f.data.len()) as u64;
                self.file
                    .write_all_at(&f.data, pos)
                    .map_err(|e| io_err(&self.partial, e))?;
            }
        }
        let video = PackedVideo {
            source: canonical,
            folder: matches!(src, ClipSource::Folder(_)),
            stamp,
            frames,
            width: geometry.0,
            height: geometry.1,
            fps: src.fps(),
            offset: offset.expect("at least one frame"),
            warnings,
        };
        self.record(video.clone())?;
        Ok(video)
    }

    /// Appends the index and the trailer, and puts the pack in place.
    pub fn finish(self) -> DataResult<PackSummary> {
        let w = self.written.into_inner().unwrap();
        let mut videos = w.videos;
        videos.sort_by(|a, b| a.source.cmp(&b.source));
        let summary = PackSummary {
            videos: videos.len(),
            frames: videos.iter().map(|v| v.frames).sum(),
            bytes: videos.iter().map(|v| v.bytes()).sum(),
        };
        let index = PackIndex {
            version: FORMAT_VERSION,
            size: self.size,
            videos,
        };
        let json = serde_json::to_vec(&index).unwrap();
        let at = w.next_offset.next_multiple_of(64);
        let mut tail = json.clone();
        tail.extend_from_slice(&(at).to_le_bytes());
        tail.extend_from_slice(&(json.len() as u64).to_le_bytes());
        tail.extend_from_slice(TRAILER_MAGIC);
        let p = &self.partial;
        self.file
            .set_len(at)
            .and_then(|_| self.file.write_all_at(&tail, at))
            .and_then(|_| self.file.sync_all())
            .map_err(|e| io_err(p, e))?;
        std::fs::rename(p, &self.out).map_err(|e| io_err(&self.out, e))?;
        std::fs::remove_file(&self.journal_path).ok();
        Ok(summary)
    }
}

/// The videos an interrupted pack finished, or `None` when the journal has no valid head.
fn read_journal(path: &Path, size: PackedSize) -> DataResult<Option<Vec<PackedVideo>>> {
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let mut lines = BufReader::new(file).lines();
    let Some(Ok(head)) = lines.next() else {
        return Ok(None);
    };
    let Ok(head) = serde_json::from_str::<JournalHead>(&head) else {
        return Ok(None);
    };
    if head.version != FORMAT_VERSION {
        return Ok(None);
    }
    if head.size != size {
        return Err(DataError::new(
            path,
            DataErrorKind::Other(format!(
                "this unfinished pack was started at {}, not {}: run it again with {}, or delete it and the .partial file beside it",
                head.size.describe(),
                size.describe(),
                size_flag(head.size)
            )),
        ));
    }
    // A line cut by the interruption is the video that was being recorded: it is packed again.
    Ok(Some(
        lines
            .map_while(Result::ok)
            .map_while(|l| serde_json::from_str::<PackedVideo>(&l).ok())
            .collect(),
    ))
}

fn size_flag(size: PackedSize) -> String {
    match size {
        PackedSize::Native => "native size (no --short-side)".into(),
        PackedSize::ShortSide(s) => format!("--short-side {s}"),
    }
}
