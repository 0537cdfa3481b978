//! Frame packs: what a loader takes from a pack is what it would have decoded, an entry whose
//! source changed is not used, an interrupted pack resumes, and bad files are named.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::frame::Frame;
use super::frame_pack::{FramePack, PackLookup, PackedSize};
use super::frame_pack_writer::FramePackWriter;
use super::source::{ClipSource, DecodeOptions, Resize};
use super::view::{ViewConfig, ViewKind, load_clips, load_clips_packed};

/// A folder of `n` PNG frames, `w × h`, each different.
fn frame_folder(dir: &Path, name: &str, n: usize, w: usize, h: usize) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..n {
        let data: Vec<u8> = (0..w * h * 3)
            .map(|k| ((k * 7 + i * 31 + (k / (w * 3)) * 13) % 251) as u8)
            .collect();
        let img = image::RgbImage::from_raw(w as u32, h as u32, data).unwrap();
        img.save(folder.join(format!("{:05}.png", i + 1))).unwrap();
    }
    folder
}

fn pack_of(out: &Path, size: PackedSize, sources: &[&Path]) -> FramePack {
    let w = FramePackWriter::create_or_resume(out, size).unwrap();
    for s in sources {
        w.add(s).unwrap();
    }
    w.finish().unwrap();
    FramePack::open(out).unwrap()
}

fn views() -> Vec<ViewConfig> {
    [ViewKind::Test, ViewKind::Finetune, ViewKind::Pretrain]
        .map(|k| {
            let mut v = ViewConfig::new(k);
            v.size = 32;
            v.clip.frames = 4;
            v.clip.stride = 2;
            v.pretrain.fixed_crop = None;
            v
        })
        .to_vec()
}

fn clips(path: &Path, pack: Option<&Arc<FramePack>>, view: &ViewConfig) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(7);
    let loaded = match pack {
        Some(p) => load_clips_packed(path, Some(p), view, 1, &mut rng).unwrap(),
        None => load_clips(path, view, 1, &mut rng).unwrap(),
    };
    loaded.clips.into_iter().map(|c| c.data).collect()
}

#[test]
fn every_view_gets_the_same_clips_from_a_pack_of_folders_as_from_the_folders() {
    let dir = tempfile::tempdir().unwrap();
    let a = frame_folder(dir.path(), "a", 12, 48, 40);
    let b = frame_folder(dir.path(), "b", 5, 40, 48);
    let pack = Arc::new(pack_of(
        &dir.path().join("p.pack"),
        PackedSize::Native,
        &[&a, &b],
    ));
    assert_eq!(pack.videos().len(), 2);
    for view in views() {
        for src in [&a, &b] {
            let mut rng = StdRng::seed_from_u64(7);
            let got = load_clips_packed(src, Some(&pack), &view, 1, &mut rng).unwrap();
            // Native folder frames serve every view, the test view's resize included.
            assert!(
                matches!(got.pack, Some(PackLookup::Hit(_))),
                "{:?}",
                view.kind
            );
            assert_eq!(got.frames_decoded, 0);
            assert_eq!(
                clips(src, Some(&pack), &view),
                clips(src, None, &view),
                "{:?}",
                view.kind
            );
        }
    }
}

#[test]
fn a_packed_frame_is_the_decoded_frame() {
    let dir = tempfile::tempdir().unwrap();
    let a = frame_folder(dir.path(), "a", 6, 20, 16);
    let pack = Arc::new(pack_of(
        &dir.path().join("p.pack"),
        PackedSize::ShortSide(8),
        &[&a],
    ));
    let opts = DecodeOptions {
        resize: Resize::ShortSide(8),
        ..Default::default()
    };
    let want = ClipSource::open(&a, &opts)
        .unwrap()
        .read(&[0, 3, 5], &opts)
        .unwrap();
    let (mut src, found) = ClipSource::open_packed(&a, Some(&pack), &opts).unwrap();
    assert_eq!(found, Some(PackLookup::Hit(0)));
    let got = src.read(&[0, 3, 5], &opts).unwrap();
    assert_eq!(got.frames, want.frames);
    assert_eq!((got.frames[0].width, got.frames[0].height), (10, 8));
    // Another size than the pack's cannot be served from frames already scaled.
    assert_eq!(pack.lookup(&a, Resize::Native), PackLookup::OtherSize);
    assert_eq!(
        pack.lookup(&dir.path().join("x"), Resize::ShortSide(8)),
        PackLookup::Missing
    );
}

