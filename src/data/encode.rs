//! Writing real video files through FFmpeg: the synthetic demo set and the decoder tests use
//! it. H.264 (libx264) where the system FFmpeg has it, else MPEG-4 part 2; VP8 for WebM.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use ff::{Dictionary, Rational, codec, encoder, format, frame, software::scaling};
use ffmpeg_next as ff;

use super::ffmpeg_log;
use super::frame::Frame;

/// Which encoder a container gets: `libvpx` for WebM, `mpeg4` for AVI, otherwise `libx264`
/// when this FFmpeg has it, else `mpeg4`.
pub fn pick_encoder(path: &Path) -> &'static str {
    ffmpeg_log::init();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "webm" => "libvpx",
        "avi" => "mpeg4",
        _ if encoder::find_by_name("libx264").is_some() => "libx264",
        _ => "mpeg4",
    }
}

/// True when the system FFmpeg can encode H.264.
pub fn has_h264_encoder() -> bool {
    ffmpeg_log::init();
    encoder::find_by_name("libx264").is_some()
}

/// Settings of a new file.
#[derive(Debug, Clone)]
pub struct EncodeSpec {
    pub width: usize,
    pub height: usize,
    /// Timestamps passed to `write` count in units of this time base (e.g. 1/25 for a
    /// constant 25 fps with pts 0, 1, 2, ...).
    pub time_base: (i32, i32),
    /// Nominal frame rate stored in the header.
    pub fps: (i32, i32),
    /// Encoder name; None = `pick_encoder`.
    pub codec: Option<String>,
    /// Clockwise rotation a player must apply (display matrix), 0/90/180/270.
    pub rotation_cw: u32,
    /// MP4/MOV: put the index (moov) at the front.
    pub faststart: bool,
    /// Keyframe interval.
    pub gop: u32,
    /// x264 constant rate factor (quality; lower is better).
    pub crf: u32,
}

impl EncodeSpec {
    pub fn new(width: usize, height: usize, fps: i32) -> Self {
        Self {
            width,
            height,
            time_base: (1, fps),
            fps: (fps, 1),
            codec: None,
            rotation_cw: 0,
            faststart: false,
            gop: 32,
            crf: 20,
        }
    }
}

/// An open output file.
pub struct VideoWriter {
    path: PathBuf,
    octx: format::context::Output,
    enc: encoder::Video,
    scaler: scaling::Context,
    spec: EncodeSpec,
    enc_time_base: Rational,
    stream_time_base: Rational,
    frames: usize,
}

