//! `infer`, `features` and `data clip` through the real binary on a tiny fine-tuned run:
//! the checkpoint carries its clip geometry and label names; one video gives a timeline of
//! windows whose mean is the video's prediction; a manifest reproduces the run's own
//! evaluation; a folder lists what it cannot read and goes on; features have the documented
//! shapes and do not change between runs.

mod common_cli;
mod common_runs;

use std::path::{Path, PathBuf};

use common_cli::{ok, svfap};
use common_runs::{demo_data, only_run, session, write_config};
use serde_json::Value;

/// A fine-tuned `test`-preset run (stride 2, 2 test clips) and its latest checkpoint.
fn finetuned() -> (PathBuf, PathBuf) {
    static RUN: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let s = session("infer");
        let cfg = write_config(&s, "finetune", "init = \"\"");
        ok(svfap(&[
            "launch",
            cfg.to_str().unwrap(),
            "--session",
            s.to_str().unwrap(),
        ]));
        let run = only_run(&s);
        let stem = std::fs::read_to_string(run.latest_pointer()).unwrap();
        let ckpt = run
            .checkpoints()
            .join(format!("{}.safetensors", stem.trim()));
        (run.root.clone(), ckpt)
    })
    .clone()
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn a_test_video() -> PathBuf {
    demo_data().join("videos/test/00000.mp4")
}

#[test]
fn one_video_gives_a_timeline_whose_mean_is_the_video_prediction() {
    let (_, ckpt) = finetuned();
    let video = a_test_video();
    let out = ok(svfap(&[
        "infer",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        video.to_str().unwrap(),
        "--json",
    ]));
    let v = json(&out);
    // The test preset: 8 frames, stride 2 from the run config = a 16-frame window; the demo
    // video has 16 frames at 25 fps: one window covering all of it.
    assert_eq!(v["clip"]["frames"], 8);
    assert_eq!(v["clip"]["stride"], 2);
    assert_eq!(v["clip"]["size"], 32);
    assert_eq!(
        v["labels"][0], "happy",
        "label names come from the checkpoint"
    );
    let windows = v["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(v["fps"], 25.0);
    // Windows every 4 frames (0.16 s): starts 0, 4, 8 and the tail at 8 is not repeated.
    let out = ok(svfap(&[
        "infer",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        video.to_str().unwrap(),
        "--json",
        "--stride",
        "1",
        "--window-stride",
        "0.16",
    ]));
    let v = json(&out);
    let windows = v["windows"].as_array().unwrap();
    let firsts: Vec<u64> = windows
        .iter()
        .map(|w| w["first_frame"].as_u64().unwrap())
        .collect();
    assert_eq!(firsts, vec![0, 4, 8]);
    assert_eq!(
        windows[1]["frames"],
        serde_json::json!([4, 5, 6, 7, 8, 9, 10, 11])
    );
    assert!((windows[1]["start_s"].as_f64().unwrap() - 0.16).abs() < 1e-9);
    let k = 7;
    let mut mean = vec![0.0; k];
    for w in windows {
        let p = floats(&w["probs"]);
        assert_eq!(p.len(), k);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-4, "{p:?}");
        for (m, x) in mean.iter_mut().zip(&p) {
            *m += x / windows.len() as f64;
        }
    }
    let video_probs = floats(&v["video"]["probs"]);
    for (a, b) in mean.iter().zip(&video_probs) {
        assert!((a - b).abs() < 1e-5, "{mean:?} vs {video_probs:?}");
    }
    // The same timeline as CSV: a header, a row per window, the video row.
    let csv = ok(svfap(&[
        "infer",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        video.to_str().unwrap(),
        "--csv",
        "--stride",
        "1",
        "--window-stride",
        "0.16",
    ]));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[0].starts_with("window,start_s,end_s,first_frame,last_frame,happy,"));
    assert!(lines[4].starts_with("video,0.000,0.640,0,15,"), "{csv}");
    // And for people: a table with the names.
    let table = ok(svfap(&[
        "infer",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        video.to_str().unwrap(),
    ]));
    assert!(
        table.contains("1 window(s) of 8 frames × stride 2 at 32²"),
        "{table}"
    );
    assert!(table.contains("video (mean of 1 windows"), "{table}");
}

