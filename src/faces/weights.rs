//! The MTCNN weights embedded in the binary (facenet-pytorch 2.6.0, MIT; converted by
//! `tools/faces/convert_mtcnn.py`) and typed access to them as burn layers.

use burn::module::Param;
use burn::nn::conv::Conv2d;
use burn::nn::{Linear, PRelu, PaddingConfig2d};
use burn::prelude::*;
use safetensors::{Dtype, SafeTensors};

/// `assets/faces/mtcnn.safetensors`: f32, PyTorch layouts, keys `pnet.conv1.weight`, ...
pub const MTCNN_SAFETENSORS: &[u8] = include_bytes!("../../assets/faces/mtcnn.safetensors");

/// A weight file that does not hold what the networks need.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WeightsError {
    #[error("MTCNN weights: not a safetensors file: {0}")]
    Format(String),
    #[error("MTCNN weights: key `{0}` is missing")]
    Missing(String),
    #[error("MTCNN weights: key `{key}` is {found}, expected {expected}")]
    Mismatch {
        key: String,
        found: String,
        expected: String,
    },
}

/// The tensors of one weight file, read into layers on `device`.
pub struct WeightReader<'a, B: Backend> {
    file: SafeTensors<'a>,
    device: B::Device,
}

impl<'a, B: Backend> WeightReader<'a, B> {
    pub fn new(bytes: &'a [u8], device: &B::Device) -> Result<Self, WeightsError> {
        let file =
            SafeTensors::deserialize(bytes).map_err(|e| WeightsError::Format(e.to_string()))?;
        Ok(Self {
            file,
            device: device.clone(),
        })
    }

    /// The f32 values under `key`, checked against `shape`.
    fn values(&self, key: &str, shape: &[usize]) -> Result<Vec<f32>, WeightsError> {
        let view = self
            .file
            .tensor(key)
            .map_err(|_| WeightsError::Missing(key.to_string()))?;
        if view.dtype() != Dtype::F32 || view.shape() != shape {
            return Err(WeightsError::Mismatch {
                key: key.to_string(),
                found: format!("{:?} {:?}", view.dtype(), view.shape()),
                expected: format!("F32 {shape:?}"),
            });
        }
        // The embedded bytes need not be 4-aligned: read them one by one.
        Ok(view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn tensor<const D: usize>(
        &self,
        key: &str,
        shape: [usize; D],
    ) -> Result<Tensor<B, D>, WeightsError> {
        let values = self.values(key, &shape)?;
        Ok(Tensor::from_data(
            TensorData::new(values, shape),
            &self.device,
        ))
    }

    /// A stride-1, unpadded convolution `prefix.weight` `[out, in, k, k]` + `prefix.bias`.
    pub fn conv(
        &self,
        prefix: &str,
        channels: [usize; 2],
        kernel: usize,
    ) -> Result<Conv2d<B>, WeightsError> {
        let [cin, cout] = channels;
        Ok(Conv2d {
            weight: Param::from_tensor(
                self.tensor(&format!("{prefix}.weight"), [cout, cin, kernel, kernel])?,
            ),
            bias: Some(Param::from_tensor(
                self.tensor(&format!("{prefix}.bias"), [cout])?,
            )),
            stride: [1, 1],
            kernel_size: [kernel, kernel],
            dilation: [1, 1],
            groups: 1,
            padding: PaddingConfig2d::Valid,
        })
    }

    /// A per-channel PReLU, `prefix.weight` `[channels]`.
    pub fn prelu(&self, prefix: &str, channels: usize) -> Result<PRelu<B>, WeightsError> {
        Ok(PRelu {
            alpha: Param::from_tensor(self.tensor(&format!("{prefix}.weight"), [channels])?),
            alpha_value: 0.25,
        })
    }

    /// A dense layer; PyTorch stores `[out, in]`, burn's `Linear` holds `[in, out]`.
    pub fn linear(
        &self,
        prefix: &str,
        d_in: usize,
        d_out: usize,
    ) -> Result<Linear<B>, WeightsError> {
        let weight = self.tensor(&format!("{prefix}.weight"), [d_out, d_in])?;
        Ok(Linear {
            weight: Param::from_tensor(weight.transpose()),
            bias: Some(Param::from_tensor(
                self.tensor(&format!("{prefix}.bias"), [d_out])?,
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Cpu;

    #[test]
    fn errors_name_the_missing_or_misshapen_key() {
        let device = Default::default();
        let reader = WeightReader::<Cpu>::new(MTCNN_SAFETENSORS, &device).unwrap();
        let err = reader.conv("pnet.conv9", [3, 10], 3).unwrap_err();
        assert!(err.to_string().contains("pnet.conv9.weight"), "{err}");
        let err = reader.conv("pnet.conv1", [3, 12], 3).unwrap_err();
        assert!(err.to_string().contains("pnet.conv1.weight"), "{err}");
        assert!(WeightReader::<Cpu>::new(b"not a file", &device).is_err());
    }

    #[test]
    fn linear_weights_are_transposed_to_burn_layout() {
        let device = Default::default();
        let reader = WeightReader::<Cpu>::new(MTCNN_SAFETENSORS, &device).unwrap();
        let dense = reader.linear("rnet.dense5_1", 128, 2).unwrap();
        assert_eq!(dense.weight.val().dims(), [128, 2]);
        let torch_layout = reader.values("rnet.dense5_1.weight", &[2, 128]).unwrap();
        let ours: Vec<f32> = dense.weight.val().into_data().to_vec().unwrap();
        // ours[i][o] == torch[o][i]
        assert_eq!(ours[5 * 2 + 1], torch_layout[128 + 5]);
    }
}
