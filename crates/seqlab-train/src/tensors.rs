//! Conversion of `seqlab-data` data sets into tensors on a device.
//!
//! Data sets are converted once, before training, so the fit loop only
//! indexes tensors that already live on the training device.

use crate::TrainError;
use seqlab_data::{Array, Dataset, Targets};
use tch::{Device, Kind, Tensor};

/// Inputs and targets as tensors on one device.
#[derive(Debug)]
pub struct TensorData {
    /// Inputs, sample dimension first (`f32`).
    pub x: Tensor,
    /// Targets: `i64` class labels `[n]` or `f32` values.
    pub y: Tensor,
}

impl TensorData {
    /// Number of samples.
    pub fn len(&self) -> i64 {
        self.x.size()[0]
    }

    /// True if there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Another handle on the same tensors (no copy).
    pub fn shallow_clone(&self) -> TensorData {
        TensorData {
            x: self.x.shallow_clone(),
            y: self.y.shallow_clone(),
        }
    }

    /// The samples at `indices` (a 1-D `i64` tensor on the same device).
    pub fn select(&self, indices: &Tensor) -> TensorData {
        TensorData {
            x: self.x.index_select(0, indices),
            y: self.y.index_select(0, indices),
        }
    }

    /// The samples at `indices`, like [`TensorData::select`], written into
    /// `reuse` where it holds tensors of the right shape, type and device (an
    /// epoch's gather then allocates, and the system zero-fills, nothing
    /// new). Targets that are the inputs themselves (an autoencoder's: the
    /// same storage, shape and strides) are gathered once and shared.
    /// `reuse` must not be read elsewhere: it is overwritten.
    pub fn select_into(
        &self,
        indices: &Tensor,
        reuse: Option<TensorData>,
    ) -> Result<TensorData, TrainError> {
        let same = self.x.data_ptr() == self.y.data_ptr()
            && self.x.size() == self.y.size()
            && self.x.stride() == self.y.stride()
            && self.x.kind() == self.y.kind();
        let (old_x, old_y) = match reuse {
            Some(r) => (Some(r.x), Some(r.y)),
            None => (None, None),
        };
        let x = gather_into(&self.x, indices, old_x)?;
        let y = if same {
            x.shallow_clone()
        } else {
            gather_into(&self.y, indices, old_y)?
        };
        Ok(TensorData { x, y })
    }

    /// Samples `start..start + len`, without copying.
    pub fn narrow(&self, start: i64, len: i64) -> TensorData {
        TensorData {
            x: self.x.narrow(0, start, len),
            y: self.y.narrow(0, start, len),
        }
    }
}

/// `source`'s rows at `indices`, into `out` if it fits (same rows, shape,
/// type and device, and not shared with `source`), else into a new tensor.
fn gather_into(
    source: &Tensor,
    indices: &Tensor,
    out: Option<Tensor>,
) -> Result<Tensor, TrainError> {
    let mut shape = source.size();
    if let Some(first) = shape.first_mut() {
        *first = indices.size().first().copied().unwrap_or(0);
    }
    match out {
        Some(out)
            if out.size() == shape
                && out.kind() == source.kind()
                && out.device() == source.device()
                && out.is_contiguous()
                && out.data_ptr() != source.data_ptr() =>
        {
            Ok(source.f_index_select_out(&out, 0, indices)?)
        }
        _ => Ok(source.f_index_select(0, indices)?),
    }
}

/// An [`Array`] as an `f32` tensor of the same shape on `device`.
pub fn array_to_tensor(array: &Array, device: Device) -> Result<Tensor, TrainError> {
    let shape: Vec<i64> = array.shape().iter().map(|&d| d as i64).collect();
    Ok(Tensor::f_from_slice(array.data())?
        .f_reshape(shape)?
        .f_to_device(device)?)
}

/// A data set as tensors on `device`: inputs `f32`, class labels `i64`, values `f32`.
pub fn to_tensors(data: &Dataset, device: Device) -> Result<TensorData, TrainError> {
    if data.is_empty() {
        return Err(TrainError::InvalidConfig(
            "cannot train or evaluate on an empty data set".into(),
        ));
    }
    let x = array_to_tensor(data.inputs(), device)?;
    let y = match data.targets() {
        Targets::Classes(c) => Tensor::f_from_slice(c)?.f_to_device(device)?,
        Targets::Values(v) => array_to_tensor(v, device)?,
    };
    debug_assert!(y.kind() == Kind::Int64 || y.kind() == Kind::Float);
    Ok(TensorData { x, y })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: i64) -> Tensor {
        Tensor::arange(n * 3, (Kind::Float, Device::Cpu)).reshape([n, 3])
    }

    #[test]
    fn select_into_reuses_the_buffers_and_shares_targets_that_are_the_inputs() {
        let images = rows(4);
        let auto = TensorData {
            x: images.shallow_clone(),
            y: images.shallow_clone(),
        };
        let order = Tensor::from_slice(&[3i64, 0, 2, 1]);
        let first = auto.select_into(&order, None).unwrap();
        assert!(first.x.equal(&images.index_select(0, &order)));
        assert_eq!(first.x.data_ptr(), first.y.data_ptr(), "gathered twice");
        let buffer = first.x.data_ptr();
        let again = Tensor::from_slice(&[1i64, 2, 0, 3]);
        let second = auto.select_into(&again, Some(first)).unwrap();
        assert_eq!(second.x.data_ptr(), buffer, "a new allocation");
        assert!(second.x.equal(&images.index_select(0, &again)));
        // Distinct targets get their own buffer; a buffer of another shape is not used.
        let pairs = TensorData {
            x: rows(4),
            y: Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0]),
        };
        let p = pairs.select_into(&order, Some(second)).unwrap();
        assert_ne!(p.x.data_ptr(), p.y.data_ptr());
        assert!(p.y.equal(&Tensor::from_slice(&[3.0f32, 0.0, 2.0, 1.0])));
        let short = Tensor::from_slice(&[1i64, 2]);
        let s = pairs.select_into(&short, Some(p)).unwrap();
        assert_eq!(s.x.size(), [2, 3]);
        assert!(s.x.equal(&pairs.x.index_select(0, &short)));
    }
}
