//! Times the real-data loaders (use a release build):
//!
//! ```text
//! cargo run --release -p seqlab-data --no-default-features --example loader_bench [DATA_DIR]
//! ```
//!
//! DATA_DIR defaults to `$SEQLAB_DATA_DIR`, else `../shared/data` of the
//! workspace. Prints seconds for: MNIST, then IMDb load (archive or folder), tokenizing
//! all 50,000 reviews, building the vocabulary from the training split,
//! encoding all reviews with the book's Keras indexing (10,000 words, skip
//! top 20) and padding to 128 steps. MNIST is timed first: 70,000 images
//! loaded, then their md5 verified.

use seqlab_data::text::{self, KerasIndex, Side, Vocabulary};
use seqlab_data::{imdb, mnist, LoadError};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .or_else(|| std::env::var_os("SEQLAB_DATA_DIR"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    println!("data dir: {}", dir.display());
    let mut failed = false;
    if let Err(e) = bench_mnist(&dir) {
        println!("MNIST: {e}");
        failed = true;
    }
    if let Err(e) = bench_imdb(&dir) {
        println!("IMDb: {e}");
        failed = true;
    }
    if failed {
        std::process::exit(1);
    }
}

fn bench_mnist(dir: &Path) -> Result<(), LoadError> {
    let t = Instant::now();
    let train = mnist::load_split(dir, mnist::Split::Train)?;
    let test = mnist::load_split(dir, mnist::Split::Test)?;
    let mnist_s = t.elapsed().as_secs_f64();
    println!(
        "MNIST: {} + {} images loaded in {mnist_s:.3} s",
        train.len(),
        test.len()
    );
    let t = Instant::now();
    mnist::verify_split(dir, mnist::Split::Train)?;
    mnist::verify_split(dir, mnist::Split::Test)?;
    println!("MNIST: md5 verified in {:.3} s", t.elapsed().as_secs_f64());
    Ok(())
}

fn bench_imdb(dir: &Path) -> Result<(), LoadError> {
    let all = Instant::now();
    let t = Instant::now();
    let data = imdb::load(dir)?;
    let load_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let train: Vec<Vec<String>> = data.train.iter().map(|r| text::tokenize(&r.text)).collect();
    let test: Vec<Vec<String>> = data.test.iter().map(|r| text::tokenize(&r.text)).collect();
    let tok_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let vocab = Vocabulary::build(&train);
    let vocab_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let index = KerasIndex::with_limits(10_000, 20);
    let x_train: Vec<Vec<i64>> = train.iter().map(|d| index.encode(&vocab, d)).collect();
    let x_test: Vec<Vec<i64>> = test.iter().map(|d| index.encode(&vocab, d)).collect();
    let (xtr, _) = text::pad_sequences_flat(&x_train, 128, Side::Pre, Side::Pre, 0);
    let (xte, _) = text::pad_sequences_flat(&x_test, 128, Side::Pre, Side::Pre, 0);
    let enc_s = t.elapsed().as_secs_f64();
    let imdb_s = all.elapsed().as_secs_f64();
    println!(
        "IMDb: {} train + {} test reviews, {} words in the vocabulary, {} padded ids",
        data.train.len(),
        data.test.len(),
        vocab.len(),
        xtr.len() + xte.len()
    );
    println!(
        "IMDb seconds: load {load_s:.3}, tokenize {tok_s:.3}, vocabulary {vocab_s:.3}, \
         encode+pad {enc_s:.3}, total {imdb_s:.3}"
    );

    Ok(())
}
