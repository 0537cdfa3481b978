//! Multi-head attention, softmax(q·kᵀ/√d)·v (the released `Attention` and
//! `GeneralAttention`), read straight from the fused projection outputs. burn's version
//! needs each of q, k and v cut out of `qkv`, split into heads and, in the backward pass,
//! copied back and scattered into a zeroed gradient; here every (clip, head) pair is one
//! task that reads its columns in place with strided gemm and writes its own columns of
//! the output and of the gradients. The softmax weights are kept for the backward pass,
//! as burn and PyTorch keep them.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;
use burn::tensor::TensorMetadata;
use burn::tensor::ops::FloatTensor;
use gemm::{Parallelism, gemm};
use rayon::prelude::*;

use super::buffers::{tensor, values, written_in_full};
use super::parallel::simd_kernel;
use super::vector_math::{self, exp};
use super::{OnCpu, back};
use crate::backend::{Cpu, CpuTrain};

/// Self-attention over `qkv` [B, N, 3C] (q, k, v side by side, as the fused `qkv` Linear
/// gives them) → [B, N, C], heads merged; `Err(qkv)` back on a backend without the kernel.
pub fn fused_self_attention<B: Backend>(
    qkv: Tensor<B, 3>,
    heads: usize,
) -> Result<Tensor<B, 3>, Tensor<B, 3>> {
    let [batch, n, width] = qkv.dims();
    assert!(
        width.is_multiple_of(3),
        "self-attention: qkv width {width} is not 3·C"
    );
    let c = width / 3;
    let plan = Plan::new(
        batch,
        n,
        n,
        heads,
        c,
        (0, width),
        (c, width),
        (2 * c, width),
    );
    match OnCpu::of(qkv) {
        OnCpu::Inference(qkv) => {
            let data = values(&qkv);
            Ok(back::<B, 3, Cpu>(
                plan.output(forward(&plan, &data, &data, None)),
            ))
        }
        OnCpu::Training(qkv) => Ok(back::<B, 3, CpuTrain>(train_self(plan, qkv))),
        OnCpu::Elsewhere(qkv) => Err(qkv),
    }
}

/// Cross-attention of queries `q` [B, Nq, C] over `kv` [B, Nk, 2C] (k, v side by side)
/// → [B, Nq, C], heads merged; the inputs back on a backend without the kernel.
#[allow(clippy::type_complexity)]
pub fn fused_cross_attention<B: Backend>(
    q: Tensor<B, 3>,
    kv: Tensor<B, 3>,
    heads: usize,
) -> Result<Tensor<B, 3>, (Tensor<B, 3>, Tensor<B, 3>)> {
    let [batch, nq, c] = q.dims();
    let [kv_batch, nk, kv_width] = kv.dims();
    assert!(
        kv_batch == batch && kv_width == 2 * c,
        "cross-attention: kv {:?} does not match q {:?}",
        kv.dims(),
        q.dims()
    );
    let plan = Plan::new(batch, nq, nk, heads, c, (0, c), (0, 2 * c), (c, 2 * c));
    match (OnCpu::of(q), OnCpu::of(kv)) {
        (OnCpu::Inference(q), OnCpu::Inference(kv)) => {
            let out = forward(&plan, &values(&q), &values(&kv), None);
            Ok(back::<B, 3, Cpu>(plan.output(out)))
        }
        (OnCpu::Training(q), OnCpu::Training(kv)) => {
            Ok(back::<B, 3, CpuTrain>(train_cross(plan, q, kv)))
        }
        (q, kv) => Err((q.into_tensor(), kv.into_tensor())),
    }
}

/// Where one operand's head `h` of clip `b` sits in a row-major [B, rows, width] buffer:
/// column `offset + h·d`, consecutive rows `width` apart. Its gradient has the same layout.
#[derive(Clone, Copy, Debug)]
struct Operand {
    offset: usize,
    width: usize,
}

impl Operand {
    fn start(&self, rows: usize, b: usize, h: usize, head_dim: usize) -> usize {
        b * rows * self.width + self.offset + h * head_dim
    }
}

#[derive(Clone, Copy, Debug)]
struct Plan {
    batch: usize,
    nq: usize,
    nk: usize,
    heads: usize,
    head_dim: usize,
    q: Operand,
    k: Operand,
    v: Operand,
}

