//! Tokenizing reviews, ranking words by frequency, and the Keras IMDb
//! indexing (`keras.datasets.imdb.load_data`): `[start] + [rank + index_from ...]`,
//! with `num_words`/`skip_top` filtering and `pad_sequences`.
//!
//! # Tokenizer
//!
//! [`tokenize`] turns raw review text into lowercase words:
//! - `<br />`, `<br/>`, `<br>` (any case, any spaces before `/` or `>`) are
//!   whitespace; other HTML tags are not recognised, so `<i>` leaves the
//!   word `i`;
//! - a word is a run of Unicode letters and digits (`char::is_alphanumeric`:
//!   `é`, `ß`, `½` and `2010` are word characters) and apostrophes;
//! - apostrophes inside a word are kept (`don't`, `rock'n'roll`), those at
//!   its start or end are stripped (`'quoted'` gives `quoted`, `actors'`
//!   gives `actors`); the apostrophe-like `’ ‘ ´` and the backtick are read
//!   as `'` (the reviews write `don´t` and ``don`t`` too);
//! - everything else is a separator: punctuation, symbols, whitespace,
//!   control characters. So `well-made` gives `well made`, `7/10` gives
//!   `7 10`, `3.5` gives `3 5`, `e-mail` gives `e mail`;
//! - words are lowercased (Unicode `to_lowercase`, per character; characters
//!   that lowercasing produces which are not letters or digits, such as the
//!   combining dot of `İ`, are dropped, so tokenizing a token again gives it
//!   back unchanged).
//!
//! # How this differs from the vocabulary behind Keras' `imdb.npz`
//!
//! Keras never published the tokenizer that built `imdb.npz` from the raw
//! reviews; its decoded text is lowercase without punctuation, which this
//! tokenizer imitates, but the details cannot be reproduced, so ranks and
//! counts here differ from Keras' `imdb_word_index.json`:
//! - our [`Vocabulary`] is built from the 25,000 raw *training* reviews only
//!   (the test split must not leak into the ranking), whereas Keras' index
//!   covers words from both splits;
//! - compound words and contractions split differently (`well-made`,
//!   `don't`, possessives such as `film's`);
//! - HTML remnants: we drop the `<br />` breaks but keep words of other tags
//!   (`i`, `em`, `hr`);
//! - numbers are kept and split at punctuation (`7/10`, `1950's`, `3.5`);
//! - ties in frequency are broken alphabetically here.
//!
//! So a model trained here sees slightly different word ids than the book's
//! model for the same `num_words`; results are comparable, not identical.
//!
//! ```
//! use seqlab_data::text::{self, KerasIndex, Side, Vocabulary};
//! let train = ["A well-made film.<br /><br />I don't regret it!", "A dull film."];
//! let docs: Vec<Vec<String>> = train.iter().map(|t| text::tokenize(t)).collect();
//! assert_eq!(docs[0], ["a", "well", "made", "film", "i", "don't", "regret", "it"]);
//! let vocab = Vocabulary::build(&docs);
//! assert_eq!(vocab.most_frequent(2), vec![("a", 2), ("film", 2)]);
//! assert_eq!(vocab.rank("a"), Some(1));
//! let index = KerasIndex::default(); // start 1, oov 2, index_from 3, all words
//! let ids = index.encode(&vocab, &text::tokenize("A film, a masterpiece"));
//! assert_eq!(ids, vec![1, 4, 5, 4, 2]); // start, "a", "film", "a", unknown word
//! assert_eq!(index.decode(&vocab, &ids), ["<START>", "a", "film", "a", "<OOV>"]);
//! let padded = text::pad_sequences(&[ids], 3, Side::Pre, Side::Pre, 0);
//! assert_eq!(padded, vec![vec![5, 4, 2]]); // keeps the last 3
//! ```

use crate::LoadError;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

/// The Fx hash (as in rustc): several times faster than the default SipHash
/// on short words. Not resistant to crafted collisions, which only matters
/// for speed, never for correctness.
#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

