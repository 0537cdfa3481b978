//! Fixed 1-D sinusoidal position table (released `get_sinusoid_encoding_table`; not a
//! parameter, never stored in checkpoints): angle(pos, j) = pos / 10000^(2⌊j/2⌋/d),
//! sin on even j, cos on odd j.

use std::sync::Arc;

use burn::prelude::*;

/// A position table kept on the host and uploaded per forward pass: not a parameter, so it
/// never appears among a model's weights or checkpoint keys.
#[derive(Clone)]
pub struct PositionTable {
    values: Arc<Vec<f32>>,
    positions: usize,
    dim: usize,
}

impl PositionTable {
    pub fn new(positions: usize, dim: usize) -> Self {
        Self {
            values: Arc::new(sinusoid_values(positions, dim)),
            positions,
            dim,
        }
    }

    /// The whole table [N, dim].
    pub fn tensor<B: Backend>(&self, device: &B::Device) -> Tensor<B, 2> {
        Tensor::from_data(
            TensorData::new(self.values.to_vec(), [self.positions, self.dim]),
            device,
        )
    }
}

impl std::fmt::Debug for PositionTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PositionTable({}x{})", self.positions, self.dim)
    }
}

fn sinusoid_values(positions: usize, dim: usize) -> Vec<f32> {
    let mut values = Vec::with_capacity(positions * dim);
    for pos in 0..positions {
        for j in 0..dim {
            let angle = pos as f64 / 10000f64.powf(2.0 * (j / 2) as f64 / dim as f64);
            values.push(if j % 2 == 0 { angle.sin() } else { angle.cos() } as f32);
        }
    }
    values
}

#[cfg(test)]
fn sinusoid_table<B: Backend>(positions: usize, dim: usize, device: &B::Device) -> Tensor<B, 2> {
    PositionTable::new(positions, dim).tensor(device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Cpu;

    #[test]
    fn table_starts_with_sin_zero_cos_zero() {
        let t = sinusoid_table::<Cpu>(3, 4, &Default::default())
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(&t[0..4], &[0.0, 1.0, 0.0, 1.0]);
        assert!((t[4] - 1f32.sin()).abs() < 1e-7);
        assert!((t[6] - (1.0f64 / 100.0).sin() as f32).abs() < 1e-7);
    }
}
