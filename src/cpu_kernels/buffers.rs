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

/// Room for a result buffer of `len` values, taken on the calling thread and filled later,
/// possibly by another: a buffer allocated on a rayon worker comes from that thread's malloc
/// arena, whose freed memory the main thread's allocations do not reuse (computing a
/// linear layer's two gradients side by side took 10% more peak memory that way).
pub struct Room {
    buffer: Vec<f32>,
    len: usize,
}

impl Room {
    pub fn new(len: usize) -> Self {
        Self {
            buffer: Vec::with_capacity(len),
            len,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The buffer once `fill` has written it through the pointer it is given, without
    /// zero-filling it first: that fill is a pass over the whole buffer on the calling thread
    /// alone, page faults included, before the parallel kernel writes it again.
    ///
    /// # Safety
    /// `fill` must write all values before it returns and read none it has not written.
    pub unsafe fn fill(self, fill: impl FnOnce(*mut f32)) -> Vec<f32> {
        let Self { mut buffer, len } = self;
        fill(buffer.spare_capacity_mut().as_mut_ptr().cast());
        // SAFETY: the caller's promise: `fill` initialised the first `len` values.
        unsafe { buffer.set_len(len) };
        buffer
    }
}

/// `Room::new(len).fill(fill)`: a buffer of `len` values that `fill` writes in full.
///
/// # Safety
/// As `Room::fill`.
pub unsafe fn written_in_full(len: usize, fill: impl FnOnce(*mut f32)) -> Vec<f32> {
    unsafe { Room::new(len).fill(fill) }
}