impl VideoWriter {
    pub fn create(path: &Path, spec: EncodeSpec) -> Result<Self> {
        ffmpeg_log::init();
        ffmpeg_log::clear();
        let name = spec
            .codec
            .clone()
            .unwrap_or_else(|| pick_encoder(path).to_string());
        let codec = encoder::find_by_name(&name)
            .ok_or_else(|| anyhow!("this FFmpeg has no `{name}` encoder"))?;
        let mut octx = format::output(path)
            .with_context(|| format!("{}: cannot create output", path.display()))?;
        let global_header = octx.format().flags().contains(format::Flags::GLOBAL_HEADER);
        let mut ost = octx
            .add_stream(codec)
            .with_context(|| format!("{}: cannot add a video stream", path.display()))?;
        let mut enc = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()?;
        if !spec.width.is_multiple_of(2) || !spec.height.is_multiple_of(2) {
            bail!(
                "{}: width and height must be even for 4:2:0 video, got {}x{}",
                path.display(),
                spec.width,
                spec.height
            );
        }
        enc.set_width(spec.width as u32);
        enc.set_height(spec.height as u32);
        enc.set_format(ff::format::Pixel::YUV420P);
        let time_base = Rational::new(spec.time_base.0, spec.time_base.1);
        enc.set_time_base(time_base);
        enc.set_frame_rate(Some(Rational::new(spec.fps.0, spec.fps.1)));
        enc.set_gop(spec.gop);
        if name != "libx264" {
            enc.set_max_b_frames(0);
            enc.set_bit_rate((spec.width * spec.height * 8).max(200_000));
        }
        if global_header {
            enc.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut opts = Dictionary::new();
        if name == "libx264" {
            opts.set("preset", "veryfast");
            opts.set("crf", &spec.crf.to_string());
        }
        if name == "libvpx" {
            opts.set("deadline", "realtime");
            opts.set("cpu-used", "8");
        }
        let enc = enc.open_with(opts).map_err(|e| {
            anyhow!(
                "{}: cannot open encoder {name}: {}",
                path.display(),
                ffmpeg_log::take_joined(&e.to_string())
            )
        })?;
        ost.set_parameters(&enc);
        ost.set_time_base(time_base);
        ost.set_avg_frame_rate(Rational::new(spec.fps.0, spec.fps.1));
        if !spec.rotation_cw.is_multiple_of(360) {
            // SAFETY: new side data on our own stream, filled by av_display_rotation_set.
            unsafe {
                let sd = ff::ffi::av_stream_new_side_data(
                    ost.as_mut_ptr(),
                    ff::ffi::AVPacketSideDataType::AV_PKT_DATA_DISPLAYMATRIX,
                    36,
                );
                if sd.is_null() {
                    bail!("{}: cannot attach the rotation", path.display());
                }
                // A pure clockwise rotation matrix (read back by av_display_rotation_get as
                // the negated, counter-clockwise angle).
                ff::ffi::av_display_rotation_set(sd as *mut i32, spec.rotation_cw as f64);
            }
        }
        let mut hopts = Dictionary::new();
        if spec.faststart {
            hopts.set("movflags", "faststart");
        }
        octx.write_header_with(hopts)
            .map_err(|e| anyhow!("{}: cannot write header: {e}", path.display()))?;
        let stream_time_base = octx.stream(0).unwrap().time_base();
        let scaler = scaling::Context::get(
            ff::format::Pixel::RGB24,
            spec.width as u32,
            spec.height as u32,
            ff::format::Pixel::YUV420P,
            spec.width as u32,
            spec.height as u32,
            scaling::Flags::BILINEAR,
        )?;
        Ok(Self {
            path: path.to_path_buf(),
            octx,
            enc,
            scaler,
            spec,
            enc_time_base: time_base,
            stream_time_base,
            frames: 0,
        })
    }

    /// Encodes one frame shown at `pts` (in the spec's time base; must increase).
    pub fn write(&mut self, f: &Frame, pts: i64) -> Result<()> {
        if f.width != self.spec.width || f.height != self.spec.height {
            bail!(
                "{}: frame is {}x{}, the video is {}x{}",
                self.path.display(),
                f.width,
                f.height,
                self.spec.width,
                self.spec.height
            );
        }
        let mut rgb = frame::Video::new(ff::format::Pixel::RGB24, f.width as u32, f.height as u32);
        let stride = rgb.stride(0);
        let plane = rgb.data_mut(0);
        for y in 0..f.height {
            plane[y * stride..y * stride + f.width * 3]
                .copy_from_slice(&f.data[y * f.width * 3..(y + 1) * f.width * 3]);
        }
        let mut yuv = frame::Video::empty();
        self.scaler.run(&rgb, &mut yuv)?;
        yuv.set_pts(Some(pts));
        self.enc.send_frame(&yuv).map_err(|e| {
            anyhow!(
                "{}: encoding frame {}: {e}",
                self.path.display(),
                self.frames
            )
        })?;
        self.frames += 1;
        self.flush_packets()
    }

    fn flush_packets(&mut self) -> Result<()> {
        let mut packet = ff::Packet::empty();
        while self.enc.receive_packet(&mut packet).is_ok() {
            packet.set_stream(0);
            packet.rescale_ts(self.enc_time_base, self.stream_time_base);
            packet
                .write_interleaved(&mut self.octx)
                .map_err(|e| anyhow!("{}: write failed: {e}", self.path.display()))?;
        }
        Ok(())
    }

    /// Flushes the encoder and writes the trailer (index).
    pub fn finish(mut self) -> Result<()> {
        self.enc.send_eof()?;
        self.flush_packets()?;
        self.octx
            .write_trailer()
            .map_err(|e| anyhow!("{}: cannot finish: {e}", self.path.display()))?;
        Ok(())
    }
}

/// Writes `frames` at a constant `fps` (pts 0, 1, 2, ...).
pub fn write_video(path: &Path, frames: &[Frame], fps: i32) -> Result<()> {
    let f0 = frames
        .first()
        .ok_or_else(|| anyhow!("no frames to write"))?;
    let mut w = VideoWriter::create(path, EncodeSpec::new(f0.width, f0.height, fps))?;
    for (i, f) in frames.iter().enumerate() {
        w.write(f, i as i64)?;
    }
    w.finish()
}
