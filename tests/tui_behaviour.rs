//! Behaviour through the headless driver: actions in, state out.

mod common_tui;

use common_tui::*;
use svfap_tui::session::fixtures;
use svfap_tui::session::metrics::MetricsWriter;
use svfap_tui::tui::run_data::ShownState;
use svfap_tui::tui::state::{Dialog, Level};
use svfap_tui::tui::{Action, App, View};

fn all_actions() -> Vec<Action> {
    let mut v: Vec<Action> = Action::ALL
        .iter()
        .filter(|a| {
            !matches!(
                a,
                Action::Quit
                    | Action::Delete
                    | Action::Stop
                    | Action::Launch
                    | Action::DemoPretrain
                    | Action::DemoFinetune
                    | Action::Resume
                    | Action::Duplicate
                    | Action::Export
            )
        })
        .cloned()
        .collect();
    v.extend([Action::Char('x'), Action::Backspace, Action::Back]);
    v
}

#[test]
fn keys_pressed_before_any_data_exists_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    // A session folder that does not exist yet, and a config folder that does not exist.
    let mut h = App::headless(
        options(
            &dir.path().join("new-session"),
            &dir.path().join("no-assets"),
        ),
        W,
        H,
        fixtures::NOW,
    )
    .unwrap();
    for view in View::ALL {
        show(&mut h, view);
        for a in all_actions() {
            h.act(a);
            h.act(Action::Back);
            show(&mut h, view);
            let _ = h.render();
        }
    }
    show(&mut h, View::Runs);
    h.act(Action::Launch);
    assert!(
        matches!(&h.state().gui.dialog, Some(Dialog::Launch(_))),
        "the built-in configs are offered without any config folder"
    );
    h.act(Action::Back);
    assert!(h.state().gui.dialog.is_none(), "Esc closes the dialog");
    assert!(dir.path().join("new-session/session.toml").exists());
}

#[test]
fn every_view_survives_a_20_by_5_terminal_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    select(&mut h, DONE_PRETRAIN);
    for (w, hh) in [(20, 5), (1, 1), (0, 0), (200, 60), (20, 5)] {
        h.act(Action::Resize(w, hh));
        for view in View::ALL {
            show(&mut h, view);
            let _ = h.render();
            h.act(Action::Help);
            let _ = h.render();
            h.act(Action::Back);
        }
    }
    h.act(Action::Resize(20, 5));
    show(&mut h, View::Runs);
    let t = text(&h.render());
    assert_eq!(t.lines().count(), 5);
}

#[test]
fn runs_appearing_and_vanishing_keep_a_sensible_selection() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let mut h = headless(&root, &assets);
    select(&mut h, FINISHED);
    show(&mut h, View::Monitor);
    // The selected run's folder is deleted while shown.
    std::fs::remove_dir_all(root.join("runs").join(FINISHED)).unwrap();
    h.act(Action::Refresh);
    assert_eq!(h.state().data.runs.len(), 4);
    let now = h.state().selected_run().unwrap().summary.id.clone();
    assert_ne!(now, FINISHED);
    let _ = h.render();
    // A new run appears.
    let s = svfap_tui::session::SessionDir::new(&root);
    fixtures::finished_finetune(&s, "late", 0.001, 0.7).unwrap();
    h.act(Action::Refresh);
    assert!(
        h.state()
            .data
            .run("finetune-20251231-220000-late")
            .is_some()
    );
    // Everything vanishes.
    std::fs::remove_dir_all(root.join("runs")).unwrap();
    h.act(Action::Refresh);
    assert!(h.state().data.runs.is_empty());
    for v in View::ALL {
        show(&mut h, v);
        let _ = h.render();
    }
}

#[test]
fn torn_metric_lines_wait_until_complete() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let mut h = headless(&root, &assets);
    let count = |h: &svfap_tui::tui::Headless| {
        h.state()
            .data
            .run(RUNNING)
            .unwrap()
            .metrics
            .get("train", "loss")
            .unwrap()
            .count()
    };
    let before = count(&h);
    let path = root.join("runs").join(RUNNING).join("metrics.jsonl");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(br#"{"step":201,"epoch":5,"split":"train","name":"lo"#)
        .unwrap();
    h.act(Action::Refresh);
    assert_eq!(count(&h), before);
    assert_eq!(h.state().data.run(RUNNING).unwrap().metrics.bad_lines, 0);
    f.write_all(b"ss\",\"value\":0.1,\"time\":0}\n").unwrap();
    h.act(Action::Refresh);
    assert_eq!(count(&h), before + 1);
    // More lines through the writer.
    let mut w = MetricsWriter::open(&path).unwrap();
    w.log(202, 5, "val", "uar", 0.5).unwrap();
    h.act(Action::Refresh);
    assert!(
        h.state()
            .data
            .run(RUNNING)
            .unwrap()
            .metrics
            .get("val", "uar")
            .is_some()
    );
}