impl FxHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(buf));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            if let Some(dst) = buf.get_mut(..rest.len()) {
                dst.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Splits raw review text into lowercase words (see the module docs for the rules).
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut skip_to = 0;
    for (i, c) in text.char_indices() {
        if i < skip_to {
            continue;
        }
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
        } else if c.is_alphanumeric() {
            word.extend(c.to_lowercase().filter(|l| l.is_alphanumeric()));
        } else if is_apostrophe(c) {
            word.push('\'');
        } else {
            if c == '<' {
                if let Some(len) = line_break_len(text.as_bytes().get(i..).unwrap_or_default()) {
                    skip_to = i + len;
                }
            }
            flush(&mut word, &mut out);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{00b4}' | '`')
}

fn flush(word: &mut String, out: &mut Vec<String>) {
    let w = word.trim_matches('\'');
    if !w.is_empty() {
        out.push(w.to_string());
    }
    word.clear();
}

/// Length in bytes of a `<br>`, `<br/>` or `<br />` tag (ASCII case and
/// spaces ignored) at the start of `s`, if there is one.
fn line_break_len(s: &[u8]) -> Option<usize> {
    let head = s.get(..3)?;
    if !head.eq_ignore_ascii_case(b"<br") {
        return None;
    }
    let mut j = 3;
    let skip_space = |mut j: usize| {
        while s.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        j
    };
    j = skip_space(j);
    if s.get(j) == Some(&b'/') {
        j = skip_space(j + 1);
    }
    (s.get(j) == Some(&b'>')).then_some(j + 1)
}

/// Words ranked by frequency: rank 1 is the most frequent word; ties are
/// broken by the words' Unicode code points (byte-wise, "alphabetically"),
/// so the ranking is deterministic.
///
/// Build it from the *training* texts only. [`Vocabulary::save`] writes one
/// `word<TAB>count` line per word in rank order; [`Vocabulary::load`] reads
/// it back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vocabulary {
    words: Vec<String>,
    counts: Vec<u64>,
    index: FxMap<String, usize>,
}

impl Vocabulary {
    /// Counts the tokens of already tokenized documents (e.g. the output of
    /// [`tokenize`] for each training review) and ranks them. Accepts
    /// `&Vec<Vec<String>>`, an iterator of `&[String]`, of `Vec<&str>`, and
    /// so on. Empty tokens are skipped.
    pub fn build<D, S>(docs: impl IntoIterator<Item = D>) -> Self
    where
        D: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut counts: FxMap<String, u64> = FxMap::default();
        for doc in docs {
            for token in doc {
                let token = token.as_ref();
                if token.is_empty() {
                    continue;
                }
                if let Some(c) = counts.get_mut(token) {
                    *c = c.saturating_add(1);
                } else {
                    counts.insert(token.to_string(), 1);
                }
            }
        }
        Self::from_counts(counts)
    }

    /// Tokenizes each text with [`tokenize`] and builds the vocabulary.
    pub fn from_texts<T: AsRef<str>>(texts: impl IntoIterator<Item = T>) -> Self {
        Self::build(texts.into_iter().map(|t| tokenize(t.as_ref())))
    }

    /// Ranks words with known counts (repeated words are summed, empty words skipped).
    pub fn from_counts(counts: impl IntoIterator<Item = (String, u64)>) -> Self {
        let mut merged: FxMap<String, u64> = FxMap::default();
        for (w, c) in counts {
            if !w.is_empty() {
                let e = merged.entry(w).or_insert(0);
                *e = e.saturating_add(c);
            }
        }
        let mut ranked: Vec<(String, u64)> = merged.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Self::from_ranked(ranked)
    }

    /// Takes `ranked` as the ranking (first = rank 1) without re-sorting.
    fn from_ranked(ranked: Vec<(String, u64)>) -> Self {
        let mut words = Vec::with_capacity(ranked.len());
        let mut counts = Vec::with_capacity(ranked.len());
        let mut index = FxMap::with_capacity_and_hasher(ranked.len(), Default::default());
        for (i, (w, c)) in ranked.into_iter().enumerate() {
            index.insert(w.clone(), i);
            words.push(w);
            counts.push(c);
        }
        Self {
            words,
            counts,
            index,
        }
    }

    /// Number of distinct words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True if there are no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The rank of `word` (1 = most frequent), or `None` if it is not in the vocabulary.
    pub fn rank(&self, word: &str) -> Option<usize> {
        self.index.get(word).map(|i| i + 1)
    }

    /// The word of rank `rank` (1-based), or `None` if out of range.
    pub fn word(&self, rank: usize) -> Option<&str> {
        self.words.get(rank.checked_sub(1)?).map(String::as_str)
    }

    /// How often `word` occurred, or `None` if it is not in the vocabulary.
    pub fn count(&self, word: &str) -> Option<u64> {
        self.counts.get(*self.index.get(word)?).copied()
    }

    /// The `k` most frequent words with their counts, in rank order.
    pub fn most_frequent(&self, k: usize) -> Vec<(&str, u64)> {
        self.iter().take(k).collect()
    }

    /// All words with their counts, in rank order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        self.words
            .iter()
            .map(String::as_str)
            .zip(self.counts.iter().copied())
    }

    /// Total number of tokens counted.
    pub fn total_count(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, &c| a.saturating_add(c))
    }

    /// Writes one `word<TAB>count` line per word, in rank order, atomically
    /// (a temporary file renamed into place). Fails
    /// (naming the file and line) for a word holding a tab or a line break,
    /// which [`tokenize`] never produces.
    pub fn save(&self, path: &Path) -> Result<(), LoadError> {
        let mut s = String::with_capacity(self.words.len() * 12);
        for (i, (w, c)) in self.iter().enumerate() {
            if w.contains(['\t', '\n', '\r']) {
                return Err(LoadError::BadLine {
                    path: path.to_path_buf(),
                    line: i + 1,
                    why: format!("word {w:?} holds a tab or line break and cannot be saved"),
                });
            }
            s.push_str(w);
            s.push('\t');
            s.push_str(&c.to_string());
            s.push('\n');
        }
        Ok(seqlab_io::write_atomic(path, s.as_bytes())?)
    }

    /// The `k` most frequent words as a vocabulary of their own, with the
    /// same ranks and counts. Encoding with a [`KerasIndex`] whose
    /// `num_words` is at most `k + index_from + 1` gives the same ids as
    /// with the whole vocabulary (less frequent words are OOV either way),
    /// so a model needs only this part saved beside it.
    pub fn truncated(&self, k: usize) -> Self {
        Self::from_ranked(
            self.iter()
                .take(k)
                .map(|(w, c)| (w.to_string(), c))
                .collect(),
        )
    }

    /// Reads a file written by [`Vocabulary::save`]: line `n` holds the word
    /// of rank `n`, a tab and its count. Counts must not increase from line
    /// to line; words must be non-empty and distinct. Every error names the
    /// file and the line.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let bytes = LoadError::read_file(path, "vocabulary file")?;
        let text = String::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
            path: path.to_path_buf(),
            entry: None,
            valid_up_to: e.utf8_error().valid_up_to(),
        })?;
        Self::parse(&text, path)
    }

    /// Parses the text of a vocabulary file (see [`Vocabulary::load`]);
    /// `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, LoadError> {
        let bad = |line: usize, why: String| LoadError::BadLine {
            path: path.to_path_buf(),
            line,
            why,
        };
        let mut ranked: Vec<(String, u64)> = Vec::new();
        let mut seen: FxMap<&str, usize> = FxMap::default();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.strip_suffix('\r').unwrap_or(line);
            let (word, count) = line
                .split_once('\t')
                .ok_or_else(|| bad(n, "expected <word><TAB><count>".into()))?;
            if word.is_empty() {
                return Err(bad(n, "empty word".into()));
            }
            let count: u64 = count
                .parse()
                .map_err(|_| bad(n, format!("count {count:?} is not a non-negative integer")))?;
            if let Some(prev) = seen.insert(word, n) {
                return Err(bad(n, format!("word {word:?} already on line {prev}")));
            }
            if let Some((_, prev)) = ranked.last() {
                if count > *prev {
                    return Err(bad(
                        n,
                        format!("count {count} exceeds the count {prev} of the line before (lines must be in rank order)"),
                    ));
                }
            }
            ranked.push((word.to_string(), count));
        }
        Ok(Self::from_ranked(ranked))
    }
}

