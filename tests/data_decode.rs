//! Video decoding on files written here with ffmpeg-next: every container, exact frames on a
//! variable-frame-rate file, the seek path, rotation, and every kind of bad file.
#![cfg(feature = "video")]

mod data_common;

use std::path::Path;

use data_common::*;
use svfap_tui::data::decode::VideoReader;
use svfap_tui::data::encode::{EncodeSpec, VideoWriter, write_video};
use svfap_tui::data::{ClipSource, DataErrorKind, DecodeOptions, Resize};

const W: usize = 64;
const H: usize = 48;

fn decoded_codes(
    path: &Path,
    indices: &[usize],
    opts: &DecodeOptions,
) -> (Vec<usize>, Vec<String>) {
    let mut src = ClipSource::open(path, opts).unwrap();
    let d = src.read(indices, opts).unwrap();
    (d.frames.iter().map(read_code).collect(), d.warnings)
}

#[test]
fn every_container_decodes_the_exact_frames_asked_for() {
    let dir = temp_dir("containers");
    for ext in ["mp4", "avi", "mkv", "mov", "webm"] {
        let path = dir.join(format!("clip.{ext}"));
        write_video(&path, &coded_frames(40, W, H), 25).unwrap();
        let reader = VideoReader::open(&path).unwrap();
        assert_eq!(reader.len(), 40, "{ext}: frame count");
        assert!(
            !reader.info.variable_frame_rate,
            "{ext}: constant rate reported as variable"
        );
        let want = [0, 5, 39, 17, 17, 38];
        let (got, warnings) = decoded_codes(&path, &want, &DecodeOptions::default());
        assert_eq!(got, want, "{ext}: wrong frames");
        assert!(warnings.is_empty(), "{ext}: {warnings:?}");
    }
}

#[test]
fn variable_frame_rate_file_gives_frames_by_display_order_not_by_average_rate() {
    let dir = temp_dir("vfr");
    let path = dir.join("vfr.mp4");
    let mut spec = EncodeSpec::new(W, H, 25);
    spec.time_base = (1, 1000);
    let mut w = VideoWriter::create(&path, spec).unwrap();
    // Bursts of 10 ms frames, then 200 ms gaps.
    let mut pts = 0i64;
    let mut times = Vec::new();
    for i in 0..48 {
        w.write(&coded_frame(i, W, H), pts).unwrap();
        times.push(pts);
        pts += if i % 8 == 7 { 200 } else { 10 };
    }
    w.finish().unwrap();
    let reader = VideoReader::open(&path).unwrap();
    assert!(reader.info.variable_frame_rate);
    assert_eq!(reader.len(), 48);
    let want: Vec<usize> = (0..48).step_by(3).collect();
    let (got, _) = decoded_codes(&path, &want, &DecodeOptions::default());
    assert_eq!(got, want);
    // Estimating frame i as time i / avg_fps would have picked other frames.
    let fps = reader.info.avg_fps;
    let estimated: Vec<usize> = want
        .iter()
        .map(|&i| {
            times
                .iter()
                .filter(|&&t| (t as f64) <= i as f64 / fps * 1000.0)
                .count()
                - 1
        })
        .collect();
    assert_ne!(estimated, want);
}

