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

    /// Samples `start..start + len`, without copying.
    pub fn narrow(&self, start: i64, len: i64) -> TensorData {
        TensorData {
            x: self.x.narrow(0, start, len),
            y: self.y.narrow(0, start, len),
        }
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
