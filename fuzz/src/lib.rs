//! Shared code of the fuzz targets: each target's check lives here, so that
//! the stable tests of seqlab-data and seqlab-experiments can run the
//! committed seeds through the same checks (they include these files as
//! modules).

pub mod tree;

#[cfg(feature = "predict")]
pub mod predict;