/// Shown by [`KerasIndex::decode`] for the start id.
pub const START_TOKEN: &str = "<START>";
/// Shown by [`KerasIndex::decode`] for the out-of-vocabulary id.
pub const OOV_TOKEN: &str = "<OOV>";
/// Shown by [`KerasIndex::decode`] for reserved ids below `index_from + 1` (3 with the defaults).
pub const UNUSED_TOKEN: &str = "<UNUSED>";
/// Shown by [`KerasIndex::decode`] for ids that name no word of the vocabulary.
pub const UNKNOWN_TOKEN: &str = "<UNKNOWN>";

/// The Keras `imdb.load_data` indexing (as documented for
/// `keras.datasets.imdb.load_data`).
///
/// A review becomes `[start_char] + [rank(word) + index_from ...]`; then
/// every index `w` (the start index included) is kept iff
/// `skip_top <= w < num_words`, else replaced by `oov_char` (or dropped when
/// `oov_char` is `None`). With `num_words = Some(10_000)` the ids `4..=9999`
/// survive (9,996 real words); `skip_top = 20` turns ranks 1 to 16 *and* the
/// start token into OOV.
///
/// Differences from Keras, where Keras' behaviour depends on the whole data set:
/// - `num_words = None` means no upper bound. (Keras then uses the largest
///   index in the data as the bound, which, being exclusive, turns that one
///   word into OOV.)
/// - A word not in the vocabulary (Keras' data has none) becomes `oov_char`
///   (or is dropped when `oov_char` is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KerasIndex {
    /// Ids kept are below this (exclusive); `None`: no bound.
    pub num_words: Option<usize>,
    /// Ids below this become OOV.
    pub skip_top: usize,
    /// Id put first in every sequence (Keras default 1); `None`: none.
    pub start_char: Option<i64>,
    /// Id of filtered and unknown words (Keras default 2); `None`: drop them.
    pub oov_char: Option<i64>,
    /// Added to the rank of each word (Keras default 3).
    pub index_from: i64,
}