impl Plan {
    #[allow(clippy::too_many_arguments)]
    fn new(
        batch: usize,
        nq: usize,
        nk: usize,
        heads: usize,
        width: usize,
        q: (usize, usize),
        k: (usize, usize),
        v: (usize, usize),
    ) -> Self {
        assert!(
            heads > 0 && width.is_multiple_of(heads),
            "attention: width {width} is not a multiple of {heads} heads"
        );
        let operand = |(offset, width)| Operand { offset, width };
        Self {
            batch,
            nq,
            nk,
            heads,
            head_dim: width / heads,
            q: operand(q),
            k: operand(k),
            v: operand(v),
        }
    }

    fn width(&self) -> usize {
        self.heads * self.head_dim
    }

    /// 1/√d, the scores' scale.
    fn scale(&self) -> f32 {
        (self.head_dim as f32).powf(-0.5)
    }

    /// Clip and head of task `bh`, and where that head's q, k and v start.
    fn task(&self, bh: usize) -> (usize, usize, [usize; 3]) {
        let (b, h, d) = (bh / self.heads, bh % self.heads, self.head_dim);
        let starts = [
            self.q.start(self.nq, b, h, d),
            self.k.start(self.nk, b, h, d),
            self.v.start(self.nk, b, h, d),
        ];
        (b, h, starts)
    }

    fn probs_len(&self) -> usize {
        self.batch * self.heads * self.nq * self.nk
    }

    fn output(&self, out: Vec<f32>) -> FlexTensor {
        tensor(out, [self.batch, self.nq, self.width()].into())
    }

    fn check(&self, q: &[f32], kv: &[f32]) {
        assert_eq!(
            q.len(),
            self.batch * self.nq * self.q.width,
            "attention: q buffer"
        );
        assert_eq!(
            kv.len(),
            self.batch * self.nk * self.k.width,
            "attention: k buffer"
        );
        assert_eq!(
            kv.len(),
            self.batch * self.nk * self.v.width,
            "attention: v buffer"
        );
    }
}

/// A buffer that parallel tasks write disjoint parts of.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: only passed to tasks that write disjoint index sets (one clip × head each).
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}
impl Shared {
    /// # Safety
    /// `index` must lie inside the buffer (the callers' indices are bounded by `Plan::check`).
    unsafe fn at(self, index: usize) -> *mut f32 {
        // SAFETY: forwarded to the caller.
        unsafe { self.0.add(index) }
    }
}

/// `dst (m×n) = alpha·dst + beta·lhs (m×k) · rhs (k×n)`, strides as (column, row), single
/// threaded (the parallelism is over clip × head).
#[allow(clippy::too_many_arguments)]
unsafe fn product(
    (m, n, k): (usize, usize, usize),
    dst: *mut f32,
    dst_strides: (usize, usize),
    lhs: *const f32,
    lhs_strides: (usize, usize),
    rhs: *const f32,
    rhs_strides: (usize, usize),
    beta: f32,
) {
    // SAFETY: the caller passes in-bounds pointers for the given sizes and strides.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst,
            dst_strides.0 as isize,
            dst_strides.1 as isize,
            false,
            lhs,
            lhs_strides.0 as isize,
            lhs_strides.1 as isize,
            rhs,
            rhs_strides.0 as isize,
            rhs_strides.1 as isize,
            0.0,
            beta,
            false,
            false,
            false,
            Parallelism::None,
        )
    }
}

simd_kernel! {
    /// Each row of `scores` (rows of `len`) replaced by its softmax.
    fn softmax_rows(scores: &mut [f32], len: usize) {
        for row in scores.chunks_exact_mut(len) {
            let max = vector_math::max(row);
            row.iter_mut().for_each(|x| *x = exp(*x - max));
            let inv = 1.0 / vector_math::sum(row);
            row.iter_mut().for_each(|x| *x *= inv);
        }
    }
}

simd_kernel! {
    /// Softmax backward in place: `grad` (∂L/∂p) becomes ∂L/∂s = p ⊙ (∂L/∂p − Σⱼ ∂L/∂pⱼ·pⱼ).
    fn softmax_grad_rows(grad: &mut [f32], probs: &[f32], len: usize) {
        for (g, p) in grad.chunks_exact_mut(len).zip(probs.chunks_exact(len)) {
            let dot = vector_math::dot(g, p);
            g.iter_mut().zip(p).for_each(|(g, &p)| *g = p * (*g - dot));
        }
    }
}

