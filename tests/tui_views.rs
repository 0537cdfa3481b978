//! Snapshots of every view in four states (empty session, running run, finished run with
//! artifacts, failed run), rendered into a `TestBackend`, plus the colours of key cells.

mod common_tui;

use common_tui::*;
use ratatui::style::Color;
use svfap_tui::tui::View;
use svfap_tui::tui::gpu::GpuSource;
use svfap_tui::tui::gpu::{GpuDevice, GpuReadings};
use svfap_tui::tui::theme::Theme;

fn snapshot(name: &str, h: &svfap_tui::tui::Headless) -> ratatui::buffer::Buffer {
    let buf = h.render();
    insta::assert_snapshot!(name, text(&buf));
    buf
}

#[test]
fn every_view_of_an_empty_session() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&empty_session(dir.path()), &assets);
    for view in View::ALL {
        show(&mut h, view);
        let buf = snapshot(&format!("empty_{}", view.name()), &h);
        // The active tab is drawn in the selection colours.
        let theme = Theme::default();
        assert_eq!(
            colors_of(&buf, view.title()),
            Some((theme.selected_fg, theme.selected_bg)),
            "{}",
            view.name()
        );
    }
}

fn states() -> [(&'static str, &'static str); 3] {
    [
        ("running", RUNNING),
        ("finished", DONE_PRETRAIN),
        ("failed", FAILED),
    ]
}

#[test]
fn every_view_with_a_running_a_finished_and_a_failed_run() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    let theme = Theme::default();
    for (state, id) in states() {
        select(&mut h, id);
        for view in View::ALL {
            if state == "finished" && view == View::Compare {
                // Compare shows fine-tuning results: two finished runs marked for the diff.
                select(&mut h, OTHER_FINISHED);
                show(&mut h, view);
                h.act(svfap_tui::tui::Action::Mark);
                select(&mut h, FINISHED);
                show(&mut h, view);
                h.act(svfap_tui::tui::Action::Mark);
            }
            show(&mut h, view);
            let buf = snapshot(&format!("{state}_{}", view.name()), &h);
            if view == View::Runs {
                // The selected row is drawn in the selection colours, the state cells of the
                // other rows in their state's colour.
                let short = id.split_once('-').unwrap().1;
                let (fg, bg) = colors_of(&buf, short).unwrap();
                assert_eq!(
                    (fg, bg),
                    (theme.selected_fg, theme.selected_bg),
                    "{state}: selected row"
                );
                if state != "failed" {
                    assert_eq!(colors_of(&buf, "failed").unwrap().0, theme.error);
                }
                if state != "running" {
                    assert_eq!(colors_of(&buf, "running").unwrap().0, theme.running);
                }
                if state != "finished" {
                    assert_eq!(colors_of(&buf, "finished").unwrap().0, theme.ok);
                }
            }
        }
    }
}

#[test]
fn key_cells_have_the_theme_colours() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    let theme = Theme::default();
    select(&mut h, FAILED);
    show(&mut h, View::Monitor);
    let buf = h.render();
    // Errors in the log tail are highlighted.
    assert_eq!(
        colors_of(&buf, "error: data/mafw").map(|c| c.0),
        Some(theme.error)
    );
    assert_eq!(colors_of(&buf, "failed").map(|c| c.0), Some(theme.error));
    select(&mut h, RUNNING);
    let buf = h.render();
    assert_eq!(colors_of(&buf, "running").map(|c| c.0), Some(theme.running));
    assert_eq!(
        colors_of(&buf, "warning: data loader").map(|c| c.0),
        Some(theme.warn)
    );
    // The Compare view colours the confusion matrix diagonal by its share of the row.
    select(&mut h, FINISHED);
    show(&mut h, View::Compare);
    let buf = h.render();
    let (_, bg) = colors_of(&buf, "   30").expect("confusion matrix shown");
    assert!(matches!(bg, Color::Rgb(..)), "{bg:?}");
    assert_ne!(bg, theme.bg);
}

