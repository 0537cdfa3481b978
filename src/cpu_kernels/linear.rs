//! `x·W + b` for x [rows, d_in], W [d_in, d_out] (burn's `Linear` layout), b [d_out], as
//! direct gemm calls with their own backward step: the products write into fresh buffers
//! (a burn-flex matmul output is zero-filled, then copied into an aligned allocation) and
//! the bias add and bias gradient are single passes instead of broadcast tensor ops.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;
use burn::tensor::ops::FloatTensor;
use gemm::{Parallelism, gemm};
use rayon::prelude::*;

use super::buffers::{Room, tensor, values};
use super::{OnCpu, back};
use crate::backend::{Cpu, CpuTrain};

/// `x·weight + bias`, fused on the CPU backends, burn's `linear` elsewhere.
pub fn linear<B: Backend>(
    x: Tensor<B, 2>,
    weight: Tensor<B, 2>,
    bias: Tensor<B, 1>,
) -> Tensor<B, 2> {
    match (OnCpu::of(x), OnCpu::of(weight), OnCpu::of(bias)) {
        (OnCpu::Inference(x), OnCpu::Inference(w), OnCpu::Inference(b)) => {
            back::<B, 2, Cpu>(forward(&x, &w, &b))
        }
        (OnCpu::Training(x), OnCpu::Training(w), OnCpu::Training(b)) => {
            back::<B, 2, CpuTrain>(train(x, w, b))
        }
        (x, w, b) => {
            burn::tensor::module::linear(x.into_tensor(), w.into_tensor(), Some(b.into_tensor()))
        }
    }
}

/// burn-flex's threshold for splitting a product over the cores (multiply-adds).
const PARALLEL_FROM: usize = 192 * 192 * 192;

/// A new row-major m×n = lhs (m×k) · rhs (k×n) in `room` (m×n values); strides given as
/// (column, row).
fn product(
    room: Room,
    (m, n, k): (usize, usize, usize),
    lhs: &[f32],
    lhs_strides: (usize, usize),
    rhs: &[f32],
    rhs_strides: (usize, usize),
) -> Vec<f32> {
    assert!(
        lhs.len() == m * k && rhs.len() == k * n && room.len() == m * n,
        "linear: product sizes"
    );
    let parallelism = if m * n * k >= PARALLEL_FROM {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    };
    // SAFETY: the slices hold exactly the m×k and k×n matrices the strides describe, and
    // gemm writes all m×n values of dst without reading them (`read_dst` false; zeros when
    // k is 0).
    unsafe {
        room.fill(|dst| {
            gemm(
                m,
                n,
                k,
                dst,
                1,
                n as isize,
                false,
                lhs.as_ptr(),
                lhs_strides.0 as isize,
                lhs_strides.1 as isize,
                rhs.as_ptr(),
                rhs_strides.0 as isize,
                rhs_strides.1 as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            )
        })
    }
}

fn sizes(x: &FlexTensor, w: &FlexTensor) -> (usize, usize, usize) {
    let (xs, ws) = (x.layout().shape(), w.layout().shape());
    assert_eq!(
        xs[1], ws[0],
        "linear: input width {} against weight {:?}",
        xs[1], ws
    );
    (xs[0], xs[1], ws[1])
}

fn forward(x: &FlexTensor, w: &FlexTensor, b: &FlexTensor) -> FlexTensor {
    let (rows, d_in, d_out) = sizes(x, w);
    let bias = values(b);
    assert_eq!(bias.len(), d_out, "linear: bias length");
    let mut out = product(
        Room::new(rows * d_out),
        (rows, d_out, d_in),
        &values(x),
        (1, d_in),
        &values(w),
        (1, d_out),
    );
    out.par_chunks_mut(d_out * 64).for_each(|rows| {
        for row in rows.chunks_exact_mut(d_out) {
            row.iter_mut().zip(bias.iter()).for_each(|(y, b)| *y += b);
        }
    });
    tensor(out, [rows, d_out].into())
}

/// The autodiff step: keeps x and W; ∂x = ∂y·Wᵀ, ∂W = xᵀ·∂y, ∂b = Σ_rows ∂y.
#[derive(Debug)]
struct LinearBackward;

