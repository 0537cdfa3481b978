//! `svfap-tui model import`: a released (or any SVFAP) checkpoint → our format, strictly.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::Args;
use svfap_tui::backend::Cpu;
use svfap_tui::model::accounting::{classifier_params, pretrainer_params};
use svfap_tui::model::checkpoint::{
    ArchitectureHints, ModelSpec, infer_spec, load_classifier, load_pretrainer, read_checkpoint,
};
use svfap_tui::model::checkpoint_save::{save_classifier, save_pretrainer};
use svfap_tui::model::input_spec::InputSpec;
use svfap_tui::model::{ClassifierConfig, PretrainerConfig, preset};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Checkpoint: .pth/.pt (weights under `model`, `module` or top level) or .safetensors.
    pub checkpoint: PathBuf,
    /// Output file (.safetensors).
    #[arg(long)]
    pub out: PathBuf,
    /// Require this preset's architecture instead of inferring it from the shapes.
    #[arg(long)]
    pub preset: Option<String>,
    /// Attention heads (default: width / 64).
    #[arg(long)]
    pub heads: Option<usize>,
    /// Decoder heads of a pre-training checkpoint (default: decoder width / 64).
    #[arg(long)]
    pub decoder_heads: Option<usize>,
    /// Frame size the model was trained on (positions are not stored; default 160).
    #[arg(long)]
    pub img_size: Option<usize>,
    /// Frames per clip (default 16).
    #[arg(long)]
    pub frames: Option<usize>,
    /// Blocks per stage, e.g. 12,6,3 (default: inferred, later stages halving).
    #[arg(long, value_delimiter = ',')]
    pub depths: Option<Vec<usize>>,
    /// The fine-tuned model pools the fused multi-scale features (paper Table 4).
    #[arg(long)]
    pub fuse_multiscale: bool,
    /// Mask ratio recorded for a pre-training checkpoint (default 0.9).
    #[arg(long)]
    pub mask_ratio: Option<f64>,
    /// Dataset a fine-tuned checkpoint was trained on (dfew, ferv39k, mafw, …): its label
    /// names and task are recorded, so `infer` prints names instead of class numbers.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Frame stride the checkpoint was trained with, recorded for `infer` (default 4, the paper's).
    #[arg(long, value_parser = super::bounded(1, 32))]
    pub stride: Option<usize>,
}

/// What `infer` needs beyond the weights: the file's own record with `--dataset`/`--stride`
/// put over it (None when there is neither).
fn input_spec(
    args: &ImportArgs,
    recorded: Option<&InputSpec>,
    outputs: usize,
) -> Result<Option<InputSpec>> {
    if recorded.is_none() && args.dataset.is_none() && args.stride.is_none() {
        return Ok(None);
    }
    let spec = recorded
        .cloned()
        .unwrap_or_default()
        .overridden(args.dataset.as_deref(), None, args.stride, outputs)
        .map_err(anyhow::Error::msg)?;
    Ok(Some(spec))
}

/// Flags that disagree with the architecture a checkpoint of ours records: refused rather
/// than silently ignored.
fn conflicts(args: &ImportArgs, spec: &ModelSpec) -> Vec<String> {
    let e = spec.encoder();
    let mut out = vec![];
    let mut differ = |flag: &str, given: Option<String>, recorded: String| {
        if let Some(given) = given
            && given != recorded
        {
            out.push(format!("{flag} {given} (the file records {recorded})"));
        }
    };
    differ(
        "--heads",
        args.heads.map(|v| v.to_string()),
        e.heads.to_string(),
    );
    differ(
        "--img-size",
        args.img_size.map(|v| v.to_string()),
        e.img_size.to_string(),
    );
    differ(
        "--frames",
        args.frames.map(|v| v.to_string()),
        e.frames.to_string(),
    );
    differ(
        "--depths",
        args.depths.as_ref().map(|d| format!("{d:?}")),
        format!("{:?}", e.stage_depths),
    );
    match spec {
        ModelSpec::Pretrainer(c) => {
            differ(
                "--decoder-heads",
                args.decoder_heads.map(|v| v.to_string()),
                c.decoder.heads.to_string(),
            );
            differ(
                "--mask-ratio",
                args.mask_ratio.map(|v| v.to_string()),
                c.mask_ratio.to_string(),
            );
        }
        ModelSpec::Classifier(c) => {
            differ(
                "--fuse-multiscale",
                args.fuse_multiscale.then(|| "true".to_string()),
                c.fuse_multiscale.to_string(),
            );
        }
    }
    out
}

