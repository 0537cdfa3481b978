//! Non-maximum suppression, in the two forms facenet-pytorch's MTCNN uses: torchvision's
//! `nms` (IoU, areas without the +1 pixel) for the first two stages and the original
//! MATLAB/numpy "Min" variant (overlap over the smaller area, +1 pixel areas) after O-Net.

/// How the overlap of two boxes is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// Intersection over union, continuous coordinates (torchvision).
    Union,
    /// Intersection over the smaller box, inclusive pixel coordinates (+1 on each side).
    Min,
}

/// Overlap of boxes `a` and `b` (x0, y0, x1, y1).
pub fn overlap(a: &[f32; 4], b: &[f32; 4], mode: Overlap) -> f32 {
    let plus = if mode == Overlap::Min { 1.0 } else { 0.0 };
    let iw = (a[2].min(b[2]) - a[0].max(b[0]) + plus).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1]) + plus).max(0.0);
    let inter = iw * ih;
    let area = |r: &[f32; 4]| (r[2] - r[0] + plus) * (r[3] - r[1] + plus);
    match mode {
        Overlap::Union => {
            let union = area(a) + area(b) - inter;
            if union > 0.0 { inter / union } else { 0.0 }
        }
        Overlap::Min => {
            let small = area(a).min(area(b));
            if small > 0.0 { inter / small } else { 0.0 }
        }
    }
}

/// Indices of the boxes kept, highest score first: each box suppresses the lower-scored
/// boxes that overlap it by more than `threshold`.
pub fn nms(boxes: &[[f32; 4]], scores: &[f32], threshold: f32, mode: Overlap) -> Vec<usize> {
    assert_eq!(boxes.len(), scores.len());
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut suppressed = vec![false; boxes.len()];
    let mut keep = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if suppressed[i] {
            continue;
        }
        keep.push(i);
        for &j in &order[k + 1..] {
            if !suppressed[j] && overlap(&boxes[i], &boxes[j], mode) > threshold {
                suppressed[j] = true;
            }
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_overlap_of_half_shifted_squares_is_one_third() {
        let a = [0.0, 0.0, 10.0, 10.0];
        let b = [5.0, 0.0, 15.0, 10.0];
        assert!((overlap(&a, &b, Overlap::Union) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(overlap(&a, &[20.0, 20.0, 30.0, 30.0], Overlap::Union), 0.0);
    }

    #[test]
    fn min_overlap_counts_pixels_inclusively_and_divides_by_the_smaller_box() {
        // A 3×3-pixel box (0..=2) inside an 11×11 one: fully covered.
        let small = [0.0, 0.0, 2.0, 2.0];
        let big = [0.0, 0.0, 10.0, 10.0];
        assert_eq!(overlap(&small, &big, Overlap::Min), 1.0);
        // Union, with continuous coordinates: 4 / 100.
        assert!((overlap(&small, &big, Overlap::Union) - 4.0 / 100.0).abs() < 1e-6);
    }

    #[test]
    fn nms_keeps_the_best_of_each_cluster_in_score_order() {
        let boxes = [
            [0.0, 0.0, 10.0, 10.0],
            [1.0, 1.0, 11.0, 11.0],
            [50.0, 50.0, 60.0, 60.0],
            [0.5, 0.0, 10.5, 10.0],
        ];
        let scores = [0.8, 0.9, 0.7, 0.6];
        assert_eq!(nms(&boxes, &scores, 0.5, Overlap::Union), vec![1, 2]);
        // A threshold above every overlap keeps all, best first.
        assert_eq!(nms(&boxes, &scores, 0.99, Overlap::Union), vec![1, 0, 2, 3]);
    }

    #[test]
    fn min_mode_removes_a_box_nested_in_a_better_one() {
        let boxes = [[0.0, 0.0, 40.0, 40.0], [10.0, 10.0, 20.0, 20.0]];
        assert_eq!(nms(&boxes, &[0.9, 0.95], 0.7, Overlap::Union), vec![1, 0]);
        assert_eq!(nms(&boxes, &[0.9, 0.95], 0.7, Overlap::Min), vec![1]);
    }
}
