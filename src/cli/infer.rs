//! `svfap-tui infer`: class probabilities for one clip from a fine-tuned checkpoint.

use std::path::PathBuf;

use anyhow::{Result, bail};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::backend::AutodiffBackend;
use clap::Args;
use svfap_tui::model::ClassifierConfig;
use svfap_tui::model::checkpoint::{
    ArchitectureHints, CheckpointTensors, ModelSpec, infer_spec, load_classifier, read_checkpoint,
};
use svfap_tui::model::precision::autocast;
use svfap_tui::npy;

#[derive(Args, Debug)]
pub struct InferArgs {
    /// Fine-tuned checkpoint (ours, or a released .pth/.safetensors).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// A `.npy` float32 array [3, T, H, W], already normalised (used as is).
    pub input: PathBuf,
    /// Class names, comma separated, in label order (e.g. DFEW: happy,sad,neutral,angry,surprise,disgust,fear).
    #[arg(long, value_delimiter = ',')]
    pub labels: Option<Vec<String>>,
    /// Print {"logits": [...], "probs": [...], "features": [...]} on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub backend: crate::BackendArgs,
}

pub fn run(args: &InferArgs) -> Result<()> {
    let ckpt = read_checkpoint(&args.checkpoint)?;
    let config = match infer_spec(&ckpt, &ArchitectureHints::default())? {
        ModelSpec::Classifier(c) => c,
        ModelSpec::Pretrainer(_) => bail!(
            "{}: is a pre-training checkpoint (it has a decoder); fine-tune it before inference",
            args.checkpoint.display()
        ),
    };
    let ext = args
        .input
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext != "npy" {
        bail!(
            "{}: `infer` reads a normalised .npy [3, T, H, W]; make one from a video or a frame \
             folder with `svfap-tui data clip INPUT --out clip.npy`",
            args.input.display()
        );
    }
    let array = npy::read_f32(&args.input)?;
    let e = &config.encoder;
    let expected = [e.in_chans, e.frames, e.img_size, e.img_size];
    if array.shape != expected {
        bail!(
            "{}: shape {:?} does not match the model's input [3, T, H, W] = {:?}",
            args.input.display(),
            array.shape,
            expected
        );
    }
    if let Some(i) = array.values.iter().position(|v| !v.is_finite()) {
        let [_, t, h, w] = expected;
        let (c, rest) = (i / (t * h * w), i % (t * h * w));
        bail!(
            "{}: value {} at [channel {c}, frame {}, row {}, column {}] is not a finite number; \
             the model needs finite input",
            args.input.display(),
            array.values[i],
            rest / (h * w),
            rest % (h * w) / w,
            rest % w
        );
    }
    if let Some(labels) = &args.labels
        && labels.len() != config.num_outputs
    {
        bail!(
            "--labels has {} names but the model has {} outputs",
            labels.len(),
            config.num_outputs
        );
    }
    let precision = args.backend.precision()?;
    let outputs = svfap_tui::with_backend!(args.backend.backend, |B, device_of| {
        let device = device_of(args.backend.device);
        let _autocast = autocast(precision);
        classify::<<B as AutodiffBackend>::InnerBackend>(
            &config,
            &ckpt,
            array.values,
            expected,
            &device,
        )
    })?;
    let [logits, probs, features] = outputs;
    if args.json {
        let v = serde_json::json!({ "logits": logits, "probs": probs, "features": features });
        println!("{}", serde_json::to_string(&v)?);
        return Ok(());
    }
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    for i in order {
        let name = args
            .labels
            .as_ref()
            .map(|l| l[i].clone())
            .unwrap_or_else(|| format!("class {i}"));
        println!("{name:>16}  {:6.2}%", probs[i] * 100.0);
    }
    Ok(())
}

/// Logits, probabilities and features of one clip on backend `B`.
fn classify<B: Backend>(
    config: &ClassifierConfig,
    ckpt: &CheckpointTensors,
    values: Vec<f32>,
    shape: [usize; 4],
    device: &B::Device,
) -> Result<[Vec<f32>; 3]> {
    let model = load_classifier::<B>(config, ckpt, device)?;
    let video = Tensor::<B, 4>::from_data(TensorData::new(values, shape), device).unsqueeze::<5>();
    let out = model.forward(video);
    let to_vec = |t: Tensor<B, 2>| {
        t.into_data()
            .to_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("reading model output: {e:?}"))
    };
    Ok([
        to_vec(out.logits.clone())?,
        to_vec(softmax(out.logits, 1))?,
        to_vec(out.features)?,
    ])
}
