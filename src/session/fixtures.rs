//! Sample sessions written through the contract's own writers: used by the tests, the
//! `bench tui` command and anyone who wants to look at the workbench without training.
//! Times are fixed relative to `now` so snapshots are stable.

use std::path::Path;

use super::artifacts::{
    AttnMap, AttnMeta, EvalReport, Prediction, ReconKind, ReconMeta, ReconSample,
};
use super::layout::{RunDir, SessionDir};
use super::metrics::{MetricRecord, MetricsWriter};
use super::status::{RunState, RunStatus};
use super::{SessionError, SessionFile};

/// 2026-01-01T00:00:00Z, the fixtures' "now".
pub const NOW: f64 = 1_767_225_600.0;

pub fn rfc3339(unix: f64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// An empty session folder with its `session.toml`.
pub fn empty(root: &Path) -> Result<SessionDir, SessionError> {
    std::fs::create_dir_all(root.join("runs")).map_err(SessionError::io(root))?;
    let mut f = SessionFile::new(
        &root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    f.created = rfc3339(NOW - 86400.0);
    f.write(&root.join("session.toml"))?;
    Ok(SessionDir::new(root))
}

fn new_run(session: &SessionDir, id: &str, config: &str) -> Result<RunDir, SessionError> {
    let run = session.run(id);
    std::fs::create_dir_all(run.checkpoints()).map_err(SessionError::io(&run.root))?;
    std::fs::write(run.run_toml(), config).map_err(SessionError::io(&run.run_toml()))?;
    Ok(run)
}

fn status(
    state: RunState,
    step: u64,
    total: u64,
    epoch: u64,
    epochs: u64,
    updated: f64,
) -> RunStatus {
    RunStatus {
        state,
        pid: Some(999_999),
        host: "fixture-host".into(),
        started: Some(rfc3339(NOW - 3600.0)),
        updated: Some(rfc3339(updated)),
        step,
        epoch,
        total_steps: total,
        total_epochs: epochs,
        throughput: if state == RunState::Running {
            42.5
        } else {
            0.0
        },
        eta_seconds: (state == RunState::Running).then_some(1830.0),
        last_error: None,
        ..Default::default()
    }
}

/// Writes `n` training steps of loss / lr / clips_per_s (and validation every 10% of steps).
pub fn write_curves(run: &RunDir, n: u64, with_val_metrics: bool) -> Result<(), SessionError> {
    let mut w = MetricsWriter::open(&run.metrics_jsonl())?;
    let rec = |step: u64, split: &str, name: &str, value: f64| MetricRecord {
        step,
        epoch: step * 10 / n.max(1),
        split: split.into(),
        name: name.into(),
        value,
        time: NOW - 3600.0 + step as f64,
    };
    let every = (n / 10).max(1);
    for s in 1..=n {
        let x = s as f64 / n as f64;
        let noise = ((s * 7919) % 101) as f64 / 101.0 - 0.5;
        w.append(&rec(
            s,
            "train",
            "loss",
            1.2 * (-3.0 * x).exp() + 0.15 + 0.05 * noise,
        ))?;
        if s % 10 == 0 || s == 1 {
            w.append(&rec(
                s,
                "train",
                "lr",
                3e-4 * (0.5 + 0.5 * (std::f64::consts::PI * x).cos()).max(0.0333),
            ))?;
            w.append(&rec(s, "train", "clips_per_s", 40.0 + 5.0 * noise))?;
        }
        if s % every == 0 {
            w.append(&rec(s, "val", "loss", 1.1 * (-2.5 * x).exp() + 0.2))?;
            if with_val_metrics {
                w.append(&rec(s, "val", "uar", 0.3 + 0.3 * (1.0 - (-3.0 * x).exp())))?;
                w.append(&rec(s, "val", "war", 0.4 + 0.32 * (1.0 - (-3.0 * x).exp())))?;
            }
        }
    }
    Ok(())
}

fn write_png(
    path: &Path,
    w: u32,
    h: u32,
    f: impl Fn(u32, u32) -> [u8; 3],
) -> Result<(), SessionError> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)));
    img.save(path).map_err(|e| SessionError::parse(path, e))
}

