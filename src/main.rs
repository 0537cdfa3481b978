//! `svfap-tui`: one binary for SVFAP pre-training, fine-tuning, inference and benchmarks.

mod cli;

use clap::{Args, Parser, Subcommand};
use svfap_tui::backend::BackendChoice;
use svfap_tui::model::precision::Precision;

#[derive(Parser)]
#[command(
    name = "svfap-tui",
    version,
    about = "SVFAP (self-supervised video facial affect perceiver) on burn"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a command: open the workbench on this session.
    #[command(flatten)]
    tui: cli::tui::TuiArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect and convert models.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Predict with a fine-tuned checkpoint: one video (a timeline of windows), many videos
    /// (a manifest or folder), or a prepared clip.
    Infer(cli::infer::InferArgs),
    /// Pooled encoder features per clip and per video, to .safetensors or .npy.
    Features(cli::features::FeaturesArgs),
    /// Print throughput and memory numbers.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Print the session's runs as a plain table (no terminal needed).
    Status(cli::status::StatusArgs),
    /// Create a run from a config (frozen into a new run folder) and run it.
    Launch(cli::launch::LaunchArgs),
    /// Execute a run folder's frozen config (what `launch --detach` starts).
    Run(cli::run_worker::RunArgs),
    /// Continue a stopped or killed run from its latest complete checkpoint.
    Resume(cli::run_worker::RunArgs),
    /// Cross-validation: one fine-tuning run per fold, predictions pooled over all folds.
    #[command(subcommand)]
    Cv(CvCommand),
    /// The whole CPU demo without the workbench: data, pre-training, fine-tuning from it and
    /// from scratch, evaluation, one summary line per run.
    Demo(cli::demo::DemoArgs),
    /// Inspect videos and frame folders, export clips.
    #[command(subcommand)]
    Data(DataCommand),
    /// Generate the synthetic face-video demo set (mp4 files + manifests).
    DemoData(cli::demo_data::DemoDataArgs),
    /// Compile and autotune a run's GPU kernels into the caches once, so the run starts warm.
    Warmup(cli::warmup::WarmupArgs),
}

#[derive(Subcommand)]
enum CvCommand {
    /// Fine-tune every fold of a config (`{fold}` in its manifest paths), then pool them.
    Run(cli::cv_run::CvRunArgs),
    /// Pool finished fold runs into cv/<cv-id>/ (eval/<dataset>-cv.json and cv.json).
    Pool(cli::cv_pool::CvPoolArgs),
}

#[derive(Subcommand)]
enum DataCommand {
    /// Container, codec, size, fps, counted frames, rotation of a video (or a frame folder).
    Probe(cli::data_probe::ProbeArgs),
    /// Write the normalised [3,T,H,W] test-view clip the model sees as .npy.
    Clip(cli::data_clip::ClipArgs),
    /// Class balance, clip lengths, resolutions, unreadable files and a contact sheet of a
    /// manifest, before a long run.
    Audit(cli::data_audit::AuditArgs),
    /// Raw videos → aligned face clips (JPEG folders or mp4) + a manifest with the labels.
    Faces(cli::data_faces::FacesArgs),
    /// Decode a manifest's videos once into a frame pack that training epochs read instead of
    /// decoding (`data.pack` in a run config, `bench data --pack`).
    Pack(cli::data_pack::PackArgs),
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Parameters and GFLOPs of a preset (paper Table 3 convention).
    Info(cli::model_info::InfoArgs),
    /// Convert a released PyTorch (.pth) or safetensors checkpoint into our format.
    Import(cli::model_import::ImportArgs),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Clips/s and peak memory of inference, fine-tuning or pre-training steps.
    Model(cli::bench_model::BenchModelArgs),
    /// Workbench frame render time and start-up time.
    Tui(cli::bench_tui::BenchTuiArgs),
    /// Clips/s and frames/s of decoding and transforms over a manifest.
    Data(cli::bench_data::BenchDataArgs),
    /// Steps/s, clips/s and the share of step time spent waiting for data, of the real
    /// training loop on the demo data.
    Train(cli::bench_train::BenchTrainArgs),
    /// Frames/s per core of the face step (decode, detect every k, track, align).
    Faces(cli::bench_faces::BenchFacesArgs),
}

/// Compute backend shared by the commands that run tensors.
#[derive(Args, Debug, Clone)]
pub struct BackendArgs {
    /// Where tensors run: cpu (burn flex), cuda (--features cuda) or wgpu (Vulkan/Metal,
    /// --features wgpu).
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
    /// Device index on that backend.
    #[arg(long, default_value_t = 0)]
    pub device: usize,
    /// Type of the matrix products: f32, bf16 or f16 (mixed precision; weights stay f32).
    /// Default: bf16 on cuda, f32 elsewhere.
    #[arg(long, value_enum)]
    pub precision: Option<Precision>,
}

impl BackendArgs {
    /// The precision asked for (or the backend's default), refused by name where the
    /// backend cannot run it.
    pub fn precision(&self) -> anyhow::Result<Precision> {
        let precision = self
            .precision
            .unwrap_or_else(|| Precision::default_for(self.backend));
        match precision.unsupported_on(self.backend) {
            Some(reason) => Err(anyhow::anyhow!("--precision: {reason}")),
            None => Ok(precision),
        }
    }
}

fn main() -> std::process::ExitCode {
    svfap_tui::backend::malloc_settings::reuse_freed_buffers();
    svfap_tui::backend::make_this_thread_a_cpu_worker();
    let cli = Cli::parse();
    let result = match cli.command {
        None => cli::tui::run(&cli.tui),
        Some(Command::Model(ModelCommand::Info(args))) => cli::model_info::run(&args),
        Some(Command::Model(ModelCommand::Import(args))) => cli::model_import::run(&args),
        Some(Command::Infer(args)) => cli::infer::run(&args),
        Some(Command::Features(args)) => cli::features::run(&args),
        Some(Command::Bench(BenchCommand::Model(args))) => cli::bench_model::run(&args),
        Some(Command::Bench(BenchCommand::Tui(args))) => cli::bench_tui::run(&args),
        Some(Command::Bench(BenchCommand::Faces(args))) => cli::bench_faces::run(&args),
        Some(Command::Status(args)) => cli::status::run(&args),
        Some(Command::Launch(args)) => cli::launch::run(&args),
        Some(Command::Run(args)) => cli::run_worker::run(&args, false),
        Some(Command::Resume(args)) => cli::run_worker::run(&args, true),
        Some(Command::Cv(CvCommand::Run(args))) => cli::cv_run::run(&args),
        Some(Command::Cv(CvCommand::Pool(args))) => cli::cv_pool::run(&args),
        Some(Command::Demo(args)) => cli::demo::run(&args),
        Some(Command::Bench(BenchCommand::Data(args))) => cli::bench_data::run(&args),
        Some(Command::Bench(BenchCommand::Train(args))) => cli::bench_train::run(&args),
        Some(Command::Data(DataCommand::Probe(args))) => cli::data_probe::run(&args),
        Some(Command::Data(DataCommand::Clip(args))) => cli::data_clip::run(&args),
        Some(Command::Data(DataCommand::Audit(args))) => cli::data_audit::run(&args),
        Some(Command::Data(DataCommand::Faces(args))) => cli::data_faces::run(&args),
        Some(Command::Data(DataCommand::Pack(args))) => cli::data_pack::run(&args),
        Some(Command::DemoData(args)) => cli::demo_data::run(&args),
        Some(Command::Warmup(args)) => cli::warmup::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
