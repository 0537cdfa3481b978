//! Run configs from anywhere (issue 13 §5): the built-in configs are offered with no config
//! folder at all, the user's and the session's own shadow them by name, the demo keys work
//! from any folder, and the installed binary launches the demo from another cwd.

mod common_tui;

mod common_tmux;

use common_tmux::{KillServer, tmux, tmux_missing};
use std::time::{Duration, Instant};

use common_tui::*;
use svfap_tui::session::fixtures;
use svfap_tui::tui::state::Dialog;
use svfap_tui::tui::{Action, App};

#[test]
fn the_launch_dialog_offers_the_built_in_configs_without_any_config_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(&empty_session(dir.path()), &dir.path().join("nowhere"));
    o.config_dirs = vec![];
    let mut h = App::headless(o, W, H, fixtures::NOW).unwrap();
    h.act(Action::Launch);
    assert!(matches!(&h.state().gui.dialog, Some(Dialog::Launch(_))));
    let names: Vec<&str> = h
        .state()
        .data
        .examples
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    for want in [
        "demo-pretrain",
        "demo-finetune",
        "dfew-finetune",
        "voxceleb2-pretrain",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let screen = text(&h.render());
    assert!(
        screen.contains("dfew-finetune") && screen.contains("built-in"),
        "{screen}"
    );
}

#[test]
fn the_session_configs_shadow_the_users_which_shadow_the_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    let root = empty_session(dir.path());
    let user = dir.path().join("user-configs");
    std::fs::create_dir_all(&user).unwrap();
    let mine = fixtures::finetune_config("dfew-finetune", "synthetic", 0.002);
    std::fs::write(user.join("dfew-finetune.toml"), &mine).unwrap();
    std::fs::write(
        user.join("my-sweep.toml"),
        fixtures::finetune_config("my-sweep", "synthetic", 0.003),
    )
    .unwrap();
    let session_configs = root.join("configs");
    std::fs::create_dir_all(&session_configs).unwrap();
    std::fs::write(
        session_configs.join("my-sweep.toml"),
        "kind = \"finetune\"\n[oops",
    )
    .unwrap();
    let mut o = options(&root, &user);
    o.config_dirs = vec![user.clone()];
    let h = App::headless(o, W, H, fixtures::NOW).unwrap();
    let ex = &h.state().data.examples;
    let dfew: Vec<_> = ex.iter().filter(|e| e.name == "dfew-finetune").collect();
    assert_eq!(dfew.len(), 1, "one entry per name");
    assert_eq!(
        dfew[0].path.as_deref(),
        Some(user.join("dfew-finetune.toml").as_path())
    );
    assert_eq!(dfew[0].text, mine);
    // The session's broken copy wins over the user's and says which file and why.
    let sweep: Vec<_> = ex.iter().filter(|e| e.name == "my-sweep").collect();
    assert_eq!(sweep.len(), 1);
    let problem = sweep[0].problem.as_deref().unwrap_or("");
    assert!(problem.contains("configs/my-sweep.toml"), "{problem}");
}

#[test]
fn the_demo_key_writes_the_built_in_config_into_the_session_and_launches_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = empty_session(dir.path());
    let mut o = options(&root, &dir.path().join("nowhere"));
    o.config_dirs = vec![];
    o.launcher = svfap_tui::session::Launcher::new(stand_in(dir.path(), 0, "ok"));
    let mut h = App::headless(o, W, H, fixtures::NOW).unwrap();
    h.act(Action::DemoFinetune);
    let written = root.join("configs/demo-finetune.toml");
    assert_eq!(
        std::fs::read_to_string(&written).unwrap(),
        svfap_tui::example_configs::built_in("demo-finetune").unwrap()
    );
    let c = calls(dir.path());
    assert!(
        c.lines().any(|l| l
            == format!(
                "launch {} --session {} --detach",
                written.display(),
                root.display()
            )),
        "{c}"
    );
    // A second press reuses the session's file (edits made to it are kept).
    std::fs::write(&written, "# mine\n").unwrap();
    h.act(Action::DemoFinetune);
    assert_eq!(std::fs::read_to_string(&written).unwrap(), "# mine\n");
}

#[test]
fn the_binary_copied_elsewhere_launches_the_demo_from_another_folder() {
    if tmux_missing("this test") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = dir.path().join("bin");
    let cwd = dir.path().join("elsewhere");
    let home = dir.path().join("home");
    for d in [&bin_dir, &cwd, &home] {
        std::fs::create_dir_all(d).unwrap();
    }
    let bin = bin_dir.join("svfap-tui");
    std::fs::copy(env!("CARGO_BIN_EXE_svfap-tui"), &bin).unwrap();
    let session = dir.path().join("session");
    let socket = format!("svfap-cfg-{}", std::process::id());
    let cmd = format!(
        "cd {} && HOME={} XDG_CONFIG_HOME= {} --session {}; sleep 30",
        cwd.display(),
        home.display(),
        bin.display(),
        session.display()
    );
    tmux(
        &socket,
        &[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "36",
            "-s",
            "cfg",
            &cmd,
        ],
    );
    let _guard = KillServer(socket.clone());
    let wait_for = |needle: &str, secs: u64| -> String {
        let start = Instant::now();
        loop {
            let screen = tmux(&socket, &["capture-pane", "-p", "-t", "cfg"]);
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "timed out waiting for {needle:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("Runs", 10);
    // The launch dialog lists the built-in configs.
    tmux(&socket, &["send-keys", "-t", "cfg", "n"]);
    let screen = wait_for("dfew-finetune", 10);
    assert!(screen.contains("built-in"), "{screen}");
    tmux(&socket, &["send-keys", "-t", "cfg", "Escape"]);
    // The demo pre-training key makes the data and launches a real run.
    tmux(&socket, &["send-keys", "-t", "cfg", "p"]);
    // Making the demo data takes seconds on an idle machine and over a minute on a loaded
    // one; the run folder appears once the data exists, so wait for the folder itself
    // (the screen names "demo-pretrain" in its hint before anything happened).
    let session_dir = svfap_tui::session::SessionDir::new(&session);
    let started = Instant::now();
    let mut runs = session_dir.list_runs();
    while runs.is_empty() && started.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(200));
        runs = session_dir.list_runs();
    }
    assert_eq!(runs.len(), 1, "one demo run launched");
    assert!(session.join("configs/demo-pretrain.toml").exists());
    // Stop the detached worker so that it does not outlive the test.
    let _ = svfap_tui::session::launcher::stop(&runs[0]);
}
