//! Writes the synthetic demo set (`demo::render_clip`) to disk in the released split format:
//! `train.csv`, `test.csv` (labels in DFEW order), `pretrain.csv` (unlabeled + train videos,
//! label 0) and `classes.txt`, the clips as mp4 files (FFmpeg, the `video` feature) or as
//! frame folders of JPEGs (the DFEW / MAFW / FERV39k layout, any build: a binary without
//! FFmpeg, as on a GPU server that lacks its libraries, still gets demo data).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::demo::render_clip;
use super::frame::Frame;
use super::manifest::write_manifest;
use super::registry::dataset;

/// How the clips are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoFormat {
    /// mp4 files `videos/<split>/NNNNN.mp4`, encoded through FFmpeg (`video` feature).
    Mp4,
    /// Frame folders `videos/<split>/NNNNN/00001.jpg …` (JPEG quality 95; any build).
    Frames,
}

impl DemoFormat {
    /// Mp4 where this build can encode video, else frame folders.
    pub fn for_this_build() -> Self {
        if cfg!(feature = "video") {
            Self::Mp4
        } else {
            Self::Frames
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoSpec {
    pub seed: u64,
    pub train: usize,
    pub test: usize,
    pub unlabeled: usize,
    /// Square frame side in pixels (even).
    pub size: usize,
    pub frames: usize,
    pub fps: i32,
    pub workers: usize,
    pub format: DemoFormat,
}

impl Default for DemoSpec {
    fn default() -> Self {
        Self {
            seed: 0,
            train: 210,
            test: 70,
            unlabeled: 490,
            size: 112,
            frames: 64,
            fps: 25,
            workers: 2,
            format: DemoFormat::for_this_build(),
        }
    }
}

/// The generated set.
#[derive(Debug, Clone)]
pub struct DemoSet {
    pub dir: PathBuf,
    pub train_manifest: PathBuf,
    pub test_manifest: PathBuf,
    pub pretrain_manifest: PathBuf,
    pub clips: usize,
    /// The video encoder, or "jpeg" for frame folders.
    pub codec: String,
}

fn clip_seed(seed: u64, split: u64, i: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (split << 56)
        ^ (i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)
}

/// One clip to write: split name, split number, index in the split, label (None: unlabeled).
type Job = (&'static str, u64, usize, Option<usize>);

/// Writes the demo set into `dir`. Classes are balanced (round robin) and shuffled by the
/// seed; the same spec gives the same frames in either format.
pub fn generate(
    dir: &Path,
    spec: &DemoSpec,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<DemoSet> {
    let classes = dataset("DFEW").expect("DFEW is registered").labels;
    let mut jobs: Vec<Job> = Vec::new();
    for (split, name, n) in [
        (0u64, "train", spec.train),
        (1, "test", spec.test),
        (2, "unlabeled", spec.unlabeled),
    ] {
        std::fs::create_dir_all(dir.join("videos").join(name))
            .with_context(|| format!("{}: cannot create", dir.display()))?;
        let mut labels: Vec<usize> = (0..n).map(|i| i % classes.len()).collect();
        labels.shuffle(&mut StdRng::seed_from_u64(clip_seed(
            spec.seed,
            split,
            usize::MAX,
        )));
        for (i, &c) in labels.iter().enumerate() {
            jobs.push((name, split, i, if split == 2 { None } else { Some(c) }));
        }
    }
    let codec = match spec.format {
        DemoFormat::Frames => "jpeg".to_string(),
        DemoFormat::Mp4 => mp4_encoder(dir)?,
    };
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = jobs.len();
    let workers = spec.workers.max(1);
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let jobs = &jobs;
                let done = &done;
                scope.spawn(move || -> Result<()> {
                    for (name, split, i, label) in jobs.iter().skip(w).step_by(workers) {
                        let seed = clip_seed(spec.seed, *split, *i);
                        // Unlabeled clips show any expression, neutral included.
                        let class = label.unwrap_or((seed % 7) as usize);
                        let frames = render_clip(class, seed, spec.size, spec.frames);
                        let path = dir.join(clip_path(name, *i, spec.format));
                        write_clip(&path, &frames, spec)?;
                        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        progress(d, total);
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a generator thread panicked")))
            })
            .collect()
    });
    for r in results {
        r?;
    }
    let rows = |name: &str| -> Vec<(String, usize)> {
        jobs.iter()
            .filter(|j| j.0 == name)
            .map(|(n, _, i, l)| (clip_path(n, *i, spec.format), l.unwrap_or(0)))
            .collect()
    };
    let train_manifest = dir.join("train.csv");
    let test_manifest = dir.join("test.csv");
    let pretrain_manifest = dir.join("pretrain.csv");
    write_manifest(&train_manifest, &rows("train"))?;
    write_manifest(&test_manifest, &rows("test"))?;
    let mut pre = rows("unlabeled");
    pre.extend(rows("train").into_iter().map(|(p, _)| (p, 0)));
    write_manifest(&pretrain_manifest, &pre)?;
    std::fs::write(dir.join("classes.txt"), classes.join("\n") + "\n")
        .with_context(|| format!("{}: cannot write classes.txt", dir.display()))?;
    Ok(DemoSet {
        dir: dir.to_path_buf(),
        train_manifest,
        test_manifest,
        pretrain_manifest,
        clips: total,
        codec,
    })
}

/// A clip's path relative to the set's folder, as its manifest lists it.
fn clip_path(split: &str, i: usize, format: DemoFormat) -> String {
    match format {
        DemoFormat::Mp4 => format!("videos/{split}/{i:05}.mp4"),
        DemoFormat::Frames => format!("videos/{split}/{i:05}"),
    }
}

fn write_clip(path: &Path, frames: &[Frame], spec: &DemoSpec) -> Result<()> {
    match spec.format {
        DemoFormat::Frames => write_frame_folder(path, frames),
        DemoFormat::Mp4 => write_mp4(path, frames, spec),
    }
}

/// Frames `00001.jpg`, `00002.jpg`, … (the folder reader orders by the number).
fn write_frame_folder(dir: &Path, frames: &[Frame]) -> Result<()> {
    use image::ImageEncoder;
    use image::codecs::jpeg::JpegEncoder;
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    for (t, f) in frames.iter().enumerate() {
        let path = dir.join(format!("{:05}.jpg", t + 1));
        let file = std::fs::File::create(&path)
            .with_context(|| format!("{}: cannot create", path.display()))?;
        JpegEncoder::new_with_quality(std::io::BufWriter::new(file), 95)
            .write_image(
                &f.data,
                f.width as u32,
                f.height as u32,
                image::ExtendedColorType::Rgb8,
            )
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(())
}

#[cfg(feature = "video")]
fn mp4_encoder(dir: &Path) -> Result<String> {
    Ok(super::encode::pick_encoder(&dir.join("videos/train/probe.mp4")).to_string())
}

#[cfg(not(feature = "video"))]
fn mp4_encoder(_dir: &Path) -> Result<String> {
    anyhow::bail!(
        "mp4 demo clips need a build with the `video` feature (FFmpeg); frame folders do not"
    )
}

#[cfg(feature = "video")]
fn write_mp4(path: &Path, frames: &[Frame], spec: &DemoSpec) -> Result<()> {
    use super::encode::{EncodeSpec, VideoWriter};
    let mut es = EncodeSpec::new(spec.size, spec.size, spec.fps);
    es.gop = 16;
    let mut wr = VideoWriter::create(path, es)?;
    for (t, f) in frames.iter().enumerate() {
        wr.write(f, t as i64)?;
    }
    wr.finish()?;
    Ok(())
}

#[cfg(not(feature = "video"))]
fn write_mp4(_path: &Path, _frames: &[Frame], _spec: &DemoSpec) -> Result<()> {
    mp4_encoder(Path::new("")).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::folder::FrameFolder;

    #[test]
    fn frame_folders_hold_the_rendered_clip_and_the_manifests_list_them() {
        let dir = tempfile::tempdir().unwrap();
        let spec = DemoSpec {
            train: 3,
            test: 2,
            unlabeled: 1,
            size: 32,
            frames: 5,
            format: DemoFormat::Frames,
            ..Default::default()
        };
        let set = generate(dir.path(), &spec, &|_, _| {}).unwrap();
        assert_eq!((set.clips, set.codec.as_str()), (6, "jpeg"));
        let train = std::fs::read_to_string(&set.train_manifest).unwrap();
        assert_eq!(train.lines().count(), 3, "{train}");
        let first = train.lines().next().unwrap();
        let (folder, label) = first.split_once(' ').unwrap();
        assert!(folder.starts_with("videos/train/0000"), "{first}");
        let frames = FrameFolder::open(&dir.path().join(folder)).unwrap();
        assert_eq!(frames.len(), 5);
        // The first frame as written: JPEG at quality 95 stays close to the rendering.
        let label: usize = label.parse().unwrap();
        let i: usize = folder.rsplit('/').next().unwrap().parse().unwrap();
        let rendered = render_clip(label, clip_seed(0, 0, i), 32, 5);
        let read = frames.read(0).unwrap();
        assert_eq!((read.width, read.height), (32, 32));
        let mean_error = read
            .data
            .iter()
            .zip(&rendered[0].data)
            .map(|(a, b)| (*a as f64 - *b as f64).abs())
            .sum::<f64>()
            / read.data.len() as f64;
        assert!(mean_error < 4.0, "mean error {mean_error}");
        let pretrain = std::fs::read_to_string(&set.pretrain_manifest).unwrap();
        assert_eq!(pretrain.lines().count(), 4);
    }
}
