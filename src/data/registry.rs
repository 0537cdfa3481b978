//! The paper's datasets (DESIGN §7): class names in the released code's order (0-based),
//! task, metrics, protocol and SVFAP-B's published results.

use super::manifest::LabelKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    Classification,
    Regression,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Unweighted average recall (mean per-class recall).
    Uar,
    /// Weighted average recall (accuracy).
    War,
    WeightedF1,
    Pcc,
    Ccc,
    /// 1 − mean absolute error.
    Acc,
}

#[derive(Debug, Clone, Copy)]
pub struct DatasetInfo {
    pub name: &'static str,
    pub task: Task,
    /// Class names (classification) or target names (regression), in label order.
    pub labels: &'static [&'static str],
    pub metrics: &'static [Metric],
    /// Number of folds (1 = one fixed split).
    pub folds: usize,
    pub protocol: &'static str,
    pub clips: &'static str,
    /// SVFAP-B in the paper: (metric label, value).
    pub paper: &'static [(&'static str, f64)],
    /// Folder of the released split files under `shared/splits`, with `{fold}`.
    pub released_splits: Option<&'static str>,
    /// The authors' path prefix in the released split files.
    pub released_prefix: Option<&'static str>,
}

impl DatasetInfo {
    pub fn num_labels(&self) -> usize {
        self.labels.len()
    }

    /// How a manifest of this dataset is read.
    pub fn label_kind(&self) -> LabelKind {
        match self.task {
            Task::Classification => LabelKind::Class {
                classes: Some(self.labels.len()),
            },
            Task::Regression => LabelKind::Values(self.labels.len()),
        }
    }

    /// `(train, test)` split files of a fold (1-based), relative to `shared/splits`.
    pub fn split_files(&self, fold: usize) -> Option<(String, String)> {
        let dir = self
            .released_splits?
            .replace("{fold}", &format!("{fold:02}"));
        (fold >= 1 && fold <= self.folds)
            .then(|| (format!("{dir}/train.csv"), format!("{dir}/test.csv")))
    }
}

const DFER7: &[&str] = &[
    "happy", "sad", "neutral", "angry", "surprise", "disgust", "fear",
];

