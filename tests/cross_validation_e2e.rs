//! The real binary on tiny generated videos: regression fine-tuning (MSE falls, the
//! evaluation has PCC/CCC per target and mean), options of the other task refused before a
//! run starts, and `cv run` / `cv pool` pooling every fold's test predictions.

mod common_cli;

use std::path::{Path, PathBuf};

use common_cli::{ok, svfap};
use svfap_tui::session::{CvSummary, EvalReport, MetricsTail, RunDir};
use svfap_tui::train::run_config::RunConfig;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("svfap-cv-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Demo videos (32 px, 16 frames, 7 DFEW classes) with two folds of manifests: fold k tests
/// on its half of the test clips. `cls{k}/` has class labels; `reg{k}/` has three
/// Werewolf-XL targets derived from the class (arousal, valence rise and fall with it).
fn fold_data() -> PathBuf {
    static DATA: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DATA.get_or_init(|| {
        let dir = scratch("data");
        ok(svfap(&[
            "demo-data",
            dir.to_str().unwrap(),
            "--train",
            "14",
            "--test",
            "8",
            "--unlabeled",
            "0",
            "--size",
            "32",
            "--frames",
            "16",
        ]));
        let rows = |split: &str| -> Vec<(String, usize)> {
            std::fs::read_to_string(dir.join(format!("{split}.csv")))
                .unwrap()
                .lines()
                .map(|l| {
                    let (path, class) = l.rsplit_once(' ').unwrap();
                    (path.to_string(), class.parse().unwrap())
                })
                .collect()
        };
        let (train, test) = (rows("train"), rows("test"));
        for fold in [1usize, 2] {
            let half: Vec<&(String, usize)> = test.iter().skip(fold - 1).step_by(2).collect();
            let write = |folder: &str, name: &str, rows: &[&(String, usize)], reg: bool| {
                let text: String = rows
                    .iter()
                    .map(|(path, c)| {
                        if reg {
                            let c = *c as f32;
                            format!("{path} {} {} 0.6\n", 0.5 + 0.05 * c, 0.8 - 0.05 * c)
                        } else {
                            format!("{path} {c}\n")
                        }
                    })
                    .collect();
                let folder = dir.join(format!("{folder}{fold}"));
                std::fs::create_dir_all(&folder).unwrap();
                std::fs::write(folder.join(name), text).unwrap();
            };
            let train: Vec<&(String, usize)> = train.iter().collect();
            for (folder, reg) in [("cls", false), ("reg", true)] {
                write(folder, "train.csv", &train, reg);
                write(folder, "test.csv", &half, reg);
            }
        }
        dir
    })
    .clone()
}

fn write_config(dir: &Path, dataset: &str, folder: &str, model_extra: &str) -> PathBuf {
    let text = format!(
        r#"format = 1
kind = "finetune"
name = "cv"
seed = 3
[model]
preset = "test"
{model_extra}
[data]
dataset = "{dataset}"
root = "{root}"
train = "{folder}{{fold}}/train.csv"
test = "{folder}{{fold}}/test.csv"
stride = 2
test_clips = 2
workers = 2
augment = "none"
[optim]
batch_size = 4
epochs = 4
base_lr = 0.5
betas = [0.9, 0.999]
[artifacts]
checkpoint_every = 100
attn_every = 0
"#,
        root = fold_data().display()
    );
    let path = dir.join(format!("{dataset}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn runs(session: &Path) -> Vec<RunDir> {
    let mut runs: Vec<RunDir> = std::fs::read_dir(session.join("runs"))
        .map(|d| d.flatten().map(|e| RunDir::new(e.path())).collect())
        .unwrap_or_default();
    runs.sort_by_key(|r| r.id());
    runs
}

fn train_losses(run: &RunDir) -> Vec<f64> {
    let mut tail = MetricsTail::new(run.metrics_jsonl());
    let records = tail.poll(usize::MAX).unwrap().records;
    records
        .iter()
        .filter(|r| r.split == "train" && r.name == "loss")
        .map(|r| r.value)
        .collect()
}

/// The single `cv/<cv-id>/` folder `stdout` names on its last line.
fn cv_dir(stdout: &str) -> PathBuf {
    PathBuf::from(stdout.lines().last().unwrap().trim())
}

#[test]
fn regression_folds_fine_tune_with_mse_and_pool_into_pcc_and_ccc() {
    let dir = scratch("reg");
    let config = write_config(&dir, "werewolf-xl", "reg", "head_activation = \"sigmoid\"");
    let session = dir.join("s");
    let stdout = ok(svfap(&[
        "cv",
        "run",
        config.to_str().unwrap(),
        "--folds",
        "1,2",
        "--session",
        session.to_str().unwrap(),
    ]));
    let runs = runs(&session);
    assert_eq!(runs.len(), 2, "{runs:?}");
    for (k, run) in runs.iter().enumerate() {
        let frozen = RunConfig::load(&run.run_toml(), &[]).unwrap();
        assert_eq!(frozen.data.fold, Some(k as u32 + 1));
        assert!(
            frozen
                .data
                .test
                .ends_with(&format!("reg{}/test.csv", k + 1))
        );
        let losses = train_losses(run);
        assert_eq!(losses.len(), 12, "3 steps × 4 epochs");
        let late = losses[9..].iter().sum::<f64>() / 3.0;
        assert!(
            late < losses[0] * 0.7,
            "MSE did not fall in {}: {losses:?}",
            run.id()
        );
        let report = EvalReport::read(&run.eval_file("werewolf-xl", "test")).unwrap();
        assert_eq!(report.task, "regression");
        assert_eq!(report.predictions.len(), 4);
        assert_eq!(report.class_names, ["arousal", "valence", "dominance"]);
        for key in ["pcc", "ccc", "acc", "mse", "ccc_valence", "pcc_arousal"] {
            assert!(report.metrics[key].is_finite(), "{key}");
        }
        let p = &report.predictions[0];
        assert_eq!(p.pred.as_array().unwrap().len(), 3);
        assert!(p.label.as_array().unwrap()[2].as_f64() == Some(0.6));
    }
    let cv = cv_dir(&stdout);
    let pooled = EvalReport::read(&cv.join("eval/werewolf-xl-cv.json")).unwrap();
    assert_eq!((pooled.split.as_str(), pooled.fold), ("cv", None));
    assert_eq!(pooled.predictions.len(), 8);
    let summary = CvSummary::read(&cv.join("cv.json")).unwrap();
    assert_eq!(summary.pooled, pooled.metrics);
    assert!(
        stdout.contains("fold mean ± std") && stdout.contains("ccc"),
        "{stdout}"
    );
}

#[test]
fn classification_cv_pools_predictions_and_cv_pool_repeats_it() {
    let dir = scratch("cls");
    let config = write_config(&dir, "demo", "cls", "");
    let session = dir.join("s");
    let run_args = |extra: &[&str]| {
        let mut a = vec![
            "cv",
            "run",
            config.to_str().unwrap(),
            "--session",
            session.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        svfap(&a)
    };
    // `demo` has one fixed split: the folds must be named.
    let out = run_args(&[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--folds"));
    let stdout = ok(run_args(&["--folds", "1,2"]));
    let runs = runs(&session);
    assert_eq!(runs.len(), 2);
    let folds: Vec<EvalReport> = runs
        .iter()
        .map(|r| EvalReport::read(&r.eval_file("demo", "test")).unwrap())
        .collect();
    let summary = CvSummary::read(&cv_dir(&stdout).join("cv.json")).unwrap();
    // Pooled: the confusion matrices of the folds add up; WAR is the overall accuracy.
    let pooled = EvalReport::read(&cv_dir(&stdout).join("eval/demo-cv.json")).unwrap();
    let mut sum = vec![vec![0u64; 7]; 7];
    for f in &folds {
        for (i, row) in f.confusion.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                sum[i][j] += v;
            }
        }
    }
    assert_eq!(pooled.confusion, sum);
    let correct: u64 = (0..7).map(|i| sum[i][i]).sum();
    assert!((summary.pooled["war"] - correct as f64 / 8.0).abs() < 1e-12);
    let mean_war = (folds[0].metrics["war"] + folds[1].metrics["war"]) / 2.0;
    assert!((summary.fold_mean["war"] - mean_war).abs() < 1e-12);

    // Pooling the finished runs again gives the same numbers without training.
    let dirs: Vec<String> = runs.iter().map(|r| r.root.display().to_string()).collect();
    let mut args = vec!["cv", "pool"];
    args.extend(dirs.iter().map(String::as_str));
    let again = ok(svfap(&args));
    let repooled = CvSummary::read(&cv_dir(&again).join("cv.json")).unwrap();
    assert_eq!(repooled.pooled, summary.pooled);
    assert_eq!(repooled.folds, summary.folds);
    assert_eq!(runs.len(), self::runs(&session).len(), "pool runs nothing");
    // Pooling one fold twice is refused.
    let out = svfap(&["cv", "pool", &dirs[0], &dirs[0]]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("fold 1 appears twice"));
}

#[test]
fn options_of_the_other_task_or_a_fold_free_path_are_refused_before_any_run() {
    let dir = scratch("refuse");
    let session = dir.join("s");
    let regression = write_config(&dir, "werewolf-xl", "reg", "");
    let classification = write_config(&dir, "dfew", "cls", "");
    let refused = |config: &Path, extra: &[&str], needle: &str| {
        let mut args = vec![
            "cv",
            "run",
            config.to_str().unwrap(),
            "--session",
            session.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = svfap(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(needle), "{stderr}");
    };
    let set = |kv: &'static str| ["--folds", "1", "--set", kv];
    refused(
        &regression,
        &set("optim.label_smoothing=0.1"),
        "`optim.label_smoothing`",
    );
    refused(&regression, &set("optim.cutmix=1.0"), "`optim.cutmix`");
    refused(
        &classification,
        &set("model.head_activation=tanh"),
        "`model.head_activation`",
    );
    refused(
        &classification,
        &set("data.test=cls1/test.csv"),
        "`data.test`",
    );
    // Fold 3 has no manifests: refused before fold 1 runs.
    refused(
        &classification,
        &["--folds", "1,3"],
        "cls3/train.csv does not exist",
    );
    assert!(
        runs(&session).is_empty(),
        "no run folder for a refused config"
    );
}
