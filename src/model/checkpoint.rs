//! Checkpoints: import of the released PyTorch weights (zip `.pth` under `model`/`module`,
//! or safetensors), architecture inference from tensor shapes, strict shape checking, and
//! our own file format.
//!
//! Our format is safetensors with the released key names and PyTorch layouts (so PyTorch
//! can read it too) plus metadata: `format = "1"`, `svfap.kind`, `svfap.config` (JSON).
//! Every import is strict: a missing, unexpected or mis-shaped key is an error that names
//! the key and both shapes (DESIGN §5, bug 3: the released pre-training factory is 768
//! wide, and `load_state_dict(strict=False)` then silently dropped 375 of 383 keys).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::store::{
    BurnToPyTorchAdapter, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, PytorchStore,
    SafetensorsStore, TensorSnapshot,
};
use serde::{Deserialize, Serialize};

use super::classifier::SvfapClassifier;
use super::config::{ClassifierConfig, DecoderConfig, EncoderConfig, PretrainerConfig};
use super::input_spec::{InputSpec, META_INPUT};
use super::pretrainer::SvfapPretrainer;

pub const FORMAT_VERSION: &str = "1";
pub(crate) const META_KIND: &str = "svfap.kind";
pub(crate) const META_CONFIG: &str = "svfap.config";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: cannot read checkpoint: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: cannot write checkpoint: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("{path}: cannot infer the architecture: {reason}")]
    Infer { path: PathBuf, reason: String },
    #[error("{path}: missing key `{key}` (the model expects shape {expected:?})")]
    Missing {
        path: PathBuf,
        key: String,
        expected: Vec<usize>,
    },
    #[error(
        "{path}: key `{key}` has shape {checkpoint:?} in the checkpoint but {model:?} in the model"
    )]
    ShapeMismatch {
        path: PathBuf,
        key: String,
        checkpoint: Vec<usize>,
        model: Vec<usize>,
    },
    #[error("{path}: {} unexpected key(s), first `{}` with shape {:?}", .keys.len(), .keys[0].0, .keys[0].1)]
    Unexpected {
        path: PathBuf,
        keys: Vec<(String, Vec<usize>)>,
    },
    #[error("{path}: {reason}")]
    Apply { path: PathBuf, reason: String },
    #[error(transparent)]
    Config(#[from] super::config::ConfigError),
}

/// Which model a checkpoint holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "config", rename_all = "lowercase")]
pub enum ModelSpec {
    Classifier(ClassifierConfig),
    Pretrainer(PretrainerConfig),
}

impl ModelSpec {
    pub fn encoder(&self) -> &EncoderConfig {
        match self {
            Self::Classifier(c) => &c.encoder,
            Self::Pretrainer(c) => &c.encoder,
        }
    }
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            Self::Classifier(_) => "classifier",
            Self::Pretrainer(_) => "pretrainer",
        }
    }
}

/// Tensors of a checkpoint file by released key, in PyTorch layout, read lazily.
pub struct CheckpointTensors {
    pub path: PathBuf,
    pub tensors: BTreeMap<String, TensorSnapshot>,
    /// The `.pth` entry the weights were under (`model`, `module`), if any.
    pub top_level_key: Option<String>,
    /// Our own metadata, when the file was written by `save_*`.
    pub spec: Option<ModelSpec>,
    /// What the model was trained to see, when a fine-tuning run wrote the file.
    pub input: Option<InputSpec>,
}

impl CheckpointTensors {
    pub fn shape(&self, key: &str) -> Option<Vec<usize>> {
        self.tensors.get(key).map(|t| t.shape.to_vec())
    }
    pub fn is_pretrainer(&self) -> bool {
        self.tensors
            .keys()
            .any(|k| k.starts_with("decoder.") || k == "mask_token")
    }
}

