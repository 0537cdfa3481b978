//! Exact frame picking from video files through FFmpeg (ffmpeg-next).
//!
//! A file is opened once and its packets are scanned once (demuxing only, no decoding): the
//! packets' presentation timestamps, sorted, give every frame's place in display order, so
//! frame `k` is the frame whose timestamp is the `k`-th smallest. This is exact on
//! variable-frame-rate files, where estimating a frame from `avg_frame_rate` is not.
//! Short files keep their packets in memory from the scan; long ones seek with the stream
//! index to the keyframe before the first wanted frame and decode forward to the exact
//! timestamps. Packets are read one by one (ffmpeg-next's `packets()` iterator hides read
//! errors), so a truncated or damaged file is reported instead of silently shortened.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ff::{codec, decoder, format, frame, media, software::scaling};
use ffmpeg_next as ff;

pub use super::decode_options::{DecodeOptions, Resize};
use super::error::{DataError, DataErrorKind, DataResult};
use super::ffmpeg_log;
use super::frame::Frame;

/// Files whose video packets total at most this many bytes are decoded from memory.
const IN_MEMORY_BYTES: usize = 64 << 20;
/// Consecutive unreadable packets after which reading gives up.
const MAX_CONSECUTIVE_BAD_PACKETS: usize = 1000;

/// What the scan learnt about a file.
#[derive(Debug, Clone)]
pub struct VideoInfo {
    pub path: PathBuf,
    /// Container short name(s), e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub container: String,
    pub codec: String,
    /// Stored (coded) size, before rotation.
    pub width: usize,
    pub height: usize,
    /// Clockwise rotation to apply for display (0, 90, 180, 270), from the display matrix.
    pub rotation: u32,
    pub avg_fps: f64,
    /// Frame count the header claims (0 = not stated).
    pub header_frames: u64,
    /// Frames counted by the scan (video packets).
    pub frames: usize,
    pub duration_s: f64,
    /// True when frame durations differ by more than 1% between frames.
    pub variable_frame_rate: bool,
    /// Problems seen while scanning (truncation, corrupt packets, ...).
    pub warnings: Vec<String>,
}

impl VideoInfo {
    /// The size frames are shown at (after rotation).
    pub fn display_size(&self) -> (usize, usize) {
        if self.rotation % 180 == 90 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// One video packet from the scan, in decode order.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Presentation timestamp (falls back to dts, then to the packet ordinal).
    pts: i64,
    key: bool,
}

enum Source {
    Memory(Vec<ff::Packet>),
    File,
}

/// An opened video: scanned, ready to decode any frames by display index.
pub struct VideoReader {
    input: format::context::Input,
    stream: usize,
    parameters: codec::Parameters,
    entries: Vec<Entry>,
    /// Sorted presentation timestamps: `display_pts[k]` is frame `k`.
    display_pts: Vec<i64>,
    /// Decode-order position of the packet carrying each display frame.
    decode_pos_of_display: Vec<usize>,
    source: Source,
    pub info: VideoInfo,
    /// Frames the decoder produced in the last `read_frames` call.
    pub frames_decoded: usize,
}

fn err(path: &Path, kind: DataErrorKind) -> DataError {
    DataError::new(path, kind)
}

/// Returns the clockwise display rotation of a stream from its display-matrix side data.
fn stream_rotation(stream: &ff::Stream) -> u32 {
    for sd in stream.side_data() {
        if sd.kind() == codec::packet::side_data::Type::DisplayMatrix && sd.data().len() >= 36 {
            let mut m = [0i32; 9];
            for (i, c) in sd.data()[..36].chunks_exact(4).enumerate() {
                m[i] = i32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
            }
            // SAFETY: a 9-element matrix as av_display_rotation_get expects.
            let ccw = unsafe { ff::ffi::av_display_rotation_get(m.as_ptr()) };
            if ccw.is_nan() {
                return 0;
            }
            // FFmpeg gives the counter-clockwise angle; displaying needs the clockwise turn.
            let cw = (-ccw).rem_euclid(360.0);
            return (((cw / 90.0).round() as u32) * 90) % 360;
        }
    }
    0
}

impl VideoReader {
    pub fn open(path: &Path) -> DataResult<Self> {
        Self::open_with(path, false)
    }