impl Backward<Cpu, 3> for LinearBackward {
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, w) = ops.state;
        let (rows, d_in, d_out) = sizes(&x, &w);
        let grad_out = grads.consume::<Cpu>(&ops.node);
        let grad_out = values(&grad_out);
        let [x_node, w_node, b_node] = ops.parents;
        let room_x = x_node.as_ref().map(|_| Room::new(rows * d_in));
        let room_w = w_node.as_ref().map(|_| Room::new(d_in * d_out));
        // ∂x and (∂W, ∂b) side by side: the two products have the same size, so on a few
        // cores each gets its own instead of both taking turns on all of them.
        let (grad_x, (grad_w, grad_b)) = rayon::join(
            || {
                room_x.map(|room| {
                    product(
                        room,
                        (rows, d_in, d_out),
                        &grad_out,
                        (1, d_out),
                        &values(&w),
                        (d_out, 1),
                    )
                })
            },
            || {
                let grad_w = room_w.map(|room| {
                    product(
                        room,
                        (d_in, d_out, rows),
                        &values(&x),
                        (d_in, 1),
                        &grad_out,
                        (1, d_out),
                    )
                });
                let grad_b = b_node.as_ref().map(|_| {
                    let mut grad = vec![0.0; d_out];
                    for row in grad_out.chunks_exact(d_out) {
                        grad.iter_mut().zip(row).for_each(|(g, r)| *g += r);
                    }
                    grad
                });
                (grad_w, grad_b)
            },
        );
        if let (Some(node), Some(grad)) = (x_node, grad_x) {
            grads.register::<Cpu>(node.id, tensor(grad, [rows, d_in].into()));
        }
        if let (Some(node), Some(grad)) = (w_node, grad_w) {
            grads.register::<Cpu>(node.id, tensor(grad, [d_in, d_out].into()));
        }
        if let (Some(node), Some(grad)) = (b_node, grad_b) {
            grads.register::<Cpu>(node.id, tensor(grad, [d_out].into()));
        }
    }
}

fn train(
    x: FloatTensor<CpuTrain>,
    w: FloatTensor<CpuTrain>,
    b: FloatTensor<CpuTrain>,
) -> FloatTensor<CpuTrain> {
    let out = forward(&x.primitive, &w.primitive, &b.primitive);
    match LinearBackward
        .prepare::<NoCheckpointing>([x.node.clone(), w.node.clone(), b.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish((x.primitive, w.primitive), out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu_kernels::test_support::{close, random};

    #[test]
    fn forward_matches_burns_linear_single_and_multi_threaded() {
        let device = Default::default();
        for (rows, d_in, d_out) in [(7, 5, 3), (300, 200, 160)] {
            let x = random::<Cpu, 2>([rows, d_in], &device);
            let (w, b) = (random([d_in, d_out], &device), random([d_out], &device));
            let reference = burn::tensor::module::linear(x.clone(), w.clone(), Some(b.clone()));
            close(linear(x, w, b), reference);
        }
    }

    #[test]
    fn strided_weight_is_read_in_logical_order() {
        let device = Default::default();
        let x = random::<Cpu, 2>([9, 6], &device);
        let w = random::<Cpu, 2>([4, 6], &device).transpose();
        let b = random::<Cpu, 1>([4], &device);
        let reference = burn::tensor::module::linear(x.clone(), w.clone(), Some(b.clone()));
        close(linear(x, w, b), reference);
    }

    #[test]
    fn gradients_match_burns_autodiff() {
        let device = Default::default();
        let x = random::<Cpu, 2>([300, 96], &device);
        let (w, b) = (
            random::<Cpu, 2>([96, 64], &device),
            random::<Cpu, 1>([64], &device),
        );
        let upstream = random::<Cpu, 2>([300, 64], &device);
        let grads = |fused: bool| {
            let x = Tensor::<CpuTrain, 2>::from_inner(x.clone()).require_grad();
            let w = Tensor::<CpuTrain, 2>::from_inner(w.clone()).require_grad();
            let b = Tensor::<CpuTrain, 1>::from_inner(b.clone()).require_grad();
            let y = if fused {
                linear(x.clone(), w.clone(), b.clone())
            } else {
                burn::tensor::module::linear(x.clone(), w.clone(), Some(b.clone()))
            };
            let g = (y * Tensor::from_inner(upstream.clone())).sum().backward();
            (
                x.grad(&g).unwrap(),
                w.grad(&g).unwrap(),
                b.grad(&g).unwrap(),
            )
        };
        let ((x1, w1, b1), (x2, w2, b2)) = (grads(true), grads(false));
        close(x1, x2);
        close(w1, w2);
        close(b1, b2);
    }

    #[test]
    fn frozen_weight_gets_no_gradient() {
        let device = Default::default();
        let x = Tensor::<CpuTrain, 2>::from_inner(random([5, 4], &device)).require_grad();
        let w = Tensor::<CpuTrain, 2>::from_inner(random([4, 3], &device));
        let b = Tensor::<CpuTrain, 1>::from_inner(random([3], &device)).require_grad();
        let g = linear(x.clone(), w.clone(), b.clone()).sum().backward();
        assert!(x.grad(&g).is_some() && b.grad(&g).is_some());
        assert!(w.grad(&g).is_none());
    }
}
