//! Creating a run (`svfap-tui launch`): validate the config, freeze it with every path made
//! absolute into a new run folder (`runs/<kind>-<yyyymmdd-hhmmss>-<name>`, DESIGN §3), and
//! optionally start the worker detached: its own process session (so a closed terminal or
//! a dropped SSH link does not end it), output to `log.txt`, no shell in between.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::run_config::{RunConfig, RunKind};
use crate::data::frame_pack::{FramePack, PackedSize};
use crate::session::layout::new_run_id;
use crate::session::{RunDir, RunState, RunStatus, SessionDir};

/// `{session}` in a path stands for the session folder; `model.init = "latest-pretrain"`
/// means the newest complete checkpoint of the session's newest pre-training run.
pub const LATEST_PRETRAIN: &str = "latest-pretrain";

/// `{fold}` in a path stands for `data.fold` (`3`), `{fold:02}` for it zero-padded (`03`,
/// as in the released split folders `split01`…): one config serves every fold of a
/// cross-validation (`svfap-tui cv run`).
pub const FOLD_PLACEHOLDERS: [&str; 2] = ["{fold}", "{fold:02}"];

/// `value` with the fold placeholders replaced; an error when it has one and `fold` is unset.
fn substitute_fold(value: &str, fold: Option<u32>) -> Result<String, String> {
    if !FOLD_PLACEHOLDERS.iter().any(|p| value.contains(p)) {
        return Ok(value.to_string());
    }
    let fold =
        fold.ok_or_else(|| format!("`{value}` names {{fold}} but `data.fold` is not set"))?;
    Ok(value
        .replace("{fold:02}", &format!("{fold:02}"))
        .replace("{fold}", &fold.to_string()))
}

fn resolve(path: &str, base: &Path, session: &Path) -> PathBuf {
    let replaced = path.replace("{session}", &session.display().to_string());
    let p = PathBuf::from(replaced);
    if p.is_absolute() { p } else { base.join(p) }
}

/// The checkpoint file a `checkpoints/latest` pointer (or a run folder) names.
fn checkpoint_behind(path: &Path) -> Result<PathBuf> {
    let pointer = if path.is_dir() {
        let run = path.join("checkpoints/latest");
        if run.is_file() {
            run
        } else {
            path.join("latest")
        }
    } else {
        path.to_path_buf()
    };
    if pointer.file_name().is_some_and(|n| n == "latest") {
        let stem = std::fs::read_to_string(&pointer)
            .with_context(|| format!("{}: unreadable", pointer.display()))?;
        return Ok(pointer.with_file_name(format!("{}.safetensors", stem.trim())));
    }
    Ok(pointer)
}

/// Newest pre-training run of `session` with a complete checkpoint.
fn latest_pretrain_checkpoint(session: &Path) -> Result<PathBuf> {
    let mut runs: Vec<RunDir> = SessionDir::new(session)
        .list_runs()
        .into_iter()
        .filter(|r| {
            r.id().starts_with("pretrain-")
                && r.latest_pointer().is_file()
                && RunStatus::read(&r.status_json()).is_ok_and(|s| s.state == RunState::Finished)
        })
        .collect();
    runs.sort_by_key(|r| r.id());
    let run = runs.pop().with_context(|| format!("`model.init = \"{LATEST_PRETRAIN}\"`: {} has no finished pre-training run yet (a stopped, failed or running one is not used)", session.display()))?;
    checkpoint_behind(&run.latest_pointer())
}

/// Loads, resolves and validates `config_path` with `overrides`, ready to freeze.
pub fn prepare_config(
    config_path: &Path,
    session: &Path,
    overrides: &[String],
) -> Result<RunConfig> {
    let mut config = RunConfig::load(config_path, overrides)?;
    let base = config_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let base = std::fs::canonicalize(&base).unwrap_or(base);
    let session = std::fs::canonicalize(session).unwrap_or_else(|_| session.to_path_buf());
    let invalid =
        |key: &str, reason: String| anyhow::anyhow!("{}: `{key}`: {reason}", config_path.display());
    let fold = config.data.fold;
    for (key, value) in [
        ("data.root", &mut config.data.root),
        ("data.train", &mut config.data.train),
        ("data.test", &mut config.data.test),
        ("model.init", &mut config.model.init),
    ] {
        *value = substitute_fold(value, fold).map_err(|reason| invalid(key, reason))?;
    }
    let d = &mut config.data;
    let root = resolve(&d.root, &base, &session);
    d.root = root.display().to_string();
    for (key, value, needed) in [
        ("data.train", &mut d.train, config.kind != RunKind::Eval),
        ("data.test", &mut d.test, config.kind != RunKind::Pretrain),
    ] {
        if value.is_empty() {
            if needed {
                return Err(invalid(
                    key,
                    "a manifest is required for this kind of run".into(),
                ));
            }
            continue;
        }
        let path = resolve(value, &root, &session);
        if !path.is_file() {
            return Err(invalid(key, format!("{} does not exist", path.display())));
        }
        *value = path.display().to_string();
    }
    if !d.pack.is_empty() {
        let path = resolve(&d.pack, &root, &session);
        let pack = FramePack::open(&path).map_err(|e| invalid("data.pack", e.to_string()))?;
        if let PackedSize::ShortSide(side) = pack.size()
            && side != d.train_short_side
        {
            let now = match d.train_short_side {
                0 => "at their stored size".to_string(),
                t => format!("at short side {t}"),
            };
            return Err(invalid(
                "data.pack",
                format!(
                    "{} holds frames at short side {side}, the training views decode {now}: set `data.train_short_side = {side}`, or pack without --short-side",
                    path.display()
                ),
            ));
        }
        d.pack = path.display().to_string();
    }
    let init = &mut config.model.init;
    if init == LATEST_PRETRAIN {
        *init = latest_pretrain_checkpoint(&session)?.display().to_string();
    } else if !init.is_empty() {
        let path = checkpoint_behind(&resolve(init, &base, &session))?;
        if !path.is_file() {
            return Err(invalid(
                "model.init",
                format!("{} does not exist", path.display()),
            ));
        }
        *init = path.display().to_string();
    }
    if config.kind == RunKind::Eval && config.model.init.is_empty() {
        return Err(invalid(
            "model.init",
            "an evaluation needs a checkpoint".into(),
        ));
    }
    // Everything the worker would refuse, refused now, before a run folder exists (and
    // before `launch --detach` could say "started").
    if !config.backend.is_built() {
        return Err(invalid(
            "backend",
            crate::backend::not_built(config.backend),
        ));
    }
    super::data_adapter::read_manifests(&config)
        .with_context(|| format!("{}", config_path.display()))?;
    Ok(config)
}

