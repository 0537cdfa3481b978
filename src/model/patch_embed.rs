//! Tubelet embedding (paper §3.1): a Conv3d with kernel = stride = (tubelet, patch, patch),
//! kept as the released `patch_embed.proj` parameters. Because the kernel equals the stride
//! it is one matrix product over tubes, which lets the pre-trainer embed only the visible
//! tubes instead of the whole clip (the tubes come from `cpu_kernels::tubes`).

use burn::module::Param;
use burn::nn::conv::{Conv3d, Conv3dConfig};
use burn::prelude::*;

use super::config::EncoderConfig;
use super::dense::dense;
use super::init::ParamInit;

#[derive(Module, Debug)]
pub struct PatchEmbed<B: Backend> {
    pub proj: Conv3d<B>,
}

impl<B: Backend> PatchEmbed<B> {
    pub fn new(init: &mut ParamInit, cfg: &EncoderConfig, device: &B::Device) -> Self {
        let kernel = [cfg.tubelet, cfg.patch, cfg.patch];
        let mut proj = Conv3dConfig::new([cfg.in_chans, cfg.width], kernel)
            .with_stride(kernel)
            .init(device);
        proj.weight = Param::from_tensor(init.conv_weight(
            [cfg.width, cfg.in_chans, cfg.tubelet, cfg.patch, cfg.patch],
            device,
        ));
        proj.bias = Some(Param::from_tensor(init.conv_bias(
            cfg.width,
            cfg.patch_dim(),
            device,
        )));
        Self { proj }
    }

    /// Tubes [B, N, in_chans·tubelet·patch²] (channel-major, as the Conv3d weight) → tokens [B, N, C].
    pub fn forward(&self, tubes: Tensor<B, 3>) -> Tensor<B, 3> {
        let weight = self.proj.weight.val();
        let c = weight.dims()[0];
        let weight = weight.reshape([c, tubes.dims()[2]]).transpose();
        dense(tubes, weight, self.proj.bias.as_ref().map(|p| p.val()))
    }
}