/// `recon/step-N/`: 2 samples × 16 frames of 32×32 synthetic faces (original, masked, recon).
pub fn write_recon(run: &RunDir, step: u64) -> Result<(), SessionError> {
    let dir = run.recon_step(step);
    std::fs::create_dir_all(&dir).map_err(SessionError::io(&dir))?;
    let frames = 16;
    let meta = ReconMeta {
        format: 1,
        step,
        mask_ratio: 0.9,
        frames,
        samples: (0..2)
            .map(|i| ReconSample {
                index: i,
                source: format!("synthetic/face-{i:03}"),
                mse: 0.12 / (i as f64 + 1.0),
            })
            .collect(),
    };
    for s in &meta.samples {
        for fr in 0..frames {
            let face = move |x: u32, y: u32| {
                let (cx, cy) = (16.0 + (fr as f32 * 0.3), 16.0);
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                let skin = if d < 12.0 { 1.0 } else { 0.2 };
                let eye = ((x == 11 || x == 20) && y == 13) as u8 as f32;
                let mouth = (y == 21 && (12..20).contains(&x)) as u8 as f32;
                let v = skin * (1.0 - eye) * (1.0 - mouth);
                [
                    (220.0 * v) as u8 + (s.index as u8 * 20),
                    (170.0 * v) as u8,
                    (140.0 * v) as u8,
                ]
            };
            write_png(
                &ReconMeta::frame_file(&dir, s.index, ReconKind::Original, fr),
                32,
                32,
                face,
            )?;
            write_png(
                &ReconMeta::frame_file(&dir, s.index, ReconKind::Masked, fr),
                32,
                32,
                |x, y| {
                    if ((x / 8) * 7 + (y / 8) * 3) % 10 == 0 {
                        face(x, y)
                    } else {
                        [128, 128, 128]
                    }
                },
            )?;
            write_png(
                &ReconMeta::frame_file(&dir, s.index, ReconKind::Recon, fr),
                32,
                32,
                |x, y| {
                    let p = face(x - x % 2, y - y % 2);
                    [p[0] / 10 * 9, p[1] / 10 * 9, p[2] / 10 * 9]
                },
            )?;
        }
    }
    meta.write(&dir)
}

/// `attn/step-N/`: self and cross attention and a spatial-bottleneck assignment over a
/// 2×4×4 token grid with 4 bottleneck tokens per time slice.
pub fn write_attn(run: &RunDir, step: u64) -> Result<(), SessionError> {
    let dir = run.attn_step(step);
    std::fs::create_dir_all(&dir).map_err(SessionError::io(&dir))?;
    let (t, h, w, heads, g) = (2usize, 4usize, 4usize, 2usize, 4usize);
    let n = t * h * w;
    let softmax_rows = |rows: usize, cols: usize, f: &dyn Fn(usize, usize) -> f32| -> Vec<f32> {
        let mut v = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            let e: Vec<f32> = (0..cols).map(|c| f(r, c).exp()).collect();
            let s: f32 = e.iter().sum();
            v.extend(e.iter().map(|x| x / s));
        }
        v
    };
    let self_attn = softmax_rows(heads * n, n, &|r, c| {
        -(((r % n) as f32 - c as f32).abs()) * (1.0 + (r / n) as f32) * 0.3
    });
    let cross = softmax_rows(heads * g * t, n, &|r, c| {
        if (c % (h * w)) / g == (r % g) {
            2.0
        } else {
            0.0
        }
    });
    let mut assign = Vec::new();
    for ti in 0..t {
        for grp in 0..g {
            for pos in 0..h * w {
                assign.push(if (pos / w + ti) % g == grp { 0.7 } else { 0.1 });
            }
        }
    }
    let write = |name: &str, shape: &[usize], v: &[f32]| {
        crate::npy::write_f32(&dir.join(name), shape, v)
            .map_err(|e| SessionError::parse(&dir.join(name), format!("{e:#}")))
    };
    write("b03_self.npy", &[heads, n, n], &self_attn)?;
    write("b08_cross.npy", &[heads, g * t, n], &cross)?;
    write("s02_assignment.npy", &[t, g, h * w], &assign)?;
    let rollout: Vec<f32> = (0..n).map(|k| (1 + k % (h * w)) as f32).collect();
    let total: f32 = rollout.iter().sum();
    let rollout: Vec<f32> = rollout.iter().map(|v| v / total).collect();
    write("rollout.npy", &[1, 1, n], &rollout)?;
    // The frames the maps were computed on: a vertical gradient with a bright square.
    let mut frames = Vec::new();
    for f in 0..t {
        let name = format!("frame-{f:02}.png");
        let img = image::RgbImage::from_fn(32, 32, |x, y| {
            let inside = (8..24).contains(&x) && (8..24).contains(&y);
            let v = if inside { 230 } else { (y * 6) as u8 };
            image::Rgb([v, v, (v / 2).saturating_add(40 * f as u8)])
        });
        img.save(dir.join(&name))
            .map_err(|e| SessionError::parse(&dir.join(&name), e.to_string()))?;
        frames.push(name);
    }
    let map = |block,
               stage,
               kind: &str,
               shape: Vec<usize>,
               file: &str,
               queries: &str,
               grid: Vec<usize>| AttnMap {
        block,
        stage,
        kind: kind.into(),
        heads: match kind {
            "assignment" => 0,
            "rollout" => 1,
            _ => heads,
        },
        shape,
        file: file.into(),
        queries: queries.into(),
        grid,
    };
    AttnMeta {
        format: 1,
        step,
        maps: vec![
            map(
                3,
                1,
                "self",
                vec![heads, n, n],
                "b03_self.npy",
                "full",
                vec![t, h, w],
            ),
            map(
                8,
                2,
                "assignment",
                vec![t, g, h * w],
                "s02_assignment.npy",
                "full",
                vec![t, h, w],
            ),
            map(
                8,
                2,
                "cross",
                vec![heads, g * t, n],
                "b08_cross.npy",
                "bottleneck",
                vec![t, h, w],
            ),
            map(
                3,
                0,
                "rollout",
                vec![1, 1, n],
                "rollout.npy",
                "full",
                vec![t, h, w],
            ),
        ],
        frames,
    }
    .write(&dir)
}