/// Reads a `.pth`/`.pt` (weights under `model`, `module` or at the top level) or a
/// `.safetensors` file.
pub fn read_checkpoint(path: &Path) -> Result<CheckpointTensors, CheckpointError> {
    let read_err = |reason: String| CheckpointError::Read {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_file() {
        return Err(read_err("no such file".into()));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "safetensors" => {
            let bytes = std::fs::read(path).map_err(|e| read_err(e.to_string()))?;
            let header = bytes
                .get(..8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
            if header.is_none_or(|n| n.saturating_add(8) > bytes.len() as u64) {
                let what = if bytes.starts_with(b"version https://git-lfs") {
                    "a Git LFS pointer, not the file (run `git lfs pull`)"
                } else if bytes.iter().take(512).all(|b| b.is_ascii()) {
                    "a text file"
                } else {
                    "truncated or another format"
                };
                return Err(read_err(format!(
                    "not a safetensors file: {} bytes, {what}",
                    bytes.len()
                )));
            }
            let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes)
                .map_err(|e| read_err(e.to_string()))?;
            let meta = metadata.metadata().as_ref();
            let spec = parse_metadata(meta).map_err(read_err)?;
            let input = meta
                .and_then(|m| m.get(META_INPUT))
                .map(|json| InputSpec::parse(json))
                .transpose()
                .map_err(read_err)?;
            drop(bytes);
            let mut store = SafetensorsStore::from_file(path);
            let tensors = store
                .get_all_snapshots()
                .map_err(|e| read_err(e.to_string()))?
                .clone();
            Ok(CheckpointTensors {
                path: path.to_path_buf(),
                tensors,
                top_level_key: None,
                spec,
                input,
            })
        }
        "pth" | "pt" | "bin" | "ckpt" => {
            let mut last_error = String::new();
            for key in ["model", "module", ""] {
                let mut store = PytorchStore::from_file(path).map_indices_contiguous(false);
                if !key.is_empty() {
                    store = store.with_top_level_key(key);
                }
                match store.get_all_snapshots() {
                    Ok(tensors) if !tensors.is_empty() => {
                        let top_level_key = (!key.is_empty()).then(|| key.to_string());
                        return Ok(CheckpointTensors {
                            path: path.to_path_buf(),
                            tensors: tensors.clone(),
                            top_level_key,
                            spec: None,
                            input: None,
                        });
                    }
                    Ok(_) => last_error = "no tensors found".into(),
                    Err(e) => last_error = e.to_string(),
                }
            }
            Err(read_err(format!(
                "no weights under `model`, `module` or the top level ({last_error})"
            )))
        }
        other => Err(read_err(format!(
            "unknown extension `.{other}` (expected .pth, .pt or .safetensors)"
        ))),
    }
}

fn parse_metadata(metadata: Option<&HashMap<String, String>>) -> Result<Option<ModelSpec>, String> {
    let Some(meta) = metadata else {
        return Ok(None);
    };
    let (Some(kind), Some(config)) = (meta.get(META_KIND), meta.get(META_CONFIG)) else {
        return Ok(None);
    };
    if let Some(format) = meta.get("format")
        && format != FORMAT_VERSION
    {
        return Err(format!(
            "format {format} is not supported (this build reads format {FORMAT_VERSION})"
        ));
    }
    let spec = match kind.as_str() {
        "classifier" => ModelSpec::Classifier(
            serde_json::from_str(config).map_err(|e| format!("{META_CONFIG}: {e}"))?,
        ),
        "pretrainer" => ModelSpec::Pretrainer(
            serde_json::from_str(config).map_err(|e| format!("{META_CONFIG}: {e}"))?,
        ),
        other => {
            return Err(format!(
                "{META_KIND} = `{other}` is neither classifier nor pretrainer"
            ));
        }
    };
    Ok(Some(spec))
}

/// What the shapes cannot tell: given on the command line, or the paper's defaults.
#[derive(Debug, Clone, Default)]
pub struct ArchitectureHints {
    /// Default: width / 64 (paper: 512 → 8).
    pub heads: Option<usize>,
    /// Default: decoder width / 64 (paper: 384 → 6).
    pub decoder_heads: Option<usize>,
    /// Default 160 (positions are a fixed table, not stored in checkpoints).
    pub img_size: Option<usize>,
    /// Default 16.
    pub frames: Option<usize>,
    /// Stage depths; default: stage 1 from the plain blocks, later stages halving (12, 6, 3).
    pub stage_depths: Option<Vec<usize>>,
    pub fuse_multiscale: bool,
    /// Pre-training mask ratio (not stored in weights); default 0.9.
    pub mask_ratio: Option<f64>,
}

/// Infers the model's configuration from tensor shapes (or reads our own metadata).
pub fn infer_spec(
    ckpt: &CheckpointTensors,
    hints: &ArchitectureHints,
) -> Result<ModelSpec, CheckpointError> {
    if let Some(spec) = &ckpt.spec {
        return Ok(spec.clone());
    }
    let infer_err = |reason: String| CheckpointError::Infer {
        path: ckpt.path.clone(),
        reason,
    };
    let pretrainer = ckpt.is_pretrainer();
    let p = if pretrainer { "encoder." } else { "" };
    let need = |key: String| {
        ckpt.shape(&key)
            .ok_or_else(|| infer_err(format!("no `{key}` tensor")))
    };

    let proj = need(format!("{p}patch_embed.proj.weight"))?;
    let [width, in_chans, tubelet, patch, _] = proj[..] else {
        return Err(infer_err(format!(
            "`{p}patch_embed.proj.weight` has shape {proj:?}, expected 5 dims"
        )));
    };
    let block_count = count_indexed(ckpt, &format!("{p}blocks."));
    let plain = (0..block_count)
        .take_while(|i| {
            !ckpt
                .tensors
                .contains_key(&format!("{p}blocks.{i}.cross_attn.q.weight"))
        })
        .count();
    let later = count_indexed(ckpt, &format!("{p}temporal_downsamples."));
    let stage_depths = match &hints.stage_depths {
        Some(d) => d.clone(),
        None => split_depths(plain, block_count - plain, later).map_err(infer_err)?,
    };
    if stage_depths.iter().sum::<usize>() != block_count || stage_depths.len() != later + 1 {
        return Err(infer_err(format!(
            "stage depths {stage_depths:?} do not match {block_count} blocks in {} stages",
            later + 1
        )));
    }
    let temporal_kernel = if later > 0 {
        need(format!("{p}temporal_downsamples.0.weight"))?[2]
    } else {
        2
    };
    let bottleneck_tokens = (0..later)
        .map(|i| need(format!("{p}spatial_downsamples.{i}.mlp.fc2.weight")).map(|s| s[0]))
        .collect::<Result<Vec<_>, _>>()?;
    let bottleneck_hidden = if later > 0 {
        need(format!("{p}spatial_downsamples.0.mlp.fc1.weight"))?[0]
    } else {
        128
    };
    let mlp_hidden = need(format!("{p}blocks.0.mlp.fc1.weight"))?[0];
    let encoder = EncoderConfig {
        img_size: hints.img_size.unwrap_or(160),
        frames: hints.frames.unwrap_or(16),
        tubelet,
        patch,
        in_chans,
        width,
        heads: hints.heads.unwrap_or((width / 64).max(1)),
        mlp_ratio: mlp_hidden / width,
        stage_depths,
        bottleneck_tokens: match bottleneck_tokens.first() {
            None => vec![8],
            Some(&g) if bottleneck_tokens.iter().all(|&x| x == g) => vec![g],
            Some(_) => bottleneck_tokens,
        },
        bottleneck_hidden,
        temporal_kernel,
        drop_path: 0.0,
    };
    let spec = if pretrainer {
        let to_dec = need("encoder_to_decoder.weight".into())?;
        let dw = to_dec[0];
        let config = PretrainerConfig {
            encoder,
            decoder: DecoderConfig {
                width: dw,
                depth: count_indexed(ckpt, "decoder.blocks."),
                heads: hints.decoder_heads.unwrap_or((dw / 64).max(1)),
            },
            mask_ratio: hints.mask_ratio.unwrap_or(0.9),
            fuse_multiscale: true,
            target: Default::default(),
        };
        config.validate()?;
        ModelSpec::Pretrainer(config)
    } else {
        let head = need("head.weight".into())?;
        let config = ClassifierConfig {
            encoder,
            num_outputs: head[0],
            head_activation: Default::default(),
            fuse_multiscale: hints.fuse_multiscale,
        };
        config.validate()?;
        ModelSpec::Classifier(config)
    };
    Ok(spec)
}

/// Number of `prefix{i}.` groups with consecutive i from 0.
fn count_indexed(ckpt: &CheckpointTensors, prefix: &str) -> usize {
    (0..)
        .take_while(|i| {
            ckpt.tensors
                .keys()
                .any(|k| k.starts_with(&format!("{prefix}{i}.")))
        })
        .count()
}

/// Splits the cross-self blocks over the later stages. The weights do not record the split,
/// so: each later stage half the previous one, as in every published preset ((12, 6, 3),
/// (8, 4, 2)); else an equal split; else the user must give the depths.
fn split_depths(first: usize, cross_self: usize, later: usize) -> Result<Vec<usize>, String> {
    if later <= 1 {
        return Ok(if later == 1 {
            vec![first, cross_self]
        } else {
            vec![first]
        });
    }
    let mut halving = vec![first];
    for _ in 0..later {
        halving.push(halving.last().unwrap() / 2);
    }
    if halving[1..].iter().sum::<usize>() == cross_self && !halving.contains(&0) {
        return Ok(halving);
    }
    if cross_self.is_multiple_of(later) {
        return Ok(std::iter::once(first)
            .chain(std::iter::repeat_n(cross_self / later, later))
            .collect());
    }
    Err(format!(
        "cannot tell how {cross_self} cross-self blocks split over {later} stages; pass the stage depths"
    ))
}

/// Our module path → the released key.
fn released_key(spec_kind: &str, ours: &str) -> String {
    match spec_kind {
        "classifier" => ours
            .strip_prefix("encoder.")
            .map(str::to_string)
            .unwrap_or_else(|| ours.to_string()),
        _ => match ours.strip_prefix("encoder_norm.") {
            Some(rest) => format!("encoder.norm.{rest}"),
            None => ours.to_string(),
        },
    }
}

/// The model's tensors by released key with PyTorch-layout shapes.
fn expected_shapes<B: Backend, M: ModuleSnapshot<B>>(
    model: &M,
    kind: &str,
) -> Vec<(String, Vec<usize>)> {
    model
        .collect(None, Some(Box::new(BurnToPyTorchAdapter)), true)
        .into_iter()
        .map(|s| (released_key(kind, &s.full_path()), s.shape.to_vec()))
        .collect()
}

/// Checks `ckpt` against the model key by key, then loads it. `select` maps a checkpoint
/// key to the model's released key, or `None` to leave it out on purpose.
fn check_and_apply<B: Backend, M: ModuleSnapshot<B>>(
    model: &mut M,
    kind: &str,
    ckpt: &CheckpointTensors,
    select: impl Fn(&str) -> Option<String>,
    fresh: impl Fn(&str) -> bool,
) -> Result<usize, CheckpointError> {
    let path = ckpt.path.clone();
    let mut provided: BTreeMap<String, (&TensorSnapshot, Vec<usize>)> = BTreeMap::new();
    for (key, snapshot) in &ckpt.tensors {
        if let Some(target) = select(key) {
            provided.insert(target, (snapshot, snapshot.shape.to_vec()));
        }
    }
    let expected = expected_shapes(model, kind);
    for (key, shape) in &expected {
        if fresh(key) {
            continue;
        }
        match provided.get(key) {
            None => {
                return Err(CheckpointError::Missing {
                    path,
                    key: key.clone(),
                    expected: shape.clone(),
                });
            }
            Some((_, got)) if got != shape => {
                return Err(CheckpointError::ShapeMismatch {
                    path,
                    key: key.clone(),
                    checkpoint: got.clone(),
                    model: shape.clone(),
                });
            }
            _ => {}
        }
    }
    let known: std::collections::HashSet<&String> = expected.iter().map(|(k, _)| k).collect();
    let unexpected: Vec<(String, Vec<usize>)> = provided
        .iter()
        .filter(|(k, _)| !known.contains(k))
        .map(|(k, (_, s))| (k.clone(), s.clone()))
        .collect();
    if !unexpected.is_empty() {
        return Err(CheckpointError::Unexpected {
            path,
            keys: unexpected,
        });
    }
    // Re-key the snapshots to our module paths, then apply with the PyTorch → burn adapter
    // (Linear weights transposed, LayerNorm weight/bias → gamma/beta).
    // Released key → our module path in burn naming (`gamma`/`beta` for LayerNorm): both
    // collections visit the module in the same order.
    let burn_paths = model
        .collect(None, None, true)
        .into_iter()
        .map(|s| s.full_path());
    let ours: HashMap<String, String> = expected
        .iter()
        .map(|(key, _)| key.clone())
        .zip(burn_paths)
        .collect();
    let snapshots: Vec<TensorSnapshot> = provided
        .into_iter()
        .map(|(key, (snapshot, _))| {
            let mut s = snapshot.clone();
            s.path_stack = Some(ours[&key].split('.').map(str::to_string).collect());
            s.container_stack = None;
            s
        })
        .collect();
    let count = snapshots.len();
    let result = model.apply(snapshots, None, Some(Box::new(PyTorchToBurnAdapter)), true);
    let unintended_missing = result.missing.iter().any(|(path, _)| !fresh(path));
    if !result.errors.is_empty() || !result.unused.is_empty() || unintended_missing {
        return Err(CheckpointError::Apply {
            path,
            reason: format!("{result}"),
        });
    }
    Ok(count)
}

/// A classifier from a checkpoint holding exactly a classifier of `config`.
pub fn load_classifier<B: Backend>(
    config: &ClassifierConfig,
    ckpt: &CheckpointTensors,
    device: &B::Device,
) -> Result<SvfapClassifier<B>, CheckpointError> {
    config.validate()?;
    let mut model = SvfapClassifier::new(config, 0, device);
    check_and_apply(
        &mut model,
        "classifier",
        ckpt,
        |k| Some(k.to_string()),
        |_| false,
    )?;
    Ok(model)
}

/// A pre-trainer from a checkpoint holding exactly a pre-trainer of `config`.
pub fn load_pretrainer<B: Backend>(
    config: &PretrainerConfig,
    ckpt: &CheckpointTensors,
    device: &B::Device,
) -> Result<SvfapPretrainer<B>, CheckpointError> {
    config.validate()?;
    let mut model = SvfapPretrainer::new(config, 0, device);
    check_and_apply(
        &mut model,
        "pretrainer",
        ckpt,
        |k| Some(k.to_string()),
        |_| false,
    )?;
    Ok(model)
}

/// Initialises a classifier's encoder from a pre-training checkpoint (ours or released):
/// every `encoder.*` trunk key must be present with the classifier's shape; the decoder,
/// `encoder_to_decoder`, `mask_token` and the encoder's final `norm` are left out on purpose
/// (fine-tuning pools into a fresh `fc_norm`), and `fc_norm`/`head` stay freshly initialised.
/// Returns the number of tensors loaded.
pub fn init_classifier_from_pretrainer<B: Backend>(
    model: &mut SvfapClassifier<B>,
    ckpt: &CheckpointTensors,
) -> Result<usize, CheckpointError> {
    let select = |key: &str| {
        let rest = key.strip_prefix("encoder.")?;
        (!rest.starts_with("norm.")).then(|| rest.to_string())
    };
    let fresh = |key: &str| key.starts_with("fc_norm.") || key.starts_with("head.");
    check_and_apply(model, "classifier", ckpt, select, fresh)
}
