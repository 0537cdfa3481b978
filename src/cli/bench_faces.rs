//! `svfap-tui bench faces VIDEO`: frames/s per core of the face step — decode, MTCNN on
//! every k-th frame, tracking, alignment of every frame — with the video scaled to each
//! `--sizes` entry, on one thread, each stage timed apart.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use svfap_tui::backend::device_info::cpu_line;
use svfap_tui::data::{ClipSource, DecodeOptions, Resize};
use svfap_tui::faces::detect_scaled;
use svfap_tui::faces::{AlignConfig, align, sampled_frames, track};
use svfap_tui::inference::video_faces::FaceSearch;

use super::bounded;

#[derive(Args, Debug)]
pub struct BenchFacesArgs {
    /// A video with a face (e.g. tests/fixtures/faces/pan.mp4).
    pub video: PathBuf,
    /// Frame sizes to measure, WxH comma separated.
    #[arg(long, value_delimiter = ',', default_value = "640x360,1280x720")]
    pub sizes: Vec<String>,
    /// Detect on every K-th frame.
    #[arg(long, default_value_t = 5, value_parser = bounded(1, 60))]
    pub detect_every: usize,
    /// Smallest face searched for (px at the detection size).
    #[arg(long, default_value_t = 40, value_parser = bounded(12, 1000))]
    pub min_face: usize,
    /// Rounds per size (the best is reported).
    #[arg(long, default_value_t = 2, value_parser = bounded(1, 20))]
    pub rounds: usize,
}

fn parse_size(s: &str) -> Result<(usize, usize)> {
    let parsed = s
        .split_once(['x', 'X'])
        .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)));
    match parsed {
        Some((w, h)) if w >= 32 && h >= 32 && w <= 7680 && h <= 4320 => Ok((w, h)),
        _ => bail!("--sizes: `{s}` is not WxH with sides 32–7680 (e.g. 640x360)"),
    }
}

pub fn run(args: &BenchFacesArgs) -> Result<()> {
    let sizes = args
        .sizes
        .iter()
        .map(|s| parse_size(s))
        .collect::<Result<Vec<_>>>()?;
    let detector = super::data_faces::detector(args.min_face)?;
    let search = FaceSearch {
        every: args.detect_every,
        ..FaceSearch::default()
    };
    let align_cfg = AlignConfig::default();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    println!(
        "cpu: {} — one thread; detect every {} frames, min face {} px, align to {}²",
        cpu_line(),
        args.detect_every,
        args.min_face,
        align_cfg.size
    );
    println!(
        "size        frames  decode ms/f  detect ms/f  track+align ms/f  frames/s per core  faces"
    );
    for (w, h) in sizes {
        let mut best: Option<(f64, f64, f64, usize, usize)> = None;
        for _ in 0..args.rounds {
            let r = pool.install(|| -> Result<_> {
                let opts = DecodeOptions {
                    resize: Resize::Exact(w, h),
                    ..DecodeOptions::default()
                };
                let t0 = Instant::now();
                let mut src = ClipSource::open(&args.video, &opts)?;
                let n = src.len();
                let all: Vec<usize> = (0..n).collect();
                let frames = src.read(&all, &opts)?.frames;
                let decode = t0.elapsed().as_secs_f64();
                let t1 = Instant::now();
                let examined = sampled_frames(n, search.every);
                let picked: Vec<_> = examined.iter().map(|&i| frames[i].clone()).collect();
                let found = detect_scaled(&detector, &picked, search.detect_side);
                let detect = t1.elapsed().as_secs_f64();
                let t2 = Instant::now();
                let mut per_frame = vec![None; n];
                for (&i, f) in examined.iter().zip(found) {
                    per_frame[i] = Some(f);
                }
                let tracked = track(&per_frame, &search.track)?;
                let mut with_face = 0;
                for (f, face) in frames.iter().zip(&tracked.faces) {
                    if let Some(face) = face {
                        std::hint::black_box(align(f, face, &align_cfg));
                        with_face += 1;
                    }
                }
                Ok((decode, detect, t2.elapsed().as_secs_f64(), n, with_face))
            })?;
            let total = r.0 + r.1 + r.2;
            if best.is_none_or(|b| total < b.0 + b.1 + b.2) {
                best = Some(r);
            }
        }
        let (decode, detect, rest, n, with_face) = best.expect("at least one round");
        let per = |s: f64| s * 1e3 / n.max(1) as f64;
        println!(
            "{:<10} {n:>7}  {:>11.2}  {:>11.2}  {:>16.2}  {:>17.1}  {with_face}/{n}",
            format!("{w}x{h}"),
            per(decode),
            per(detect),
            per(rest),
            n as f64 / (decode + detect + rest)
        );
    }
    Ok(())
}
