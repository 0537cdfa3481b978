//! Helpers shared by the data tests: frames that carry their own index as black/white bars,
//! so a test can tell exactly which frame a decoder returned.
#![allow(dead_code)]

use std::path::PathBuf;

use svfap_tui::data::Frame;

pub const BITS: usize = 7;

/// A `w × h` frame (w ≥ 8·BITS) whose index is written as BITS vertical bars (white = 1) in
/// the lower half and whose top-left 8×8 corner is red (to check rotations).
pub fn coded_frame(index: usize, w: usize, h: usize) -> Frame {
    let bar = w / BITS;
    let mut f = Frame::filled(w, h, [40, 40, 40]);
    for y in 0..h {
        for x in 0..w {
            let p = (y * w + x) * 3;
            let px = if x < 8 && y < 8 {
                [230, 20, 20]
            } else if y >= h / 2 && x / bar < BITS {
                let bit = (index >> (BITS - 1 - x / bar)) & 1;
                if bit == 1 {
                    [235, 235, 235]
                } else {
                    [20, 20, 20]
                }
            } else {
                [90, 90, 90]
            };
            f.data[p..p + 3].copy_from_slice(&px);
        }
    }
    f
}

/// Reads the index back from a decoded (unrotated) coded frame.
pub fn read_code(f: &Frame) -> usize {
    let bar = f.width / BITS;
    let y = f.height * 3 / 4;
    (0..BITS).fold(0, |acc, b| {
        let x = b * bar + bar / 2;
        let v = f.pixel(x, y)[1];
        (acc << 1) | usize::from(v > 128)
    })
}

pub fn coded_frames(n: usize, w: usize, h: usize) -> Vec<Frame> {
    (0..n).map(|i| coded_frame(i, w, h)).collect()
}

/// A fresh temporary folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("svfap-data-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
