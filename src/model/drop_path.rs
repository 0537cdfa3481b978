//! Stochastic depth: drops a residual branch per sample while training (timm `DropPath`).

use burn::prelude::*;
use burn::tensor::Distribution;

/// Scales each sample's branch by 0 or 1/(1-p). Active only on autodiff backends, the same
/// rule burn's `Dropout` follows (`model.valid()` evaluates without it).
pub fn drop_path<B: Backend>(branch: Tensor<B, 3>, rate: f64) -> Tensor<B, 3> {
    if rate <= 0.0 || !B::ad_enabled(&branch.device()) {
        return branch;
    }
    let keep = 1.0 - rate;
    let batch = branch.dims()[0];
    let mask = Tensor::<B, 3>::random(
        [batch, 1, 1],
        Distribution::Bernoulli(keep),
        &branch.device(),
    );
    branch * mask / keep
}
