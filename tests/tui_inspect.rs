//! The Inspect view as a researcher uses it, through the headless driver and the real
//! binary: open a video from the view (typed path, Tab completion), the fine-tuned run
//! scores it as a worker process (`infer --inspect`), the view shows the window's frame with
//! the face, the timeline and the attention over the face; moving to another window and
//! pressing `a` computes that window's maps; `e` exports the timeline and the map.

mod common_tui;

use std::path::{Path, PathBuf};

use common_tui::*;
use svfap_tui::session::fixtures;
use svfap_tui::tui::{Action, App, Headless, View};

/// The fixture session with the tiny fine-tuned checkpoint as FINISHED's latest, the real
/// binary as the launcher, and a folder with a face video in it.
fn workbench(dir: &Path) -> (Headless, PathBuf) {
    let assets = assets(dir);
    let session = full_session(dir);
    let fixtures_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::copy(
        fixtures_dir.join("finetune_tiny.safetensors"),
        session
            .join("runs")
            .join(FINISHED)
            .join("checkpoints/step-000400.safetensors"),
    )
    .unwrap();
    let videos = dir.join("videos");
    std::fs::create_dir(&videos).unwrap();
    std::fs::copy(fixtures_dir.join("faces/pan.mp4"), videos.join("pan.mp4")).unwrap();
    std::fs::create_dir(videos.join("more")).unwrap();
    let mut o = options(&session, &assets);
    o.launcher = svfap_tui::session::Launcher::new(env!("CARGO_BIN_EXE_svfap-tui"));
    let h = App::headless(o, W, H, fixtures::NOW).expect("headless app");
    (h, videos)
}

fn type_text(h: &mut Headless, text: &str) {
    for c in text.chars() {
        h.act(Action::Char(c));
    }
}

fn screen(h: &Headless) -> String {
    text(&h.render())
}

#[test]
fn a_video_opened_in_inspect_is_scored_and_shows_its_face_timeline_and_attention() {
    let dir = tempfile::tempdir().unwrap();
    let (mut h, videos) = workbench(dir.path());
    select(&mut h, FINISHED);
    show(&mut h, View::Inspect);
    // The fixture session has one inspection already (of a video that is not on disk).
    assert_eq!(h.state().data.inspections.len(), 1);
    h.act(Action::OpenVideo);
    let s = screen(&h);
    assert!(s.contains("Open a video to inspect"), "{s}");
    assert!(s.contains(&format!("scored by {FINISHED}")), "{s}");
    // Type the folder and the start of the name; Tab completes it.
    type_text(&mut h, &format!("{}/p", videos.display()));
    h.act(Action::Complete);
    let typed = match &h.state().gui.dialog {
        Some(svfap_tui::tui::state::Dialog::OpenVideo(d)) => d.text.clone(),
        other => panic!("dialog: {other:?}"),
    };
    assert_eq!(typed, format!("{}/pan.mp4", videos.display()));
    // Enter scores it (the headless driver runs the worker to its end).
    h.act(Action::Select);
    assert!(h.state().gui.dialog.is_none(), "{:?}", h.state().gui.dialog);
    assert!(h.state().gui.busy.is_empty(), "{:?}", h.state().gui.busy);
    let data = h
        .state()
        .data
        .inspections
        .iter()
        .find(|i| i.name == format!("pan--{FINISHED}"))
        .expect("the new inspection is listed")
        .clone();
    let insp = data.inspection().expect("scored").clone();
    assert_eq!(insp.windows.len(), 2);
    assert_eq!(insp.run.as_deref(), Some(FINISHED));
    let peak = insp.peak_window().unwrap();
    assert_eq!(data.attention, vec![peak]);
    // The view opens on it, at the peak window, with the frame and the attention loaded.
    let s = screen(&h);
    assert!(s.contains("pan.mp4"), "{s}");
    assert!(
        s.contains(&format!("window {}/2", peak + 1)),
        "opens at the peak window: {s}"
    );
    assert!(s.contains("timeline"), "{s}");
    let frame = h
        .state()
        .images
        .inspect_frame
        .as_ref()
        .expect("frame drawn");
    assert!(frame.protocol.is_some(), "{:?}", frame.error);
    let attn = h
        .state()
        .images
        .inspect_attn
        .as_ref()
        .expect("attention drawn");
    assert_eq!(attn.key.step, peak as u64);
    assert!(
        attn.heat.is_some() && attn.overlays[0].is_some(),
        "{:?}",
        attn.error
    );
    assert!(
        attn.heat.as_ref().unwrap().label.contains("rollout"),
        "opens on the rollout"
    );
    // The other window has no maps yet; `a` computes them.
    let other = 1 - peak;
    h.act(if other > peak {
        Action::Right
    } else {
        Action::Left
    });
    let s = screen(&h);
    assert!(s.contains(&format!("window {}/2", other + 1)), "{s}");
    assert!(s.contains("press a to compute"), "{s}");
    h.act(Action::WindowAttention);
    let data = h
        .state()
        .data
        .inspections
        .iter()
        .find(|i| i.name == format!("pan--{FINISHED}"))
        .unwrap();
    assert_eq!(data.attention, vec![0, 1]);
    let attn = h.state().images.inspect_attn.as_ref().unwrap();
    assert_eq!(attn.key.step, other as u64);
    let map = attn.key.sel.map;
    // `]` picks the next map: the first block's self-attention after the rollout wraps.
    h.act(Action::NextMap);
    assert_ne!(
        h.state().images.inspect_attn.as_ref().unwrap().key.sel.map,
        map
    );
    // Export: the timeline (CSV and chart) and the map over the face.
    h.act(Action::Export);
    let exports = h.state().session.exports();
    let names: Vec<String> = std::fs::read_dir(&exports)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let csv = names
        .iter()
        .find(|n| n.ends_with("-timeline.csv"))
        .unwrap_or_else(|| panic!("{names:?}"));
    let rows = std::fs::read_to_string(exports.join(csv)).unwrap();
    assert_eq!(
        rows.lines().count(),
        1 + 2 + 1,
        "header, 2 windows, the video: {rows}"
    );
    assert!(
        names.iter().any(|n| n.ends_with("-timeline.png")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.contains("attention-over-face") && n.ends_with(".png")),
        "{names:?}"
    );
    // Up/Down walk the session's inspections.
    h.act(Action::Up);
    assert!(screen(&h).contains("video.mp4"), "the fixture's inspection");
    h.act(Action::Down);
    assert!(screen(&h).contains("pan.mp4"));
}

#[test]
fn a_folder_is_entered_and_a_file_that_is_not_a_video_fails_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (mut h, videos) = workbench(dir.path());
    select(&mut h, FINISHED);
    show(&mut h, View::Inspect);
    h.act(Action::OpenVideo);
    type_text(&mut h, &videos.display().to_string());
    // Enter on a folder of videos goes into it and lists what is there.
    h.act(Action::Select);
    let s = screen(&h);
    assert!(s.contains("more/") && s.contains("pan.mp4"), "{s}");
    let bad = videos.join("notes.mp4");
    std::fs::write(&bad, "not a video").unwrap();
    h.act(Action::Back);
    h.act(Action::OpenVideo);
    type_text(&mut h, &bad.display().to_string());
    h.act(Action::Select);
    let s = screen(&h);
    assert!(s.contains("failed"), "{s}");
    assert!(s.contains("notes.mp4"), "the error names the file: {s}");
    h.act(Action::Back);
    let s = screen(&h);
    assert!(s.contains("not scored"), "{s}");
}
