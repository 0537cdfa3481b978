//! The researcher's workflows through the headless driver: several runs in one chart, the
//! metric picker, the reproduction scoreboard with cross-validations, and the recipe check.

mod common_tui;

use common_tui::*;
use svfap_tui::session::SessionDir;
use svfap_tui::session::fixtures;
use svfap_tui::tui::{Action, View};

const CV: &str = "cv-20260101-000000-dfew";

#[test]
fn marked_runs_are_overlaid_in_the_monitor_and_unmarked_together() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    select(&mut h, OTHER_FINISHED);
    show(&mut h, View::Runs);
    h.act(Action::Mark);
    select(&mut h, FINISHED);
    h.act(Action::Mark);
    let ids: Vec<&str> = h.state().overlay_runs().iter().map(|r| r.id()).collect();
    assert_eq!(
        ids,
        [FINISHED, OTHER_FINISHED],
        "selected first, then the marked"
    );
    let runs = text(&h.render());
    // The Runs view shows ids without their kind.
    let shown = OTHER_FINISHED.trim_start_matches("finetune-");
    assert!(runs.contains(&format!("● {shown}")), "{runs}");
    show(&mut h, View::Monitor);
    let monitor = text(&h.render());
    for name in ["lr1e-3", "lr5e-4"] {
        assert!(monitor.contains(name), "legend names {name}:\n{monitor}");
    }
    show(&mut h, View::Runs);
    h.act(Action::UnmarkAll);
    assert_eq!(h.state().overlay_runs().len(), 1);
    assert!(!text(&h.render()).contains('●'));
}

#[test]
fn the_metric_picker_finds_by_name_and_the_choice_follows_other_runs() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    select(&mut h, FINISHED);
    show(&mut h, View::Monitor);
    h.act(Action::MetricSearch);
    for c in "uar".chars() {
        h.act(Action::Char(c));
    }
    let picker = text(&h.render());
    assert!(picker.contains("uar"), "{picker}");
    h.act(Action::Select);
    let chosen = h.state().gui.monitor.metric.clone();
    assert!(chosen.contains("uar"), "{chosen}");
    assert!(h.state().gui.monitor.picker.is_none());
    // Another run keeps the metric by its name.
    select(&mut h, OTHER_FINISHED);
    let names = svfap_tui::tui::views::monitor_curves::metric_names(h.state());
    assert_eq!(h.state().gui.monitor.chosen(&names), Some(&chosen));
    // Esc closes without changing it; a query that matches nothing picks nothing.
    h.act(Action::MetricSearch);
    for c in "zzz".chars() {
        h.act(Action::Char(c));
    }
    h.act(Action::Select);
    assert_eq!(h.state().gui.monitor.metric, chosen);
}

#[test]
fn compare_shows_the_papers_numbers_and_each_runs_delta_in_points() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    show(&mut h, View::Compare);
    let t = text(&h.render());
    let paper = t
        .lines()
        .find(|l| l.contains("paper: SVFAP-B") && l.contains("DFEW"))
        .unwrap_or_else(|| panic!("{t}"));
    assert!(
        paper.contains("62.83") && paper.contains("74.27"),
        "{paper}"
    );
    // The fixtures' fine-tunings scored UAR 0.61 and 0.58 on DFEW: 1.83 and 4.83 points short.
    let row = |id: &str| {
        let shown = id.trim_start_matches("finetune-");
        t.lines().find(|l| l.contains(shown)).unwrap().to_string()
    };
    assert!(
        row(FINISHED).contains("61.00") && row(FINISHED).contains("-1.83 UAR"),
        "{t}"
    );
    assert!(row(OTHER_FINISHED).contains("-4.83 UAR"), "{t}");
}

