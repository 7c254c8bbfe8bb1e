//! The experiments of the chapter, one module each. Each is a type
//! implementing [`crate::Experiment`]; [`crate::EXPERIMENTS`] registers them.

pub mod continuation;
pub mod imdb;
pub mod length_sweep;
pub mod mnist_ae;
pub mod seq2one;
pub mod seq2seq;
pub mod temporal_order;