#[cfg(feature = "video")]
#[test]
fn a_video_packs_frame_for_frame_and_its_clips_match() {
    let video = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/faces/pan.mp4");
    let dir = tempfile::tempdir().unwrap();
    let pack = Arc::new(pack_of(
        &dir.path().join("v.pack"),
        PackedSize::Native,
        &[&video],
    ));
    let opts = DecodeOptions::default();
    let mut file = ClipSource::open(&video, &opts).unwrap();
    let all: Vec<usize> = (0..file.len()).collect();
    let want: Vec<Frame> = file.read(&all, &opts).unwrap().frames;
    let (mut packed, _) = ClipSource::open_packed(&video, Some(&pack), &opts).unwrap();
    assert_eq!(packed.len(), want.len());
    assert_eq!(packed.fps(), file.fps());
    assert_eq!(packed.read(&all, &opts).unwrap().frames, want);
    for view in views().into_iter().filter(|v| v.kind != ViewKind::Test) {
        assert_eq!(
            clips(&video, Some(&pack), &view),
            clips(&video, None, &view)
        );
    }
    // A video's decoder scales with FFmpeg: a native pack does not stand in for it.
    assert_eq!(
        pack.lookup(&video, Resize::ShortSide(32)),
        PackLookup::OtherSize
    );
}

#[test]
fn a_source_changed_after_packing_is_decoded_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = frame_folder(dir.path(), "a", 6, 20, 16);
    let pack = Arc::new(pack_of(
        &dir.path().join("p.pack"),
        PackedSize::Native,
        &[&a],
    ));
    std::fs::remove_file(a.join("00006.png")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(a.join("extra.txt"), "x").unwrap();
    let view = &views()[1];
    let mut rng = StdRng::seed_from_u64(7);
    let got = load_clips_packed(&a, Some(&pack), view, 1, &mut rng).unwrap();
    assert_eq!(got.pack, Some(PackLookup::Stale));
    assert_eq!(got.frames_in_file, 5);
}

#[test]
fn an_interrupted_pack_resumes_and_keeps_what_it_had_written() {
    let dir = tempfile::tempdir().unwrap();
    let a = frame_folder(dir.path(), "a", 4, 16, 16);
    let b = frame_folder(dir.path(), "b", 3, 24, 16);
    let out = dir.path().join("p.pack");
    {
        let w = FramePackWriter::create_or_resume(&out, PackedSize::Native).unwrap();
        w.add(&a).unwrap();
        // Dropped unfinished: the process was killed.
    }
    // The journal's last line was cut mid-write.
    let journal = dir.path().join("p.pack.partial.jsonl");
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str("{\"source\":\"/cut");
    std::fs::write(&journal, text).unwrap();
    assert!(
        FramePack::open(&out).is_err(),
        "nothing is in place before finish"
    );
    let again = FramePackWriter::create_or_resume(&out, PackedSize::ShortSide(8));
    let err = again.err().expect("another size is refused").to_string();
    assert!(
        err.contains("native size") && err.contains("short side 8"),
        "{err}"
    );
    let w = FramePackWriter::create_or_resume(&out, PackedSize::Native).unwrap();
    let done = w.packed_sources();
    assert_eq!(done.len(), 1);
    assert!(done.contains(&std::fs::canonicalize(&a).unwrap()));
    w.add(&b).unwrap();
    let summary = w.finish().unwrap();
    assert_eq!((summary.videos, summary.frames), (2, 7));
    assert!(!journal.exists());
    let pack = FramePack::open(&out).unwrap();
    let opts = DecodeOptions::default();
    for src in [&a, &b] {
        let (mut p, found) =
            ClipSource::open_packed(src, Some(&Arc::new(FramePack::open(&out).unwrap())), &opts)
                .unwrap();
        assert!(matches!(found, Some(PackLookup::Hit(_))));
        let n = p.len();
        let all: Vec<usize> = (0..n).collect();
        let want = ClipSource::open(src, &opts)
            .unwrap()
            .read(&all, &opts)
            .unwrap();
        assert_eq!(p.read(&all, &opts).unwrap().frames, want.frames);
    }
    assert_eq!(pack.videos().len(), 2);
}

#[test]
fn files_that_are_not_finished_packs_are_named_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, this is not a pack at all, but long enough to have a trailer: 0123456789 0123456789").unwrap();
    let err = FramePack::open(&text).unwrap_err().to_string();
    assert!(
        err.contains("notes.txt") && err.contains("not a frame pack"),
        "{err}"
    );
    let a = frame_folder(dir.path(), "a", 2, 8, 8);
    let out = dir.path().join("p.pack");
    let w = FramePackWriter::create_or_resume(&out, PackedSize::Native).unwrap();
    w.add(&a).unwrap();
    drop(w);
    let err = FramePack::open(&dir.path().join("p.pack.partial"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not finished"), "{err}");
    let err = FramePack::open(&dir.path().join("missing.pack"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing.pack") && err.contains("no such file"),
        "{err}"
    );
    let w = FramePackWriter::create_or_resume(&out, PackedSize::Native).unwrap();
    let err = w.add(&dir.path().join("gone")).unwrap_err().to_string();
    assert!(
        err.contains("gone") && err.contains("no such file"),
        "{err}"
    );
}
