//! Gradients as one flat host buffer in a fixed parameter order, for the all-reduce.
//!
//! burn keys gradients by `ParamId`s, which are random per process; ranks agree only on the
//! module's structure. So the buffer follows the order in which the module visits its
//! parameters (the same on every rank), each gradient flattened, all concatenated on the
//! device and read back once (one device sync per step).

use burn::module::{AutodiffModule, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

type Inner<B> = <B as AutodiffBackend>::InnerBackend;

/// Where each trainable parameter's gradient sits in the flat buffer.
pub struct GradientLayout {
    /// (parameter, shape, offset) in visiting order. A parameter without a gradient on this
    /// rank (unused by the forward pass, or the rank's loss was not finite) still gets its
    /// place, filled with zeros, so every rank's buffer lines up.
    slots: Vec<(ParamId, Vec<usize>, usize)>,
    /// 1 where this rank has the slot's gradient, 0 where it sent zeros; summed over ranks,
    /// a slot no rank had stays without a gradient (as in one process).
    pub present: Vec<f32>,
    pub len: usize,
}

/// The flat gradients of `module`'s trainable parameters (zeros where `grads` has none, or
/// everywhere when `grads` is None), read back to the host, and their layout.
pub fn flatten<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: Option<&GradientsParams>,
) -> (Vec<f32>, GradientLayout) {
    let (flat, layout) = flatten_on_device(module, grads);
    let values = match flat {
        Some(flat) => flat
            .into_data()
            .convert::<f32>()
            .into_vec::<f32>()
            .expect("gradients are floats"),
        None => Vec::new(),
    };
    (values, layout)
}

/// As [`flatten`], the buffer left on the device (None for a module without parameters).
pub fn flatten_on_device<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: Option<&GradientsParams>,
) -> (Option<Tensor<Inner<B>, 1>>, GradientLayout) {
    struct Collect<'a, B: AutodiffBackend> {
        grads: Option<&'a GradientsParams>,
        parts: Vec<Tensor<Inner<B>, 1>>,
        slots: Vec<(ParamId, Vec<usize>, usize)>,
        present: Vec<f32>,
        len: usize,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Collect<'_, B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let value = param.val();
            if !value.is_require_grad() {
                return;
            }
            let shape = value.dims().to_vec();
            let n: usize = shape.iter().product();
            let grad = self.grads.and_then(|g| g.get::<Inner<B>, D>(param.id));
            self.present.push(grad.is_some() as u8 as f32);
            let flat = match grad {
                Some(g) => g.reshape([n]),
                None => Tensor::zeros([n], &value.device()),
            };
            self.parts.push(flat);
            self.slots.push((param.id, shape, self.len));
            self.len += n;
        }
    }
    let mut visitor = Collect::<B> {
        grads,
        parts: Vec::new(),
        slots: Vec::new(),
        present: Vec::new(),
        len: 0,
    };
    module.visit(&mut visitor);
    let flat = (!visitor.parts.is_empty()).then(|| Tensor::cat(visitor.parts, 0));
    let layout = GradientLayout {
        slots: visitor.slots,
        present: visitor.present,
        len: visitor.len,
    };
    (flat, layout)
}

/// Every parameter's values, flattened in visiting order (the start-up check that all ranks
/// hold the same weights).
pub fn flatten_parameters<B: AutodiffBackend, M: AutodiffModule<B>>(module: &M) -> Vec<f32> {
    struct Collect<B: AutodiffBackend> {
        parts: Vec<Tensor<Inner<B>, 1>>,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Collect<B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let value = param.val().inner();
            let n = value.shape().num_elements();
            self.parts.push(value.reshape([n]));
        }
    }
    let mut visitor = Collect::<B> { parts: Vec::new() };
    module.visit(&mut visitor);
    if visitor.parts.is_empty() {
        return Vec::new();
    }
    Tensor::cat(visitor.parts, 0)
        .into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .expect("parameters are floats")
}

