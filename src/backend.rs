//! Backends: burn's pure-Rust `flex` on CPU (chosen by measurement, see README), and CUDA
//! behind the `cuda` feature.

pub type Cpu = burn::backend::Flex;
pub type CpuTrain = burn::backend::Autodiff<Cpu>;

#[cfg(feature = "cuda")]
pub type Gpu = burn::backend::Cuda;
#[cfg(feature = "cuda")]
pub type GpuTrain = burn::backend::Autodiff<Gpu>;