pub const CLASSES: [&str; 7] = [
    "happy", "sad", "neutral", "angry", "surprise", "disgust", "fear",
];

pub fn eval_report(dataset: &str, uar: f64, war: f64) -> EvalReport {
    let confusion: Vec<Vec<u64>> = (0..7)
        .map(|i| {
            (0..7)
                .map(|j| {
                    if i == j {
                        30 + i as u64 * 3
                    } else {
                        ((i * 3 + j) % 5) as u64
                    }
                })
                .collect()
        })
        .collect();
    let recall: Vec<f64> = confusion
        .iter()
        .enumerate()
        .map(|(i, r)| r[i] as f64 / r.iter().sum::<u64>() as f64)
        .collect();
    EvalReport {
        format: 1,
        dataset: dataset.into(),
        split: "test".into(),
        fold: Some(1),
        task: "classification".into(),
        metrics: [
            ("uar".to_string(), uar),
            ("war".to_string(), war),
            ("weighted_f1".to_string(), war - 0.01),
        ]
        .into_iter()
        .collect(),
        class_names: CLASSES.iter().map(|s| s.to_string()).collect(),
        confusion,
        per_class_recall: recall,
        predictions: vec![Prediction {
            path: "clip/0001".into(),
            label: 0.into(),
            pred: 0.into(),
            probs: vec![0.9, 0.1],
        }],
        videos_scored: 1,
        videos_skipped: 0,
    }
}

pub fn pretrain_config(name: &str) -> String {
    format!(
        "format = 1\nkind = \"pretrain\"\nname = \"{name}\"\nseed = 0\nbackend = \"cpu\"\n\n[model]\npreset = \"demo\"\nmask_ratio = 0.9\n\n[data]\ndataset = \"demo\"\ntrain = \"data/train.txt\"\n\n[optim]\nbatch_size = 8\nepochs = 10\nbase_lr = 3e-4\nbetas = [0.9, 0.95]\n"
    )
}

pub fn finetune_config(name: &str, dataset: &str, lr: f64) -> String {
    format!(
        "format = 1\nkind = \"finetune\"\nname = \"{name}\"\nseed = 0\nbackend = \"cpu\"\n\n[model]\npreset = \"demo\"\n\n[data]\ndataset = \"{dataset}\"\nfold = 1\ntrain = \"data/train.txt\"\ntest = \"data/test.txt\"\n\n[optim]\nbatch_size = 8\nepochs = 10\nbase_lr = {lr:e}\nbetas = [0.9, 0.999]\n"
    )
}

/// A cross-validation pooled over the fine-tuning runs `runs` (folds 1, 2, …), with its
/// pooled evaluation.
pub fn cross_validation(
    session: &SessionDir,
    id: &str,
    runs: &[(&str, f64)],
) -> Result<super::CvDir, SessionError> {
    let cv = super::CvDir::new(session.cv().join(id));
    let folds: Vec<super::CvFold> = runs
        .iter()
        .enumerate()
        .map(|(i, (run, uar))| super::CvFold {
            fold: i as u32 + 1,
            run: run.to_string(),
            videos: 100 + i,
            metrics: [("uar".to_string(), *uar), ("war".to_string(), uar + 0.1)].into(),
        })
        .collect();
    let n = runs.len().max(1) as f64;
    let mean = runs.iter().map(|r| r.1).sum::<f64>() / n;
    let std = (runs.iter().map(|r| (r.1 - mean).powi(2)).sum::<f64>() / n).sqrt();
    let pooled = eval_report("dfew", mean - 0.002, mean + 0.098);
    super::CvSummary {
        format: 1,
        dataset: "dfew".into(),
        task: "classification".into(),
        folds,
        pooled: pooled.metrics.clone(),
        fold_mean: [("uar".to_string(), mean), ("war".to_string(), mean + 0.1)].into(),
        fold_std: [("uar".to_string(), std), ("war".to_string(), std)].into(),
    }
    .write(&cv.cv_json())?;
    let mut pooled = pooled;
    pooled.split = "cv".into();
    pooled.fold = None;
    pooled.write(&cv.eval_file("dfew"))?;
    Ok(cv)
}

