//! AdamW with per-parameter learning-rate scale and weight decay, its state keyed by the
//! released parameter names.
//!
//! burn 0.21's optimizers take one learning rate and one weight decay for the whole module
//! and key their state by random `ParamId`s; SVFAP needs parameter groups (no decay on
//! biases and 1-D parameters, layer-wise lr decay, DESIGN §6) and checkpoints that resume
//! the exact schedule after a restart, so this optimiser is ours. The update is PyTorch's
//! `torch.optim.AdamW`: p ← p·(1 − lr·wd) − lr · m̂ / (√v̂ + ε).

use std::collections::{BTreeMap, HashMap};

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

use super::param_rules::ParamRule;
use crate::cpu_kernels::adamw::{AdamWUpdate, adamw};
use crate::cpu_kernels::sum_squares::sum_of_squares;

type Inner<B> = <B as AutodiffBackend>::InnerBackend;

pub struct AdamW<B: AutodiffBackend> {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Updates applied so far (bias correction uses it).
    pub steps: u64,
    /// First and second moments per released key, flattened.
    moments: HashMap<String, Moments<B>>,
}

/// (first moment, second moment) of one parameter, flattened.
type Moments<B> = (Tensor<Inner<B>, 1>, Tensor<Inner<B>, 1>);

/// The optimiser's state as plain data, for checkpoints.
pub struct AdamWState {
    pub steps: u64,
    /// key → (first moment, second moment), flattened.
    pub moments: BTreeMap<String, (Vec<f32>, Vec<f32>)>,
}

impl<B: AutodiffBackend> AdamW<B> {
    pub fn new(beta1: f64, beta2: f64, eps: f64) -> Self {
        Self {
            beta1,
            beta2,
            eps,
            steps: 0,
            moments: HashMap::new(),
        }
    }

    /// One update of every parameter that has a gradient. `rule` gives each parameter's lr
    /// scale and weight decay from its released key and rank; `grad_scale` multiplies every
    /// gradient (gradient clipping).
    pub fn step<M: AutodiffModule<B>>(
        &mut self,
        module: M,
        grads: &GradientsParams,
        lr: f64,
        grad_scale: f64,
        rule: &dyn Fn(&str, usize) -> ParamRule,
    ) -> M {
        self.steps += 1;
        let mut mapper = Update {
            opt: self,
            grads,
            lr,
            grad_scale,
            rule,
            path: Vec::new(),
        };
        module.map(&mut mapper)
    }

    pub fn state(&self) -> AdamWState {
        let to_vec = |t: &Tensor<Inner<B>, 1>| t.to_data().to_vec::<f32>().expect("f32 moments");
        AdamWState {
            steps: self.steps,
            moments: self
                .moments
                .iter()
                .map(|(k, (m, v))| (k.clone(), (to_vec(m), to_vec(v))))
                .collect(),
        }
    }

    pub fn load_state(&mut self, state: AdamWState, device: &burn::tensor::Device<Inner<B>>) {
        self.steps = state.steps;
        let tensor = |v: Vec<f32>| {
            let n = v.len();
            Tensor::<Inner<B>, 1>::from_data(TensorData::new(v, [n]), device)
        };
        self.moments = state
            .moments
            .into_iter()
            .map(|(k, (m, v))| (k, (tensor(m), tensor(v))))
            .collect();
    }
}

/// Released key of the parameter at `path` (enum variant segments dropped).
fn key_of(path: &[(String, bool)]) -> String {
    path.iter()
        .filter(|(_, variant)| !variant)
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

struct Update<'a, B: AutodiffBackend> {
    opt: &'a mut AdamW<B>,
    grads: &'a GradientsParams,
    lr: f64,
    grad_scale: f64,
    rule: &'a dyn Fn(&str, usize) -> ParamRule,
    /// (segment, is an enum variant)
    path: Vec<(String, bool)>,
}

