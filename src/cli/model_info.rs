//! `svfap-tui model info`: parameters and FLOPs of a preset.

use anyhow::{Result, anyhow};
use clap::Args;
use svfap_tui::model::accounting::{
    classifier_flops, classifier_params, pretrainer_flops, pretrainer_params,
};
use svfap_tui::model::{ClassifierConfig, PretrainerConfig, preset};

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Preset: base, small (paper Table 3), demo (CPU), test.
    #[arg(long, default_value = "base")]
    pub preset: String,
    /// Classes of the fine-tuning head (DFEW: 7).
    #[arg(long, default_value_t = 7)]
    pub classes: usize,
    /// Pre-training mask ratio.
    #[arg(long, default_value_t = 0.9)]
    pub mask_ratio: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &InfoArgs) -> Result<()> {
    let p = preset(&args.preset).map_err(|e| anyhow!(e))?;
    let classifier = ClassifierConfig {
        encoder: p.encoder.clone(),
        num_outputs: args.classes,
        head_activation: Default::default(),
        fuse_multiscale: false,
    };
    let pretrainer = PretrainerConfig {
        encoder: p.encoder.clone(),
        decoder: p.decoder.clone(),
        mask_ratio: args.mask_ratio,
        fuse_multiscale: true,
        target: Default::default(),
    };
    classifier.validate()?;
    pretrainer.validate()?;
    let e = &p.encoder;
    let ft_params = classifier_params(&classifier) as f64 / 1e6;
    let pt_params = pretrainer_params(&pretrainer) as f64 / 1e6;
    let ft_flops = classifier_flops(&classifier) / 1e9;
    let pt_flops = pretrainer_flops(&pretrainer) / 1e9;
    if args.json {
        let v = serde_json::json!({
            "preset": p.name,
            "encoder": e,
            "decoder": p.decoder.clone(),
            "tokens": e.num_tokens(),
            "finetune_params_m": ft_params,
            "pretrain_params_m": pt_params,
            "finetune_gflops": ft_flops,
            "pretrain_gflops": pt_flops,
            "mask_ratio": args.mask_ratio,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("preset {}: {}", p.name, p.summary);
    println!(
        "input            {} frames x {}x{} px, tubelet {}x{}x{} -> {} tokens ({} x {}x{})",
        e.frames,
        e.img_size,
        e.img_size,
        e.tubelet,
        e.patch,
        e.patch,
        e.num_tokens(),
        e.temporal_len(),
        e.grid(),
        e.grid()
    );
    println!(
        "fine-tune params {ft_params:.1}M ({} classes)",
        args.classes
    );
    println!("fine-tune FLOPs  {ft_flops:.1} G per clip");
    println!(
        "pre-train params {pt_params:.1}M (decoder {} wide, {} blocks, {} heads)",
        p.decoder.width, p.decoder.depth, p.decoder.heads
    );
    println!(
        "pre-train FLOPs  {pt_flops:.1} G per clip at mask ratio {}",
        args.mask_ratio
    );
    println!("(FLOPs as fvcore counts them, paper Table 3: one multiply-add = 1 FLOP)");
    Ok(())
}
