//! End-to-end tests of the experiments and the `seqlab` binary on tiny
//! settings: one test binary, one module per concern.

/// The `predict` fuzz target's fixture and check, run here on its seeds.
#[path = "../../../../fuzz/src/predict.rs"]
mod fuzz_predict;

mod bench;
mod cli;
mod common;
mod continuation;
mod data;
mod imdb;
mod io;
mod mnist;
mod predict;
mod reproducibility;
mod seeds;
mod seq2one;
mod seq2seq;
mod sequences;