#[test]
fn light_and_high_contrast_themes_render() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    h.act(svfap_tui::tui::Action::NextTheme);
    assert_eq!(h.state().theme.name, "light");
    let buf = snapshot("light_runs", &h);
    assert_eq!(
        colors_of(&buf, "running").map(|c| c.0),
        Some(h.state().theme.running)
    );
    h.act(svfap_tui::tui::Action::NextTheme);
    assert_eq!(h.state().theme.name, "high-contrast");
    let buf = h.render();
    assert_eq!(colors_of(&buf, "Runs").map(|c| c.1), Some(Color::White));
}

#[test]
fn help_and_dialogs_render() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    h.act(svfap_tui::tui::Action::Help);
    let buf = snapshot("help_runs", &h);
    for v in View::ALL {
        assert!(text(&buf).contains(v.title()), "help lists {}", v.title());
    }
    h.act(svfap_tui::tui::Action::Back);
    h.act(svfap_tui::tui::Action::Launch);
    snapshot("launch_pick", &h);
    h.act(svfap_tui::tui::Action::Select);
    snapshot("launch_fields", &h);
    h.act(svfap_tui::tui::Action::Back)
        .act(svfap_tui::tui::Action::Back);
    select(&mut h, FAILED);
    h.act(svfap_tui::tui::Action::Delete);
    snapshot("confirm_delete", &h);
}

#[test]
fn the_log_scrolled_back_shows_where_it_is_and_highlights_errors() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    select(&mut h, RUNNING);
    append_log(&h, RUNNING, 0..100);
    show(&mut h, View::Monitor);
    for _ in 0..11 {
        h.act(svfap_tui::tui::Action::LogPageUp);
    }
    let buf = snapshot("running_monitor_log_scrolled", &h);
    assert_eq!(
        colors_of(&buf, "error: line 042").map(|c| c.0),
        Some(Theme::default().error)
    );
    assert_eq!(
        colors_of(&buf, "scrolled: line").map(|c| c.0),
        Some(Theme::default().warn)
    );
}

/// GPU readings handed to the headless driver instead of NVML.
struct FakeGpu(GpuReadings);

impl GpuSource for FakeGpu {
    fn read(&mut self) -> GpuReadings {
        self.0.clone()
    }
    fn live(&self) -> bool {
        true
    }
}

#[test]
fn the_gpu_panel_without_gpus_and_with_two() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    select(&mut h, RUNNING);
    show(&mut h, View::Monitor);
    h.gpu = Some(Box::new(FakeGpu(GpuReadings::Unavailable(
        "NVML: libnvidia-ml.so: cannot open shared object file".into(),
    ))));
    h.act(svfap_tui::tui::Action::Refresh);
    snapshot("running_monitor_gpu_unavailable", &h);
    let gib = 1u64 << 30;
    h.gpu = Some(Box::new(FakeGpu(GpuReadings::Devices(vec![
        GpuDevice {
            name: "NVIDIA H100 80GB HBM3".into(),
            util_percent: 97,
            mem_used: 61 * gib + gib / 2,
            mem_total: 80 * gib,
            power_w: Some(612.4),
        },
        GpuDevice {
            name: "NVIDIA H100 80GB HBM3".into(),
            util_percent: 3,
            mem_used: gib / 4,
            mem_total: 80 * gib,
            power_w: None,
        },
    ]))));
    h.act(svfap_tui::tui::Action::Refresh);
    let buf = snapshot("running_monitor_gpu_two", &h);
    assert_eq!(
        colors_of(&buf, "1: NVIDIA").map(|c| c.0),
        Some(Theme::default().accent)
    );
}

#[test]
fn a_gpu_run_compiling_its_kernels_says_so_in_runs_and_monitor() {
    use svfap_tui::session::{RunDir, RunStatus};
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let session = full_session(dir.path());
    let run = RunDir::new(session.join("runs").join(RUNNING));
    let mut status = RunStatus::read(&run.status_json()).unwrap();
    status.activity = Some("compiling kernels".into());
    status.write_atomic(&run.status_json()).unwrap();
    let mut h = headless(&session, &assets);
    select(&mut h, RUNNING);
    for view in [View::Runs, View::Monitor] {
        show(&mut h, view);
        let screen = text(&h.render());
        assert!(
            screen.contains("compiling kernels"),
            "{}:\n{screen}",
            view.name()
        );
    }
}
