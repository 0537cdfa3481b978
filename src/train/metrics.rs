//! Evaluation metrics of the paper (DESIGN §6): UAR (mean per-class recall) and WAR
//! (accuracy) pooled over all predictions, weighted F1 (AVCAffe), and for regression PCC,
//! CCC and ACC = 1 − MAE (ChaLearn First Impressions).

/// Row = true class, column = predicted class.
pub fn confusion_matrix(labels: &[usize], preds: &[usize], classes: usize) -> Vec<Vec<u64>> {
    let mut m = vec![vec![0u64; classes]; classes];
    for (&l, &p) in labels.iter().zip(preds) {
        m[l][p] += 1;
    }
    m
}

/// Recall of each class (None for a class absent from the labels).
pub fn per_class_recall(confusion: &[Vec<u64>]) -> Vec<Option<f64>> {
    confusion
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let total: u64 = row.iter().sum();
            (total > 0).then(|| row[i] as f64 / total as f64)
        })
        .collect()
}

/// Unweighted average recall over the classes present in the labels.
pub fn uar(confusion: &[Vec<u64>]) -> f64 {
    let recalls: Vec<f64> = per_class_recall(confusion).into_iter().flatten().collect();
    if recalls.is_empty() {
        0.0
    } else {
        recalls.iter().sum::<f64>() / recalls.len() as f64
    }
}

/// Weighted average recall = accuracy.
pub fn war(confusion: &[Vec<u64>]) -> f64 {
    let total: u64 = confusion.iter().flatten().sum();
    let correct: u64 = (0..confusion.len()).map(|i| confusion[i][i]).sum();
    if total == 0 {
        0.0
    } else {
        correct as f64 / total as f64
    }
}

/// F1 per class averaged with weights = class support (scikit-learn `average="weighted"`).
pub fn weighted_f1(confusion: &[Vec<u64>]) -> f64 {
    let k = confusion.len();
    let total: u64 = confusion.iter().flatten().sum();
    if total == 0 {
        return 0.0;
    }
    (0..k)
        .map(|c| {
            let tp = confusion[c][c] as f64;
            let support: u64 = confusion[c].iter().sum();
            let predicted: u64 = (0..k).map(|r| confusion[r][c]).sum();
            let f1 = if tp == 0.0 {
                0.0
            } else {
                2.0 * tp / (support as f64 + predicted as f64)
            };
            f1 * support as f64 / total as f64
        })
        .sum()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len().max(1) as f64
}

/// Pearson correlation.
pub fn pcc(pred: &[f64], truth: &[f64]) -> f64 {
    let (mp, mt) = (mean(pred), mean(truth));
    let cov: f64 = pred
        .iter()
        .zip(truth)
        .map(|(p, t)| (p - mp) * (t - mt))
        .sum();
    let vp: f64 = pred.iter().map(|p| (p - mp).powi(2)).sum();
    let vt: f64 = truth.iter().map(|t| (t - mt).powi(2)).sum();
    if vp == 0.0 || vt == 0.0 {
        0.0
    } else {
        cov / (vp * vt).sqrt()
    }
}

/// Lin's concordance correlation: 2·cov / (var_p + var_t + (μp − μt)²), population moments.
pub fn ccc(pred: &[f64], truth: &[f64]) -> f64 {
    let n = pred.len().max(1) as f64;
    let (mp, mt) = (mean(pred), mean(truth));
    let cov = pred
        .iter()
        .zip(truth)
        .map(|(p, t)| (p - mp) * (t - mt))
        .sum::<f64>()
        / n;
    let vp = pred.iter().map(|p| (p - mp).powi(2)).sum::<f64>() / n;
    let vt = truth.iter().map(|t| (t - mt).powi(2)).sum::<f64>() / n;
    let denom = vp + vt + (mp - mt).powi(2);
    if denom == 0.0 { 0.0 } else { 2.0 * cov / denom }
}

/// ACC = 1 − mean absolute error (targets in [0, 1]).
pub fn one_minus_mae(pred: &[f64], truth: &[f64]) -> f64 {
    1.0 - mean(
        &pred
            .iter()
            .zip(truth)
            .map(|(p, t)| (p - t).abs())
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uar_and_war_differ_on_imbalanced_classes() {
        // 8 of class 0 all right, 2 of class 1 both wrong.
        let labels = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1];
        let preds = [0; 10];
        let m = confusion_matrix(&labels, &preds, 2);
        assert_eq!(m, vec![vec![8, 0], vec![2, 0]]);
        assert!((war(&m) - 0.8).abs() < 1e-12);
        assert!((uar(&m) - 0.5).abs() < 1e-12);
        // F1: class 0 = 2·8/(8+10) = 0.888…, weight 0.8; class 1 = 0.
        assert!((weighted_f1(&m) - 0.8 * 16.0 / 18.0).abs() < 1e-12);
    }

    #[test]
    fn absent_classes_do_not_count_in_uar() {
        let m = confusion_matrix(&[0, 1], &[0, 1], 3);
        assert_eq!(uar(&m), 1.0);
    }

    #[test]
    fn correlations_of_known_series() {
        let t = [1.0, 2.0, 3.0, 4.0];
        assert!((pcc(&t, &t) - 1.0).abs() < 1e-12);
        assert!((ccc(&t, &t) - 1.0).abs() < 1e-12);
        let shifted = [2.0, 3.0, 4.0, 5.0];
        assert!((pcc(&shifted, &t) - 1.0).abs() < 1e-12);
        // var = 1.25 each, cov = 1.25, shift 1 → 2.5 / 3.5.
        assert!((ccc(&shifted, &t) - 2.5 / 3.5).abs() < 1e-12);
        assert!((one_minus_mae(&[0.5, 0.5], &[0.0, 1.0]) - 0.5).abs() < 1e-12);
    }
}
