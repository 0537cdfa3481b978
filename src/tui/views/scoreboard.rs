//! The reproduction scoreboard in Compare: the paper's SVFAP-B results as anchor rows per
//! dataset (DESIGN §7, from the dataset registry), each run's difference from them, and
//! metric values written the way the paper writes them (62.83 for UAR, 0.6645 for CCC).

use crate::data::registry;

/// The paper's numbers for one dataset: (metric key as runs write it, value in the run's
/// units: recalls and F1 as fractions, CCC/ACC as they are).
#[derive(Debug, Clone, PartialEq)]
pub struct Anchor {
    /// The registry's name (`DFEW`, `Werewolf-XL`, …).
    pub dataset: &'static str,
    pub values: Vec<(String, f64)>,
}

/// Metrics the paper gives in percent.
pub fn is_percent(key: &str) -> bool {
    matches!(key, "uar" | "war" | "weighted_f1")
}

/// A value as the paper prints it: `62.83` for a recall or F1, `0.7826` for CCC or ACC.
pub fn shown(key: &str, v: f64) -> String {
    if is_percent(key) {
        format!("{:.2}", v * 100.0)
    } else {
        format!("{v:.4}")
    }
}

/// The metric key a paper label stands for (`UAR` → `uar`, `CCC arousal` → `ccc_arousal`).
fn key_of(label: &str) -> String {
    match label {
        "weighted F1" => "weighted_f1".into(),
        l => l.to_lowercase().replace(' ', "_"),
    }
}

/// The paper's SVFAP-B results for `dataset` (any spelling the registry accepts).
pub fn anchor(dataset: &str) -> Option<Anchor> {
    let info = registry::dataset(dataset)?;
    if info.paper.is_empty() {
        return None;
    }
    let values = info
        .paper
        .iter()
        .map(|(label, v)| {
            let key = key_of(label);
            let v = if is_percent(&key) { v / 100.0 } else { *v };
            (key, v)
        })
        .collect();
    Some(Anchor {
        dataset: info.name,
        values,
    })
}

/// A run's difference from the paper on the first of the paper's metrics the run reports,
/// in the units the paper prints (points for percentages): `(key, run − paper)`.
pub fn delta(values: impl Fn(&str) -> Option<f64>, anchor: &Anchor) -> Option<(&str, f64)> {
    anchor.values.iter().find_map(|(key, paper)| {
        let mine = values(key)?;
        let scale = if is_percent(key) { 100.0 } else { 1.0 };
        Some((key.as_str(), (mine - paper) * scale))
    })
}

/// `+1.23` / `-4.50` points, or `+0.0123` for CCC-like metrics.
pub fn delta_text(key: &str, d: f64) -> String {
    if is_percent(key) {
        format!("{d:+.2}")
    } else {
        format!("{d:+.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_carry_the_papers_numbers_in_the_runs_units() {
        let a = anchor("dfew").unwrap();
        assert_eq!(a.dataset, "DFEW");
        assert_eq!(a.values[0].0, "uar");
        assert!((a.values[0].1 - 0.6283).abs() < 1e-12);
        assert_eq!(shown("uar", a.values[0].1), "62.83");
        assert_eq!(shown("war", a.values[1].1), "74.27");
        let w = anchor("werewolf_xl").unwrap();
        assert_eq!(w.values[0].0, "ccc_arousal");
        assert_eq!(shown("ccc_arousal", w.values[0].1), "0.1900");
        let c = anchor("ChaLearn-FI").unwrap();
        assert_eq!(
            c.values,
            vec![("ccc".into(), 0.6645), ("acc".into(), 0.9175)]
        );
        assert!(anchor("demo").is_none());
        assert!(anchor("nope").is_none());
    }

    #[test]
    fn the_delta_is_in_the_papers_units_on_the_first_metric_a_run_reports() {
        let a = anchor("dfew").unwrap();
        let (k, d) = delta(|k| (k == "uar").then_some(0.6400), &a).unwrap();
        assert_eq!(k, "uar");
        assert!((d - 1.17).abs() < 1e-9, "{d}");
        assert_eq!(delta_text(k, d), "+1.17");
        let (k, d) = delta(|k| (k == "war").then_some(0.70), &a).unwrap();
        assert_eq!((k, delta_text(k, d).as_str()), ("war", "-4.27"));
        assert!(delta(|_| None, &a).is_none());
    }
}