pub fn run(args: &ImportArgs) -> Result<()> {
    let ckpt = read_checkpoint(&args.checkpoint)?;
    for (key, tensor) in &ckpt.tensors {
        let data = tensor
            .to_data()
            .map_err(|e| anyhow!("{}: `{key}`: {e:?}", args.checkpoint.display()))?
            .convert::<f32>();
        let values = data.to_vec::<f32>().map_err(|e| anyhow!("{e:?}"))?;
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            anyhow::bail!(
                "{}: tensor `{key}` holds {} at index {i} ({} non-finite values); a model with NaN or infinite weights predicts nonsense",
                args.checkpoint.display(),
                values[i],
                values.iter().filter(|v| !v.is_finite()).count()
            );
        }
    }
    if let Some(spec) = &ckpt.spec {
        let conflicts = conflicts(args, spec);
        if !conflicts.is_empty() {
            anyhow::bail!(
                "{}: records its architecture, which these flags contradict: {}; drop them",
                args.checkpoint.display(),
                conflicts.join(", ")
            );
        }
    }
    let hints = ArchitectureHints {
        heads: args.heads,
        decoder_heads: args.decoder_heads,
        img_size: args.img_size,
        frames: args.frames,
        stage_depths: args.depths.clone(),
        fuse_multiscale: args.fuse_multiscale,
        mask_ratio: args.mask_ratio,
    };
    let inferred = infer_spec(&ckpt, &hints)?;
    let spec = match &args.preset {
        None => inferred,
        Some(name) => {
            let p = preset(name).map_err(|e| anyhow!(e))?;
            match inferred {
                ModelSpec::Classifier(c) => ModelSpec::Classifier(ClassifierConfig {
                    encoder: p.encoder,
                    ..c
                }),
                ModelSpec::Pretrainer(c) => ModelSpec::Pretrainer(PretrainerConfig {
                    encoder: p.encoder,
                    decoder: p.decoder,
                    ..c
                }),
            }
        }
    };
    let device = Default::default();
    let (kind, params) = match &spec {
        ModelSpec::Classifier(config) => {
            let input = input_spec(args, ckpt.input.as_ref(), config.num_outputs)?;
            let model = load_classifier::<Cpu>(config, &ckpt, &device)?;
            save_classifier(&model, input.as_ref(), &args.out)?;
            ("fine-tuned classifier", classifier_params(config))
        }
        ModelSpec::Pretrainer(config) => {
            if args.dataset.is_some() || args.stride.is_some() {
                bail!(
                    "{}: --dataset and --stride describe a fine-tuned model; this is a pre-training checkpoint",
                    args.checkpoint.display()
                );
            }
            let model = load_pretrainer::<Cpu>(config, &ckpt, &device)?;
            save_pretrainer(&model, &args.out)?;
            ("pre-trainer", pretrainer_params(config))
        }
    };
    let e = spec.encoder();
    let under = ckpt
        .top_level_key
        .as_deref()
        .map(|k| format!(" (under `{k}`)"))
        .unwrap_or_default();
    println!(
        "read     {}{under}: {} tensors",
        args.checkpoint.display(),
        ckpt.tensors.len()
    );
    println!(
        "model    {kind}: width {}, heads {}, stages {:?}, bottleneck tokens {:?}, {:.2}M parameters",
        e.width,
        e.heads,
        e.stage_depths,
        e.bottleneck_tokens,
        params as f64 / 1e6
    );
    if let ModelSpec::Classifier(c) = &spec {
        println!("head     {} outputs", c.num_outputs);
    }
    println!("wrote    {}", args.out.display());
    Ok(())
}