impl Default for KerasIndex {
    /// Keras' defaults: all words, `skip_top = 0`, start 1, OOV 2, `index_from = 3`.
    fn default() -> Self {
        Self {
            num_words: None,
            skip_top: 0,
            start_char: Some(1),
            oov_char: Some(2),
            index_from: 3,
        }
    }
}

impl KerasIndex {
    /// The book's setting: `num_words`, `skip_top`, Keras defaults otherwise.
    pub fn with_limits(num_words: usize, skip_top: usize) -> Self {
        Self {
            num_words: Some(num_words),
            skip_top,
            ..Self::default()
        }
    }

    fn keeps(&self, w: i64) -> bool {
        let w = i128::from(w);
        let below = self.num_words.is_none_or(|n| w < n as i128);
        self.skip_top as i128 <= w && below
    }

    fn shifted(&self, rank: usize) -> i64 {
        i64::try_from(rank)
            .unwrap_or(i64::MAX)
            .saturating_add(self.index_from)
    }

    /// Encodes tokens (e.g. from [`tokenize`]) as Keras ids.
    pub fn encode(&self, vocab: &Vocabulary, tokens: &[String]) -> Vec<i64> {
        let mut out = Vec::with_capacity(tokens.len() + 1);
        let put = |w: Option<i64>, out: &mut Vec<i64>| match w {
            Some(w) if self.keeps(w) => out.push(w),
            _ => out.extend(self.oov_char),
        };
        if let Some(s) = self.start_char {
            put(Some(s), &mut out);
        }
        for t in tokens {
            put(vocab.rank(t).map(|r| self.shifted(r)), &mut out);
        }
        out
    }

    /// Tokenizes `text` with [`tokenize`] and encodes it.
    pub fn encode_text(&self, vocab: &Vocabulary, text: &str) -> Vec<i64> {
        self.encode(vocab, &tokenize(text))
    }

    /// Maps ids back to words: 0 (padding) is skipped, `start_char` is
    /// [`START_TOKEN`], `oov_char` is [`OOV_TOKEN`], a word id is its word,
    /// other ids up to `index_from` are [`UNUSED_TOKEN`] and ids naming no
    /// word are [`UNKNOWN_TOKEN`].
    pub fn decode(&self, vocab: &Vocabulary, ids: &[i64]) -> Vec<String> {
        ids.iter()
            .filter(|&&id| id != 0)
            .map(|&id| {
                if Some(id) == self.start_char {
                    return START_TOKEN.to_string();
                }
                if Some(id) == self.oov_char {
                    return OOV_TOKEN.to_string();
                }
                let rank = i128::from(id) - i128::from(self.index_from);
                match usize::try_from(rank).ok().and_then(|r| vocab.word(r)) {
                    Some(w) => w.to_string(),
                    None if rank <= 0 && id > 0 => UNUSED_TOKEN.to_string(),
                    None => UNKNOWN_TOKEN.to_string(),
                }
            })
            .collect()
    }

    /// One more than the largest id [`KerasIndex::encode`] can produce with
    /// `vocab`: the input size of an embedding layer (`num_words` in the
    /// book's setting, `vocab.len() + 4` with the defaults and all words).
    pub fn input_dim(&self, vocab: &Vocabulary) -> usize {
        let mut max: i64 = 0;
        let top_word = self.shifted(vocab.len());
        let top_kept = match self.num_words {
            Some(n) => top_word.min(i64::try_from(n).unwrap_or(i64::MAX).saturating_sub(1)),
            None => top_word,
        };
        if !vocab.is_empty() && self.keeps(top_kept) {
            max = max.max(top_kept);
        }
        if let Some(s) = self.start_char.filter(|&s| self.keeps(s)) {
            max = max.max(s);
        }
        if let Some(o) = self.oov_char {
            max = max.max(o);
        }
        usize::try_from(max).map_or(0, |m| m.saturating_add(1))
    }
}