    /// Opens and scans `path`. `force_seek` keeps packets out of memory (seek path).
    pub fn open_with(path: &Path, force_seek: bool) -> DataResult<Self> {
        let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, &e))?;
        if meta.is_dir() {
            return Err(err(
                path,
                DataErrorKind::Other("is a folder, not a video file".into()),
            ));
        }
        if meta.len() == 0 {
            return Err(err(path, DataErrorKind::Empty));
        }
        ffmpeg_log::init();
        ffmpeg_log::clear();
        let mut input = format::input(path).map_err(|e| {
            let msg = ffmpeg_log::take_joined(&e.to_string());
            if msg.contains("moov atom not found") && !msg.contains("low score") {
                err(path, DataErrorKind::Truncated(format!("the moov atom (the MP4 index) is missing, so the file was cut before it was finished ({msg})")))
            } else {
                err(path, DataErrorKind::NotAVideo(msg))
            }
        })?;
        let container = input.format().name().to_string();
        let stream = input
            .streams()
            .best(media::Type::Video)
            .ok_or_else(|| err(path, DataErrorKind::NoVideoStream))?;
        let index = stream.index();
        let parameters = stream.parameters();
        let codec_name = parameters.id().name().to_string();
        let time_base = stream.time_base();
        let rotation = stream_rotation(&stream);
        let avg = stream.avg_frame_rate();
        let avg_fps = if avg.denominator() != 0 {
            avg.numerator() as f64 / avg.denominator() as f64
        } else {
            0.0
        };
        let header_frames = stream.frames().max(0) as u64;
        let (width, height) = {
            // SAFETY: reading two plain fields of the stream's codec parameters.
            let p = unsafe { &*parameters.as_ptr() };
            (p.width.max(0) as usize, p.height.max(0) as usize)
        };
        let stream_duration = stream.duration();