#[test]
fn a_cross_validation_is_one_pooled_row_with_its_folds_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let session = SessionDir::new(&root);
    fixtures::cross_validation(&session, CV, &[(FINISHED, 0.61), (OTHER_FINISHED, 0.58)]).unwrap();
    let mut h = headless(&root, &assets);
    show(&mut h, View::Compare);
    let rows = svfap_tui::tui::views::compare::sorted_rows(h.state());
    let at = rows.iter().position(|r| r.run == CV).expect("a pooled row");
    assert_eq!(rows[at].source, "pooled");
    let cv = &h.state().data.cvs[0];
    assert!(cv.pooled.is_some(), "{:?}", cv.problem);
    h.act(Action::Bottom);
    let t = text(&h.render());
    let line = t
        .lines()
        .find(|l| l.contains(CV))
        .unwrap_or_else(|| panic!("{t}"));
    assert!(
        line.contains("59.30") && line.contains("59.50±1.50 UAR"),
        "{line}"
    );
    assert!(
        !t.contains("fold 1"),
        "folds only under the selected row:\n{t}"
    );
    h.act(Action::Top);
    for _ in 0..at {
        h.act(Action::Down);
    }
    let t = text(&h.render());
    assert!(t.contains("fold 1: lr1e-3"), "{t}");
    assert!(t.contains("fold 2: lr5e-4"), "{t}");
    assert!(
        t.contains("pooled over 2 folds"),
        "confusion of the pooled evaluation:\n{t}"
    );
    h.act(Action::Mark);
    let marked: Vec<&String> = h.state().gui.marked.iter().collect();
    assert_eq!(
        marked,
        [FINISHED, OTHER_FINISHED],
        "marking a cv marks its folds"
    );
    h.act(Action::Mark);
    assert!(h.state().gui.marked.is_empty());
}

#[test]
fn the_monitor_and_the_launch_dialog_say_how_the_recipe_departs_from_the_papers() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let mut h = headless(&full_session(dir.path()), &assets);
    select(&mut h, FINISHED);
    show(&mut h, View::Monitor);
    let t = text(&h.render());
    assert!(
        t.contains(
            "vs paper: effective batch 8 vs 64 ✗; lr 3.1e-5 (1e-3/256) ✓; epochs 10 vs 100 ✗"
        ),
        "{t}"
    );
    show(&mut h, View::Runs);
    h.act(Action::Launch);
    let t = text(&h.render());
    assert!(t.contains("vs paper: effective batch"), "{t}");
}

#[test]
fn help_scrolls_at_80_by_24_to_its_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let mut h =
        svfap_tui::tui::App::headless(options(&root, &assets), 80, 24, fixtures::NOW).unwrap();
    show(&mut h, View::Monitor);
    h.act(Action::Help);
    let top = text(&h.render());
    assert!(top.contains("Views") && top.contains("scroll"), "{top}");
    assert!(!top.contains("Keys: assets/keymap.toml"), "{top}");
    h.act(Action::Bottom);
    let bottom = text(&h.render());
    assert!(bottom.contains("Keys: assets/keymap.toml"), "{bottom}");
    h.act(Action::Top);
    assert_eq!(text(&h.render()), top);
}

/// At 80×24 tables drop whole columns and the footer whole hints instead of cutting them:
/// Compare once showed a UAR of 28.57 as `28.5`, and the footer lost `? help` off its end.
#[test]
fn at_80_by_24_tables_and_the_footer_drop_whole_items() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let mut h =
        svfap_tui::tui::App::headless(options(&root, &assets), 80, 24, fixtures::NOW).unwrap();
    select(&mut h, FINISHED);
    for view in View::ALL {
        show(&mut h, view);
        let t = text(&h.render());
        let tabs = t.lines().next().unwrap_or_default();
        assert!(
            tabs.contains("3 Recon ") && tabs.ends_with("6 Inspect"),
            "{tabs:?}"
        );
        let footer = t.lines().last().unwrap_or_default();
        assert!(
            footer.contains("? help") && footer.contains("q quit"),
            "{}: {footer:?}",
            view.name()
        );
        assert!(!footer.ends_with(char::is_alphanumeric) || footer.ends_with("quit"));
        if view == View::Monitor {
            let header = t.lines().nth(1).unwrap_or_default();
            assert!(header.trim_end().ends_with("ETA -"), "{header:?}");
        }
        if view == View::Compare {
            insta::assert_snapshot!("compare_80x24", t);
            for column in ["UAR", "WAR", "Δ paper"] {
                assert!(t.contains(column), "{column} kept:\n{t}");
            }
            assert!(!t.contains("CCC"), "CCC dropped first:\n{t}");
        }
    }
}

#[test]
fn the_light_theme_paints_every_cell_including_the_charts() {
    let dir = tempfile::tempdir().unwrap();
    let assets = assets(dir.path());
    let root = full_session(dir.path());
    let mut o = options(&root, &assets);
    o.theme = Some("light".into());
    let mut h = svfap_tui::tui::App::headless(o, W, H, fixtures::NOW).unwrap();
    select(&mut h, FINISHED);
    for view in [View::Monitor, View::Runs, View::Compare] {
        show(&mut h, view);
        let buf = h.render();
        let unpainted = buf
            .content()
            .iter()
            .filter(|c| c.bg == ratatui::style::Color::Reset)
            .count();
        assert_eq!(
            unpainted, 0,
            "{view:?}: cells left to the terminal's background"
        );
    }
}