#[test]
fn filter_narrows_the_runs_and_esc_clears_it() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    h.act(Action::Filter);
    for c in "pretrain".chars() {
        h.act(Action::Char(c));
    }
    assert_eq!(h.state().visible_runs().len(), 2);
    h.act(Action::Select);
    assert!(!h.state().gui.filtering);
    assert_eq!(h.state().visible_runs().len(), 2);
    h.act(Action::Filter).act(Action::Back);
    assert_eq!(h.state().visible_runs().len(), 5);
    h.act(Action::Filter);
    for c in "failed".chars() {
        h.act(Action::Char(c));
    }
    assert_eq!(h.state().selected_run().unwrap().summary.id, FAILED);
}

#[test]
fn ui_state_is_saved_in_session_toml_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let mut h = headless(&root, &assets);
    select(&mut h, FAILED);
    h.act(Action::ViewCompare)
        .act(Action::NextTheme)
        .act(Action::Filter)
        .act(Action::Char('f'))
        .act(Action::Select);
    h.app.save_ui_state().unwrap();
    let text = std::fs::read_to_string(root.join("session.toml")).unwrap();
    assert!(
        text.contains("view = \"compare\"")
            && text.contains("theme = \"light\"")
            && text.contains(FAILED),
        "{text}"
    );
    let h2 = headless(&root, &assets);
    assert_eq!(h2.state().gui.view, View::Compare);
    assert_eq!(h2.state().theme.name, "light");
    assert_eq!(h2.state().gui.filter, "f");
    assert_eq!(h2.state().selected_run().unwrap().summary.id, FAILED);
}

#[test]
fn launch_dialog_validates_fields_and_spawns_launch() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let mut o = options(&root, &assets);
    o.launcher = svfap_tui::session::Launcher::new(stand_in(dir.path(), 0, "launched pretrain-x"));
    let mut h = App::headless(o, W, H, fixtures::NOW).unwrap();
    h.act(Action::Launch);
    let Some(Dialog::Launch(d)) = &h.state().gui.dialog else {
        panic!("launch dialog")
    };
    assert_eq!(d.picked, None);
    h.act(Action::Select); // demo-finetune (sorted first)
    let Some(Dialog::Launch(d)) = &h.state().gui.dialog else {
        panic!()
    };
    let lr = d
        .fields
        .iter()
        .position(|f| f.path == "optim.base_lr")
        .unwrap();
    assert_eq!(d.fields[0].path, "kind");
    for _ in 0..lr {
        h.act(Action::Down);
    }
    h.act(Action::Select);
    for _ in 0..10 {
        h.act(Action::Backspace);
    }
    for c in "fast".chars() {
        h.act(Action::Char(c));
    }
    h.act(Action::Select);
    let Some(Dialog::Launch(d)) = &h.state().gui.dialog else {
        panic!()
    };
    assert!(
        d.fields[lr]
            .error
            .as_deref()
            .unwrap()
            .contains("not a number")
    );
    // Try to launch: refused.
    h.act(Action::Bottom);
    for _ in 0..30 {
        h.act(Action::Down);
    }
    h.act(Action::Select);
    let Some(Dialog::Launch(d)) = &h.state().gui.dialog else {
        panic!("still open")
    };
    assert!(d.error.is_some());
    assert!(calls(dir.path()).is_empty());
    // Fix it and launch.
    for _ in 0..30 {
        h.act(Action::Up);
    }
    for _ in 0..lr {
        h.act(Action::Down);
    }
    h.act(Action::Select);
    for _ in 0..4 {
        h.act(Action::Backspace);
    }
    for c in "0.0005".chars() {
        h.act(Action::Char(c));
    }
    h.act(Action::Select);
    for _ in 0..30 {
        h.act(Action::Down);
    }
    h.act(Action::Select);
    assert!(h.state().gui.dialog.is_none(), "{:?}", h.state().gui.dialog);
    let c = calls(dir.path());
    assert!(
        c.starts_with("launch ") && c.contains(" --session ") && c.trim_end().ends_with("--detach"),
        "{c}"
    );
    let cfg = c.split_whitespace().nth(1).unwrap();
    let text = std::fs::read_to_string(cfg).unwrap();
    assert!(text.contains("lr = 0.0005"), "{text}");
    assert!(
        h.state()
            .gui
            .status
            .as_ref()
            .unwrap()
            .0
            .contains("launched pretrain-x")
    );
}

