//! Training checkpoints in a run's `checkpoints/` folder (DESIGN §3): for step N,
//! `step-00000N.safetensors` (our model format), `.optim.safetensors` (AdamW moments
//! by released key) and `.state.json` (schedule position and data order). Each file is
//! written to a temporary name and renamed; `latest` names the newest complete checkpoint
//! and is replaced last, so a run killed at any moment resumes from a complete one.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::adamw::AdamWState;
use super::crash_point::crash_point;
use super::loss_scale::LossScale;
use crate::session::write_atomic;

/// Where the run is in its schedule; everything random derives from `seed` and these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingState {
    pub format: u32,
    /// Optimiser updates done.
    pub step: u64,
    /// Epoch of the next batch.
    pub epoch: u64,
    /// Videos of `epoch` already consumed (the data loader's position).
    pub position: u64,
    pub seed: u64,
    /// Samples skipped as unreadable so far.
    pub skipped_samples: u64,
    /// The f16 loss scale and its growth counter (f16 runs only), so a resumed run scales
    /// as the uninterrupted one would.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<LossScale>,
    /// Processes the run had when this was written (1 when absent: older runs had one).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub world_size: u64,
    /// Micro-batches per rank per step in effect (a run resumed on another world size
    /// changes it to keep the effective batch); 0 when absent: the config's.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub accumulation: u64,
    /// Each rank's index into its share of the epoch (`DataShard::positions`), several
    /// processes only; `position` is rank 0's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rank_positions: Vec<u64>,
    /// Steps done in `epoch`: where ranks of another world size continue it.
    #[serde(default)]
    pub epoch_steps: u64,
    /// When this state was written (Unix seconds, the clock of the metrics' `time`): a
    /// resumed run drops the records of this step logged later. The file's modification time
    /// is coarser (the kernel's tick) and can fall before records logged just ahead of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_unix: Option<f64>,
}

fn one() -> u64 {
    1
}

fn is_one(v: &u64) -> bool {
    *v == 1
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl TrainingState {
    /// The start of a run.
    pub fn fresh(seed: u64) -> Self {
        Self {
            format: 1,
            step: 0,
            epoch: 0,
            position: 0,
            seed,
            skipped_samples: 0,
            loss_scale: None,
            world_size: 1,
            accumulation: 0,
            rank_positions: Vec::new(),
            epoch_steps: 0,
            written_unix: None,
        }
    }
}

pub fn checkpoint_stem(step: u64) -> String {
    format!("step-{step:06}")
}

/// Writes checkpoint `state.step`: the model through `save_model(path)`, then the optimiser
/// and the state, then `latest`; deletes all but the newest `keep_last` checkpoints.
pub fn write_checkpoint(
    dir: &Path,
    save_model: impl FnOnce(&Path) -> Result<()>,
    optim: &AdamWState,
    state: &TrainingState,
    keep_last: usize,
) -> Result<()> {
    // `create_dir`, not `create_dir_all`: a run folder deleted under the worker stays deleted.
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(e).with_context(|| format!("{}: cannot create", dir.display()));
        }
        _ => {}
    }
    let stem = checkpoint_stem(state.step);
    let written = (|| -> Result<()> {
        save_model(&dir.join(format!("{stem}.safetensors")))?;
        crash_point("checkpoint-model", state.step);
        write_atomic(
            &dir.join(format!("{stem}.optim.safetensors")),
            &serialize_optim(optim)?,
        )?;
        write_atomic(
            &dir.join(format!("{stem}.state.json")),
            serde_json::to_string_pretty(&TrainingState {
                written_unix: Some(crate::session::now_unix()),
                ..state.clone()
            })?
            .as_bytes(),
        )?;
        crash_point("checkpoint-state", state.step);
        write_atomic(&dir.join("latest"), format!("{stem}\n").as_bytes())
            .map_err(anyhow::Error::from)
    })();
    if let Err(e) = written {
        // A checkpoint that could not be completed (a full disk): remove its parts, unless
        // `latest` already names it, so nothing is left that no reader will use.
        let named = std::fs::read_to_string(dir.join("latest")).is_ok_and(|l| l.trim() == stem);
        if !named {
            for ext in [
                "safetensors",
                "safetensors.tmp",
                "optim.safetensors",
                "state.json",
            ] {
                std::fs::remove_file(dir.join(format!("{stem}.{ext}"))).ok();
            }
        }
        return Err(e);
    }
    prune(dir, keep_last)
}

/// Steps of the complete checkpoints in `dir`, oldest first.
pub fn checkpoint_steps(dir: &Path) -> Vec<u64> {
    let mut steps: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("step-")?
                .strip_suffix(".state.json")?
                .parse()
                .ok()
        })
        .collect();
    steps.sort_unstable();
    steps
}

