//! Frame folders (the DFEW layout): numeric order, an unreadable JPEG replaced by its
//! neighbour with a warning naming it, an empty folder reported, `data probe` naming each
//! corrupt frame. Needs no FFmpeg.

mod common_cli;
mod data_common;

use common_cli::{ok, svfap};
use data_common::*;
use svfap_tui::data::{ClipSource, DataErrorKind, DecodeOptions, Resize};

#[test]
fn folder_frames_are_read_in_numeric_order() {
    let dir = temp_dir("folder-order");
    for i in [1usize, 2, 10, 11, 3] {
        let f = coded_frame(i, 64, 48);
        image::RgbImage::from_raw(64, 48, f.data)
            .unwrap()
            .save(dir.join(format!("{i}.jpg")))
            .unwrap();
    }
    let opts = DecodeOptions::default();
    let mut src = ClipSource::open(&dir, &opts).unwrap();
    assert_eq!(src.len(), 5);
    let d = src.read(&[0, 1, 2, 3, 4], &opts).unwrap();
    let codes: Vec<usize> = d.frames.iter().map(read_code).collect();
    assert_eq!(codes, [1, 2, 3, 10, 11]);
    let opts = DecodeOptions {
        resize: Resize::ShortSide(24),
        ..Default::default()
    };
    let d = src.read(&[4], &opts).unwrap();
    assert_eq!((d.frames[0].width, d.frames[0].height), (32, 24));
}

#[test]
fn unreadable_jpeg_is_replaced_with_a_warning_naming_it() {
    let dir = temp_dir("folder-bad-jpeg");
    for i in 0..6usize {
        let f = coded_frame(i, 64, 48);
        image::RgbImage::from_raw(64, 48, f.data)
            .unwrap()
            .save(dir.join(format!("{i:05}.jpg")))
            .unwrap();
    }
    std::fs::write(dir.join("00003.jpg"), b"\xff\xd8\xff garbage, not a jpeg").unwrap();
    let opts = DecodeOptions::default();
    let mut src = ClipSource::open(&dir, &opts).unwrap();
    let d = src.read(&[2, 3, 4], &opts).unwrap();
    assert_eq!(d.frames.len(), 3);
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].contains("00003.jpg"), "{}", d.warnings[0]);
    assert!(
        d.warnings[0].contains("unreadable image"),
        "{}",
        d.warnings[0]
    );
    assert!([2, 4].contains(&read_code(&d.frames[1])));
}

#[test]
fn empty_folder_is_an_error() {
    let dir = temp_dir("folder-empty");
    std::fs::write(dir.join("notes.txt"), "x").unwrap();
    let e = ClipSource::open(&dir, &DecodeOptions::default())
        .err()
        .unwrap();
    assert!(matches!(e.kind, DataErrorKind::EmptyFolder));
    assert!(e.to_string().contains("folder-empty"));
}

#[test]
fn probe_decodes_every_frame_and_names_the_corrupt_ones() {
    let dir = temp_dir("folder-probe");
    for i in 0..5usize {
        let f = coded_frame(i, 64, 48);
        image::RgbImage::from_raw(64, 48, f.data)
            .unwrap()
            .save(dir.join(format!("{i:05}.jpg")))
            .unwrap();
    }
    std::fs::write(dir.join("00001.jpg"), b"\xff\xd8\xff garbage, not a jpeg").unwrap();
    let out = ok(svfap(&["data", "probe", dir.to_str().unwrap()]));
    assert!(out.contains("decodable:  4 of 5"), "{out}");
    assert!(out.contains("size:       64x48"), "{out}");
    let warnings: Vec<&str> = out.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{out}");
    assert!(warnings[0].contains("00001.jpg"), "{out}");
    // Without decoding, only the count and the first frame's size.
    let out = ok(svfap(&[
        "data",
        "probe",
        "--no-decode",
        dir.to_str().unwrap(),
    ]));
    assert!(out.contains("frames:     5 (counted)"), "{out}");
    assert!(!out.contains("warning:"), "{out}");
}
