//! Writing a model in our checkpoint format (safetensors with the released key names and
//! our architecture in the metadata, read back by `checkpoint::read_checkpoint`).

use std::path::Path;

use burn::prelude::*;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};

use super::checkpoint::{CheckpointError, FORMAT_VERSION, META_CONFIG, META_KIND, ModelSpec};
use super::classifier::SvfapClassifier;
use super::input_spec::{InputSpec, META_INPUT};
use super::pretrainer::SvfapPretrainer;

fn save<B: Backend, M: ModuleSnapshot<B>>(
    model: &M,
    spec: &ModelSpec,
    input: Option<&InputSpec>,
    path: &Path,
) -> Result<(), CheckpointError> {
    let write_err = |reason: String| CheckpointError::Write {
        path: path.to_path_buf(),
        reason,
    };
    let config = match spec {
        ModelSpec::Classifier(c) => serde_json::to_string(c),
        ModelSpec::Pretrainer(c) => serde_json::to_string(c),
    }
    .map_err(|e| write_err(e.to_string()))?;
    let kind = spec.kind_name();
    // The inverse of `released_key`, as one pattern per model kind.
    let (from, to) = match spec {
        ModelSpec::Classifier(_) => (
            r"^encoder\.(patch_embed|blocks|temporal_downsamples|spatial_downsamples)\.",
            "$1.",
        ),
        ModelSpec::Pretrainer(_) => (r"^encoder_norm\.", "encoder.norm."),
    };
    // Written next to the target and renamed, so a reader never sees half a file. A temp
    // file left by a killed writer is stale by definition: overwrite it.
    let tmp = path.with_extension("safetensors.tmp");
    let mut store = SafetensorsStore::from_file(&tmp)
        .overwrite(true)
        .with_to_adapter(BurnToPyTorchAdapter)
        .skip_enum_variants(true)
        .metadata("format", FORMAT_VERSION)
        .metadata(META_KIND, kind)
        .metadata(META_CONFIG, config)
        .with_key_remapping(from, to);
    if let Some(input) = input {
        let json = serde_json::to_string(input).map_err(|e| write_err(e.to_string()))?;
        store = store.metadata(META_INPUT, json);
    }
    let saved = crate::session::fault::check(path)
        .map_err(|e| write_err(e.to_string()))
        .and_then(|()| {
            model
                .save_into(&mut store)
                .map_err(|e| write_err(e.to_string()))
        })
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| write_err(e.to_string())));
    if saved.is_err() {
        std::fs::remove_file(&tmp).ok();
    }
    saved
}

/// Writes a classifier; `input` (stride, normalisation, label names) lets `infer` read the
/// clip geometry from the file.
pub fn save_classifier<B: Backend>(
    model: &SvfapClassifier<B>,
    input: Option<&InputSpec>,
    path: &Path,
) -> Result<(), CheckpointError> {
    save(
        model,
        &ModelSpec::Classifier(model.config.clone()),
        input,
        path,
    )
}

pub fn save_pretrainer<B: Backend>(
    model: &SvfapPretrainer<B>,
    path: &Path,
) -> Result<(), CheckpointError> {
    save(
        model,
        &ModelSpec::Pretrainer(model.config.clone()),
        None,
        path,
    )
}