fn prune(dir: &Path, keep_last: usize) -> Result<()> {
    let steps = checkpoint_steps(dir);
    for &step in steps.iter().take(steps.len().saturating_sub(keep_last)) {
        for ext in ["safetensors", "optim.safetensors", "state.json"] {
            let path = dir.join(format!("{}.{ext}", checkpoint_stem(step)));
            std::fs::remove_file(&path).ok();
        }
    }
    // Temp files of writers killed mid-write (`x.safetensors.tmp`, `.x.tmp-PID`) are never
    // read; this process is the run's only writer, so any left now are stale.
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".tmp") || name.contains(".tmp-") {
            std::fs::remove_file(entry.path()).ok();
        }
    }
    Ok(())
}

/// The newest complete checkpoint: (model file, optimiser, state).
pub struct LatestCheckpoint {
    pub model: PathBuf,
    pub optim: AdamWState,
    pub state: TrainingState,
    /// When its state was written (Unix seconds).
    pub written: f64,
    /// Newer checkpoints that could not be read, with the reason (each passed over for an
    /// older complete one).
    pub passed_over: Vec<String>,
}

/// The checkpoint `latest` names; when that one is damaged (a file missing, truncated or
/// unparseable), the newest older one that is complete, with the reasons in `passed_over`.
/// `None` when the run has no checkpoint yet.
pub fn read_latest(dir: &Path) -> Result<Option<LatestCheckpoint>> {
    let latest = dir.join("latest");
    let Ok(named) = std::fs::read_to_string(&latest) else {
        return Ok(None);
    };
    let named = named.trim().to_string();
    let named_step = named
        .strip_prefix("step-")
        .and_then(|s| s.parse::<u64>().ok());
    let mut stems = vec![named.clone()];
    stems.extend(
        checkpoint_steps(dir)
            .into_iter()
            .rev()
            .filter(|&s| named_step.is_none_or(|n| s < n))
            .map(checkpoint_stem),
    );
    let mut passed_over = vec![];
    for stem in stems {
        match read_checkpoint_files(dir, &stem) {
            Ok(mut c) => {
                c.passed_over = passed_over;
                return Ok(Some(c));
            }
            Err(e) => passed_over.push(format!("{stem}: {e:#}")),
        }
    }
    bail!(
        "{}: names `{named}`, and no complete checkpoint can be read:\n  {}",
        latest.display(),
        passed_over.join("\n  ")
    )
}

fn read_checkpoint_files(dir: &Path, stem: &str) -> Result<LatestCheckpoint> {
    let model = dir.join(format!("{stem}.safetensors"));
    let optim_path = dir.join(format!("{stem}.optim.safetensors"));
    let state_path = dir.join(format!("{stem}.state.json"));
    for p in [&model, &optim_path, &state_path] {
        if !p.is_file() {
            bail!("{} is missing", p.display());
        }
    }
    let state: TrainingState = serde_json::from_slice(&std::fs::read(&state_path)?)
        .with_context(|| format!("{}: not a training state", state_path.display()))?;
    let optim = deserialize_optim(&std::fs::read(&optim_path)?)
        .with_context(|| format!("{}", optim_path.display()))?;
    check_safetensors_length(&model)?;
    let modified = std::fs::metadata(&state_path)?
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let written = state.written_unix.unwrap_or(modified);
    Ok(LatestCheckpoint {
        model,
        optim,
        state,
        written,
        passed_over: vec![],
    })
}

/// A safetensors file whose header parses and whose length is what the header says: catches
/// a truncated model file without reading its tensors.
fn check_safetensors_length(path: &Path) -> Result<()> {
    use std::io::Read;
    let bad = |why: String| anyhow::anyhow!("{}: {why}", path.display());
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut n = [0u8; 8];
    f.read_exact(&mut n)
        .map_err(|_| bad("shorter than a safetensors header".into()))?;
    let n = u64::from_le_bytes(n);
    if n > (100 << 20) || 8 + n > len {
        return Err(bad(format!(
            "header of {n} bytes does not fit the file ({len} bytes)"
        )));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header)?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&header).map_err(|e| bad(format!("header: {e}")))?;
    let end = header
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .filter_map(|(_, v)| v.get("data_offsets")?.get(1)?.as_u64())
        .max()
        .unwrap_or(0);
    if 8 + n + end != len {
        return Err(bad(format!(
            "{len} bytes, the header says {} (truncated?)",
            8 + n + end
        )));
    }
    Ok(())
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn serialize_optim(optim: &AdamWState) -> Result<Vec<u8>> {
    let buffers: Vec<(String, Vec<u8>, usize)> = optim
        .moments
        .iter()
        .flat_map(|(key, (m, v))| {
            [
                (format!("m.{key}"), f32_bytes(m), m.len()),
                (format!("v.{key}"), f32_bytes(v), v.len()),
            ]
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = buffers
        .iter()
        .map(|(name, bytes, n)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![*n], bytes)
                    .expect("sizes agree");
            (name.clone(), view)
        })
        .collect();
    let metadata = HashMap::from([
        ("steps".to_string(), optim.steps.to_string()),
        ("format".into(), "1".into()),
    ]);
    Ok(safetensors::serialize(views, Some(metadata))?)
}