#[test]
fn a_failing_command_shows_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let mut o = options(&root, &assets);
    o.launcher =
        svfap_tui::session::Launcher::new(stand_in(dir.path(), 3, "error: demo data: disk full"));
    let mut h = App::headless(o, W, H, fixtures::NOW).unwrap();
    h.act(Action::DemoPretrain);
    assert!(
        calls(dir.path()).starts_with("demo-data "),
        "{}",
        calls(dir.path())
    );
    let Some(Dialog::Message { text, level, .. }) = &h.state().gui.dialog else {
        panic!("{:?}", h.state().gui.dialog)
    };
    assert!(text.contains("disk full"), "{text}");
    assert_eq!(*level, Level::Error);
    assert!(h.state().gui.busy.is_empty());
    let _ = snapshot_text(&h);
}

fn snapshot_text(h: &svfap_tui::tui::Headless) -> String {
    text(&h.render())
}

#[test]
fn demo_keys_make_data_then_launch_the_demo_configs() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = empty_session(dir.path());
    let mut o = options(&root, &assets);
    o.launcher = svfap_tui::session::Launcher::new(stand_in(dir.path(), 0, "ok"));
    let mut h = App::headless(o, W, H, fixtures::NOW).unwrap();
    assert!(snapshot_text(&h).contains("demo"));
    h.act(Action::DemoPretrain);
    let c = calls(dir.path());
    let lines: Vec<&str> = c.lines().collect();
    assert_eq!(
        lines[0],
        format!("demo-data {}", root.join("data").display())
    );
    assert_eq!(
        lines[1],
        format!(
            "launch {} --session {} --detach",
            assets.join("demo-pretrain.toml").display(),
            root.display()
        )
    );
    h.act(Action::DemoFinetune);
    let c = calls(dir.path());
    assert!(
        c.lines().last().unwrap().contains("demo-finetune.toml"),
        "{c}"
    );
}

#[test]
fn stop_sends_sigterm_to_the_worker_holding_the_run_lock() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let run = svfap_tui::session::SessionDir::new(&root).run(RUNNING);
    // A stand-in worker: util-linux `flock` holds the run's lock while it lives; the lock
    // file names it as a worker does.
    let lock = run.root.join("run.lock");
    let mut child = std::process::Command::new("flock")
        .arg(&lock)
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    let holder = svfap_tui::session::LockHolder {
        pid: child.id(),
        host: svfap_tui::session::host::hostname(),
        since: svfap_tui::session::now_rfc3339(),
    };
    std::fs::write(&lock, serde_json::to_string(&holder).unwrap()).unwrap();
    let start = std::time::Instant::now();
    while svfap_tui::session::run_lock::holder(&run).is_none() {
        assert!(start.elapsed().as_secs() < 10, "flock never took the lock");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut h = headless(&root, &assets);
    select(&mut h, RUNNING);
    h.act(Action::Stop);
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc_sigterm()));
    assert!(h.state().gui.status.as_ref().unwrap().0.contains("SIGTERM"));
    // Stopping a finished run is refused with a reason.
    select(&mut h, FINISHED);
    h.act(Action::Stop);
    assert!(
        h.state()
            .gui
            .status
            .as_ref()
            .unwrap()
            .0
            .contains("not running")
    );
}

fn libc_sigterm() -> i32 {
    15
}

