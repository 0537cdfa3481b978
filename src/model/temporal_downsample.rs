//! Temporal pyramid step (paper §3.2, Eq. 4): a Conv1d(C, C, k, stride k) along time at each
//! spatial position, halving T for k = 2. Kept as the released `nn.Conv1d` parameters
//! (`temporal_downsamples.i.weight` [C, C, k]); since stride = kernel the convolution is one
//! matrix product over non-overlapping windows.

use burn::nn::conv::Conv1d;
use burn::prelude::*;
use burn::tensor::module::linear;

/// `x`: [B, T·S, C] t-major → [B, (T/k)·S, C].
pub fn temporal_downsample<B: Backend>(
    conv: &Conv1d<B>,
    x: Tensor<B, 3>,
    slices: usize,
) -> Tensor<B, 3> {
    let [b, n, c] = x.dims();
    let s = n / slices;
    let weight = conv.weight.val(); // [C_out, C_in, k]
    let [c_out, c_in, k] = weight.dims();
    let out_slices = slices / k;
    // windows[b, t', s, c, j] = x[b, t'·k + j, s, c]
    let windows = x
        .reshape([b, out_slices, k, s, c])
        .permute([0, 1, 3, 4, 2])
        .reshape([b * out_slices * s, c_in * k]);
    let weight = weight.reshape([c_out, c_in * k]).transpose();
    linear(windows, weight, conv.bias.as_ref().map(|p| p.val())).reshape([b, out_slices * s, c_out])
}
