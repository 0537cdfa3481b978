//! Reading one run folder into a summary the workbench shows. Tolerates a folder being
//! created or deleted while it is read: missing files are "not yet", not errors.

use std::path::{Path, PathBuf};

use super::artifacts::EvalReport;
use super::layout::{RunDir, list_step_dirs, parse_step_name};
use super::listing::files_with_extension;
use super::status::RunStatus;

/// Everything about a run except its metrics (which are tailed separately).
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub id: String,
    pub root: PathBuf,
    /// `run.toml` as parsed, or `None` while missing / unreadable (see `problems`).
    pub config: Option<toml::Value>,
    pub kind: String,
    pub name: String,
    pub preset: String,
    pub dataset: String,
    pub status: Option<RunStatus>,
    pub checkpoints: Vec<Checkpoint>,
    /// File name named by `checkpoints/latest`.
    pub latest_checkpoint: Option<String>,
    pub recon_steps: Vec<u64>,
    pub attn_steps: Vec<u64>,
    pub evals: Vec<EvalReport>,
    /// The live worker holding the run's lock, if any (a `running` status without one is a
    /// worker that died without saying so).
    pub lock: Option<super::run_lock::LockHolder>,
    /// Files that exist but could not be read, with the reason.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub file: String,
    pub step: u64,
    pub bytes: u64,
}

/// Evaluation files already parsed, keyed by path and checked by size and modification
/// time, so a periodic rescan does not parse large prediction lists again.
#[derive(Debug, Default)]
pub struct ScanCache {
    evals: std::collections::HashMap<PathBuf, (Option<std::time::SystemTime>, u64, EvalReport)>,
}

impl ScanCache {
    pub(crate) fn eval(&mut self, path: &Path) -> Result<EvalReport, super::SessionError> {
        let meta = std::fs::metadata(path).map_err(super::SessionError::io(path))?;
        let stamp = (meta.modified().ok(), meta.len());
        if let Some((m, l, e)) = self.evals.get(path)
            && (*m, *l) == stamp
        {
            return Ok(e.clone());
        }
        let e = EvalReport::read(path)?;
        self.evals
            .insert(path.to_path_buf(), (stamp.0, stamp.1, e.clone()));
        Ok(e)
    }
    /// Forgets files that no longer exist.
    pub fn retain_existing(&mut self) {
        self.evals.retain(|p, _| p.exists());
    }
}

pub fn read_run(run: &RunDir) -> RunSummary {
    read_run_cached(run, &mut ScanCache::default())
}

pub fn read_run_cached(run: &RunDir, cache: &mut ScanCache) -> RunSummary {
    let mut s = RunSummary {
        id: run.id(),
        root: run.root.clone(),
        ..Default::default()
    };
    if let Some((kind, _, name)) = super::layout::split_run_id(&s.id) {
        s.kind = kind.into();
        s.name = name.into();
    }
    match std::fs::read_to_string(run.run_toml()) {
        Ok(text) => match text.parse::<toml::Table>() {
            Ok(table) => {
                let v = toml::Value::Table(table);
                let get = |path: &[&str]| {
                    let mut cur = &v;
                    for p in path {
                        cur = cur.get(p)?;
                    }
                    cur.as_str().map(str::to_string)
                };
                if let Some(k) = get(&["kind"]) {
                    s.kind = k;
                }
                if let Some(n) = get(&["name"]) {
                    s.name = n;
                }
                s.preset = get(&["model", "preset"]).unwrap_or_default();
                s.dataset = get(&["data", "dataset"]).unwrap_or_default();
                s.config = Some(v);
            }
            Err(e) => s.problems.push(format!("run.toml: {}", e.message())),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => s.problems.push(format!("run.toml: {e}")),
    }
    match RunStatus::read(&run.status_json()) {
        Ok(st) => s.status = Some(st),
        Err(e) if e.is_not_found() => {}
        Err(e) => s.problems.push(short_error(&e.to_string(), &run.root)),
    }
    s.lock = super::run_lock::holder(run);
    s.checkpoints = list_checkpoints(&run.checkpoints());
    // The worker's `latest` names the checkpoint's stem (`step-000500`); older sessions
    // named the model file.
    s.latest_checkpoint = std::fs::read_to_string(run.latest_pointer())
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t.ends_with(".safetensors") {
                t
            } else {
                format!("{t}.safetensors")
            }
        });
    s.recon_steps = list_step_dirs(&run.recon());
    s.attn_steps = list_step_dirs(&run.attn());
    for r in files_with_extension(&run.eval(), "json")
        .iter()
        .map(|p| cache.eval(p))
    {
        match r {
            // An evaluation of no video (written by older versions) is not a score.
            Ok(e) if e.predictions.is_empty() => s.problems.push(format!(
                "eval/{}-{}.json scored no video; not shown",
                e.dataset, e.split
            )),
            Ok(e) => s.evals.push(e),
            Err(e) if e.is_not_found() => {}
            Err(e) => s.problems.push(short_error(&e.to_string(), &run.root)),
        }
    }
    s
}

fn short_error(msg: &str, root: &Path) -> String {
    let prefix = format!("{}/", root.display());
    msg.replace(&prefix, "")
}

pub fn list_checkpoints(dir: &Path) -> Vec<Checkpoint> {
    let mut out: Vec<Checkpoint> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            // The model file only: `step-000500.safetensors`, not its `.optim.safetensors`.
            let step = parse_step_name(&file)?;
            if file != format!("{}.safetensors", super::layout::step_dir_name(step)) {
                return None;
            }
            let bytes = e.metadata().map(|m| m.len()).unwrap_or(0);
            Some(Checkpoint { file, step, bytes })
        })
        .collect();
    out.sort_by_key(|c| c.step);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The files the worker writes for one checkpoint (`train::checkpoint_state`): the model,
    /// the optimiser, the data-order state, and `latest` naming the stem.
    fn worker_checkpoint(dir: &Path, step: u64) {
        let stem = format!("step-{step:06}");
        for (ext, bytes) in [("safetensors", 3000), ("optim.safetensors", 6000)] {
            std::fs::write(dir.join(format!("{stem}.{ext}")), vec![0u8; bytes]).unwrap();
        }
        std::fs::write(dir.join(format!("{stem}.state.json")), "{}").unwrap();
        std::fs::write(dir.join("latest"), format!("{stem}\n")).unwrap();
    }

    #[test]
    fn checkpoints_are_the_model_files_and_latest_names_one_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path().join("pretrain-20260101-000000-x"));
        run.create().unwrap();
        worker_checkpoint(&run.checkpoints(), 200);
        worker_checkpoint(&run.checkpoints(), 400);
        let s = read_run(&run);
        let files: Vec<&str> = s.checkpoints.iter().map(|c| c.file.as_str()).collect();
        assert_eq!(
            files,
            ["step-000200.safetensors", "step-000400.safetensors"]
        );
        assert_eq!(s.checkpoints[1].bytes, 3000);
        assert_eq!(
            s.latest_checkpoint.as_deref(),
            Some("step-000400.safetensors")
        );
    }
}