/// Where [`pad_sequences`] pads or truncates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Side {
    /// At the start (Keras' default for both padding and truncation).
    #[default]
    Pre,
    /// At the end.
    Post,
}

/// Keras `pad_sequences` with a fixed `maxlen`: every sequence becomes
/// exactly `maxlen` long. Longer ones lose tokens at the `truncating` side
/// (`Pre` keeps the *last* `maxlen` tokens), shorter ones get `value` at the
/// `padding` side. The book uses `maxlen = 128`, `Pre`, `Pre`, `0`.
pub fn pad_sequences<S: AsRef<[i64]>>(
    seqs: &[S],
    maxlen: usize,
    padding: Side,
    truncating: Side,
    value: i64,
) -> Vec<Vec<i64>> {
    seqs.iter()
        .map(|s| {
            let mut row = vec![value; maxlen];
            put_row(&mut row, s.as_ref(), padding, truncating);
            row
        })
        .collect()
}

/// Like [`pad_sequences`], returning one row-major buffer and its shape `[n, maxlen]`.
pub fn pad_sequences_flat<S: AsRef<[i64]>>(
    seqs: &[S],
    maxlen: usize,
    padding: Side,
    truncating: Side,
    value: i64,
) -> (Vec<i64>, [usize; 2]) {
    let mut data = vec![value; seqs.len().saturating_mul(maxlen)];
    if maxlen > 0 {
        for (row, s) in data.chunks_mut(maxlen).zip(seqs) {
            put_row(row, s.as_ref(), padding, truncating);
        }
    }
    (data, [seqs.len(), maxlen])
}

/// Writes `seq` (truncated) into `row` (pre-filled with the padding value).
fn put_row(row: &mut [i64], seq: &[i64], padding: Side, truncating: Side) {
    let maxlen = row.len();
    let kept = if seq.len() > maxlen {
        match truncating {
            Side::Pre => seq.get(seq.len() - maxlen..),
            Side::Post => seq.get(..maxlen),
        }
    } else {
        Some(seq)
    }
    .unwrap_or_default();
    let at = match padding {
        Side::Pre => maxlen - kept.len(),
        Side::Post => 0,
    };
    if let Some(dst) = row.get_mut(at..at + kept.len()) {
        dst.copy_from_slice(kept);
    }
}

/// Texts to fixed-length rows of ids, the book's pipeline in one value:
/// [`tokenize`], [`KerasIndex::encode`], then [`pad_sequences_flat`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEncoder {
    /// Word ranking (from the training texts).
    pub vocab: Vocabulary,
    /// Keras indexing.
    pub index: KerasIndex,
    /// Row length.
    pub maxlen: usize,
    /// Where short rows are padded with 0.
    pub padding: Side,
    /// Where long rows lose tokens.
    pub truncating: Side,
}

impl TextEncoder {
    /// The book's settings: 10,000 words with the top 20 skipped, rows of
    /// 128 ids, pre-padding and pre-truncation (the last 128 tokens survive).
    pub fn book(vocab: Vocabulary) -> Self {
        Self {
            vocab,
            index: KerasIndex::with_limits(10_000, 20),
            maxlen: 128,
            padding: Side::Pre,
            truncating: Side::Pre,
        }
    }

    /// Encodes one text to its ids before padding.
    pub fn ids(&self, text: &str) -> Vec<i64> {
        self.index.encode_text(&self.vocab, text)
    }

    /// Encodes `texts` into one row-major buffer of shape `[texts.len(), maxlen]`.
    pub fn encode<T: AsRef<str>>(&self, texts: &[T]) -> (Vec<i64>, [usize; 2]) {
        let ids: Vec<Vec<i64>> = texts.iter().map(|t| self.ids(t.as_ref())).collect();
        self.pad(&ids)
    }

    /// Pads and truncates id sequences (from [`TextEncoder::ids`]) into one
    /// row-major buffer of shape `[seqs.len(), maxlen]`.
    pub fn pad<S: AsRef<[i64]>>(&self, seqs: &[S]) -> (Vec<i64>, [usize; 2]) {
        pad_sequences_flat(seqs, self.maxlen, self.padding, self.truncating, 0)
    }

    /// The embedding size the ids need ([`KerasIndex::input_dim`]).
    pub fn input_dim(&self) -> usize {
        self.index.input_dim(&self.vocab)
    }
}

