//! Helpers shared by the test modules: scratch folders, options, the binary, file readers.

use seqlab_experiments::seq2one::Seq2OneConfig;
use seqlab_experiments::RunOptions;
use std::path::{Path, PathBuf};
use std::process::Command;

/// libtorch's random generator is global to the process: tests that seed it
/// and build models must not interleave, or their initial weights differ.
pub fn torch_serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("seqlab-exp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

pub fn opts(dir: &Path) -> RunOptions {
    RunOptions {
        results_dir: dir.to_path_buf(),
        verbose: false,
        quick: true,
        ..RunOptions::default()
    }
}

pub fn tiny() -> Seq2OneConfig {
    Seq2OneConfig {
        n_train: 300,
        n_test: 300,
        ff_epochs: 3,
        rnn_epochs: 2,
        rnn_hidden: vec![32, 32],
        ..Seq2OneConfig::quick()
    }
}

/// Decodes a PNG and returns (width, height, share of non-white pixels, distinct colours).
pub fn png_stats(path: &Path) -> (u32, u32, f64, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let non_white = px
        .iter()
        .filter(|p| p.iter().take(3).any(|&c| c < 250))
        .count();
    let distinct: std::collections::HashSet<Vec<u8>> = px.iter().map(|p| p.to_vec()).collect();
    (
        info.width,
        info.height,
        non_white as f64 / px.len() as f64,
        distinct.len(),
    )
}

pub fn seqlab(args: &[&str]) -> (bool, String, String) {
    seqlab_env(args, &[])
}

/// Runs the binary with extra environment variables, and without the
/// caller's own malloc and thread settings (so that the setup is seqlab's).
pub fn seqlab_env(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(args)
        .env_remove("SEQLAB_MALLOC")
        .env_remove("GLIBC_TUNABLES")
        .env_remove("OMP_NUM_THREADS")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The shared reference data, when this checkout has it beside it (or
/// `SEQLAB_DATA_DIR` names it). Without it a test skips, unless
/// `SEQLAB_REQUIRE_DATA` is set (`cargo xtask test` sets it): then it fails.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("SEQLAB_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let imdb = dir.join("aclImdb").is_dir()
        || seqlab_data::imdb::ARCHIVE_NAMES
            .iter()
            .any(|n| dir.join(n).is_file());
    let present = dir.join("mnist").is_dir() && imdb;
    assert!(
        present || std::env::var_os("SEQLAB_REQUIRE_DATA").is_none(),
        "SEQLAB_REQUIRE_DATA is set but {} lacks mnist/ or the IMDb archive",
        dir.display()
    );
    if !present {
        eprintln!("skipped: no shared data beside the checkout and SEQLAB_DATA_DIR unset");
    }
    present.then_some(dir)
}

/// Reads a CSV file with a header into rows of fields.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = if path.extension().is_some_and(|x| x == "gz") {
        use std::io::Read as _;
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        std::fs::read_to_string(path).unwrap()
    };
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

/// Standard deviation of the gray level (0-255) of a PNG's pixels.
pub fn png_gray_std(path: &Path) -> f64 {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let gray: Vec<f64> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| p.iter().take(3).map(|&c| f64::from(c)).sum::<f64>() / 3.0)
        .collect();
    let mean = gray.iter().sum::<f64>() / gray.len() as f64;
    (gray.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gray.len() as f64).sqrt()
}

/// Removes, at every depth, the fields that may differ between two runs of
/// the same seed: those named `*seconds` (wall times) and the run id.
pub fn strip_timings(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.retain(|k, _| !k.ends_with("seconds") && k != "run_id");
            m.values_mut().for_each(strip_timings);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_timings),
        _ => {}
    }
}

/// Every `metrics.json` under `dir`, without wall times and run ids.
pub fn metrics_without_timings(
    dir: &Path,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    seqlab_experiments::EXPERIMENTS
        .iter()
        .filter_map(|e| {
            let text = std::fs::read_to_string(dir.join(e.name).join("metrics.json")).ok()?;
            let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
            strip_timings(&mut v);
            Some((e.name.to_string(), v))
        })
        .collect()
}