pub const DATASETS: &[DatasetInfo] = &[
    DatasetInfo {
        name: "DFEW",
        task: Task::Classification,
        labels: DFER7,
        metrics: &[Metric::Uar, Metric::War],
        folds: 5,
        protocol: "5-fold",
        clips: "11,697",
        paper: &[("UAR", 62.83), ("WAR", 74.27)],
        released_splits: Some("dfew/org/split{fold}"),
        released_prefix: Some("/data/ycs/AC/Dataset/DFEW/Clip/jpg_256"),
    },
    DatasetInfo {
        name: "FERV39k",
        task: Task::Classification,
        labels: DFER7,
        metrics: &[Metric::Uar, Metric::War],
        folds: 1,
        protocol: "official split",
        clips: "38,935",
        paper: &[("UAR", 42.14), ("WAR", 52.29)],
        released_splits: Some("ferv39k/all_scenes"),
        released_prefix: Some("/data/ycs/AC/Dataset/FERV39k/2_ClipsforFaceCrop"),
    },
    DatasetInfo {
        name: "MAFW",
        task: Task::Classification,
        labels: &[
            "anger",
            "disgust",
            "fear",
            "happiness",
            "neutral",
            "sadness",
            "surprise",
            "contempt",
            "anxiety",
            "helplessness",
            "disappointment",
        ],
        metrics: &[Metric::Uar, Metric::War],
        folds: 5,
        protocol: "5-fold",
        clips: "9,172",
        paper: &[("UAR", 41.19), ("WAR", 54.28)],
        released_splits: Some("mafw/single/split{fold}"),
        released_prefix: Some("/data/ycs/AC/Dataset/MAFW/data/frames"),
    },
    DatasetInfo {
        name: "CREMA-D",
        task: Task::Classification,
        // File-name codes ANG, DIS, FEA, HAP, NEU, SAD in alphabetical order.
        labels: &["anger", "disgust", "fear", "happy", "neutral", "sad"],
        metrics: &[Metric::Uar, Metric::War],
        folds: 5,
        protocol: "5-fold subject-independent",
        clips: "7,442",
        paper: &[("UAR", 77.31), ("WAR", 77.37)],
        released_splits: None,
        released_prefix: None,
    },
    DatasetInfo {
        name: "RAVDESS",
        task: Task::Classification,
        // Emotion codes 01..08 of the file names, minus one.
        labels: &[
            "neutral",
            "calm",
            "happy",
            "sad",
            "angry",
            "fearful",
            "disgust",
            "surprised",
        ],
        metrics: &[Metric::Uar, Metric::War],
        folds: 6,
        protocol: "6-fold subject-independent",
        clips: "1,440",
        paper: &[("UAR", 75.15), ("WAR", 75.01)],
        released_splits: None,
        released_prefix: None,
    },
    DatasetInfo {
        name: "eNTERFACE05",
        task: Task::Classification,
        labels: &[
            "anger",
            "disgust",
            "fear",
            "happiness",
            "sadness",
            "surprise",
        ],
        metrics: &[Metric::Uar, Metric::War],
        folds: 5,
        protocol: "5-fold subject-independent",
        clips: "~1,200",
        paper: &[("UAR", 60.58), ("WAR", 60.54)],
        released_splits: None,
        released_prefix: None,
    },
    DatasetInfo {
        name: "Werewolf-XL",
        task: Task::Regression,
        labels: &["arousal", "valence", "dominance"],
        metrics: &[Metric::Ccc, Metric::Pcc],
        folds: 5,
        protocol: "5-fold",
        clips: "14,632",
        paper: &[
            ("CCC arousal", 0.19),
            ("CCC valence", 0.64),
            ("CCC dominance", 0.30),
        ],
        released_splits: None,
        released_prefix: None,
    },
    DatasetInfo {
        name: "AVCAffe-arousal",
        task: Task::Classification,
        labels: &["1", "2", "3", "4", "5"],
        metrics: &[Metric::WeightedF1],
        folds: 1,
        protocol: "86 train / 20 test subjects",
        clips: "106 subjects",
        paper: &[("weighted F1", 40.36)],
        released_splits: None,
        released_prefix: None,
    },
    DatasetInfo {
        name: "AVCAffe-valence",
        task: Task::Classification,
        labels: &["1", "2", "3", "4", "5"],
        metrics: &[Metric::WeightedF1],
        folds: 1,
        protocol: "86 train / 20 test subjects",
        clips: "106 subjects",
        paper: &[("weighted F1", 41.49)],
        released_splits: None,
        released_prefix: None,
    },
    DatasetInfo {
        name: "ChaLearn-FI",
        task: Task::Regression,
        labels: &[
            "extraversion",
            "neuroticism",
            "agreeableness",
            "conscientiousness",
            "openness",
        ],
        metrics: &[Metric::Ccc, Metric::Acc],
        folds: 1,
        protocol: "6k / 2k / 2k",
        clips: "10,000",
        paper: &[("CCC", 0.6645), ("ACC", 0.9175)],
        released_splits: None,
        released_prefix: None,
    },
    DatasetInfo {
        name: "demo",
        task: Task::Classification,
        labels: DFER7,
        metrics: &[Metric::Uar, Metric::War],
        folds: 1,
        protocol: "synthetic (svfap-tui demo-data)",
        clips: "configurable",
        paper: &[],
        released_splits: None,
        released_prefix: None,
    },
];

/// Looks a dataset up by name, ignoring case and `-`/`_` (e.g. `dfew`, `ferv39k`, `chalearn_fi`).
pub fn dataset(name: &str) -> Option<&'static DatasetInfo> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '_'], "");
    let want = norm(name);
    DATASETS.iter().find(|d| norm(d.name) == want)
}

/// As [`dataset`], or an error that lists the known names.
pub fn dataset_named(name: &str) -> Result<&'static DatasetInfo, String> {
    dataset(name).ok_or_else(|| format!("unknown dataset `{name}` (known: {})", names().join(", ")))
}

pub fn names() -> Vec<&'static str> {
    DATASETS.iter().map(|d| d.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_forgiving_and_orders_match_the_released_code() {
        assert_eq!(dataset("dfew").unwrap().labels[0], "happy");
        assert_eq!(dataset("FERV39K").unwrap().labels[6], "fear");
        assert_eq!(dataset("mafw").unwrap().labels.len(), 11);
        assert_eq!(dataset("chalearn_fi").unwrap().task, Task::Regression);
        assert_eq!(
            dataset("dfew").unwrap().split_files(2).unwrap().0,
            "dfew/org/split02/train.csv"
        );
        assert!(dataset("dfew").unwrap().split_files(6).is_none());
        assert!(dataset("imagenet").is_none());
    }
}
