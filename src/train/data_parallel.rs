//! Data parallelism over the GPUs of one machine (`devices = [0, 1, …]` in `run.toml`).
//!
//! Each micro-batch is cut into equal shards, one per device. Every device runs its shards'
//! forward and backward passes on its own replica of the model, in its own thread; the
//! gradients are moved to the first device and summed there in shard order, so the sum does
//! not depend on which device finishes first. The optimiser then updates the one master copy
//! on the first device, and the next step forks the new weights out again. This is burn's
//! own multi-device building blocks (`AutodiffModule::fork`, `GradientsParams::to_device`),
//! the scheme of burn-train's multi-device strategy. One device runs on the calling thread
//! with no copies at all.
//!
//! Each shard's loss is its mean over the shard, scaled by 1 / (micro-batches × shards):
//! with equal shards the summed gradient is exactly that of the mean loss over the whole
//! effective batch, as on one device.

use burn::module::AutodiffModule;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

use crate::model::precision::{autocast, current_precision};

/// Where one loss term is computed: micro-batch `micro`, rows of shard `index` of `count`.
pub struct Shard<'a, B: Backend> {
    pub micro: usize,
    pub index: usize,
    pub count: usize,
    pub device: &'a B::Device,
}

impl<B: Backend> Shard<'_, B> {
    /// This shard's rows of a whole micro-batch tensor (batch first), on the shard's device.
    pub fn rows<const D: usize>(&self, batch: &Tensor<B, D>) -> Tensor<B, D> {
        if self.count == 1 {
            return batch.clone();
        }
        let per = batch.dims()[0] / self.count;
        batch
            .clone()
            .narrow(0, self.index * per, per)
            .to_device(self.device)
    }

    /// This shard's items of a whole micro-batch list.
    pub fn items<'t, T>(&self, all: &'t [T]) -> &'t [T] {
        let per = all.len() / self.count;
        &all[self.index * per..(self.index + 1) * per]
    }
}

/// The summed gradients of one update and its loss, or the first non-finite loss term.
pub struct SummedGradients {
    pub grads: GradientsParams,
    /// Mean loss over the effective batch.
    pub loss: f64,
}

/// Gradients of Σ over micro-batches and shards of `loss_of(replica, shard)`, on `devices[0]`.
/// `Err(loss)` when a loss term is not finite (no gradient is returned then).
pub fn summed_gradients<B, M, L>(
    model: &M,
    devices: &[B::Device],
    micro_batches: usize,
    loss_of: &L,
) -> Result<SummedGradients, f64>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + Sync,
    L: Fn(&M, &Shard<B>) -> Tensor<B, 1> + Sync,
{
    let scale = 1.0 / (micro_batches * devices.len()) as f64;
    let main = &devices[0];
    if devices.len() == 1 {
        return device_gradients(model, 0, devices, micro_batches, scale, loss_of);
    }
    let precision = current_precision();
    let per_device: Vec<Result<SummedGradients, f64>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..devices.len())
            .map(|index| {
                scope.spawn(move || {
                    // Mixed precision is set per thread (model::precision): carry it over.
                    let _autocast = autocast(precision);
                    let replica = model.clone().fork(&devices[index]);
                    let summed =
                        device_gradients(&replica, index, devices, micro_batches, scale, loss_of)?;
                    Ok(SummedGradients {
                        grads: summed.grads.to_device(main, &replica),
                        loss: summed.loss,
                    })
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a data-parallel worker panicked"))
            .collect()
    });
    let mut accumulator = GradientsAccumulator::<M>::new();
    let mut loss = 0.0;
    for summed in per_device {
        let summed = summed?;
        loss += summed.loss;
        accumulator.accumulate(model, summed.grads);
    }
    Ok(SummedGradients {
        grads: accumulator.grads(),
        loss,
    })
}

/// Shard `index`'s gradients summed over every micro-batch, on that shard's device.
fn device_gradients<B, M, L>(
    replica: &M,
    index: usize,
    devices: &[B::Device],
    micro_batches: usize,
    scale: f64,
    loss_of: &L,
) -> Result<SummedGradients, f64>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    L: Fn(&M, &Shard<B>) -> Tensor<B, 1>,
{
    let mut accumulator = GradientsAccumulator::<M>::new();
    let mut loss = 0.0;
    for micro in 0..micro_batches {
        let shard = Shard {
            micro,
            index,
            count: devices.len(),
            device: &devices[index],
        };
        let term = loss_of(replica, &shard) * scale;
        let value = term.clone().into_scalar().to_f64();
        if !value.is_finite() {
            return Err(value / scale);
        }
        loss += value;
        accumulator.accumulate(
            replica,
            GradientsParams::from_grads(term.backward(), replica),
        );
    }
    Ok(SummedGradients {
        grads: accumulator.grads(),
        loss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CpuTrain;
    use burn::module::Param;
    use burn::nn::{Linear, LinearConfig};

    /// Mean squared output of a small linear layer: a loss whose gradient depends on every row.
    fn gradients(devices: usize, micro_batches: usize) -> (Vec<f32>, f64) {
        let device = Default::default();
        let mut layer: Linear<CpuTrain> = LinearConfig::new(3, 2).with_bias(false).init(&device);
        let weight: Vec<f32> = (0..6).map(|v| (v as f32 * 0.71).cos()).collect();
        layer.weight =
            Param::from_tensor(Tensor::from_data(TensorData::new(weight, [3, 2]), &device));
        // 2 micro-batches of 4 rows, the same 8 rows whatever the split.
        let rows: Vec<f32> = (0..24).map(|v| (v as f32 * 0.37).sin()).collect();
        let batches: Vec<Tensor<CpuTrain, 2>> = rows
            .chunks(24 / micro_batches)
            .map(|c| Tensor::from_data(TensorData::new(c.to_vec(), [c.len() / 3, 3]), &device))
            .collect();
        let devices = vec![device; devices];
        let summed = summed_gradients(
            &layer,
            &devices,
            micro_batches,
            &|m: &Linear<CpuTrain>, s: &Shard<CpuTrain>| {
                m.forward(s.rows(&batches[s.micro])).powf_scalar(2.0).mean()
            },
        )
        .unwrap_or_else(|loss| panic!("non-finite loss {loss}"));
        let grad = summed
            .grads
            .get::<crate::backend::Cpu, 2>(layer.weight.id)
            .expect("weight gradient");
        (grad.into_data().to_vec().unwrap(), summed.loss)
    }

    #[test]
    fn shards_on_two_replicas_give_the_gradient_of_the_whole_batch() {
        let (one, loss_one) = gradients(1, 1);
        for (devices, micro) in [(2, 1), (2, 2), (4, 2), (1, 2)] {
            let (split, loss_split) = gradients(devices, micro);
            assert!((loss_one - loss_split).abs() < 1e-6, "{devices}×{micro}");
            for (a, b) in one.iter().zip(&split) {
                assert!((a - b).abs() < 1e-6, "{devices}×{micro}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn a_shard_takes_its_own_rows() {
        let device = Default::default();
        let batch = Tensor::<CpuTrain, 1>::from_floats([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &device);
        let shard = Shard::<CpuTrain> {
            micro: 0,
            index: 1,
            count: 3,
            device: &device,
        };
        assert_eq!(
            shard.rows(&batch).into_data().to_vec::<f32>().unwrap(),
            vec![2.0, 3.0]
        );
        assert_eq!(shard.items(&["a", "b", "c", "d", "e", "f"]), &["c", "d"]);
    }
}
