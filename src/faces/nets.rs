//! The three MTCNN networks (Zhang et al., "Joint Face Detection and Alignment using
//! Multi-task Cascaded Convolutional Networks", 2016), layer for layer as facenet-pytorch
//! ports them from the original Caffe models, with the same field names as the weight keys.

use burn::nn::conv::Conv2d;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, PRelu};
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::weights::{WeightReader, WeightsError};

/// Max pooling with PyTorch's `ceil_mode=True`, as every MTCNN pool is (Caffe rounds up).
fn pool(kernel: usize, stride: usize) -> MaxPool2d {
    MaxPool2dConfig::new([kernel, kernel])
        .with_strides([stride, stride])
        .with_ceil_mode(true)
        .init()
}

/// `[N, C, H, W]` → `[N, W·H·C]` in the order facenet-pytorch flattens (it permutes to
/// (0, 3, 2, 1) first, which is the Caffe weights' order).
fn flatten_caffe<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 2> {
    let [n, c, h, w] = x.dims();
    x.permute([0, 3, 2, 1]).reshape([n, w * h * c])
}

/// Proposal network: fully convolutional, 12×12 receptive field, stride 2.
#[derive(Module, Debug)]
pub struct PNet<B: Backend> {
    conv1: Conv2d<B>,
    prelu1: PRelu<B>,
    pool1: MaxPool2d,
    conv2: Conv2d<B>,
    prelu2: PRelu<B>,
    conv3: Conv2d<B>,
    prelu3: PRelu<B>,
    conv4_1: Conv2d<B>,
    conv4_2: Conv2d<B>,
}

impl<B: Backend> PNet<B> {
    pub fn load(w: &WeightReader<B>) -> Result<Self, WeightsError> {
        Ok(Self {
            conv1: w.conv("pnet.conv1", [3, 10], 3)?,
            prelu1: w.prelu("pnet.prelu1", 10)?,
            pool1: pool(2, 2),
            conv2: w.conv("pnet.conv2", [10, 16], 3)?,
            prelu2: w.prelu("pnet.prelu2", 16)?,
            conv3: w.conv("pnet.conv3", [16, 32], 3)?,
            prelu3: w.prelu("pnet.prelu3", 32)?,
            conv4_1: w.conv("pnet.conv4_1", [32, 2], 1)?,
            conv4_2: w.conv("pnet.conv4_2", [32, 4], 1)?,
        })
    }

    /// `[N, 3, H, W]` normalised → (box offsets `[N, 4, H', W']`, face/non-face softmax
    /// `[N, 2, H', W']`), H' = ceil((H − 2) / 2) − 4.
    pub fn forward(&self, x: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let x = self
            .pool1
            .forward(self.prelu1.forward(self.conv1.forward(x)));
        let x = self.prelu2.forward(self.conv2.forward(x));
        let x = self.prelu3.forward(self.conv3.forward(x));
        let prob = softmax(self.conv4_1.forward(x.clone()), 1);
        (self.conv4_2.forward(x), prob)
    }
}

/// Refinement network on 24×24 crops.
#[derive(Module, Debug)]
pub struct RNet<B: Backend> {
    conv1: Conv2d<B>,
    prelu1: PRelu<B>,
    pool1: MaxPool2d,
    conv2: Conv2d<B>,
    prelu2: PRelu<B>,
    pool2: MaxPool2d,
    conv3: Conv2d<B>,
    prelu3: PRelu<B>,
    dense4: Linear<B>,
    prelu4: PRelu<B>,
    dense5_1: Linear<B>,
    dense5_2: Linear<B>,
}

impl<B: Backend> RNet<B> {
    pub fn load(w: &WeightReader<B>) -> Result<Self, WeightsError> {
        Ok(Self {
            conv1: w.conv("rnet.conv1", [3, 28], 3)?,
            prelu1: w.prelu("rnet.prelu1", 28)?,
            pool1: pool(3, 2),
            conv2: w.conv("rnet.conv2", [28, 48], 3)?,
            prelu2: w.prelu("rnet.prelu2", 48)?,
            pool2: pool(3, 2),
            conv3: w.conv("rnet.conv3", [48, 64], 2)?,
            prelu3: w.prelu("rnet.prelu3", 64)?,
            dense4: w.linear("rnet.dense4", 576, 128)?,
            prelu4: w.prelu("rnet.prelu4", 128)?,
            dense5_1: w.linear("rnet.dense5_1", 128, 2)?,
            dense5_2: w.linear("rnet.dense5_2", 128, 4)?,
        })
    }