fn deserialize_optim(bytes: &[u8]) -> Result<AdamWState> {
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)?;
    let steps = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("steps"))
        .and_then(|s| s.parse().ok())
        .context("no `steps` in the optimiser metadata")?;
    let tensors = safetensors::SafeTensors::deserialize(bytes)?;
    let read = |name: &str| -> Result<Vec<f32>> {
        let t = tensors.tensor(name)?;
        Ok(t.data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    };
    let mut moments = BTreeMap::new();
    for name in tensors.names() {
        if let Some(key) = name.strip_prefix("m.") {
            moments.insert(key.to_string(), (read(name)?, read(&format!("v.{key}"))?));
        }
    }
    Ok(AdamWState { steps, moments })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(step: u64) -> TrainingState {
        TrainingState {
            format: 1,
            step,
            epoch: 1,
            position: 3,
            seed: 7,
            ..TrainingState::fresh(7)
        }
    }

    /// A valid one-tensor safetensors file, standing in for a model.
    fn model_file(p: &Path) -> Result<()> {
        let bytes = 1f32.to_le_bytes();
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &bytes).unwrap();
        Ok(std::fs::write(
            p,
            safetensors::serialize([("w", view)], None)?,
        )?)
    }

    #[test]
    fn a_damaged_latest_checkpoint_falls_back_to_the_newest_complete_one() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let optim = AdamWState {
            steps: 1,
            moments: BTreeMap::new(),
        };
        for step in [10, 20, 30] {
            write_checkpoint(dir, model_file, &optim, &state(step), 3).unwrap();
        }
        // The newest model file cut short (a full disk, a copy interrupted), the one before
        // it without its optimiser moments.
        let newest = dir.join("step-000030.safetensors");
        let bytes = std::fs::read(&newest).unwrap();
        std::fs::write(&newest, &bytes[..bytes.len() - 2]).unwrap();
        std::fs::remove_file(dir.join("step-000020.optim.safetensors")).unwrap();
        let c = read_latest(dir).unwrap().unwrap();
        assert_eq!(c.state.step, 10);
        assert_eq!(c.passed_over.len(), 2, "{:?}", c.passed_over);
        assert!(
            c.passed_over[0].contains("truncated"),
            "{:?}",
            c.passed_over
        );
        assert!(c.passed_over[1].contains("missing"), "{:?}", c.passed_over);
        std::fs::remove_file(dir.join("step-000010.optim.safetensors")).unwrap();
        let err = read_latest(dir).err().unwrap().to_string();
        assert!(err.contains("no complete checkpoint"), "{err}");
    }

    #[test]
    fn checkpoints_round_trip_and_old_ones_are_pruned() {
        let before = crate::session::now_unix();
        let dir = std::env::temp_dir().join(format!("svfap-ckpt-{}", std::process::id()));
        let optim = AdamWState {
            steps: 4,
            moments: BTreeMap::from([("fc.weight".into(), (vec![1.0, 2.0], vec![3.0, 4.0]))]),
        };
        for step in [10, 20, 30] {
            write_checkpoint(&dir, model_file, &optim, &state(step), 2).unwrap();
        }
        assert_eq!(checkpoint_steps(&dir), vec![20, 30]);
        let latest = read_latest(&dir).unwrap().unwrap();
        // When it was written, on the clock the metrics' `time` uses (not the file's
        // coarser modification time, which can fall before records logged just ahead).
        let written = latest
            .state
            .written_unix
            .expect("the write time is recorded");
        assert!(written >= before && latest.written == written);
        let without_time = TrainingState {
            written_unix: None,
            ..latest.state.clone()
        };
        assert_eq!(without_time, state(30));
        assert_eq!(latest.optim.steps, 4);
        assert_eq!(
            latest.optim.moments["fc.weight"],
            (vec![1.0, 2.0], vec![3.0, 4.0])
        );
        assert!(latest.model.ends_with("step-000030.safetensors"));

        // Leftovers of a writer killed mid-write go with the next checkpoint.
        let stale = [
            ".step-000040.state.json.tmp-99",
            "step-000040.safetensors.tmp",
        ];
        for name in stale {
            std::fs::write(dir.join(name), b"torn").unwrap();
        }
        write_checkpoint(&dir, model_file, &optim, &state(40), 2).unwrap();
        for name in stale {
            assert!(!dir.join(name).exists(), "{name} left behind");
        }
        assert_eq!(checkpoint_steps(&dir), vec![30, 40]);
    }

    #[test]
    fn an_interrupted_write_leaves_the_previous_checkpoint_latest() {
        let dir = std::env::temp_dir().join(format!("svfap-ckpt-kill-{}", std::process::id()));
        let optim = AdamWState {
            steps: 1,
            moments: BTreeMap::new(),
        };
        write_checkpoint(&dir, model_file, &optim, &state(10), 3).unwrap();
        // A model save that dies half way.
        let failed = write_checkpoint(&dir, |_| bail!("killed"), &optim, &state(20), 3);
        assert!(failed.is_err());
        assert_eq!(read_latest(&dir).unwrap().unwrap().state.step, 10);
    }
}