#[test]
fn y_in_the_delete_dialog_deletes_and_n_keeps() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let mut h = headless(&root, &assets);
    let runs_before = std::fs::read_dir(root.join("runs")).unwrap().count();
    select(&mut h, FAILED);
    h.act(Action::Delete);
    let n = h.app.key_action(&key('n'));
    h.act(n);
    assert!(h.state().gui.dialog.is_none());
    assert!(root.join("runs").join(FAILED).exists());
    h.act(Action::Delete);
    let y = h.app.key_action(&key('y'));
    assert_eq!(y, Action::Char('y'));
    h.act(y);
    assert!(!root.join("runs").join(FAILED).exists());
    assert_eq!(
        std::fs::read_dir(root.join("runs")).unwrap().count(),
        runs_before - 1,
        "y duplicated a run instead of deleting"
    );
}

#[test]
fn delete_asks_first_and_refuses_running_runs() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let mut h = headless(&root, &assets);
    select(&mut h, FAILED);
    h.act(Action::Delete);
    assert!(matches!(
        h.state().gui.dialog,
        Some(Dialog::ConfirmDelete { .. })
    ));
    h.act(Action::Back);
    assert!(root.join("runs").join(FAILED).exists());
    h.act(Action::Delete).act(Action::Select);
    assert!(!root.join("runs").join(FAILED).exists());
    assert!(h.state().data.run(FAILED).is_none());
    select(&mut h, RUNNING);
    assert_eq!(
        h.state().selected_run().unwrap().shown_state(h.state().now),
        ShownState::Running
    );
    h.act(Action::Delete).act(Action::Select);
    assert!(root.join("runs").join(RUNNING).exists());
    assert!(
        h.state()
            .gui
            .status
            .as_ref()
            .unwrap()
            .0
            .contains("stop it first")
    );
}

#[test]
fn resume_and_duplicate_spawn_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let mut o = options(&root, &assets);
    o.launcher = svfap_tui::session::Launcher::new(stand_in(dir.path(), 0, "ok"));
    let mut h = App::headless(o, W, H, fixtures::NOW).unwrap();
    select(&mut h, FAILED);
    h.act(Action::Resume).act(Action::Duplicate);
    let c = calls(dir.path());
    let lines: Vec<&str> = c.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "resume {} --detach",
            root.join("runs").join(FAILED).display()
        )
    );
    assert!(
        lines[1].starts_with("launch ") && lines[1].contains("-copy.toml"),
        "{c}"
    );
    // A running run is not resumed.
    select(&mut h, RUNNING);
    h.act(Action::Resume);
    assert_eq!(calls(dir.path()).lines().count(), 2);
}

#[test]
fn export_writes_png_svg_and_csv_from_every_view() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let mut h = headless(&root, &assets);
    for (id, view) in [
        (FINISHED, View::Runs),
        (FINISHED, View::Monitor),
        (DONE_PRETRAIN, View::Recon),
        (DONE_PRETRAIN, View::Attention),
        (FINISHED, View::Compare),
    ] {
        select(&mut h, id);
        show(&mut h, view);
        h.act(Action::Export);
        let (msg, level) = h.state().gui.status.clone().unwrap();
        assert_eq!(level, Level::Info, "{view:?}: {msg}");
    }
    let files: Vec<String> = std::fs::read_dir(root.join("exports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for prefix in ["runs-", "monitor-", "recon-", "attention-", "compare-"] {
        assert!(
            files.iter().any(|f| f.starts_with(prefix)),
            "{prefix}: {files:?}"
        );
    }
    for ext in [".png", ".svg", ".csv"] {
        assert!(files.iter().any(|f| f.ends_with(ext)), "{ext}: {files:?}");
    }
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("compare-") && f.contains("confusion") && f.ends_with(".png")),
        "{files:?}"
    );
    // The attention maps also as a researcher shows them: over the frame they were computed on.
    let over = files
        .iter()
        .find(|f| f.starts_with("attention-") && f.ends_with("-heat-over-frame.png"))
        .unwrap_or_else(|| panic!("no heat map over the frame: {files:?}"));
    let (w, h) = image::image_dimensions(root.join("exports").join(over)).unwrap();
    assert!(w >= 480 && h >= 480, "{w}x{h}: enlarged for print");
    let png = files
        .iter()
        .find(|f| f.starts_with("monitor-") && f.ends_with(".png"))
        .unwrap();
    let img = image::open(root.join("exports").join(png)).unwrap();
    // The plot, and the legend in its own column beside it.
    assert!(
        img.width() > 900 && img.height() == 540,
        "{}×{}",
        img.width(),
        img.height()
    );
}

