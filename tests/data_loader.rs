//! The loader and the views on real generated files: seeded reproducibility independent of
//! worker count, exact resume from a saved data order, bad samples skipped and counted,
//! the test view on folders and videos alike, tube masks and mixup targets.
#![cfg(feature = "video")]

mod data_common;

use std::sync::{Arc, Mutex};

use data_common::*;
use svfap_tui::data::augment::MixupConfig;
use svfap_tui::data::demo_set::{DemoSpec, generate};
use svfap_tui::data::loader::{DataOrder, Loader, LoaderConfig, MaskConfig};
use svfap_tui::data::manifest::{Label, LabelKind, Manifest, ManifestEntry, PathMapping};
use svfap_tui::data::{ViewConfig, ViewKind, load_clips};

fn demo(name: &str) -> (std::path::PathBuf, Manifest) {
    let dir = temp_dir(name);
    let spec = DemoSpec {
        train: 14,
        test: 0,
        unlabeled: 0,
        size: 48,
        frames: 40,
        workers: 2,
        ..Default::default()
    };
    let set = generate(&dir, &spec, &|_, _| {}).unwrap();
    let m = Manifest::read(
        &set.train_manifest,
        LabelKind::Class { classes: Some(7) },
        &PathMapping::default(),
    )
    .unwrap();
    (dir, m)
}

fn small_view(kind: ViewKind) -> ViewConfig {
    let mut v = ViewConfig::new(kind);
    v.size = 32;
    v.clip.frames = 8;
    v.clip.stride = 2;
    v.pretrain.fixed_crop = None;
    v
}

fn run_epoch(loader: &Loader, order: DataOrder) -> Vec<(Vec<usize>, Vec<f32>)> {
    loader
        .epoch(order)
        .map(|b| (b.videos.clone(), b.clips))
        .collect()
}

#[test]
fn finetune_batches_are_reproducible_and_resume_exactly() {
    let (_dir, m) = demo("loader-repro");
    let view = small_view(ViewKind::Finetune);
    let cfg = |workers| LoaderConfig {
        batch_size: 4,
        workers,
        prefetch_batches: 1,
        ..Default::default()
    };
    let one = Loader::new(&m.entries, view.clone(), cfg(1));
    let three = Loader::new(&m.entries, view.clone(), cfg(3));
    let a = run_epoch(&one, DataOrder::new(7));
    let b = run_epoch(&three, DataOrder::new(7));
    assert_eq!(a.len(), 3, "14 clips, batch 4, drop_last");
    assert_eq!(a, b, "worker count changed the data");
    let c = run_epoch(&one, DataOrder::new(8));
    assert_ne!(a[0].1, c[0].1, "another seed gave the same batches");
    let next = run_epoch(&one, DataOrder::new(7).next_epoch());
    assert_ne!(a[0].0, next[0].0, "epochs share an order");
    // Stop after one batch, resume from the saved order: the rest is identical.
    let saved = {
        let mut it = three.epoch(DataOrder::new(7));
        it.next().unwrap().order
    };
    assert_eq!(saved.position, 4);
    let resumed = run_epoch(&three, saved);
    assert_eq!(resumed, a[1..].to_vec());
    let state = serde_json::to_string(&saved).unwrap();
    assert_eq!(serde_json::from_str::<DataOrder>(&state).unwrap(), saved);
}

#[test]
fn bad_samples_are_skipped_counted_and_logged() {
    let (dir, m) = demo("loader-bad");
    let mut entries: Vec<ManifestEntry> = m.entries[..6].to_vec();
    let text = dir.join("text.mp4");
    std::fs::write(&text, "not a video").unwrap();
    let empty = dir.join("empty.mp4");
    std::fs::write(&empty, "").unwrap();
    for (i, p) in [text, empty, dir.join("missing.mp4")]
        .into_iter()
        .enumerate()
    {
        entries.insert(
            i * 2,
            ManifestEntry {
                raw_path: p.display().to_string(),
                path: p,
                label: Label::Class(0),
                line: 0,
            },
        );
    }
    let logged = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = logged.clone();
    let cfg = LoaderConfig {
        batch_size: 3,
        workers: 2,
        shuffle: false,
        drop_last: false,
        ..Default::default()
    };
    let loader = Loader::new(&entries, small_view(ViewKind::Test), cfg).with_log(Arc::new(
        move |m: &str| sink.lock().unwrap().push(m.to_string()),
    ));
    let batches: Vec<_> = loader.epoch(DataOrder::new(0)).collect();
    let clips: usize = batches.iter().map(|b| b.len()).sum();
    assert_eq!(clips, 6 * 2, "two test clips per good video");
    assert!(batches.iter().all(|b| b.shape[1..] == [3, 8, 32, 32]));
    let st = loader.stats();
    assert_eq!((st.videos_loaded, st.videos_skipped), (6, 3));
    let log = logged.lock().unwrap().join("\n");
    for name in ["text.mp4", "empty.mp4", "missing.mp4"] {
        assert!(log.contains(name), "{name} not logged: {log}");
    }
}