        // Scan every packet once, explicitly, so read errors are seen.
        let mut entries = Vec::new();
        let mut kept = Vec::new();
        let mut kept_bytes = 0usize;
        let mut keep = !force_seek;
        let mut warnings = Vec::new();
        let mut corrupt = 0usize;
        let mut consecutive_bad = 0usize;
        let mut durations = Vec::new();
        loop {
            let mut packet = ff::Packet::empty();
            match packet.read(&mut input) {
                Ok(()) => {
                    consecutive_bad = 0;
                    if packet.stream() != index {
                        continue;
                    }
                    if packet.is_corrupt() {
                        corrupt += 1;
                    }
                    let ordinal = entries.len() as i64;
                    let pts = packet.pts().or(packet.dts()).unwrap_or(ordinal);
                    entries.push(Entry {
                        pts,
                        key: packet.is_key(),
                    });
                    if packet.duration() > 0 {
                        durations.push(packet.duration());
                    }
                    if keep {
                        kept_bytes += packet.size();
                        if kept_bytes > IN_MEMORY_BYTES {
                            keep = false;
                            kept.clear();
                        } else {
                            kept.push(packet);
                        }
                    }
                }
                Err(ff::Error::Eof) => break,
                Err(ff::Error::InvalidData) => {
                    corrupt += 1;
                    consecutive_bad += 1;
                    if consecutive_bad >= MAX_CONSECUTIVE_BAD_PACKETS {
                        warnings.push(format!(
                            "gave up after {consecutive_bad} unreadable packets in a row"
                        ));
                        break;
                    }
                }
                Err(e) => {
                    let msg = ffmpeg_log::take_joined(&e.to_string());
                    warnings.push(format!(
                        "reading stopped after {} video packets: {msg}",
                        entries.len()
                    ));
                    break;
                }
            }
        }
        if corrupt > 0 {
            warnings.push(format!("{corrupt} corrupt or unreadable packets"));
        }
        let demux_msgs = ffmpeg_log::take();
        if !demux_msgs.is_empty() {
            warnings.push(format!(
                "demuxer reported: {}",
                dedup(demux_msgs).join("; ")
            ));
        }
        if entries.is_empty() {
            let msg = ffmpeg_log::take_joined("the file holds no video packets");
            let kind = if warnings.is_empty() {
                DataErrorKind::NoFrames(msg)
            } else {
                DataErrorKind::Truncated(format!("{msg}; {}", warnings.join("; ")))
            };
            return Err(err(path, kind));
        }
        if header_frames > entries.len() as u64 {
            warnings.push(format!(
                "the header claims {header_frames} frames but only {} are in the file (truncated?)",
                entries.len()
            ));
        }
        // Display order: sort by pts; frames sharing a pts keep decode order.
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&i| (entries[i].pts, i));
        let display_pts: Vec<i64> = order.iter().map(|&i| entries[i].pts).collect();
        let dts_steps: Vec<i64> = display_pts.windows(2).map(|w| w[1] - w[0]).collect();
        let variable_frame_rate = {
            let steps = if dts_steps.is_empty() {
                &durations
            } else {
                &dts_steps
            };
            match (steps.iter().min(), steps.iter().max()) {
                (Some(&lo), Some(&hi)) if lo > 0 => (hi - lo) as f64 / lo as f64 > 0.01,
                _ => false,
            }
        };
        let tb = time_base.numerator() as f64 / time_base.denominator().max(1) as f64;
        let duration_s = if stream_duration > 0 {
            stream_duration as f64 * tb
        } else {
            let span = display_pts.last().unwrap() - display_pts[0]
                + durations.last().copied().unwrap_or(0);
            span as f64 * tb
        };
        let info = VideoInfo {
            path: path.to_path_buf(),
            container,
            codec: codec_name,
            width,
            height,
            rotation,
            avg_fps,
            header_frames,
            frames: entries.len(),
            duration_s,
            variable_frame_rate,
            warnings,
        };
        let source = if keep {
            Source::Memory(kept)
        } else {
            Source::File
        };
        Ok(Self {
            input,
            stream: index,
            parameters,
            entries,
            display_pts,
            decode_pos_of_display: order,
            source,
            info,
            frames_decoded: 0,
        })
    }

    /// Number of frames (display order) in the file.
    pub fn len(&self) -> usize {
        self.display_pts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.display_pts.is_empty()
    }

    fn open_decoder(&self, threads: usize) -> DataResult<decoder::Video> {
        let path = &self.info.path;
        let mut ctx =
            codec::context::Context::from_parameters(self.parameters.clone()).map_err(|e| {
                err(
                    path,
                    DataErrorKind::Decode(format!("codec parameters: {e}")),
                )
            })?;
        ctx.set_threading(codec::threading::Config {
            kind: if threads > 1 {
                codec::threading::Type::Frame
            } else {
                codec::threading::Type::None
            },
            count: threads.max(1),
            ..Default::default()
        });
        ctx.decoder().video().map_err(|e| {
            err(
                path,
                DataErrorKind::Decode(ffmpeg_log::take_joined(&format!(
                    "no decoder for codec {} ({e})",
                    self.info.codec
                ))),
            )
        })
    }

    /// Decodes the frames at display `indices` (any order, repeats allowed; each must be
    /// `< len()`). Frames that cannot be decoded are replaced by the nearest decoded wanted
    /// frame, with a warning; if none decodes, an error.
    pub fn read_frames(
        &mut self,
        indices: &[usize],
        opts: &DecodeOptions,
    ) -> DataResult<(Vec<Frame>, Vec<String>)> {
        let path = self.info.path.clone();
        let mut warnings = self.info.warnings.clone();
        let n = self.len();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(err(
                &path,
                DataErrorKind::Other(format!("frame {bad} asked for, the file has {n}")),
            ));
        }
        let wanted: BTreeSet<usize> = indices.iter().copied().collect();
        if wanted.is_empty() {
            return Ok((Vec::new(), warnings));
        }
        ffmpeg_log::clear();
        let mut dec = self.open_decoder(opts.threads)?;
        let mut scaler: Option<(ff::format::Pixel, u32, u32, scaling::Context)> = None;
        let (dw, dh) = self.info.display_size();
        let (ow, oh) = opts.resize.apply(dw, dh);
        // Scale in stored orientation, rotate afterwards.
        let (sw, sh) = if self.info.rotation % 180 == 90 {
            (oh, ow)
        } else {
            (ow, oh)
        };
        let mut got: BTreeMap<usize, Frame> = BTreeMap::new();
        let mut decode_errors = 0usize;
        let mut damaged = 0usize;

        // Work through the wanted frames in decode order, jumping to a keyframe when the
        // next wanted frame lies past the next keyframe.
        let mut remaining: BTreeSet<usize> = wanted.clone();
        let key_before =
            |entries: &[Entry], pos: usize| (0..=pos).rev().find(|&p| entries[p].key).unwrap_or(0);
        let mut cursor: Option<usize> = None; // next decode-order position to feed
        let mut ordinal_ok = false; // frame ordinals equal display indices (decoding from 0)
        let mut produced = 0usize;
        self.frames_decoded = 0;
        while let Some(&first) = remaining
            .iter()
            .min_by_key(|&&k| self.decode_pos_of_display[k])
        {
            let target_pos = self.decode_pos_of_display[first];
            // Start at the keyframe before the target; if the target (or a frame decoded
            // between) is shown before that keyframe (a leading B-frame, which references
            // the previous group), start one keyframe earlier.
            let mut key = key_before(&self.entries, target_pos);
            while key > 0
                && (key + 1..=target_pos).any(|q| self.entries[q].pts < self.entries[key].pts)
            {
                key = key_before(&self.entries, key - 1);
            }
            let need_jump = match cursor {
                None => true,
                Some(c) => key > c,
            };
            if need_jump {
                dec.flush();
                self.jump(key)?;
                cursor = Some(key);
                ordinal_ok = key == 0;
                self.frames_decoded += produced;
                produced = 0;
            }
            // Feed packets until `first` is produced (or the data ends).
            while remaining.contains(&first) {
                let Some(packet) = self.next_packet(cursor.unwrap())? else {
                    let _ = dec.send_eof();
                    damaged += self.drain(
                        &mut dec,
                        &mut remaining,
                        &mut got,
                        &mut scaler,
                        (sw, sh),
                        &mut produced,
                        ordinal_ok,
                    )?;
                    break;
                };
                cursor = Some(cursor.unwrap() + 1);
                if dec.send_packet(&packet).is_err() {
                    decode_errors += 1;
                }
                damaged += self.drain(
                    &mut dec,
                    &mut remaining,
                    &mut got,
                    &mut scaler,
                    (sw, sh),
                    &mut produced,
                    ordinal_ok,
                )?;
            }
            if remaining.contains(&first) {
                // Reached the end without it: give up on everything still missing.
                break;
            }
        }
        self.frames_decoded += produced;
        if decode_errors > 0 {
            warnings.push(format!("{decode_errors} packets failed to decode"));
        }
        if damaged > 0 {
            warnings.push(format!(
                "{damaged} wanted frames decoded with errors (concealed)"
            ));
        }
        // H.264 complains about references from before a seek point; the frames we keep
        // start at a keyframe and are fine.
        let decoder_msgs: Vec<String> = ffmpeg_log::take()
            .into_iter()
            .filter(|m| !BENIGN.iter().any(|b| m.contains(b)))
            .collect();
        if !decoder_msgs.is_empty() {
            warnings.push(format!(
                "decoder reported: {}",
                dedup(decoder_msgs).join("; ")
            ));
        }
        if got.is_empty() {
            return Err(err(
                &path,
                DataErrorKind::NoFrames(ffmpeg_log::take_joined(
                    "the decoder produced no wanted frame",
                )),
            ));
        }
        let missing: Vec<usize> = wanted
            .iter()
            .filter(|k| !got.contains_key(k))
            .copied()
            .collect();
        if !missing.is_empty() {
            warnings.push(format!(
                "{} of {} wanted frames could not be decoded (first: {}); used the nearest decoded frame",
                missing.len(),
                wanted.len(),
                missing[0]
            ));
        }
        let rotation = self.info.rotation;
        let mut out = Vec::with_capacity(indices.len());
        for &i in indices {
            let f = match got.get(&i) {
                Some(f) => f,
                None => {
                    let below = got.range(..i).next_back();
                    let above = got.range(i..).next();
                    match (below, above) {
                        (Some(b), Some(a)) => {
                            if i - b.0 <= a.0 - i {
                                b.1
                            } else {
                                a.1
                            }
                        }
                        (Some(b), None) => b.1,
                        (None, Some(a)) => a.1,
                        (None, None) => unreachable!(),
                    }
                }
            };
            out.push(if rotation == 0 {
                f.clone()
            } else {
                f.rotate_clockwise(rotation)
            });
        }
        Ok((out, warnings))
    }

    /// Positions the packet source at decode-order position `pos` (a keyframe).
    fn jump(&mut self, pos: usize) -> DataResult<()> {
        if let Source::File = self.source {
            let ts = self.entries[pos].pts;
            // SAFETY: seeking the demuxer we own, by stream index and that stream's time base.
            let ret = unsafe {
                ff::ffi::av_seek_frame(
                    self.input.as_mut_ptr(),
                    self.stream as i32,
                    ts,
                    ff::ffi::AVSEEK_FLAG_BACKWARD,
                )
            };
            if ret < 0 {
                return Err(err(
                    &self.info.path,
                    DataErrorKind::Decode(ffmpeg_log::take_joined(&format!(
                        "seek to {ts} failed: {}",
                        ff::Error::from(ret)
                    ))),
                ));
            }
        }
        Ok(())
    }

    /// The packet at decode-order position `pos`, or None at the end.
    fn next_packet(&mut self, pos: usize) -> DataResult<Option<ff::Packet>> {
        match &self.source {
            Source::Memory(packets) => Ok(packets.get(pos).cloned()),
            Source::File => {
                let _ = pos;
                loop {
                    let mut packet = ff::Packet::empty();
                    match packet.read(&mut self.input) {
                        Ok(()) => {
                            if packet.stream() == self.stream {
                                return Ok(Some(packet));
                            }
                        }
                        Err(ff::Error::Eof) => return Ok(None),
                        Err(ff::Error::InvalidData) => continue,
                        Err(_) => return Ok(None),
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn drain(
        &self,
        dec: &mut decoder::Video,
        remaining: &mut BTreeSet<usize>,
        got: &mut BTreeMap<usize, Frame>,
        scaler: &mut Option<(ff::format::Pixel, u32, u32, scaling::Context)>,
        (sw, sh): (usize, usize),
        produced: &mut usize,
        ordinal_ok: bool,
    ) -> DataResult<usize> {
        let mut damaged = 0;
        let mut decoded = frame::Video::empty();
        while dec.receive_frame(&mut decoded).is_ok() {
            let ordinal = *produced;
            *produced += 1;
            let display = match decoded.timestamp().or(decoded.pts()) {
                Some(ts) => self.display_pts.binary_search(&ts).ok(),
                None if ordinal_ok => Some(ordinal),
                None => None,
            };
            let Some(k) = display else { continue };
            if !remaining.remove(&k) {
                continue;
            }
            if decoded.is_corrupt() || decoded.has_decode_errors() {
                damaged += 1;
            }
            got.insert(k, self.convert(&decoded, scaler, sw, sh)?);
        }
        Ok(damaged)
    }

    fn convert(
        &self,
        src: &frame::Video,
        scaler: &mut Option<(ff::format::Pixel, u32, u32, scaling::Context)>,
        sw: usize,
        sh: usize,
    ) -> DataResult<Frame> {
        let (fmt, w, h) = (src.format(), src.width(), src.height());
        let stale =
            !matches!(scaler, Some((f, sw0, sh0, _)) if *f == fmt && *sw0 == w && *sh0 == h);
        if stale {
            let ctx = scaling::Context::get(
                fmt,
                w,
                h,
                ff::format::Pixel::RGB24,
                sw as u32,
                sh as u32,
                scaling::Flags::BILINEAR,
            )
            .map_err(|e| {
                err(
                    &self.info.path,
                    DataErrorKind::Decode(format!("cannot convert {fmt:?} {w}x{h} to RGB: {e}")),
                )
            })?;
            *scaler = Some((fmt, w, h, ctx));
        }
        let ctx = &mut scaler.as_mut().unwrap().3;
        let mut rgb = frame::Video::empty();
        ctx.run(src, &mut rgb).map_err(|e| {
            err(
                &self.info.path,
                DataErrorKind::Decode(format!("colour conversion: {e}")),
            )
        })?;
        let stride = rgb.stride(0);
        let plane = rgb.data(0);
        let mut data = Vec::with_capacity(sw * sh * 3);
        for y in 0..sh {
            data.extend_from_slice(&plane[y * stride..y * stride + sw * 3]);
        }
        Ok(Frame::new(sw, sh, data))
    }
}

/// Decoder messages that do not mean damage (seen after seeking into open GOPs).
const BENIGN: [&str; 3] = [
    "mmco: unref short failure",
    "co located POCs unavailable",
    "reference picture missing during reorder",
];

fn dedup(msgs: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in msgs {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// Scans a file and decodes every frame once, counting those that decode (for `data probe`).
pub fn count_decodable(path: &Path) -> DataResult<(usize, Vec<String>)> {
    let mut reader = VideoReader::open(path)?;
    let all: Vec<usize> = (0..reader.len()).collect();
    let opts = DecodeOptions {
        resize: Resize::Exact(16, 16),
        ..Default::default()
    };
    let (_, warnings) = reader.read_frames(&all, &opts)?;
    let missing = warnings
        .iter()
        .find_map(|w| w.split(" of ").next().and_then(|n| n.parse::<usize>().ok()))
        .unwrap_or(0);
    Ok((reader.len() - missing, warnings))
}