#[test]
fn long_file_seek_path_decodes_exact_frames() {
    let dir = temp_dir("seek");
    let path = dir.join("long.mkv");
    let mut spec = EncodeSpec::new(W, H, 25);
    spec.gop = 12;
    let mut w = VideoWriter::create(&path, spec).unwrap();
    for i in 0..120 {
        w.write(&coded_frame(i, W, H), i as i64).unwrap();
    }
    w.finish().unwrap();
    let opts = DecodeOptions {
        force_seek: true,
        ..Default::default()
    };
    let want = [100, 3, 57, 58, 119, 0];
    let (got, warnings) = decoded_codes(&path, &want, &opts);
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn every_single_frame_decodes_exactly_across_b_frames_and_keyframes() {
    let dir = temp_dir("single-frames");
    let path = dir.join("gop.mp4");
    let mut spec = EncodeSpec::new(W, H, 25);
    spec.gop = 16;
    let mut w = VideoWriter::create(&path, spec).unwrap();
    for i in 0..64 {
        w.write(&coded_frame(i, W, H), i as i64).unwrap();
    }
    w.finish().unwrap();
    for force_seek in [false, true] {
        let opts = DecodeOptions {
            force_seek,
            ..Default::default()
        };
        let mut src = ClipSource::open(&path, &opts).unwrap();
        for k in 0..64 {
            let d = src.read(&[k], &opts).unwrap();
            assert_eq!(read_code(&d.frames[0]), k, "seek={force_seek}");
            assert!(
                d.warnings.is_empty(),
                "frame {k}, seek={force_seek}: {:?}",
                d.warnings
            );
        }
        // Windows that start just before a keyframe (the fine-tuning sampler's case).
        for start in [13, 29, 30, 45] {
            let want: Vec<usize> = (start..start + 16).step_by(3).collect();
            let d = src.read(&want, &opts).unwrap();
            assert_eq!(d.frames.iter().map(read_code).collect::<Vec<_>>(), want);
            assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        }
    }
}

#[test]
fn rotation_side_data_is_honoured() {
    let dir = temp_dir("rotation");
    let path = dir.join("rotated.mp4");
    let mut spec = EncodeSpec::new(W, H, 25);
    spec.rotation_cw = 90;
    let mut w = VideoWriter::create(&path, spec).unwrap();
    for i in 0..8 {
        w.write(&coded_frame(i, W, H), i as i64).unwrap();
    }
    w.finish().unwrap();
    let reader = VideoReader::open(&path).unwrap();
    assert_eq!(reader.info.rotation, 90);
    assert_eq!(reader.info.display_size(), (H, W));
    let mut src = ClipSource::open(&path, &DecodeOptions::default()).unwrap();
    let d = src.read(&[3], &DecodeOptions::default()).unwrap();
    let f = &d.frames[0];
    assert_eq!((f.width, f.height), (H, W));
    // The red top-left marker is now top-right.
    let [r, g, _] = f.pixel(H - 3, 3);
    assert!(
        r > 150 && g < 100,
        "marker not at the top-right: {:?}",
        f.pixel(H - 3, 3)
    );
    assert_eq!(read_code(&f.rotate_clockwise(270)), 3);
    // Resizing works on the displayed orientation.
    let opts = DecodeOptions {
        resize: Resize::ShortSide(24),
        ..Default::default()
    };
    let d = src.read(&[3], &opts).unwrap();
    assert_eq!((d.frames[0].width, d.frames[0].height), (24, 32));
}

fn open_err(path: &Path) -> svfap_tui::data::DataError {
    match ClipSource::open(path, &DecodeOptions::default()).and_then(|mut s| {
        let n = s.len();
        s.read(&[0, n - 1], &DecodeOptions::default())
    }) {
        Ok(d) => panic!("{} decoded, warnings {:?}", path.display(), d.warnings),
        Err(e) => e,
    }
}

#[test]
fn empty_and_text_files_are_named_errors() {
    let dir = temp_dir("bad-small");
    let empty = dir.join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let e = open_err(&empty);
    assert!(matches!(e.kind, DataErrorKind::Empty), "{e}");
    assert!(e.to_string().contains("empty.mp4"));
    let text = dir.join("notes.mp4");
    std::fs::write(&text, "this is not a video, just some text\n".repeat(20)).unwrap();
    let e = open_err(&text);
    assert!(matches!(e.kind, DataErrorKind::NotAVideo(_)), "{e}");
    assert!(e.to_string().contains("notes.mp4"));
    let e = open_err(&dir.join("missing.mp4"));
    assert!(matches!(e.kind, DataErrorKind::NotFound), "{e}");
}

#[test]
fn mp4_without_its_moov_index_is_reported_as_truncated() {
    let dir = temp_dir("bad-moov");
    let path = dir.join("cut.mp4");
    write_video(&path, &coded_frames(60, W, H), 25).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = open_err(&path);
    assert!(matches!(e.kind, DataErrorKind::Truncated(_)), "{e}");
    assert!(e.to_string().contains("moov"), "{e}");
}

#[test]
fn mp4_cut_mid_stream_decodes_what_is_there_and_says_so() {
    let dir = temp_dir("bad-cut");
    let path = dir.join("cut.mp4");
    let mut spec = EncodeSpec::new(W, H, 25);
    spec.faststart = true;
    let mut w = VideoWriter::create(&path, spec).unwrap();
    for i in 0..80 {
        w.write(&coded_frame(i, W, H), i as i64).unwrap();
    }
    w.finish().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let reader = VideoReader::open(&path).unwrap();
    assert!(reader.len() < 80, "{} frames", reader.len());
    assert!(
        reader
            .info
            .warnings
            .iter()
            .any(|w| w.contains("header claims 80 frames")),
        "{:?}",
        reader.info.warnings
    );
    let n = reader.len();
    let (got, _) = decoded_codes(&path, &[0, n / 2], &DecodeOptions::default());
    assert_eq!(got, [0, n / 2]);
}

#[test]
fn avi_with_fewer_frames_than_its_header_claims_warns() {
    let dir = temp_dir("bad-avi");
    let path = dir.join("short.avi");
    write_video(&path, &coded_frames(60, W, H), 25).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let reader = VideoReader::open(&path).unwrap();
    assert!(reader.len() < 60);
    let warned = reader.info.warnings.join("; ");
    assert!(warned.contains("header claims 60 frames"), "{warned}");
    let (got, _) = decoded_codes(&path, &[0, 10], &DecodeOptions::default());
    assert_eq!(got, [0, 10]);
}

#[test]
fn corrupt_packets_are_survived_with_a_warning_or_a_named_error() {
    let dir = temp_dir("bad-corrupt");
    let path = dir.join("corrupt.mkv");
    let mut spec = EncodeSpec::new(W, H, 25);
    spec.gop = 10;
    let mut w = VideoWriter::create(&path, spec).unwrap();
    for i in 0..60 {
        w.write(&coded_frame(i, W, H), i as i64).unwrap();
    }
    w.finish().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    let mut state = 12345u32;
    for b in &mut bytes[n / 3..n / 3 + n / 10] {
        state = state.wrapping_mul(1664525).wrapping_add(1013904223);
        *b = (state >> 24) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();
    let opened = ClipSource::open(&path, &DecodeOptions::default());
    match opened.and_then(|mut s| {
        let n = s.len();
        s.read(&(0..n).collect::<Vec<_>>(), &DecodeOptions::default())
    }) {
        Ok(d) => assert!(!d.warnings.is_empty(), "damage went unnoticed"),
        Err(e) => assert!(e.to_string().contains("corrupt.mkv"), "{e}"),
    }
}