/// A running pre-training run with curves, a checkpoint, reconstructions and attention.
pub fn running_pretrain(session: &SessionDir, steps: u64) -> Result<RunDir, SessionError> {
    let run = new_run(
        session,
        "pretrain-20251231-230000-demo",
        &pretrain_config("demo"),
    )?;
    status(RunState::Running, steps, steps * 2, 5, 10, NOW - 5.0)
        .write_atomic(&run.status_json())?;
    write_curves(&run, steps, false)?;
    std::fs::write(run.checkpoint(steps / 2), vec![0u8; 2048])
        .map_err(SessionError::io(&run.root))?;
    std::fs::write(
        run.latest_pointer(),
        format!("step-{:06}.safetensors\n", steps / 2),
    )
    .map_err(SessionError::io(&run.root))?;
    write_recon(&run, steps / 2)?;
    write_recon(&run, steps)?;
    write_attn(&run, steps)?;
    std::fs::write(
        run.log_txt(),
        "step 1 loss 1.35\nwarning: data loader slow\nstep 200 loss 0.42\n",
    )
    .map_err(SessionError::io(&run.root))?;
    Ok(run)
}

/// A finished fine-tuning run with validation curves and an evaluation.
pub fn finished_finetune(
    session: &SessionDir,
    id_name: &str,
    lr: f64,
    uar: f64,
) -> Result<RunDir, SessionError> {
    let run = new_run(
        session,
        &format!("finetune-20251231-220000-{id_name}"),
        &finetune_config(id_name, "dfew", lr),
    )?;
    let mut st = status(RunState::Finished, 400, 400, 10, 10, NOW - 1200.0);
    st.pid = None;
    st.write_atomic(&run.status_json())?;
    write_curves(&run, 400, true)?;
    std::fs::write(run.checkpoint(400), vec![0u8; 4096]).map_err(SessionError::io(&run.root))?;
    std::fs::write(run.latest_pointer(), "step-000400.safetensors\n")
        .map_err(SessionError::io(&run.root))?;
    eval_report("dfew", uar, uar + 0.1).write(&run.eval_file("dfew", "test"))?;
    std::fs::write(run.log_txt(), "epoch 10 val uar 0.6\nfinished\n")
        .map_err(SessionError::io(&run.root))?;
    Ok(run)
}

/// A failed run with an error in its status and log.
pub fn failed_run(session: &SessionDir) -> Result<RunDir, SessionError> {
    let run = new_run(
        session,
        "finetune-20251231-210000-broken",
        &finetune_config("broken", "mafw", 0.001),
    )?;
    let mut st = status(RunState::Failed, 12, 400, 0, 10, NOW - 3000.0);
    st.last_error = Some("data/mafw/train.txt: no such file".into());
    st.write_atomic(&run.status_json())?;
    write_curves(&run, 12, false)?;
    std::fs::write(
        run.log_txt(),
        "loading data/mafw/train.txt\nerror: data/mafw/train.txt: no such file\n",
    )
    .map_err(SessionError::io(&run.root))?;
    Ok(run)
}

/// A finished pre-training run with reconstructions and attention maps at two steps.
pub fn finished_pretrain(session: &SessionDir) -> Result<RunDir, SessionError> {
    let run = new_run(
        session,
        "pretrain-20251231-200000-done",
        &pretrain_config("done"),
    )?;
    let mut st = status(RunState::Finished, 400, 400, 10, 10, NOW - 2400.0);
    st.pid = None;
    st.write_atomic(&run.status_json())?;
    write_curves(&run, 400, false)?;
    for step in [200, 400] {
        std::fs::write(run.checkpoint(step), vec![0u8; 4096])
            .map_err(SessionError::io(&run.root))?;
        write_recon(&run, step)?;
        write_attn(&run, step)?;
    }
    std::fs::write(run.latest_pointer(), "step-000400.safetensors\n")
        .map_err(SessionError::io(&run.root))?;
    std::fs::write(run.log_txt(), "epoch 10 loss 0.21\nfinished\n")
        .map_err(SessionError::io(&run.root))?;
    Ok(run)
}

/// The full fixture: running and finished pre-training, two finished fine-tunings, a failed run.
pub fn full(root: &Path) -> Result<SessionDir, SessionError> {
    let s = empty(root)?;
    finished_pretrain(&s)?;
    running_pretrain(&s, 200)?;
    let model = finished_finetune(&s, "lr1e-3", 0.001, 0.61)?;
    super::fixture_inspection::write_inspection(&s, &model.id(), &CLASSES, NOW - 300.0)?;
    finished_finetune(&s, "lr5e-4", 0.0005, 0.58)?;
    failed_run(&s)?;
    Ok(s)
}
