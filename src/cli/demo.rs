//! `svfap-tui demo --headless`: the whole CPU demo without the workbench — demo data if
//! missing, pre-training with the `demo` preset, fine-tuning from it and from scratch with
//! the same budget, evaluation, one summary line per run (paper Fig. 4 in miniature).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use svfap_tui::session::{EvalReport, RunDir};
use svfap_tui::train::data_adapter::open_source;
use svfap_tui::train::launch::{create_run, ensure_session, prepare_config};
use svfap_tui::train::run_main::{run_processes, run_worker};
use svfap_tui::train::worker::Outcome;

use super::log_tee::LogTee;

pub const PRETRAIN: &str = svfap_tui::example_configs::BUILT_IN[0].1;
pub const FINETUNE: &str = svfap_tui::example_configs::BUILT_IN[1].1;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Run without the workbench, one summary line per run (in the workbench the Runs view
    /// offers the demo: `p` pre-trains, `f` fine-tunes from it).
    #[arg(long)]
    pub headless: bool,
    /// Session folder for the demo's data and runs.
    #[arg(long, default_value = "sessions/demo")]
    pub session: PathBuf,
    /// Override a key of all three runs, e.g. `--set optim.epochs=2` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

/// Writes an embedded config into the session and launches it in the foreground.
pub fn launch(session: &Path, name: &str, text: &str, overrides: &[String]) -> Result<RunDir> {
    let configs = session.join("configs");
    std::fs::create_dir_all(&configs)?;
    let path = configs.join(format!("{name}.toml"));
    std::fs::write(&path, text).with_context(|| format!("{}: cannot write", path.display()))?;
    let config = prepare_config(&path, session, overrides)?;
    let run = create_run(&config, session)?;
    eprintln!("== {name}: {}", run.root.display());
    // log.txt as `launch` writes it in the foreground; the terminal still sees everything.
    let tee = LogTee::start(&run.log_txt())
        .map_err(|e| eprintln!("warning: no log.txt for this run: {e:#}"))
        .ok();
    let outcome = if config.devices.len() > 1 {
        run_processes(&run, false, config.devices.len()).map(|()| Outcome::Finished)
    } else {
        run_worker(&run.root, false, &open_source)
    };
    if let Err(e) = &outcome {
        // main prints errors after the copy ends: put it in the log here.
        eprintln!("error: {e:#}");
    }
    drop(tee);
    let outcome = outcome.map_err(|_| {
        anyhow::anyhow!("{name} failed (see above and {})", run.log_txt().display())
    })?;
    if outcome == Outcome::Stopped {
        bail!(
            "{name} was stopped; `svfap-tui resume {}` continues it",
            run.root.display()
        );
    }
    Ok(run)
}

fn summary(run: &RunDir, label: &str) -> Result<(f64, f64)> {
    let report = EvalReport::read(&run.eval_file("demo", "test"))
        .with_context(|| format!("{label}: no evaluation"))?;
    let (uar, war) = (report.metrics["uar"] * 100.0, report.metrics["war"] * 100.0);
    println!(
        "{label:<28} UAR {uar:6.2}  WAR {war:6.2}  ({} test videos, run {})",
        report.predictions.len(),
        run.id()
    );
    Ok((uar, war))
}

/// Creates `session` if needed, with the demo data in `<session>/data` (generated once).
pub fn ensure_demo_session(session: &Path) -> Result<()> {
    ensure_session(session)?;
    let data = session.join("data");
    if !data.join("train.csv").is_file() {
        eprintln!("== generating the demo data in {}", data.display());
        super::demo_data::run(&super::demo_data::DemoDataArgs::defaults(data.clone()))?;
    }
    Ok(())
}

pub fn run(args: &DemoArgs) -> Result<()> {
    if !args.headless {
        bail!(
            "use `svfap-tui demo --headless`, or open the workbench (`svfap-tui`) and start the demo from its Runs view"
        );
    }
    // Absolute: the fine-tuning config written under `<session>/configs` names the
    // pre-training run, and a config's relative paths are read from the config's folder.
    let session = &std::path::absolute(&args.session)
        .with_context(|| format!("{}: not a usable path", args.session.display()))?;
    ensure_demo_session(session)?;
    let started = std::time::Instant::now();
    let pre = launch(session, "demo-pretrain", PRETRAIN, &args.overrides)?;
    let init = format!("model.init={}", pre.root.display());
    let mut with_init = args.overrides.clone();
    with_init.push(init);
    let from_pretrained = launch(session, "demo-finetune", FINETUNE, &with_init)?;
    let mut scratch = args.overrides.clone();
    scratch.extend([
        "model.init=\"\"".to_string(),
        "name=demo-scratch".to_string(),
    ]);
    let from_scratch = launch(session, "demo-finetune-scratch", FINETUNE, &scratch)?;
    println!(
        "demo finished in {:.1} min ({})",
        started.elapsed().as_secs_f64() / 60.0,
        session.display()
    );
    summary(&from_pretrained, "fine-tuned from pre-training")?;
    summary(&from_scratch, "trained from scratch")?;
    Ok(())
}