#[test]
fn a_theme_with_a_bad_colour_is_reported_and_the_default_used() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let themes = dir.path().join("themes");
    std::fs::create_dir_all(&themes).unwrap();
    std::fs::write(
        themes.join("mine.toml"),
        include_str!("../themes/dark.toml")
            .replace("name = \"dark\"", "name = \"mine\"")
            .replace("#ffd75f", "yellowish"),
    )
    .unwrap();
    let mut o = options(&empty_session(dir.path()), &assets);
    o.theme_dirs = vec![themes];
    o.theme = Some("mine".into());
    let h = App::headless(o, W, H, fixtures::NOW).unwrap();
    let (msg, level) = h.state().gui.status.clone().unwrap();
    assert_eq!(level, Level::Warn);
    assert!(
        msg.contains("mine.toml") && msg.contains("`title`") && msg.contains("yellowish"),
        "{msg}"
    );
    assert_eq!(h.state().theme.name, "dark");
    assert!(text(&h.render()).contains("yellowish"));
}

#[test]
fn a_keymap_file_rebinds_keys() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let km = dir.path().join("keymap.toml");
    std::fs::write(
        &km,
        "[global]\nx = \"quit\"\n\"?\" = \"none\"\n[runs]\nL = \"launch\"\n",
    )
    .unwrap();
    let mut o = options(&empty_session(dir.path()), &assets);
    o.keymap_file = Some(km);
    let h = App::headless(o, W, H, fixtures::NOW).unwrap();
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    assert_eq!(h.app.key_action(&key('x')), Action::Quit);
    assert_eq!(h.app.key_action(&key('q')), Action::Quit);
    assert_eq!(h.app.key_action(&key('?')), Action::None);
    assert_eq!(h.app.key_action(&key('L')), Action::Launch);
    assert!(text(&h.render()).contains("x quit") || text(&h.render()).contains("q quit"));
}

#[test]
fn monitor_options_and_artifact_selectors_move() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    select(&mut h, FINISHED);
    show(&mut h, View::Monitor);
    h.act_all(&[
        Action::NextMetric,
        Action::Smoothing,
        Action::LogScale,
        Action::Window,
        Action::Overlay,
    ]);
    let names = svfap_tui::tui::views::monitor_curves::metric_names(h.state());
    let m = &h.state().gui.monitor;
    assert_eq!(m.metric, names[1], "the metric is chosen by name");
    assert!(m.smoothing == 1 && m.log_scale && m.recent && !m.overlay);
    let t = text(&h.render());
    assert!(
        t.contains("EMA 0.6") && t.contains("log") && t.contains("last 1000 steps"),
        "{t}"
    );
    select(&mut h, DONE_PRETRAIN);
    show(&mut h, View::Recon);
    // Opens at the newest step; left goes back one, right forward again.
    assert!(text(&h.render()).contains("step 400"));
    h.act_all(&[Action::Left, Action::Down]);
    assert_eq!(
        (h.state().gui.recon.back, h.state().gui.recon.sample),
        (1, 1)
    );
    assert!(text(&h.render()).contains("step 200"));
    h.act(Action::Right);
    assert!(text(&h.render()).contains("step 400"));
    show(&mut h, View::Attention);
    h.act_all(&[
        Action::NextMap,
        Action::NextMap,
        Action::NextHead,
        Action::Right,
        Action::Down,
    ]);
    let a = &h.state().gui.attn;
    assert_eq!((a.map, a.head, a.frame, a.token), (2, 1, 1, 1));
    let ready = h.state().images.attn.as_ref().unwrap();
    assert!(ready.error.is_none());
    assert!(ready.cross.as_ref().unwrap().label.contains("token 2 "));
    assert!(ready.assign.as_ref().unwrap().groups == 4);
}

