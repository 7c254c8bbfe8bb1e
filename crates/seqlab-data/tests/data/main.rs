//! The data crate's integration tests, in one test binary:
//! statistical tests of the generators, and the loaders against the real
//! MNIST and IMDb files when they are present.

mod generators;
mod loaders;
