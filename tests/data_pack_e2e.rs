//! `data pack` through the real binary: a manifest's videos packed once (an unreadable one
//! listed, not fatal), `bench data --pack` served from it, and a fine-tuning run with
//! `data.pack` that trains to exactly the weights of the same run decoding its videos.

mod common_cli;
mod common_runs;

use common_cli::{ok, svfap};
use common_runs::{demo_data, final_checkpoint, only_run, session, write_config_in};

/// `data pack` of the demo's training manifest plus a junk line, into `dir/train.pack`.
fn pack_training_videos(dir: &std::path::Path, extra: &[&str]) -> (std::path::PathBuf, String) {
    let data = demo_data();
    let manifest = dir.join("train-and-junk.csv");
    let train = std::fs::read_to_string(data.join("train.csv")).unwrap();
    std::fs::write(&manifest, format!("{train}missing.mp4 2\n")).unwrap();
    let out = dir.join("train.pack");
    let mut args = vec![
        "data",
        "pack",
        manifest.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--root",
        data.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    (out.clone(), ok(svfap(&args)))
}

/// The e2e fine-tuning config in `dir`, reading `pack` when given.
fn finetune_config(dir: &std::path::Path, pack: Option<&std::path::PathBuf>) -> std::path::PathBuf {
    let config = write_config_in(dir, "finetune", "", &demo_data());
    if let Some(pack) = pack {
        // `pack` goes into [data]: the template's last line of that table is `workers`.
        let text = std::fs::read_to_string(&config).unwrap().replace(
            "workers = 2\n",
            &format!("workers = 2\npack = \"{}\"\n", pack.display()),
        );
        std::fs::write(&config, text).unwrap();
    }
    config
}

#[test]
fn a_manifest_packs_once_and_the_benchmark_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let (pack, out) = pack_training_videos(dir.path(), &["--workers", "2"]);
    // 14 demo videos of 16 frames at 32², the missing one listed.
    assert!(
        out.contains("14 videos, 224 frames at native size"),
        "{out}"
    );
    assert!(out.contains("1 videos could not be packed"), "{out}");
    assert!(out.contains("missing.mp4: no such file"), "{out}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("train.pack.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["videos"], 14);
    assert_eq!(report["failed"].as_array().unwrap().len(), 1);
    assert!(!dir.path().join("train.pack.partial").exists());

    let data = demo_data();
    let bench = ok(svfap(&[
        "bench",
        "data",
        data.join("train.csv").to_str().unwrap(),
        "--pack",
        pack.to_str().unwrap(),
        "--view",
        "finetune,test",
        "--workers",
        "1",
        "--size",
        "32",
        "--no-decode-only",
    ]));
    assert!(bench.contains("14 videos at native size"), "{bench}");
    // The training view reads every clip from the pack; the test view scales videos with
    // FFmpeg while decoding, which packed frames cannot stand in for.
    assert!(
        bench.contains("14 of 14 loads from the frame pack"),
        "{bench}"
    );
    assert!(
        bench.contains("0 of 14 loads from the frame pack"),
        "{bench}"
    );
    assert!(bench.contains("0 frames decoded"), "{bench}");
}

#[test]
fn a_run_with_a_frame_pack_trains_to_the_weights_of_the_run_without() {
    let dir = tempfile::tempdir().unwrap();
    let (pack, _) = pack_training_videos(dir.path(), &[]);
    let mut weights = Vec::new();
    for (name, with_pack) in [("nopack", None), ("pack", Some(&pack))] {
        let config = finetune_config(&dir.path().join(name), with_pack);
        let s = session(&format!("pack-{name}"));
        ok(svfap(&[
            "launch",
            config.to_str().unwrap(),
            "--session",
            s.to_str().unwrap(),
        ]));
        let run = only_run(&s);
        let log = std::fs::read_to_string(run.log_txt()).unwrap();
        if name == "pack" {
            assert!(
                log.contains("14 of 14 training videos"),
                "the run's log names the pack's coverage:\n{log}"
            );
        }
        weights.push(final_checkpoint(&run));
        std::fs::remove_dir_all(&s).ok();
    }
    assert_eq!(weights[0].len(), weights[1].len());
    for (k, a) in &weights[0] {
        assert_eq!(a, &weights[1][k], "{k} differs between the runs");
    }
}

#[test]
fn a_pack_at_another_size_than_the_training_views_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (pack, out) = pack_training_videos(dir.path(), &["--short-side", "24"]);
    assert!(out.contains("at short side 24"), "{out}");
    let config = finetune_config(dir.path(), Some(&pack));
    let s = session("pack-refused");
    let out = svfap(&[
        "launch",
        config.to_str().unwrap(),
        "--session",
        s.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`data.pack`") && err.contains("data.train_short_side = 24"),
        "{err}"
    );
    assert!(
        !s.join("runs").exists() || std::fs::read_dir(s.join("runs")).unwrap().count() == 0,
        "no run folder for a refused config"
    );
}