#[test]
fn the_log_scrolls_back_keeps_its_place_as_lines_arrive_and_end_follows_again() {
    use svfap_tui::session::log_window::LogPosition;
    use svfap_tui::tui::keymap::Key;
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    select(&mut h, RUNNING);
    append_log(&h, RUNNING, 0..100);
    show(&mut h, View::Monitor);
    let keys = &h.state().keymap;
    let action = |k: &str| keys.action(View::Monitor, &Key::parse(k).unwrap());
    assert_eq!(
        [
            action("pageup"),
            action("pagedown"),
            action("K"),
            action("J")
        ],
        [
            Action::LogPageUp,
            Action::LogPageDown,
            Action::LogUp,
            Action::LogDown
        ]
    );
    assert_eq!(
        [action("home"), action("end")],
        [Action::LogTop, Action::LogFollow]
    );
    // Following: the last lines.
    let pane = log_pane(&h.render());
    assert_eq!(
        pane.last().map(String::as_str),
        Some("line 099"),
        "{pane:?}"
    );
    assert_eq!(h.state().gui.log_position, LogPosition::Follow);

    // A page up and a line up: scrolled, six lines per page in a 120×36 terminal.
    h.act(Action::LogPageUp).act(Action::LogUp);
    assert!(matches!(h.state().gui.log_position, LogPosition::Top(_)));
    let scrolled = log_pane(&h.render());
    assert_eq!(
        scrolled.first().map(String::as_str),
        Some("line 088"),
        "{scrolled:?}"
    );
    assert!(text(&h.render()).contains("scrolled: line 92/103"));

    // New lines arrive: the view stays where it was.
    append_log(&h, RUNNING, 100..150);
    h.act(Action::Refresh);
    assert_eq!(log_pane(&h.render()), scrolled);
    assert!(text(&h.render()).contains("scrolled: line 92/153"));

    // Home shows the first line, End follows the end again.
    h.act(Action::LogTop);
    let pane = log_pane(&h.render());
    assert_eq!(pane.first().map(String::as_str), Some("step 1 loss 1.35"));
    h.act(Action::LogFollow);
    assert_eq!(h.state().gui.log_position, LogPosition::Follow);
    let pane = log_pane(&h.render());
    assert_eq!(pane.last().map(String::as_str), Some("line 149"));
    append_log(&h, RUNNING, 150..151);
    h.act(Action::Refresh);
    let pane = log_pane(&h.render());
    assert_eq!(pane.last().map(String::as_str), Some("line 150"));

    // Scrolling down to the end follows again too; another run starts out following.
    h.act(Action::LogUp).act(Action::LogDown);
    assert_eq!(h.state().gui.log_position, LogPosition::Follow);
    h.act(Action::LogPageUp);
    select(&mut h, FAILED);
    assert_eq!(h.state().gui.log_position, LogPosition::Follow);
    assert!(
        log_pane(&h.render())
            .iter()
            .any(|l| l.contains("error: data/mafw"))
    );
}

#[test]
fn a_regression_evaluation_shows_its_ccc_and_acc_in_compare() {
    use svfap_tui::data::registry::Task;
    use svfap_tui::session::RunDir;
    use svfap_tui::session::artifacts::Prediction;
    use svfap_tui::train::eval_report::{EvalScope, score_predictions};
    use svfap_tui::tui::views::compare;

    let dir = tempfile::tempdir().unwrap();
    let root = full_session(dir.path());
    // Written exactly as a regression fine-tuning run writes it.
    let predictions = [(0.2, 0.3), (0.8, 0.6)]
        .iter()
        .map(|&(label, pred)| Prediction {
            path: "clip".into(),
            label: serde_json::json!([label]),
            pred: serde_json::json!([pred]),
            probs: vec![],
        })
        .collect();
    let scope = EvalScope {
        dataset: "werewolf-xl".into(),
        split: "test".into(),
        fold: Some(1),
    };
    let report =
        score_predictions(&scope, Task::Regression, &["valence".into()], predictions).unwrap();
    let run = RunDir::new(root.join("runs").join(FINISHED));
    report.write(&run.eval_file("werewolf-xl", "test")).unwrap();
    let mut h = headless(&root, &assets(dir.path()));
    show(&mut h, View::Compare);
    let rows = compare::rows(h.state());
    let row = rows
        .iter()
        .find(|r| r.run == FINISHED && r.dataset == "werewolf-xl")
        .expect("a compare row for the regression evaluation");
    // CCC: 2·cov / (var_p + var_t + Δμ²) = 2·0.045 / (0.0225 + 0.09 + 0.0025); ACC 1 − 0.15.
    assert!((row.values["ccc"].0 - 0.09 / 0.115).abs() < 1e-9, "{row:?}");
    assert!((row.values["acc"].0 - 0.85).abs() < 1e-9, "{row:?}");
    assert!(!row.values.contains_key("uar"));
    let screen = text(&h.render());
    assert!(
        screen.contains("0.7826") && screen.contains("0.8500"),
        "{screen}"
    );
}