#[test]
fn masks_and_mixup_targets_come_with_the_batch() {
    let (_dir, m) = demo("loader-extras");
    let mut view = small_view(ViewKind::Pretrain);
    view.size = 32;
    let cfg = LoaderConfig {
        batch_size: 4,
        workers: 2,
        mask: Some(MaskConfig {
            ratio: 0.75,
            patch: 8,
        }),
        mixup: Some((MixupConfig::default(), 7)),
        ..Default::default()
    };
    let loader = Loader::new(&m.entries, view, cfg);
    let b = loader.epoch(DataOrder::new(1)).next().unwrap();
    assert_eq!(b.masks.len(), 4);
    assert!(
        b.masks
            .iter()
            .all(|m| m.masked.len() == 12 && m.visible.len() == 4)
    );
    let t = b.targets.unwrap();
    assert_eq!(t.len(), 4 * 7);
    assert!(b.clips.iter().all(|v| v.is_finite()));
}

#[test]
fn test_view_is_identical_for_a_video_and_its_frames_as_pngs() {
    let dir = temp_dir("view-folder");
    let frames = coded_frames(30, 64, 48);
    let folder = dir.join("frames");
    std::fs::create_dir_all(&folder).unwrap();
    for (i, f) in frames.iter().enumerate() {
        image::RgbImage::from_raw(64, 48, f.data.clone())
            .unwrap()
            .save(folder.join(format!("{}.png", i + 1)))
            .unwrap();
    }
    let mut view = ViewConfig::test();
    view.size = 24;
    view.clip.frames = 4;
    view.clip.stride = 4;
    let mut rng = rand::rng();
    let a = load_clips(&folder, &view, 1, &mut rng).unwrap();
    assert_eq!(a.frames_in_file, 30);
    assert_eq!(a.clips.len(), 2);
    // 8 strided frames 0,4,..,28: clip 0 = 0..12, clip 1 = 16..28.
    assert_eq!(a.clips[0].frame_indices, vec![0, 4, 8, 12]);
    assert_eq!(a.clips[1].frame_indices, vec![16, 20, 24, 28]);
    assert_eq!(a.clips[0].shape, [3, 4, 24, 24]);
    // The same frames as an mp4 give nearly the same tensor (lossy codec).
    let video = dir.join("v.mp4");
    svfap_tui::data::encode::write_video(&video, &frames, 25).unwrap();
    let b = load_clips(&video, &view, 1, &mut rng).unwrap();
    let mean_abs: f32 = a.clips[1]
        .data
        .iter()
        .zip(&b.clips[1].data)
        .map(|(x, y)| (x - y).abs())
        .sum::<f32>()
        / a.clips[1].data.len() as f32;
    assert!(
        mean_abs < 0.15,
        "folder and video views differ by {mean_abs}"
    );
}

#[test]
fn videos_shorter_than_the_clip_window_are_counted_and_named_once() {
    let (_dir, m) = demo("loader-short");
    let logged = Arc::new(Mutex::new(Vec::<String>::new()));
    let count_short = |view: ViewConfig| {
        let sink = logged.clone();
        let cfg = LoaderConfig {
            batch_size: 4,
            workers: 2,
            ..Default::default()
        };
        let loader = Loader::new(&m.entries, view, cfg).with_log(Arc::new(move |m: &str| {
            sink.lock().unwrap().push(m.to_string())
        }));
        for _ in 0..2 {
            let _ = run_epoch(&loader, DataOrder::new(3));
        }
        loader.stats().videos_short
    };
    // The demo videos have 40 frames: a window of 8 × 2 fits them.
    assert_eq!(count_short(small_view(ViewKind::Finetune)), 0);
    assert!(logged.lock().unwrap().is_empty());
    // 8 frames × stride 8 = 64 does not: every video of both epochs counts, one note says why.
    let mut long = small_view(ViewKind::Finetune);
    long.clip.stride = 8;
    assert_eq!(count_short(long), 2 * m.entries.len());
    let log = logged.lock().unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].contains("40 frames"), "{}", log[0]);
    assert!(log[0].contains("8 frames × stride 8 = 64"), "{}", log[0]);
}
