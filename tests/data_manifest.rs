//! Every released split file (DFEW, FERV39k, MAFW in `../shared/splits`) reads with the
//! registry's class count, with the expected counts, and maps the authors' prefix.

use std::path::{Path, PathBuf};

use svfap_tui::data::manifest::{Manifest, PathMapping};
use svfap_tui::data::registry::dataset;

fn splits_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/splits");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} not found", dir.display());
        None
    }
}

#[test]
fn every_released_split_file_reads_with_counts_and_balance() {
    let Some(dir) = splits_dir() else { return };
    let mut files = 0;
    for name in ["DFEW", "FERV39k", "MAFW"] {
        let info = dataset(name).unwrap();
        for fold in 1..=info.folds {
            let (train, test) = info.split_files(fold).unwrap();
            let mut files_of_fold = vec![train, test];
            if name == "DFEW" {
                files_of_fold.push(files_of_fold[1].replace("test.csv", "val.csv"));
            }
            for rel in files_of_fold {
                let mapping = PathMapping {
                    data_root: None,
                    prefix: Some((
                        info.released_prefix.unwrap().to_string(),
                        "/local/data".into(),
                    )),
                };
                let m = Manifest::read(&dir.join(&rel), info.label_kind(), &mapping)
                    .unwrap_or_else(|e| panic!("{e}"));
                let s = m.summary();
                assert_eq!(s.class_counts.values().sum::<usize>(), m.len());
                assert!(
                    m.entries.iter().all(|e| e.path.starts_with("/local/data")),
                    "{rel}: prefix not mapped"
                );
                assert_eq!(
                    s.common_prefix
                        .as_deref()
                        .map(|p| p.starts_with(info.released_prefix.unwrap())),
                    Some(true)
                );
                assert!(s.describe(Some(info.labels)).contains(info.labels[0]));
                files += 1;
            }
        }
    }
    assert_eq!(files, 5 * 3 + 2 + 5 * 2);
}

#[test]
fn dfew_fold_1_has_the_published_counts() {
    let Some(dir) = splits_dir() else { return };
    let info = dataset("dfew").unwrap();
    let (train, test) = info.split_files(1).unwrap();
    let map = PathMapping::default();
    let train = Manifest::read(&dir.join(train), info.label_kind(), &map).unwrap();
    let test = Manifest::read(&dir.join(test), info.label_kind(), &map).unwrap();
    assert_eq!(train.len(), 9356);
    assert_eq!(test.len(), 2341);
    // Disgust (5) is the rare class of DFEW.
    let s = train.summary();
    assert!(s.class_counts[&5] < s.class_counts[&0] / 5);
    assert_eq!(
        train.missing().len(),
        9356,
        "paths should not exist on this machine"
    );
    assert!(train.missing()[0].to_string().contains("train.csv:1:"));
}
