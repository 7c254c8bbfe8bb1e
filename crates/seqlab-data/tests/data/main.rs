//! The data crate's integration tests, in one test binary:
//! the fuzz targets' seed corpus, statistical tests of the generators, and the loaders against the real
//! MNIST and IMDb files when they are present.

mod fuzz_corpus;
mod generators;
mod loaders;