/// The attention output [B, Nq, C]; the softmax weights [B, H, Nq, Nk] are written through
/// `keep_probs` when given (every task's Nq×Nk block, in full).
fn forward(plan: &Plan, q: &[f32], kv: &[f32], keep_probs: Option<Shared>) -> Vec<f32> {
    plan.check(q, kv);
    let Plan {
        nq,
        nk,
        heads,
        head_dim: d,
        ..
    } = *plan;
    let c = plan.width();
    let scale = plan.scale();
    let task = |out: Shared, bh: usize, probs: *mut f32| {
        let (b, h, [qs, ks, vs]) = plan.task(bh);
        // SAFETY: `check` sized the inputs; this task writes only its clip's rows of its
        // head's columns of `out`, and its own Nq×Nk block of weights, which the first
        // product writes in full before the softmax reads it.
        unsafe {
            let q = q.as_ptr().add(qs);
            let k = kv.as_ptr().add(ks);
            product(
                (nq, nk, d),
                probs,
                (1, nk),
                q,
                (1, plan.q.width),
                k,
                (plan.k.width, 1),
                scale,
            );
            softmax_rows(std::slice::from_raw_parts_mut(probs, nq * nk), nk);
            let v = kv.as_ptr().add(vs);
            let o = out.at(b * nq * c + h * d);
            product(
                (nq, d, nk),
                o,
                (1, c),
                probs,
                (1, nk),
                v,
                (1, plan.v.width),
                1.0,
            );
        }
    };
    // SAFETY: the heads' columns of all clips' rows cover the output, and each task's second
    // product writes its part in full (`read_dst` false).
    unsafe {
        written_in_full(plan.batch * nq * c, |out| {
            let out = Shared(out);
            let tasks = (0..plan.batch * heads).into_par_iter();
            match keep_probs {
                Some(probs) => tasks.for_each(|bh| task(out, bh, probs.at(bh * nq * nk))),
                None => tasks
                    .for_each_init(|| vec![0.0; nq * nk], |p, bh| task(out, bh, p.as_mut_ptr())),
            }
        })
    }
}

/// Writes ∂L/∂q, ∂L/∂k and ∂L/∂v into `grad_q` and `grad_kv` (laid out as q and kv; the
/// same buffer for self-attention) from ∂L/∂out `grad_out` [B, Nq, C].
fn backward(
    plan: &Plan,
    q: &[f32],
    kv: &[f32],
    probs: &[f32],
    grad_out: &[f32],
    grad_q: Shared,
    grad_kv: Shared,
) {
    plan.check(q, kv);
    let Plan {
        nq,
        nk,
        head_dim: d,
        ..
    } = *plan;
    let c = plan.width();
    assert_eq!(
        grad_out.len(),
        plan.batch * nq * c,
        "attention: output gradient"
    );
    assert_eq!(probs.len(), plan.probs_len(), "attention: kept weights");
    let scale = plan.scale();
    probs.par_chunks(nq * nk).enumerate().for_each_init(
        || vec![0.0; nq * nk],
        |grad_scores, (bh, p)| {
            let (b, h, [qs, ks, vs]) = plan.task(bh);
            let (qw, kw, vw) = (plan.q.width, plan.k.width, plan.v.width);
            // SAFETY: inputs sized by the asserts above; the gradient buffers have the
            // inputs' layouts and this task writes only its clip's rows of its head's columns.
            unsafe {
                let go = grad_out.as_ptr().add(b * nq * c + h * d);
                let (qp, kp, vp) = (q.as_ptr().add(qs), kv.as_ptr().add(ks), kv.as_ptr().add(vs));
                // ∂L/∂p = ∂L/∂out · vᵀ, then through the softmax.
                product(
                    (nq, nk, d),
                    grad_scores.as_mut_ptr(),
                    (1, nk),
                    go,
                    (1, c),
                    vp,
                    (vw, 1),
                    1.0,
                );
                softmax_grad_rows(grad_scores, p, nk);
                // ∂L/∂q = scale · ∂L/∂s · k;  ∂L/∂k = scale · ∂L/∂sᵀ · q;  ∂L/∂v = pᵀ · ∂L/∂out.
                product(
                    (nq, d, nk),
                    grad_q.at(qs),
                    (1, qw),
                    grad_scores.as_ptr(),
                    (1, nk),
                    kp,
                    (1, kw),
                    scale,
                );
                product(
                    (nk, d, nq),
                    grad_kv.at(ks),
                    (1, kw),
                    grad_scores.as_ptr(),
                    (nk, 1),
                    qp,
                    (1, qw),
                    scale,
                );
                product(
                    (nk, d, nq),
                    grad_kv.at(vs),
                    (1, vw),
                    p.as_ptr(),
                    (nk, 1),
                    go,
                    (1, c),
                    1.0,
                );
            }
        },
    );
}

/// Self-attention's autodiff step: keeps `qkv` and the weights, returns ∂L/∂qkv.
#[derive(Debug)]
struct SelfAttentionBackward;

