//! Cutting clips into tubes for the tubelet embedding. As tensor ops that is an 8-D permute
//! that burn-flex copies element by element through a strided iterator (5% of a demo
//! pre-training step); here each tube row of `patch` pixels is one slice copy. Clips come
//! from data and need no gradient: a clip that does falls back to the tensor ops.

use burn::backend::flex::FlexTensor;
use burn::prelude::*;
use burn::tensor::{TensorMetadata, TensorPrimitive};
use rayon::prelude::*;

use super::buffers::{tensor, values};
use super::{OnCpu, back};
use crate::backend::{Cpu, CpuTrain};

/// Clips [B, C, T, H, W] → tubes [B, N, C·tubelet·patch²], tokens t-major then row-major,
/// each tube's values ordered (channel, dt, dy, dx) like the Conv3d weight.
pub fn tubes_channel_major<B: Backend>(
    video: Tensor<B, 5>,
    tubelet: usize,
    patch: usize,
) -> Tensor<B, 3> {
    match OnCpu::of(video) {
        OnCpu::Inference(video) => back::<B, 3, Cpu>(cut(&video, tubelet, patch)),
        OnCpu::Training(video) if !video.is_tracked() => {
            let tubes = Tensor::<Cpu, 3>::from_primitive(TensorPrimitive::Float(cut(
                &video.primitive,
                tubelet,
                patch,
            )));
            back::<B, 3, CpuTrain>(
                Tensor::<CpuTrain, 3>::from_inner(tubes)
                    .into_primitive()
                    .tensor(),
            )
        }
        video => permuted(video.into_tensor(), tubelet, patch),
    }
}

fn permuted<B: Backend>(video: Tensor<B, 5>, tubelet: usize, patch: usize) -> Tensor<B, 3> {
    let [b, ch, t, h, w] = video.dims();
    let (tt, gh, gw) = (t / tubelet, h / patch, w / patch);
    video
        .reshape([b, ch, tt, tubelet, gh, patch, gw, patch])
        .permute([0, 2, 4, 6, 1, 3, 5, 7])
        .reshape([b, tt * gh * gw, ch * tubelet * patch * patch])
}

fn cut(video: &FlexTensor, tubelet: usize, patch: usize) -> FlexTensor {
    let dims = video.shape();
    let [b, c, t, h, w] = [dims[0], dims[1], dims[2], dims[3], dims[4]];
    assert!(
        t % tubelet == 0 && h % patch == 0 && w % patch == 0,
        "tubes: clip {t}x{h}x{w} is not a whole number of {tubelet}x{patch}x{patch} tubes"
    );
    let (tt, gh, gw) = (t / tubelet, h / patch, w / patch);
    let tube_len = c * tubelet * patch * patch;
    let src = values(video);
    let mut out = vec![0.0; b * tt * gh * gw * tube_len];
    out.par_chunks_mut(tt * gh * gw * tube_len)
        .enumerate()
        .for_each(|(clip, out)| {
            for (tube, dst) in out.chunks_exact_mut(tube_len).enumerate() {
                let (ti, yi, xi) = (tube / (gh * gw), (tube / gw) % gh, tube % gw);
                let rows = dst.chunks_exact_mut(patch);
                let starts = (0..c).flat_map(|ch| {
                    (0..tubelet).flat_map(move |dt| {
                        (0..patch).map(move |dy| {
                            let frame = ti * tubelet + dt;
                            (((clip * c + ch) * t + frame) * h + yi * patch + dy) * w + xi * patch
                        })
                    })
                });
                for (row, start) in rows.zip(starts) {
                    row.copy_from_slice(&src[start..start + patch]);
                }
            }
        });
    tensor(out, [b, tt * gh * gw, tube_len].into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn matches_the_permute_on_both_cpu_backends() {
        let device = Default::default();
        let video =
            Tensor::<Cpu, 5>::random([2, 3, 4, 12, 8], Distribution::Normal(0.0, 1.0), &device);
        let expected = permuted(video.clone(), 2, 4).into_data();
        assert_eq!(
            tubes_channel_major(video.clone(), 2, 4).into_data(),
            expected
        );
        let train = Tensor::<CpuTrain, 5>::from_inner(video);
        assert_eq!(tubes_channel_major(train, 2, 4).into_data(), expected);
    }

    #[test]
    fn a_clip_that_needs_a_gradient_still_gets_one() {
        let device = Default::default();
        let video =
            Tensor::<CpuTrain, 5>::random([1, 3, 2, 8, 8], Distribution::Normal(0.0, 1.0), &device)
                .require_grad();
        let grads = tubes_channel_major(video.clone(), 2, 4).sum().backward();
        assert!(video.grad(&grads).is_some());
    }
}
