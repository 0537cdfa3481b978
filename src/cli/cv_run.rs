//! `svfap-tui cv run <config.toml>`: one fine-tuning run per fold (`data.fold = k`, `{fold}`
//! in the manifest paths replaced), run one after another in this process, then the folds'
//! test predictions pooled into `cv/<cv-id>/` (DESIGN §6: metrics pooled over all folds).
//! Every fold's config is validated before the first run starts.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use svfap_tui::train::cross_validation::{describe, pool_runs, registry_folds};
use svfap_tui::train::data_adapter::open_source;
use svfap_tui::train::launch::{FOLD_PLACEHOLDERS, create_run, ensure_session, prepare_config};
use svfap_tui::train::run_config::{RunConfig, RunKind};
use svfap_tui::train::run_main::run_worker;
use svfap_tui::train::worker::Outcome;

#[derive(Args, Debug)]
pub struct CvRunArgs {
    /// Fine-tuning config whose `data.train` and `data.test` contain `{fold}` (or `{fold:02}`).
    pub config: PathBuf,
    /// Folds to run, e.g. `1,2,3` (default: every fold of the dataset's protocol).
    #[arg(long, value_delimiter = ',')]
    pub folds: Option<Vec<u32>>,
    /// Session folder the runs and the pooled result go into.
    #[arg(long, default_value = "sessions/default")]
    pub session: PathBuf,
    /// Override a config key for every fold, e.g. `--set optim.epochs=10` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

pub fn run(args: &CvRunArgs) -> Result<()> {
    let base = RunConfig::load(&args.config, &args.overrides)?;
    if base.kind != RunKind::Finetune {
        bail!(
            "{}: `kind`: cross-validation fine-tunes one run per fold; this config is {:?}",
            args.config.display(),
            base.kind
        );
    }
    for (key, value) in [
        ("data.train", &base.data.train),
        ("data.test", &base.data.test),
    ] {
        if !FOLD_PLACEHOLDERS.iter().any(|p| value.contains(p)) {
            bail!(
                "{}: `{key}` = \"{value}\" has no {{fold}}: every fold would use the same manifest",
                args.config.display()
            );
        }
    }
    let folds: Vec<u32> = match &args.folds {
        Some(list) => list.clone(),
        None => registry_folds(&base.data.dataset)?,
    };
    ensure_session(&args.session)?;
    let configs = folds
        .iter()
        .map(|k| {
            let mut overrides = args.overrides.clone();
            overrides.push(format!("data.fold={k}"));
            let mut config = prepare_config(&args.config, &args.session, &overrides)?;
            config.name = format!("{}-fold{k}", base.name);
            Ok(config)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut runs = vec![];
    for (config, fold) in configs.iter().zip(&folds) {
        let run = create_run(config, &args.session)?;
        eprintln!("fold {fold}: run {} in {}", run.id(), run.root.display());
        if run_worker(&run.root, false, &open_source)? == Outcome::Stopped {
            bail!(
                "fold {fold} was stopped; resume it (svfap-tui resume {}), run the remaining folds, then pool them with `svfap-tui cv pool`",
                run.root.display()
            );
        }
        runs.push(run);
    }
    let (dir, summary) = pool_runs(&args.session, &base.name, &runs)?;
    print!("{}", describe(&summary));
    println!("{}", dir.root.display());
    Ok(())
}