/// Length of the longest sequence (Keras' `maxlen=None`).
pub fn longest<S: AsRef<[i64]>>(seqs: &[S]) -> usize {
    seqs.iter().map(|s| s.as_ref().len()).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokenize(s)
    }

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn truncated_vocabulary_encodes_like_the_whole_one() {
        let vocab = Vocabulary::from_texts(["a a a a b b b c c d e", "a b c f g"]);
        let small = vocab.truncated(3);
        assert_eq!(small.len(), 3);
        assert_eq!(small.most_frequent(3), vocab.most_frequent(3));
        assert_eq!(small.rank("c"), Some(3));
        assert_eq!(small.rank("d"), None);
        // num_words = 3 + index_from + 1 = 7 keeps exactly ranks 1..=3.
        let enc = |v: Vocabulary| TextEncoder {
            vocab: v,
            index: KerasIndex::with_limits(7, 0),
            maxlen: 6,
            padding: Side::Pre,
            truncating: Side::Pre,
        };
        let texts = ["d a c b g", "zzz a"];
        let (whole, shape) = enc(vocab.clone()).encode(&texts);
        assert_eq!(shape, [2, 6]);
        assert_eq!(whole, vec![1, 2, 4, 6, 5, 2, 0, 0, 0, 1, 2, 4]);
        assert_eq!(enc(small).encode(&texts).0, whole);
        assert_eq!(vocab.truncated(100), vocab);
    }

    #[test]
    fn book_encoder_pads_and_truncates_at_the_front() {
        let mut text = String::from("first ");
        text.push_str(&"w ".repeat(200));
        text.push_str("last");
        let vocab = Vocabulary::from_texts([text.as_str()]);
        let e = TextEncoder::book(vocab);
        // Every word of a 3-word vocabulary falls under skip_top: only OOV (2) survives.
        assert_eq!(e.input_dim(), 3);
        let (ids, shape) = e.encode(&[text.as_str(), "w"]);
        assert_eq!(shape, [2, 128]);
        // The last 128 tokens survive; "last" (rank 3) is id 6, "w" (rank 1) is id 4,
        // but skip_top = 20 turns both into OOV (2).
        assert!(ids[..128].iter().all(|&i| i == 2));
        // A short row: zeros, then the start token (OOV under skip_top) and the word.
        assert_eq!(&ids[128..254], &[0; 126][..]);
        assert_eq!(&ids[254..], &[2, 2]);
    }

    #[test]
    fn tokenizer_rules() {
        assert_eq!(toks("Hello, World!"), v(&["hello", "world"]));
        assert_eq!(
            toks("end.<br /><br />Next<br/>line<BR>x<br >y"),
            v(&["end", "next", "line", "x", "y"])
        );
        assert_eq!(toks("a well-made film"), v(&["a", "well", "made", "film"]));
        assert_eq!(
            toks("I don't know 'quoted' actors' rock'n'roll"),
            v(&["i", "don't", "know", "quoted", "actors", "rock'n'roll"])
        );
        assert_eq!(
            toks("don’t don´t don`t ''x''"),
            v(&["don't", "don't", "don't", "x"])
        );
        assert_eq!(
            toks("7/10, 3.5 stars in 1950's"),
            v(&["7", "10", "3", "5", "stars", "in", "1950's"])
        );
        assert_eq!(
            toks("Café ÉCOLE Straße ½"),
            v(&["café", "école", "straße", "½"])
        );
        assert_eq!(
            toks("<i>italic</i> <brown> <br"),
            v(&["i", "italic", "i", "brown", "br"])
        );
        assert_eq!(toks("İ"), v(&["i"]));
        assert_eq!(toks(""), Vec::<String>::new());
        assert_eq!(toks("' -- ''' ..."), Vec::<String>::new());
        assert_eq!(
            toks("tab\tnew\nline\u{96}dash"),
            v(&["tab", "new", "line", "dash"])
        );
    }

    #[test]
    fn tokenizing_tokens_is_identity() {
        for s in [
            "Don't STOP",
            "İstanbul ǅemal ΣΑΣ",
            "x'y'z 'a'",
            "café-au-lait",
        ] {
            let t = toks(s);
            assert_eq!(toks(&t.join(" ")), t, "{s}");
            for w in &t {
                assert_eq!(toks(w), vec![w.clone()]);
            }
        }
    }

    fn vocab() -> Vocabulary {
        Vocabulary::from_texts(["the cat and the dog", "The dog barks. A cat!", "the end"])
    }

    #[test]
    fn vocabulary_ranks() {
        let voc = vocab();
        // the:4, cat:2, dog:2, then a, and, barks, end (1 each) alphabetically.
        assert_eq!(
            voc.iter().collect::<Vec<_>>(),
            vec![
                ("the", 4),
                ("cat", 2),
                ("dog", 2),
                ("a", 1),
                ("and", 1),
                ("barks", 1),
                ("end", 1)
            ]
        );
        assert_eq!(voc.len(), 7);
        assert_eq!(voc.rank("the"), Some(1));
        assert_eq!(voc.rank("dog"), Some(3));
        assert_eq!(voc.rank("zebra"), None);
        assert_eq!(voc.word(1), Some("the"));
        assert_eq!(voc.word(0), None);
        assert_eq!(voc.word(8), None);
        assert_eq!(voc.count("cat"), Some(2));
        assert_eq!(voc.total_count(), 12);
        assert_eq!(voc.most_frequent(2), vec![("the", 4), ("cat", 2)]);
        assert_eq!(voc.most_frequent(100).len(), 7);
        // Order of the documents does not matter; empty tokens are skipped.
        let docs = [vec!["b", "a", ""], vec!["a", "b"]];
        let a = Vocabulary::build(&docs);
        let b = Vocabulary::build(docs.iter().rev());
        assert_eq!(a, b);
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![("a", 2), ("b", 2)]);
        assert!(Vocabulary::build(Vec::<Vec<String>>::new()).is_empty());
    }

    fn temp_file(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("seqlab-text-{}-{name}", std::process::id()))
    }

    #[test]
    fn vocabulary_save_load() {
        let voc = vocab();
        let p = temp_file("vocab.tsv");
        voc.save(&p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("the\t4\ncat\t2\ndog\t2\n"));
        assert_eq!(Vocabulary::load(&p).unwrap(), voc);
        let _ = std::fs::remove_file(&p);
        let err = Vocabulary::load(&p).unwrap_err();
        assert!(matches!(err, LoadError::MissingFile { .. }));
        assert!(err.to_string().contains("vocab.tsv"));
        let bad = Vocabulary::build([["tab\there"]]);
        let err = bad.save(&p).unwrap_err();
        assert!(matches!(err, LoadError::BadLine { line: 1, .. }), "{err}");
        assert!(err.to_string().contains("vocab.tsv"));
    }

    #[test]
    fn vocabulary_file_errors() {
        let p = Path::new("words.tsv");
        let cases = [
            ("a\t3\nb 2\n", 2),
            ("a\t3\n\t2\n", 2),
            ("a\tx\n", 1),
            ("a\t-1\n", 1),
            ("a\t3\nb\t4\n", 2),
            ("a\t3\nb\t2\na\t1\n", 3),
            ("\n", 1),
        ];
        for (text, line) in cases {
            let err = Vocabulary::parse(text, p).unwrap_err();
            assert!(
                matches!(err, LoadError::BadLine { line: l, .. } if l == line),
                "{text:?}: {err}"
            );
            assert!(err.to_string().contains("words.tsv"));
        }
        // CRLF and ties in any order are accepted; rank = line order.
        let voc = Vocabulary::parse("b\t2\r\na\t2\r\n", p).unwrap();
        assert_eq!(voc.rank("b"), Some(1));
        assert!(Vocabulary::parse("", p).unwrap().is_empty());
        let f = temp_file("latin1.tsv");
        std::fs::write(&f, b"caf\xe9\t1\n").unwrap();
        let err = Vocabulary::load(&f).unwrap_err();
        assert!(matches!(err, LoadError::NotUtf8 { valid_up_to: 3, .. }));
        assert!(err.to_string().contains("latin1.tsv"));
        let _ = std::fs::remove_file(&f);
        // Missing: named once as missing (no "(os error 2)" to repeat);
        // a folder in its place: named as a folder.
        let gone = temp_file("gone.tsv");
        let err = Vocabulary::load(&gone).unwrap_err();
        assert!(matches!(err, LoadError::MissingFile { .. }), "{err}");
        assert!(!err.to_string().contains("os error"), "{err}");
        std::fs::create_dir_all(&gone).unwrap();
        let err = Vocabulary::load(&gone).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::WrongKind {
                    found: "a folder",
                    ..
                }
            ),
            "{err}"
        );
        let _ = std::fs::remove_dir(&gone);
    }

    #[test]
    fn keras_encode_decode() {
        let voc = vocab();
        let t = toks("the dog and a zebra");
        let k = KerasIndex::default();
        // the=1+3, dog=3+3, and=5+3, a=4+3, zebra unknown.
        assert_eq!(k.encode(&voc, &t), vec![1, 4, 6, 8, 7, 2]);
        assert_eq!(
            k.decode(&voc, &[0, 0, 1, 4, 6, 8, 7, 2, 3, 11, 99, -5]),
            v(&[
                "<START>",
                "the",
                "dog",
                "and",
                "a",
                "<OOV>",
                "<UNUSED>",
                "<UNKNOWN>",
                "<UNKNOWN>",
                "<UNKNOWN>"
            ])
        );
        assert_eq!(k.input_dim(&voc), 7 + 4);
        // num_words = 7: keeps ids < 7, so "and" (8) and "a" (7) become OOV.
        let k = KerasIndex {
            num_words: Some(7),
            ..KerasIndex::default()
        };
        assert_eq!(k.encode(&voc, &t), vec![1, 4, 6, 2, 2, 2]);
        assert_eq!(k.input_dim(&voc), 7);
        // skip_top = 5: ids below 5 become OOV, the start token included.
        let k = KerasIndex {
            skip_top: 5,
            ..KerasIndex::default()
        };
        assert_eq!(k.encode(&voc, &t), vec![2, 2, 6, 8, 7, 2]);
        // No OOV: filtered and unknown words are dropped; no start.
        let k = KerasIndex {
            skip_top: 5,
            oov_char: None,
            start_char: None,
            ..KerasIndex::default()
        };
        assert_eq!(k.encode(&voc, &t), vec![6, 8, 7]);
        assert_eq!(k.encode_text(&voc, "The DOG"), vec![6]);
        // Extreme settings neither panic nor overflow.
        let k = KerasIndex {
            index_from: i64::MAX,
            num_words: Some(usize::MAX),
            skip_top: usize::MAX,
            start_char: Some(i64::MIN),
            oov_char: Some(-1),
        };
        assert_eq!(k.encode(&voc, &t), vec![-1; 6]);
        assert_eq!(
            k.decode(&voc, &[i64::MIN, i64::MAX, -1]),
            v(&["<START>", "<UNUSED>", "<OOV>"])
        );
        let _ = k.input_dim(&voc);
        let k = KerasIndex {
            index_from: i64::MIN,
            ..KerasIndex::default()
        };
        let _ = k.encode(&voc, &t);
        let _ = k.decode(&voc, &[i64::MIN, i64::MAX]);
        let _ = k.input_dim(&voc);
    }

    #[test]
    fn book_setting_keeps_9996_words() {
        // Words w0..w19999 with distinct counts, so rank i+1 = word wi.
        let voc = Vocabulary::from_counts((0..20_000u64).map(|i| (format!("w{i}"), 20_000 - i)));
        let k = KerasIndex::with_limits(10_000, 20);
        let all: Vec<String> = (0..20_000).map(|i| format!("w{i}")).collect();
        let ids = k.encode(&voc, &all);
        assert_eq!(ids[0], 2); // start became OOV
        let real: Vec<i64> = ids.iter().copied().filter(|&i| i != 2).collect();
        assert_eq!(real.len(), 9_996 - 16);
        assert_eq!(real.first(), Some(&20)); // rank 17
        assert_eq!(real.last(), Some(&9_999));
        assert_eq!(k.input_dim(&voc), 10_000);
        let k = KerasIndex::with_limits(10_000, 0);
        assert_eq!(
            k.encode(&voc, &all).iter().filter(|&&i| i > 3).count(),
            9_996
        );
    }

    #[test]
    fn padding() {
        let seqs = vec![vec![1, 2, 3, 4, 5], vec![7], vec![]];
        assert_eq!(
            pad_sequences(&seqs, 3, Side::Pre, Side::Pre, 0),
            vec![vec![3, 4, 5], vec![0, 0, 7], vec![0, 0, 0]]
        );
        assert_eq!(
            pad_sequences(&seqs, 3, Side::Post, Side::Post, -1),
            vec![vec![1, 2, 3], vec![7, -1, -1], vec![-1, -1, -1]]
        );
        assert_eq!(
            pad_sequences(&seqs, 0, Side::Pre, Side::Pre, 0),
            vec![Vec::<i64>::new(); 3]
        );
        let (flat, shape) = pad_sequences_flat(&seqs, 6, Side::Pre, Side::Post, 0);
        assert_eq!(shape, [3, 6]);
        assert_eq!(
            flat,
            vec![0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            pad_sequences_flat(&seqs, 0, Side::Pre, Side::Pre, 0),
            (vec![], [3, 0])
        );
        assert_eq!(longest(&seqs), 5);
        assert_eq!(Side::default(), Side::Pre);
    }
}
