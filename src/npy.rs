//! `.npy` float32 arrays: model inputs (`infer`), exported clips and test fixtures.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, Result, bail};
use npyz::WriterBuilder;

/// A float32 array read from a `.npy` file: shape and C-order values.
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

pub fn read_f32(path: &Path) -> Result<NpyArray> {
    let file = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let npy = npyz::NpyFile::new(BufReader::new(file))
        .with_context(|| format!("{}: not a .npy file", path.display()))?;
    if npy.order() != npyz::Order::C {
        bail!(
            "{}: array is in Fortran order; save it C-contiguous (np.ascontiguousarray)",
            path.display()
        );
    }
    let dtype = npy.dtype();
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let values = npy.into_vec::<f32>().with_context(|| {
        format!(
            "{}: dtype {dtype:?} is not float32 (save with .astype(np.float32))",
            path.display()
        )
    })?;
    Ok(NpyArray { shape, values })
}

pub fn write_f32(path: &Path, shape: &[usize], values: &[f32]) -> Result<()> {
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let file = File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(std::io::BufWriter::new(file))
        .begin_nd()
        .with_context(|| format!("{}: cannot write header", path.display()))?;
    writer
        .extend(values.iter().copied())
        .with_context(|| format!("{}: write failed", path.display()))?;
    writer
        .finish()
        .with_context(|| format!("{}: write failed", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_shape_and_values() {
        let dir = std::env::temp_dir().join(format!("svfap-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.npy");
        write_f32(&path, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]).unwrap();
        let a = read_f32(&path).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.values[5], 6.5);
    }
}
