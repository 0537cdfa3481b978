//! ImageNet pixel normalisation (DESIGN §5: clips are normalised with ImageNet mean/std).

use burn::prelude::*;

pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Normalised clip [B, 3, T, H, W] → pixels in [0, 1].
pub fn unnormalize<B: Backend>(video: Tensor<B, 5>) -> Tensor<B, 5> {
    let device = video.device();
    let mean = Tensor::<B, 1>::from_floats(IMAGENET_MEAN, &device).reshape([1, 3, 1, 1, 1]);
    let std = Tensor::<B, 1>::from_floats(IMAGENET_STD, &device).reshape([1, 3, 1, 1, 1]);
    video * std + mean
}