impl<B: AutodiffBackend> ModuleMapper<B> for Update<'_, B> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path
            .push((name.to_string(), container_type.starts_with("Enum:")));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.get::<Inner<B>, D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let key = key_of(&self.path);
        let rule = (self.rule)(&key, D);
        let value = tensor.inner();
        let shape = value.shape();
        let n = shape.num_elements();
        let device = value.device();
        let moments = self
            .opt
            .moments
            .remove(&key)
            .unwrap_or_else(|| (Tensor::zeros([n], &device), Tensor::zeros([n], &device)));
        let update = AdamWUpdate {
            lr: self.lr * rule.lr_scale,
            weight_decay: rule.weight_decay,
            beta1: self.opt.beta1,
            beta2: self.opt.beta2,
            eps: self.opt.eps,
            step: self.opt.steps,
            grad_scale: self.grad_scale,
        };
        let (p, m, v) = adamw(value.reshape([n]), grad.reshape([n]), moments, &update);
        self.opt.moments.insert(key, (m, v));
        let updated = Tensor::<B, D>::from_inner(p.reshape(shape)).require_grad();
        Param::from_mapped_value(id, updated, mapper)
    }
}

/// Global L2 norm of the gradients of `module`'s parameters. Each parameter's sum of
/// squares stays on the device and all of them are read back at once: one device sync per
/// step, not one per parameter (~200 on SVFAP-B), which on a GPU would stall every step.
pub fn grad_norm<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: &GradientsParams,
) -> f64 {
    struct SumSquares<'a, B: AutodiffBackend> {
        grads: &'a GradientsParams,
        sums: Vec<Tensor<Inner<B>, 1>>,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for SumSquares<'_, B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            if let Some(g) = self.grads.get::<Inner<B>, D>(param.id) {
                self.sums.push(sum_of_squares(g));
            }
        }
    }
    let mut visitor = SumSquares::<B> {
        grads,
        sums: Vec::new(),
    };
    module.visit(&mut visitor);
    if visitor.sums.is_empty() {
        return 0.0;
    }
    let sums = Tensor::cat(visitor.sums, 0).into_data();
    let sums = sums
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("sums of squares are floats");
    sums.iter().map(|&s| s as f64).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CpuTrain;
    use burn::nn::{Linear, LinearConfig};

    #[derive(Module, Debug)]
    struct Net<B: Backend> {
        fc: Linear<B>,
    }

    #[test]
    fn matches_pytorch_adamw_on_a_hand_computed_step() {
        // One parameter w = 1 with gradient 0.5: m̂ = 0.5, v̂ = 0.25, step = lr·1.
        // PyTorch AdamW(lr=0.1, wd=0.01): w ← 1·(1 − 0.001) − 0.1·0.5/(0.5 + 1e-8) = 0.899.
        let device = Default::default();
        let mut fc: Linear<CpuTrain> = LinearConfig::new(1, 1).with_bias(false).init(&device);
        fc.weight = Param::from_tensor(Tensor::from_floats([[1.0]], &device));
        let net = Net { fc };
        let x = Tensor::<CpuTrain, 2>::from_floats([[0.5]], &device);
        let grads = GradientsParams::from_grads(net.fc.forward(x).sum().backward(), &net);
        let mut opt = AdamW::<CpuTrain>::new(0.9, 0.999, 1e-8);
        let rule = |_: &str, _: usize| ParamRule {
            lr_scale: 1.0,
            weight_decay: 0.01,
        };
        let net = opt.step(net, &grads, 0.1, 1.0, &rule);
        let w = net.fc.weight.val().into_scalar();
        assert!((w - 0.899).abs() < 1e-6, "{w}");
        let state = opt.state();
        assert_eq!(state.moments.keys().collect::<Vec<_>>(), vec!["fc.weight"]);
        assert!((state.moments["fc.weight"].0[0] - 0.05).abs() < 1e-7);
    }
}
