//! A frame pack: the decoded RGB8 frames of many videos in one file, memory-mapped, so a
//! training loader copies frames instead of decoding JPEGs or H.264 in every epoch (decoding
//! was ~40% of a fine-tuning clip's CPU time). `svfap-tui data pack` builds one; a run reads
//! it with `data.pack`, a benchmark with `bench data --pack`.
//!
//! Layout: an 8-byte magic and 56 reserved bytes; the frames of each video (row-major RGB8,
//! frame after frame, each video starting on a 64-byte boundary); the index (JSON); a
//! 24-byte trailer (index offset, index length, trailer magic). Each entry records its
//! source's size and modification time: an entry whose source changed since is not used, the
//! source is decoded instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::decode_options::Resize;
use super::error::{DataError, DataErrorKind, DataResult};

pub const PACK_MAGIC: &[u8; 8] = b"SVFPACK1";
pub(super) const TRAILER_MAGIC: &[u8; 8] = b"SVFPIDX1";
/// Bytes before the first frame.
pub(super) const HEADER_BYTES: u64 = 64;
pub(super) const TRAILER_BYTES: usize = 24;
pub(super) const FORMAT_VERSION: u32 = 1;

/// The size frames were stored at: what a loader's decoder must have asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackedSize {
    /// As stored in the source (after rotation).
    Native,
    /// The shorter side scaled to this many pixels (a run's `train_short_side`).
    ShortSide(usize),
}

impl PackedSize {
    pub fn resize(self) -> Resize {
        match self {
            PackedSize::Native => Resize::Native,
            PackedSize::ShortSide(s) => Resize::ShortSide(s),
        }
    }

    pub fn describe(self) -> String {
        match self {
            PackedSize::Native => "native size".into(),
            PackedSize::ShortSide(s) => format!("short side {s}"),
        }
    }
}

/// What a source looked like when it was packed: its length and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStamp {
    pub bytes: u64,
    pub modified_ns: u64,
}

impl SourceStamp {
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        let modified_ns = meta
            .modified()?
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Ok(Self {
            bytes: meta.len(),
            modified_ns,
        })
    }
}

/// One packed video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackedVideo {
    /// The source's canonical path.
    pub source: PathBuf,
    /// A folder of frames (its native frames can be resized exactly as the folder reader
    /// would); otherwise a video file.
    pub folder: bool,
    pub stamp: SourceStamp,
    pub frames: usize,
    pub width: usize,
    pub height: usize,
    pub fps: Option<f64>,
    /// Byte offset of the first frame.
    pub offset: u64,
    /// Problems met decoding the source (recovered ones), reported as a decode would.
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl PackedVideo {
    pub fn frame_bytes(&self) -> usize {
        self.width * self.height * 3
    }

    pub fn bytes(&self) -> u64 {
        (self.frame_bytes() * self.frames) as u64
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PackIndex {
    pub version: u32,
    pub size: PackedSize,
    pub videos: Vec<PackedVideo>,
}

/// Whether a pack can stand in for decoding a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackLookup {
    /// Entry number in the pack.
    Hit(usize),
    /// Not packed.
    Missing,
    /// Packed, but the source changed since (size or modification time).
    Stale,
    /// Packed at another size than the view decodes at.
    OtherSize,
}

/// An opened pack (memory-mapped; frames are read straight from the page cache).
pub struct FramePack {
    path: PathBuf,
    map: memmap2::Mmap,
    index: PackIndex,
    by_source: HashMap<PathBuf, usize>,
}

impl std::fmt::Debug for FramePack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FramePack")
            .field("path", &self.path)
            .field("videos", &self.index.videos.len())
            .field("size", &self.index.size)
            .finish()
    }
}

fn bad(path: &Path, what: String) -> DataError {
    DataError::new(path, DataErrorKind::Other(what))
}

impl FramePack {
    pub fn open(path: &Path) -> DataResult<Self> {
        let file = std::fs::File::open(path).map_err(|e| DataError::io(path, &e))?;
        // SAFETY: the pack is written once and renamed into place; it is only read here. A
        // file truncated by someone else while mapped would fault, as with any mapped file.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| DataError::io(path, &e))?;
        let len = map.len();
        if len < HEADER_BYTES as usize + TRAILER_BYTES || &map[..8] != PACK_MAGIC {
            return Err(bad(
                path,
                "not a frame pack (no SVFPACK1 header; `svfap-tui data pack` makes one)".into(),
            ));
        }
        let trailer = &map[len - TRAILER_BYTES..];
        if &trailer[16..24] != TRAILER_MAGIC {
            return Err(bad(
                path,
                "the frame pack has no index at its end: it was not finished (run `data pack` again to complete it)".into(),
            ));
        }
        let at = u64::from_le_bytes(trailer[0..8].try_into().unwrap()) as usize;
        let n = u64::from_le_bytes(trailer[8..16].try_into().unwrap()) as usize;
        if at
            .checked_add(n)
            .is_none_or(|end| end > len - TRAILER_BYTES)
        {
            return Err(bad(
                path,
                "the frame pack's index lies outside the file".into(),
            ));
        }
        let index: PackIndex = serde_json::from_slice(&map[at..at + n])
            .map_err(|e| bad(path, format!("the frame pack's index is unreadable: {e}")))?;
        if index.version != FORMAT_VERSION {
            return Err(bad(
                path,
                format!(
                    "frame pack format {} (this build reads format {FORMAT_VERSION}); build it again with `data pack`",
                    index.version
                ),
            ));
        }
        for v in &index.videos {
            if v.offset < HEADER_BYTES || v.offset + v.bytes() > at as u64 {
                return Err(bad(
                    path,
                    format!(
                        "the frames of {} lie outside the pack's frame area",
                        v.source.display()
                    ),
                ));
            }
        }
        let by_source = index
            .videos
            .iter()
            .enumerate()
            .map(|(i, v)| (v.source.clone(), i))
            .collect();
        Ok(Self {
            path: path.to_path_buf(),
            map,
            index,
            by_source,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn size(&self) -> PackedSize {
        self.index.size
    }

    pub fn videos(&self) -> &[PackedVideo] {
        &self.index.videos
    }

    pub fn video(&self, entry: usize) -> &PackedVideo {
        &self.index.videos[entry]
    }

    /// Whether frames of `source`, decoded at `wanted`, can be taken from the pack.
    pub fn lookup(&self, source: &Path, wanted: Resize) -> PackLookup {
        let key = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
        let Some(&i) = self.by_source.get(&key) else {
            return PackLookup::Missing;
        };
        let v = &self.index.videos[i];
        if SourceStamp::of(source).ok() != Some(v.stamp) {
            return PackLookup::Stale;
        }
        let size = self.index.size.resize();
        // Native frames of a folder resize exactly as the folder reader resizes them; a
        // video's decoder scales with FFmpeg, which a copy cannot reproduce.
        if size == wanted || (size == Resize::Native && v.folder) {
            PackLookup::Hit(i)
        } else {
            PackLookup::OtherSize
        }
    }

    /// The bytes of frame `index` of entry `entry`.
    pub fn frame(&self, entry: usize, index: usize) -> &[u8] {
        let v = &self.index.videos[entry];
        assert!(
            index < v.frames,
            "frame {index} of a {}-frame entry",
            v.frames
        );
        let at = (v.offset as usize) + index * v.frame_bytes();
        &self.map[at..at + v.frame_bytes()]
    }
}