/// Creates the run folder with the frozen `run.toml` and a `queued` status.
pub fn create_run(config: &RunConfig, session: &Path) -> Result<RunDir> {
    let kind = match config.kind {
        RunKind::Pretrain => "pretrain",
        RunKind::Finetune => "finetune",
        RunKind::Eval => "eval",
    };
    let sessions = SessionDir::new(session);
    let mut id = new_run_id(kind, &config.name);
    let mut n = 2;
    while sessions.run(&id).exists() {
        id = format!("{}-{n}", new_run_id(kind, &config.name));
        n += 1;
    }
    let run = sessions.run(&id);
    std::fs::create_dir_all(&run.root)
        .with_context(|| format!("{}: cannot create", run.root.display()))?;
    let written = crate::session::write_atomic(&run.run_toml(), config.to_toml().as_bytes())
        .and_then(|()| {
            let mut status = RunStatus::default();
            status.touch();
            status.write_atomic(&run.status_json())
        });
    if let Err(e) = written {
        // Half a run folder is no run: leave nothing behind.
        std::fs::remove_dir_all(&run.root).ok();
        return Err(e.into());
    }
    Ok(run)
}

/// How many processes a run folder's worker starts as: one per listed device.
pub fn processes_of(run: &RunDir) -> Result<usize> {
    Ok(RunConfig::load(&run.run_toml(), &[])?.devices.len())
}

/// The command that runs `svfap-tui run|resume <run-dir>` as `processes` processes: the
/// worker itself for one, else under Open MPI's `mpirun` (one rank per device, not pinned to
/// a core so each rank's threads can spread; as root, with Open MPI's consent variables).
pub fn worker_command(run: &RunDir, resume: bool, processes: usize) -> Result<Command> {
    let exe = std::env::current_exe().context("cannot find the svfap-tui executable")?;
    let verb = if resume { "resume" } else { "run" };
    if processes <= 1 {
        let mut cmd = Command::new(exe);
        cmd.arg(verb).arg(&run.root);
        return Ok(cmd);
    }
    if !cfg!(feature = "mpi") {
        bail!(
            "{}: {processes} processes need MPI, and this svfap-tui was built without it (cargo feature `mpi`)",
            run.root.display()
        );
    }
    let mpirun = find_on_path("mpirun").with_context(|| {
        format!("{processes} processes are started with mpirun, which is not on PATH (Debian and Ubuntu: apt install openmpi-bin)")
    })?;
    let mut cmd = Command::new(mpirun);
    cmd.args([
        "-np",
        &processes.to_string(),
        "--oversubscribe",
        "--bind-to",
        "none",
    ])
    .arg(exe)
    .arg(verb)
    .arg(&run.root);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    }
    Ok(cmd)
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Starts the run's worker (`processes` of them under mpirun when several) in its own
/// session with output to `log.txt`; returns the pid of what it started.
pub fn spawn_worker(run: &RunDir, resume: bool, processes: usize) -> Result<u32> {
    use std::os::unix::process::CommandExt;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(run.log_txt())
        .with_context(|| format!("{}: cannot open", run.log_txt().display()))?;
    let mut cmd = worker_command(run, resume, processes)?;
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().context("cannot start the run worker")?;
    Ok(child.id())
}

pub fn ensure_session(session: &Path) -> Result<()> {
    if session.exists() && !session.is_dir() {
        bail!("{}: is not a folder", session.display());
    }
    std::fs::create_dir_all(SessionDir::new(session).runs())
        .with_context(|| format!("{}: cannot create", session.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_placeholders_are_replaced_or_refused() {
        assert_eq!(
            substitute_fold("split{fold:02}/train.csv", Some(3)).unwrap(),
            "split03/train.csv"
        );
        assert_eq!(substitute_fold("f{fold}.csv", Some(12)).unwrap(), "f12.csv");
        assert_eq!(substitute_fold("plain.csv", None).unwrap(), "plain.csv");
        let err = substitute_fold("f{fold}.csv", None).unwrap_err();
        assert!(err.contains("`data.fold` is not set"), "{err}");
    }
}