    /// `[N, 3, 24, 24]` → (box offsets `[N, 4]`, softmax `[N, 2]`).
    pub fn forward(&self, x: Tensor<B, 4>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let x = self
            .pool1
            .forward(self.prelu1.forward(self.conv1.forward(x)));
        let x = self
            .pool2
            .forward(self.prelu2.forward(self.conv2.forward(x)));
        let x = self.prelu3.forward(self.conv3.forward(x));
        let x = self.prelu4.forward(self.dense4.forward(flatten_caffe(x)));
        let prob = softmax(self.dense5_1.forward(x.clone()), 1);
        (self.dense5_2.forward(x), prob)
    }
}

/// Output network on 48×48 crops: box offsets, five landmarks, face score.
#[derive(Module, Debug)]
pub struct ONet<B: Backend> {
    conv1: Conv2d<B>,
    prelu1: PRelu<B>,
    pool1: MaxPool2d,
    conv2: Conv2d<B>,
    prelu2: PRelu<B>,
    pool2: MaxPool2d,
    conv3: Conv2d<B>,
    prelu3: PRelu<B>,
    pool3: MaxPool2d,
    conv4: Conv2d<B>,
    prelu4: PRelu<B>,
    dense5: Linear<B>,
    prelu5: PRelu<B>,
    dense6_1: Linear<B>,
    dense6_2: Linear<B>,
    dense6_3: Linear<B>,
}

impl<B: Backend> ONet<B> {
    pub fn load(w: &WeightReader<B>) -> Result<Self, WeightsError> {
        Ok(Self {
            conv1: w.conv("onet.conv1", [3, 32], 3)?,
            prelu1: w.prelu("onet.prelu1", 32)?,
            pool1: pool(3, 2),
            conv2: w.conv("onet.conv2", [32, 64], 3)?,
            prelu2: w.prelu("onet.prelu2", 64)?,
            pool2: pool(3, 2),
            conv3: w.conv("onet.conv3", [64, 64], 3)?,
            prelu3: w.prelu("onet.prelu3", 64)?,
            pool3: pool(2, 2),
            conv4: w.conv("onet.conv4", [64, 128], 2)?,
            prelu4: w.prelu("onet.prelu4", 128)?,
            dense5: w.linear("onet.dense5", 1152, 256)?,
            prelu5: w.prelu("onet.prelu5", 256)?,
            dense6_1: w.linear("onet.dense6_1", 256, 2)?,
            dense6_2: w.linear("onet.dense6_2", 256, 4)?,
            dense6_3: w.linear("onet.dense6_3", 256, 10)?,
        })
    }

    /// `[N, 3, 48, 48]` → (box offsets `[N, 4]`, landmarks `[N, 10]` (5 x then 5 y, as
    /// fractions of the box), softmax `[N, 2]`).
    pub fn forward(&self, x: Tensor<B, 4>) -> (Tensor<B, 2>, Tensor<B, 2>, Tensor<B, 2>) {
        let x = self
            .pool1
            .forward(self.prelu1.forward(self.conv1.forward(x)));
        let x = self
            .pool2
            .forward(self.prelu2.forward(self.conv2.forward(x)));
        let x = self
            .pool3
            .forward(self.prelu3.forward(self.conv3.forward(x)));
        let x = self.prelu4.forward(self.conv4.forward(x));
        let x = self.prelu5.forward(self.dense5.forward(flatten_caffe(x)));
        let prob = softmax(self.dense6_1.forward(x.clone()), 1);
        (
            self.dense6_2.forward(x.clone()),
            self.dense6_3.forward(x),
            prob,
        )
    }
}

/// All three networks, loaded from one weight file.
#[derive(Module, Debug)]
pub struct Mtcnn<B: Backend> {
    pub pnet: PNet<B>,
    pub rnet: RNet<B>,
    pub onet: ONet<B>,
}

impl<B: Backend> Mtcnn<B> {
    pub fn load(bytes: &[u8], device: &B::Device) -> Result<Self, WeightsError> {
        let w = WeightReader::new(bytes, device)?;
        Ok(Self {
            pnet: PNet::load(&w)?,
            rnet: RNet::load(&w)?,
            onet: ONet::load(&w)?,
        })
    }
}