/// Every result file in `dir` (temporaries aside) is complete: JSON parses,
/// CSV rows all have the header's width, PNGs decode. Returns the temporaries.
pub fn assert_results_complete(dir: &Path) -> Vec<String> {
    let mut temps = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(seqlab_io::TEMP_PREFIX) {
            temps.push(name);
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        if name.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("{name} is not complete JSON: {e}"));
        } else if name.ends_with(".csv") {
            let text = String::from_utf8(bytes).unwrap();
            let widths: Vec<usize> = text.lines().map(|l| l.split(',').count()).collect();
            assert!(
                widths.len() > 1 && widths.iter().all(|&w| w == widths[0]),
                "{name} is ragged"
            );
            assert!(text.ends_with('\n'), "{name} lacks its last line break");
        } else if name.ends_with(".png") {
            let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
                .read_info()
                .unwrap();
            let mut buf = vec![0; reader.output_buffer_size()];
            reader
                .next_frame(&mut buf)
                .unwrap_or_else(|e| panic!("{name} does not decode: {e}"));
        }
    }
    temps
}

/// The files of one seed folder that must not depend on how the seeds were
/// scheduled: every history CSV, and metrics.json without wall times and run id.
pub fn seed_results(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with("_history.csv") {
            out.insert(name, std::fs::read_to_string(&path).unwrap());
        } else if name == "metrics.json" {
            let mut m: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            strip_timings(&mut m);
            out.insert(name, m.to_string());
        }
    }
    out
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn summary_seeds(exp: &Path) -> serde_json::Value {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(exp.join("metrics.json")).unwrap()).unwrap();
    m["seeds"].clone()
}

/// The process that holds a folder's lock, as its lock file names it.
pub fn lock_holder(lock_file: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(lock_file).ok()?;
    // "process <pid> on <host>: <command>"
    text.strip_prefix("process ")?
        .split([' ', ':'])
        .next()?
        .parse()
        .ok()
}

/// Whether process `pid` has ended (gone, or a zombie nobody has reaped yet).
pub fn ended(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
        s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z'))
    })
}

pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let t0 = std::time::Instant::now();
    while !done() {
        assert!(t0.elapsed().as_secs() < 60, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Writes `manifest.json` in `dir` with the hash of every file there, as a run does.
pub fn write_manifest(dir: &Path) {
    let mut files = serde_json::Map::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name != "manifest.json" && path.is_file() {
            let hash = seqlab_experiments::common::sha256_hex(&std::fs::read(&path).unwrap());
            files.insert(name, hash.into());
        }
    }
    let manifest = serde_json::json!({"run_id": "test", "files": files});
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
}

/// A small saved LSTM (or SimpleRNN) review model with its vocabulary,
/// `model.json` and manifest in `dir`; `nan` puts a NaN in its weights.
pub fn tiny_model(dir: &Path, kind: seqlab_models::recurrent::RecurrentKind, nan: bool) {
    use seqlab_models::recurrent::{RecurrentInit, RecurrentKind};
    use seqlab_models::sentiment::{sentiment_classifier, SentimentConfig};
    std::fs::create_dir_all(dir).unwrap();
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let cfg = SentimentConfig {
        vocab_size: 20,
        embedding_dim: 4,
        kind,
        hidden_size: 3,
        embedding_dropout: 0.3,
        head_dropout: 0.2,
        init: RecurrentInit::Keras,
    };
    sentiment_classifier(vs.root() / "imdb", &cfg).unwrap();
    if nan {
        let mut vars: Vec<_> = vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let _ = tch::no_grad(|| vars[0].1.fill_(f64::NAN));
    }
    seqlab_train::checkpoint::save_weights(&vs, dir.join("model.safetensors")).unwrap();
    // Every word once: equal counts, so only the file's order ranks them.
    let words = "a wonderful moving film the plot was dull and boring acting";
    let vocab = seqlab_data::text::Vocabulary::build([seqlab_data::text::tokenize(words)]);
    vocab.save(&dir.join("vocabulary.tsv")).unwrap();
    let (experiment, cell) = match kind {
        RecurrentKind::Lstm => ("imdb-lstm", "LSTM"),
        _ => ("imdb-rnn", "SimpleRNN"),
    };
    let model = serde_json::json!({
        "experiment": experiment, "cell": cell, "vocab_size": 20, "embedding_dim": 4,
        "hidden_size": 3, "embedding_dropout": 0.3, "head_dropout": 0.2, "num_words": 20,
        "skip_top": 0, "start_char": 1, "oov_char": 2, "index_from": 3, "maxlen": 16,
        "threshold": 0.5, "weights": "model.safetensors", "vocabulary": "vocabulary.tsv",
        "protocol": "book"
    });
    std::fs::write(dir.join("model.json"), model.to_string()).unwrap();
    write_manifest(dir);
}