impl GradientLayout {
    /// Gradients back from the flat buffer (its first `self.len` values), on `device`; the
    /// slots whose `present` count (summed over ranks) is 0 get none.
    pub fn unflatten<B: AutodiffBackend, M: AutodiffModule<B>>(
        &self,
        module: &M,
        mut values: Vec<f32>,
        present: &[f32],
        device: &burn::tensor::Device<Inner<B>>,
    ) -> GradientsParams {
        values.truncate(self.len);
        let all = Tensor::<Inner<B>, 1>::from_data(TensorData::new(values, [self.len]), device);
        self.unflatten_tensor(module, all, present)
    }

    /// As [`GradientLayout::unflatten`], from a flat buffer on the device.
    pub fn unflatten_tensor<B: AutodiffBackend, M: AutodiffModule<B>>(
        &self,
        module: &M,
        all: Tensor<Inner<B>, 1>,
        present: &[f32],
    ) -> GradientsParams {
        struct Place<'a, B: AutodiffBackend> {
            slots: std::collections::HashMap<ParamId, usize>,
            all: Tensor<Inner<B>, 1>,
            layout: &'a GradientLayout,
            out: GradientsParams,
        }
        impl<B: AutodiffBackend> ModuleVisitor<B> for Place<'_, B> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
                let Some(&i) = self.slots.get(&param.id) else {
                    return;
                };
                let (_, shape, offset) = &self.layout.slots[i];
                let n: usize = shape.iter().product();
                let dims: [usize; D] = shape.as_slice().try_into().expect("rank");
                let grad = self.all.clone().narrow(0, *offset, n).reshape(dims);
                self.out.register::<Inner<B>, D>(param.id, grad);
            }
        }
        let mut place = Place::<B> {
            slots: self
                .slots
                .iter()
                .enumerate()
                .filter(|(i, _)| present[*i] > 0.0)
                .map(|(i, (id, _, _))| (*id, i))
                .collect(),
            all,
            layout: self,
            out: GradientsParams::new(),
        };
        module.visit(&mut place);
        place.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CpuTrain;
    use burn::nn::{Linear, LinearConfig};

    #[derive(Module, Debug)]
    struct Net<B: Backend> {
        a: Linear<B>,
        b: Linear<B>,
    }

    #[test]
    fn gradients_survive_the_round_trip_in_parameter_order() {
        let device = Default::default();
        let net = Net::<CpuTrain> {
            a: LinearConfig::new(3, 2).init(&device),
            b: LinearConfig::new(2, 1).with_bias(false).init(&device),
        };
        let x = Tensor::<CpuTrain, 2>::from_floats([[0.5, -1.0, 2.0]], &device);
        let loss = net.b.forward(net.a.forward(x)).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let (flat, layout) = flatten(&net, Some(&grads));
        assert_eq!(layout.present, vec![1.0; 3]);
        assert_eq!(flat.len(), 3 * 2 + 2 + 2);
        // a.weight first, in the module's order.
        let a_weight: Vec<f32> = grads
            .get::<crate::backend::Cpu, 2>(net.a.weight.id)
            .unwrap()
            .into_data()
            .to_vec()
            .unwrap();
        assert_eq!(&flat[..6], &a_weight[..]);
        let doubled: Vec<f32> = flat.iter().map(|v| v * 2.0).collect();
        let back = layout.unflatten(&net, doubled.clone(), &[1.0, 1.0, 1.0], &device);
        let b: Vec<f32> = back
            .get::<crate::backend::Cpu, 2>(net.b.weight.id)
            .unwrap()
            .into_data()
            .to_vec()
            .unwrap();
        assert_eq!(b, doubled[8..].to_vec());
        // A slot no rank had comes back without a gradient.
        let back = layout.unflatten(&net, doubled.clone(), &[1.0, 0.0, 1.0], &device);
        assert!(
            back.get::<crate::backend::Cpu, 1>(net.a.bias.as_ref().unwrap().id)
                .is_none()
        );
        // A rank without gradients sends zeros in the same layout.
        let (zeros, none) = flatten(&net, None);
        assert_eq!((zeros, none.present), (vec![0.0; 10], vec![0.0; 3]));
    }
}
