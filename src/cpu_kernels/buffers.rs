//! Reading a burn-flex tensor's f32 values and making a tensor of a result buffer, without
//! copies where the layout allows.

use burn::backend::flex::{FlexTensor, Layout};
use burn::tensor::Bytes;
use burn::tensor::{DType, Shape};

/// The f32 values of `t` in row-major order: borrowed when contiguous, copied otherwise.
pub fn values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(slice) => std::borrow::Cow::Borrowed(slice),
        None => std::borrow::Cow::Owned(t.to_contiguous().as_slice::<f32>().unwrap().to_vec()),
    }
}

/// A contiguous f32 tensor of `shape` holding `data`.
pub fn tensor(data: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(data),
        Layout::contiguous(shape),
        DType::F32,
    )
}