impl Backward<Cpu, 1> for SelfAttentionBackward {
    type State = (Plan, FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (plan, qkv, probs) = ops.state;
        let grad_out = grads.consume::<Cpu>(&ops.node);
        let [Some(parent)] = ops.parents else { return };
        let data = values(&qkv);
        // SAFETY: the backward pass writes the q, k and v columns of every head and clip,
        // which cover `qkv`'s layout.
        let grad = unsafe {
            written_in_full(data.len(), |grad| {
                let buf = Shared(grad);
                backward(
                    &plan,
                    &data,
                    &data,
                    &values(&probs),
                    &values(&grad_out),
                    buf,
                    buf,
                )
            })
        };
        grads.register::<Cpu>(parent.id, tensor(grad, qkv.shape()));
    }
}

/// Runs the forward pass `run` with a buffer for the softmax weights: (output, weights).
fn keeping_probs(
    plan: &Plan,
    run: impl FnOnce(Option<Shared>) -> FlexTensor,
) -> (FlexTensor, FlexTensor) {
    let mut out = None;
    // SAFETY: the forward pass writes every task's block of weights in full.
    let probs = unsafe { written_in_full(plan.probs_len(), |p| out = Some(run(Some(Shared(p))))) };
    let out = out.expect("the forward pass ran");
    (out, tensor(probs, [plan.probs_len()].into()))
}

fn train_self(plan: Plan, qkv: FloatTensor<CpuTrain>) -> FloatTensor<CpuTrain> {
    let run = |probs: Option<Shared>| {
        let data = values(&qkv.primitive);
        plan.output(forward(&plan, &data, &data, probs))
    };
    match SelfAttentionBackward
        .prepare::<NoCheckpointing>([qkv.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let (out, probs) = keeping_probs(&plan, run);
            prep.finish((plan, qkv.primitive, probs), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(run(None)),
    }
}

/// Cross-attention's autodiff step: keeps `q`, `kv` and the weights, returns ∂L/∂q, ∂L/∂kv.
#[derive(Debug)]
struct CrossAttentionBackward;

impl Backward<Cpu, 2> for CrossAttentionBackward {
    type State = (Plan, FlexTensor, FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (plan, q, kv, probs) = ops.state;
        let grad_out = grads.consume::<Cpu>(&ops.node);
        let (q_data, kv_data) = (values(&q), values(&kv));
        let mut grad_q = None;
        // SAFETY: the backward pass writes every head's columns of q (all of q's width) and
        // of k and v (all of kv's width) for every clip.
        let grad_kv = unsafe {
            written_in_full(kv_data.len(), |gkv| {
                grad_q = Some(written_in_full(q_data.len(), |gq| {
                    backward(
                        &plan,
                        &q_data,
                        &kv_data,
                        &values(&probs),
                        &values(&grad_out),
                        Shared(gq),
                        Shared(gkv),
                    )
                }))
            })
        };
        let grad_q = grad_q.expect("the backward pass ran");
        let [q_parent, kv_parent] = ops.parents;
        if let Some(parent) = q_parent {
            grads.register::<Cpu>(parent.id, tensor(grad_q, q.shape()));
        }
        if let Some(parent) = kv_parent {
            grads.register::<Cpu>(parent.id, tensor(grad_kv, kv.shape()));
        }
    }
}

fn train_cross(
    plan: Plan,
    q: FloatTensor<CpuTrain>,
    kv: FloatTensor<CpuTrain>,
) -> FloatTensor<CpuTrain> {
    let run = |probs: Option<Shared>| {
        plan.output(forward(
            &plan,
            &values(&q.primitive),
            &values(&kv.primitive),
            probs,
        ))
    };
    match CrossAttentionBackward
        .prepare::<NoCheckpointing>([q.node.clone(), kv.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let (out, probs) = keeping_probs(&plan, run);
            prep.finish((plan, q.primitive, kv.primitive, probs), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(run(None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu_kernels::test_support::random;

    const HEADS: usize = 3;

    #[test]
    fn untracked_input_gets_no_gradient_and_the_tracked_one_does() {
        let device = Default::default();
        let q = Tensor::<CpuTrain, 3>::from_inner(random([2, 5, 24], &device)).require_grad();
        let kv = Tensor::<CpuTrain, 3>::from_inner(random([2, 9, 48], &device));
        let g = fused_cross_attention(q.clone(), kv.clone(), HEADS)
            .unwrap_or_else(|_| unreachable!("CpuTrain has the kernel"))
            .sum()
            .backward();
        assert!(q.grad(&g).is_some());
        assert!(kv.grad(&g).is_none());
    }
}
