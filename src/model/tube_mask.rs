//! Tube masking (VideoMAE; paper §3.1): the same spatial positions are masked in every time
//! slice. A mask is kept as sorted index lists, never as a dense [B, N] tensor.

use rand::Rng;
use rand::seq::index::sample;

/// One clip's tube mask: which of the S spatial positions are visible and which masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TubeMask {
    /// Sorted visible spatial positions.
    pub visible: Vec<usize>,
    /// Sorted masked spatial positions.
    pub masked: Vec<usize>,
}

impl TubeMask {
    /// Masks `masked_per_slice` of `spatial` positions chosen uniformly at random.
    pub fn random(spatial: usize, masked_per_slice: usize, rng: &mut impl Rng) -> Self {
        let mut flags = vec![false; spatial];
        for i in sample(rng, spatial, masked_per_slice) {
            flags[i] = true;
        }
        Self::from_flags(&flags)
    }

    /// From per-position flags (true = masked).
    pub fn from_flags(flags: &[bool]) -> Self {
        let (masked, visible): (Vec<usize>, Vec<usize>) = (0..flags.len()).partition(|&i| flags[i]);
        Self { visible, masked }
    }

    /// From a per-token mask [T·S] (t-major, true = masked); refuses masks that are not tubes.
    pub fn from_token_flags(flags: &[bool], slices: usize) -> Result<Self, String> {
        if slices == 0 || !flags.len().is_multiple_of(slices) {
            return Err(format!(
                "{} mask entries do not split into {slices} time slices",
                flags.len()
            ));
        }
        let s = flags.len() / slices;
        let first = &flags[..s];
        if let Some(t) = (1..slices).find(|t| &flags[t * s..(t + 1) * s] != first) {
            return Err(format!(
                "time slice {t} masks other positions than slice 0: not a tube mask"
            ));
        }
        Ok(Self::from_flags(first))
    }

    pub fn spatial_len(&self) -> usize {
        self.visible.len() + self.masked.len()
    }

    /// Token indices (t-major) of the given spatial positions in every slice, offset by
    /// `base` (the clip's first row when a batch is flattened).
    pub fn token_indices(
        positions: &[usize],
        slices: usize,
        spatial: usize,
        base: usize,
    ) -> Vec<i64> {
        (0..slices)
            .flat_map(|t| {
                positions
                    .iter()
                    .map(move |&s| (base + t * spatial + s) as i64)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn random_mask_has_the_requested_count_and_is_sorted() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let m = TubeMask::random(100, 90, &mut rng);
        assert_eq!(m.masked.len(), 90);
        assert_eq!(m.visible.len(), 10);
        assert!(m.visible.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn token_mask_that_differs_between_slices_is_refused() {
        let flags = [true, false, false, true];
        assert!(
            TubeMask::from_token_flags(&flags, 2)
                .unwrap_err()
                .contains("not a tube mask")
        );
        let tube = [true, false, true, false];
        assert_eq!(
            TubeMask::from_token_flags(&tube, 2).unwrap().masked,
            vec![0]
        );
    }

    #[test]
    fn token_indices_are_t_major() {
        assert_eq!(
            TubeMask::token_indices(&[1, 3], 2, 4, 8),
            vec![9, 11, 13, 15]
        );
    }
}