#[test]
fn a_manifest_reproduces_the_runs_own_evaluation() {
    let (run, ckpt) = finetuned();
    let report_file = std::fs::read_dir(run.join("eval"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("the run evaluated");
    let eval = json(&std::fs::read_to_string(&report_file).unwrap());
    let manifest = demo_data().join("test.csv");
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("report.json");
    let out = ok(svfap(&[
        "infer",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        manifest.to_str().unwrap(),
        "--json",
        "--report",
        ours.to_str().unwrap(),
    ]));
    let v = json(&out);
    let videos = v["videos"].as_array().unwrap();
    let preds = eval["predictions"].as_array().unwrap();
    assert_eq!(videos.len(), preds.len());
    for (ours, theirs) in videos.iter().zip(preds) {
        assert_eq!(ours["label"], theirs["label"]);
        for (a, b) in floats(&ours["probs"]).iter().zip(floats(&theirs["probs"])) {
            assert!((a - b).abs() < 1e-4, "{ours} vs {theirs}");
        }
        assert_eq!(
            ours["clips"].as_array().unwrap().len(),
            2,
            "test_clips from the checkpoint"
        );
    }
    let written = json(&std::fs::read_to_string(&ours).unwrap());
    for m in ["uar", "war"] {
        let (a, b) = (
            written["metrics"][m].as_f64().unwrap(),
            eval["metrics"][m].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-9, "{m}: {a} vs {b}");
        assert_eq!(v["metrics"][m], written["metrics"][m]);
    }
}

#[test]
fn a_folder_lists_what_it_cannot_read_and_goes_on() {
    let (_, ckpt) = finetuned();
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.mp4", "b.mp4"] {
        std::fs::copy(a_test_video(), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("broken.mp4"), b"not a video at all").unwrap();
    let out = svfap(&[
        "infer",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    let text = ok(out);
    assert!(text.contains("a.mp4") && text.contains("b.mp4"), "{text}");
    assert!(
        text.contains("skipped") && text.contains("broken.mp4"),
        "{text}"
    );
    assert!(text.contains("2 video(s), 4 clip(s)"), "{text}");
    assert!(text.contains("1 skipped"), "{text}");
}

#[test]
fn data_clip_takes_the_checkpoints_geometry_so_infer_accepts_the_clip() {
    let (_, ckpt) = finetuned();
    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("clip.npy");
    let out = ok(svfap(&[
        "data",
        "clip",
        a_test_video().to_str().unwrap(),
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--out",
        npy.to_str().unwrap(),
    ]));
    assert!(out.contains("[3, 8, 32, 32]"), "{out}");
    let v = json(&ok(svfap(&[
        "infer",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        npy.to_str().unwrap(),
        "--json",
    ])));
    assert!((floats(&v["probs"]).iter().sum::<f64>() - 1.0).abs() < 1e-4);
}

fn tensor(path: &Path, name: &str) -> (Vec<usize>, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let t = st.tensor(name).unwrap();
    (t.shape().to_vec(), t.data().to_vec())
}

#[test]
fn features_have_the_documented_shapes_and_repeat_exactly() {
    let (_, ckpt) = finetuned();
    let dir = tempfile::tempdir().unwrap();
    let manifest = demo_data().join("test.csv");
    let run = |out: &Path| {
        ok(svfap(&[
            "features",
            "--checkpoint",
            ckpt.to_str().unwrap(),
            manifest.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]))
    };
    let (a, b) = (
        dir.path().join("a.safetensors"),
        dir.path().join("b.safetensors"),
    );
    let text = run(&a);
    run(&b);
    assert!(
        text.contains("7 video(s), 14 clip(s), 32 features each"),
        "{text}"
    );
    let (shape, va) = tensor(&a, "video_features");
    assert_eq!(shape, vec![7, 32]);
    assert_eq!(tensor(&a, "clip_features").0, vec![14, 32]);
    assert_eq!(
        va,
        tensor(&b, "video_features").1,
        "features repeat exactly"
    );
    let index = std::fs::read_to_string(dir.path().join("a.index.csv")).unwrap();
    assert_eq!(index.lines().count(), 15, "{index}");
    assert!(
        index
            .lines()
            .nth(2)
            .unwrap()
            .starts_with("1,0,videos/test/00000.mp4,"),
        "{index}"
    );
    // The per-video row is the mean of its two clips.
    let floats = |(_, b): (Vec<usize>, Vec<u8>)| -> Vec<f32> {
        b.chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    let (v, c) = (
        floats(tensor(&a, "video_features")),
        floats(tensor(&a, "clip_features")),
    );
    for d in 0..32 {
        assert!((v[d] - (c[d] + c[32 + d]) / 2.0).abs() < 1e-5);
    }
}

fn face_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/faces")
        .join(name)
}

/// A still `image` as a `frames`-frame mp4 (32-px multiple sides for the encoder).
fn still_video(image: &str, frames: usize, out: &Path) {
    let img = image::open(face_fixture(image)).unwrap().into_rgb8();
    let img = image::imageops::resize(&img, 320, 240, image::imageops::FilterType::Triangle);
    let frame = svfap_tui::data::frame::Frame::new(320, 240, img.into_raw());
    svfap_tui::data::encode::write_video(out, &vec![frame; frames], 25).unwrap();
}

#[test]
fn raw_videos_become_face_clips_then_predictions_and_features() {
    let (_, ckpt) = finetuned();
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw");
    std::fs::create_dir(&raw).unwrap();
    std::fs::copy(face_fixture("pan.mp4"), raw.join("pan.mp4")).unwrap();
    std::fs::copy(face_fixture("cut.mp4"), raw.join("cut.mp4")).unwrap();
    still_video("coffee.png", 10, &raw.join("cup.mp4"));
    still_video("astronaut.png", 1, &raw.join("one_frame.mp4"));
    std::fs::write(
        raw.join("labels.csv"),
        "pan.mp4 3\ncut.mp4 0\ncup.mp4 5\none_frame.mp4 1\n",
    )
    .unwrap();
    let out = dir.path().join("faces");
    let faces = |what: &Path| {
        ok(svfap(&[
            "data",
            "faces",
            what.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--size",
            "64",
        ]))
    };
    let text = faces(&raw.join("labels.csv"));
    assert!(
        text.contains("4 video(s): 3 written, 0 already done, 1 without a face, 0 failed"),
        "{text}"
    );
    assert!(text.contains("no face: cup.mp4"), "{text}");
    assert!(
        text.contains("cut.mp4: face missing on"),
        "the cut to the cup is reported: {text}"
    );
    let manifest = std::fs::read_to_string(out.join("manifest.csv")).unwrap();
    assert_eq!(
        manifest, "pan 3\ncut 0\none_frame 1\n",
        "labels carried over"
    );
    assert_eq!(std::fs::read_dir(out.join("pan")).unwrap().count(), 75);
    let crop = image::open(out.join("pan/00001.jpg")).unwrap();
    assert_eq!((crop.width(), crop.height()), (64, 64));
    let report = json(&std::fs::read_to_string(out.join("faces-report.json")).unwrap());
    let pan = &report["videos"][0];
    assert_eq!(
        (pan["status"].as_str(), pan["missing"].as_u64()),
        (Some("written"), Some(0))
    );
    // Resumable: a second run skips the finished clips and keeps the same manifest.
    let again = faces(&raw.join("labels.csv"));
    assert!(
        again.contains("0 written, 3 already done, 1 without a face"),
        "{again}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("manifest.csv")).unwrap(),
        manifest
    );
    // The face clips through the model: a row each, labels scored.
    let v = json(&ok(svfap(&[
        "infer",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        out.join("manifest.csv").to_str().unwrap(),
        "--json",
    ])));
    assert_eq!(v["videos"].as_array().unwrap().len(), 3);
    assert!(v["metrics"]["war"].is_number(), "{v}");
    // Features of the same clips.
    let feats = dir.path().join("f.npy");
    let text = ok(svfap(&[
        "features",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        out.join("manifest.csv").to_str().unwrap(),
        "--out",
        feats.to_str().unwrap(),
    ]));
    assert!(
        text.contains("3 video(s), 6 clip(s), 32 features each"),
        "{text}"
    );
    assert_eq!(svfap_tui::npy::read_f32(&feats).unwrap().shape, vec![3, 32]);
    // One raw video straight to a timeline, the face found and the cut reported.
    let v = json(&ok(svfap(&[
        "infer",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        raw.join("cut.mp4").to_str().unwrap(),
        "--json",
    ])));
    let f = &v["faces"];
    assert_eq!(f["frames"], 75);
    assert!(
        f["missing"].as_u64().unwrap() > 0 && f["detected"].as_u64().unwrap() > 0,
        "{f}"
    );
    // A video without any face still gets a prediction (centre crops), and says so.
    let table = ok(svfap(&[
        "infer",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        raw.join("cup.mp4").to_str().unwrap(),
    ]));
    assert!(table.contains("face: on 0 of 10 frames"), "{table}");
    // --no-faces: no face step at all.
    let v = json(&ok(svfap(&[
        "infer",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        raw.join("cut.mp4").to_str().unwrap(),
        "--json",
        "--no-faces",
    ])));
    assert!(v["faces"].is_null());
}

/// `infer --inspect DIR` keeps what the workbench's Inspect view shows: the face on every
/// frame, each window's middle frame, the timeline, and the attention maps of the window
/// where the predicted class peaks; `--attention-window N` then adds a window's maps
/// without scoring the video again.
#[test]
fn inspect_keeps_the_faces_frames_timeline_and_attention_of_one_video() {
    let ckpt =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/finetune_tiny.safetensors");
    let video = face_fixture("pan.mp4");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pan--tiny");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "infer",
            "--checkpoint",
            ckpt.to_str().unwrap(),
            video.to_str().unwrap(),
            "--inspect",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&str]| svfap(&args(extra).iter().map(String::as_str).collect::<Vec<_>>());
    let table = ok(run(&[]));
    // The printed timeline counts windows from 1, as --attention-window does.
    assert!(table.contains("\n     1   0:00.00"), "{table}");
    let d = svfap_tui::session::inspection::InspectionDir::new(&out);
    let insp = d.read().unwrap();
    assert_eq!(insp.frames, 75);
    assert_eq!(insp.frame_size, [320, 240], "the file's own frame size");
    assert_eq!(insp.windows.len(), 2);
    assert_eq!(insp.align, "landmarks");
    let faces = d.read_faces().unwrap();
    assert_eq!(faces.len(), 75, "a face entry per frame");
    assert!(
        faces.iter().all(Option::is_some),
        "the pan keeps the face in view"
    );
    for (i, w) in insp.windows.iter().enumerate() {
        assert!((w.probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert_eq!(w.frames.len(), insp.clip_frames);
        assert_eq!(
            w.face, faces[w.shown_frame],
            "window {i}'s face is its shown frame's"
        );
        let img = image::open(d.frame(i)).unwrap();
        assert_eq!(
            (img.width(), img.height()),
            (320, 240),
            "small frames stay as they are"
        );
    }
    let peak = insp.peak_window().unwrap();
    assert_eq!(
        d.attention_windows(),
        vec![peak],
        "the peak window's maps come with it"
    );
    let meta = svfap_tui::session::AttnMeta::read(&d.attn(peak)).unwrap();
    assert!(meta.maps.iter().any(|m| m.kind == "rollout"));
    assert_eq!(
        meta.frames.len(),
        insp.clip_frames,
        "the face clip's frames are kept"
    );
    // Another window's maps only: the timeline is not written again.
    let written = std::fs::metadata(d.record()).unwrap().modified().unwrap();
    let other = 1 - peak;
    let out2 = run(&["--attention-window", &(other + 1).to_string()]);
    ok(out2);
    assert_eq!(d.attention_windows(), vec![0, 1]);
    assert_eq!(
        std::fs::metadata(d.record()).unwrap().modified().unwrap(),
        written
    );
    // Bad requests are named.
    let err = run(&["--attention-window", "9"]);
    assert!(!err.status.success());
    let text = String::from_utf8_lossy(&err.stderr);
    assert!(
        text.contains("window 9 does not exist") && text.contains("2 windows"),
        "{text}"
    );
    let manifest = dir.path().join("m.csv");
    std::fs::write(&manifest, format!("{} 0\n", video.display())).unwrap();
    let err = svfap(&[
        "infer",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        manifest.to_str().unwrap(),
        "--inspect",
        out.to_str().unwrap(),
    ]);
    assert!(!err.status.success());
    let text = String::from_utf8_lossy(&err.stderr);
    assert!(text.contains("--inspect: looks at one video"), "{text}");
}
