//! The Large Movie Review Dataset v1.0 (Maas et al., ACL 2011): 25,000
//! training and 25,000 test reviews labelled positive or negative.
//!
//! [`load`] reads either the `.tar.gz` archive (the original
//! `aclImdb_v1.tar.gz` or the project's `aclImdb_labeled.tar.gz`, same
//! layout), streamed through gzip and tar without unpacking to disk, or an
//! extracted folder (`aclImdb/` itself or its parent). Reviews are the
//! regular files `aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`:
//!
//! - the label comes from the folder (`pos` = positive), id and rating
//!   (`1..=10`) from the file name;
//! - everything else is ignored: `train/unsup`, the `*.feat` files,
//!   `imdb.vocab`, `imdbEr.txt`, README, the URL lists, files in deeper
//!   folders, and hidden files (names starting with `.`, such as macOS
//!   `._*` companions);
//! - a file in a `pos`/`neg` folder whose name is not `<id>_<rating>.txt` is
//!   an error ([`LoadError::BadEntryName`]), and so are two files with the
//!   same id in the same folder ([`LoadError::DuplicateEntry`]);
//! - a review that is not valid UTF-8 is an error ([`LoadError::NotUtf8`],
//!   naming the entry), not a lossy decode: all 50,000 reviews of the real
//!   data set are valid UTF-8, so an invalid one means a damaged file, and a
//!   lossy decode would hide it. The text is kept exactly as stored,
//!   including the data set's `<br />` line breaks (see
//!   [`crate::text::tokenize`]);
//! - a missing split or `pos`/`neg` folder is [`LoadError::MissingFolders`],
//!   one without reviews [`LoadError::Empty`].
//!
//! The result does not depend on the order of the archive entries or of the
//! directory listing: each split is sorted negative before positive, then by
//! id.
//!
//! ```
//! use seqlab_data::imdb;
//! use std::path::Path;
//! // A tiny archive built in memory with the `tar` crate (plain tar; gzip works the same).
//! let mut b = tar::Builder::new(Vec::new());
//! for (path, text) in [
//!     ("aclImdb/train/pos/1_9.txt", "Great film."),
//!     ("aclImdb/train/neg/0_2.txt", "Dull."),
//!     ("aclImdb/test/pos/0_7.txt", "Fine."),
//!     ("aclImdb/test/neg/3_1.txt", "Awful.<br /><br />Really."),
//!     ("aclImdb/imdb.vocab", "ignored"),
//! ] {
//!     let mut h = tar::Header::new_gnu();
//!     h.set_size(text.len() as u64);
//!     h.set_mode(0o644);
//!     h.set_cksum();
//!     b.append_data(&mut h, path, text.as_bytes()).unwrap();
//! }
//! let bytes = b.into_inner().unwrap();
//! let data = imdb::load_archive_reader(bytes.as_slice(), Path::new("tiny.tar")).unwrap();
//! assert_eq!(data.train.len(), 2);
//! assert!(!data.train[0].positive && data.train[1].positive); // negative first
//! assert_eq!((data.train[1].id, data.train[1].rating), (1, 9));
//! assert_eq!(data.test[0].text, "Awful.<br /><br />Really.");
//! assert_eq!(imdb::labels(&data.train), vec![0, 1]);
//! ```

use crate::load_error::Kind;
use crate::LoadError;
use flate2::read::MultiGzDecoder;

/// The most bytes one review file may hold (1 MiB). The archive's reviews
/// are at most about 14 KB; reading stops before a larger entry fills memory.
/// The same limit holds for files in an extracted folder (checked from the
/// file's size before reading it).
pub const MAX_REVIEW_BYTES: u64 = 1 << 20;

const REVIEW_LIMIT_WHY: &str =
    "the most one review may hold (the longest IMDb review has about 14 KB)";

/// The most reviews a data set may hold (train and test together): twice
/// the real data set's 50,000.
pub const MAX_REVIEWS: u64 = 100_000;

/// The most bytes all reviews together may hold (256 MiB): the real data
/// set's 50,000 reviews hold 65,483,480 bytes, so this leaves about four
/// times that, and bounds the memory a hostile archive or folder can take
/// (many reviews each under [`MAX_REVIEW_BYTES`]).
pub const MAX_TOTAL_REVIEW_BYTES: u64 = 256 << 20;

/// The most entries an archive (or the four review folders) may list,
/// ignored ones included: `aclImdb_v1.tar.gz` has about 100,000 (its
/// 50,000 unlabelled reviews are ignored), so this leaves four times that.
pub const MAX_ENTRIES: u64 = 400_000;

/// The limits above, as [`Budget`] applies them (smaller in tests).
#[derive(Debug, Clone, Copy)]
struct Limits {
    entries: u64,
    reviews: u64,
    bytes: u64,
}

const LIMITS: Limits = Limits {
    entries: MAX_ENTRIES,
    reviews: MAX_REVIEWS,
    bytes: MAX_TOTAL_REVIEW_BYTES,
};

/// Counts what a loader has seen against [`Limits`].
struct Budget {
    path: PathBuf,
    limits: Limits,
    entries: u64,
    reviews: u64,
    bytes: u64,
}

impl Budget {
    fn new(path: &Path, limits: Limits) -> Self {
        Self {
            path: path.to_path_buf(),
            limits,
            entries: 0,
            reviews: 0,
            bytes: 0,
        }
    }

    fn too_much(
        &self,
        entry: &str,
        what: &'static str,
        limit: u64,
        why: &'static str,
    ) -> LoadError {
        LoadError::TooMuch {
            path: self.path.clone(),
            entry: Some(entry.to_string()),
            what,
            limit,
            why,
        }
    }

    /// One more entry (any kind, ignored or not).
    fn entry(&mut self, entry: &str) -> Result<(), LoadError> {
        self.entries += 1;
        if self.entries > self.limits.entries {
            return Err(self.too_much(
                entry,
                "entries",
                self.limits.entries,
                "four times what the original archive lists (about 100,000)",
            ));
        }
        Ok(())
    }

    /// One more review of `size` bytes, before it is read.
    fn review(&mut self, entry: &str, size: u64) -> Result<(), LoadError> {
        self.reviews += 1;
        self.bytes = self.bytes.saturating_add(size);
        if self.reviews > self.limits.reviews {
            return Err(self.too_much(
                entry,
                "reviews",
                self.limits.reviews,
                "twice the real data set's 50,000",
            ));
        }
        if self.bytes > self.limits.bytes {
            return Err(self.too_much(
                entry,
                "bytes of reviews in all",
                self.limits.bytes,
                "about four times the real data set's 65 MB",
            ));
        }
        Ok(())
    }
}
use std::cell::RefCell;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The top folder of the data set, in the archive and on disk.
pub const ROOT: &str = "aclImdb";
/// Archive names [`load`] looks for inside a folder, in this order.
pub const ARCHIVE_NAMES: [&str; 2] = ["aclImdb_v1.tar.gz", "aclImdb_labeled.tar.gz"];
/// The four review folders under [`ROOT`], in slot order (split, then negative before positive).
pub const FOLDERS: [&str; 4] = ["train/neg", "train/pos", "test/neg", "test/pos"];

/// One review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The id from the file name (unique within its folder, not across folders).
    pub id: u32,
    /// The rating from the file name, `1..=10` (7-10 for positive, 1-4 for negative in the real data).
    pub rating: u8,
    /// True for the `pos` folder.
    pub positive: bool,
    /// The raw review text, as stored (with `<br />` line breaks).
    pub text: String,
}

impl Review {
    /// The class label: 1 for positive, 0 for negative.
    pub fn label(&self) -> i64 {
        i64::from(self.positive)
    }
}

/// The labelled part of the data set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Imdb {
    /// Training reviews, negative before positive, then by id.
    pub train: Vec<Review>,
    /// Test reviews, negative before positive, then by id.
    pub test: Vec<Review>,
}

impl Imdb {
    /// Total number of reviews (train and test).
    pub fn len(&self) -> usize {
        self.train.len() + self.test.len()
    }

    /// True if there are no reviews at all.
    pub fn is_empty(&self) -> bool {
        self.train.is_empty() && self.test.is_empty()
    }
}

/// The class labels (1 = positive, 0 = negative) of `reviews`, in order.
pub fn labels(reviews: &[Review]) -> Vec<i64> {
    reviews.iter().map(Review::label).collect()
}

/// The texts of `reviews`, in order.
pub fn texts(reviews: &[Review]) -> impl Iterator<Item = &str> {
    reviews.iter().map(|r| r.text.as_str())
}

/// Loads the data set from `path`, which may be:
/// - an archive file (gzip-compressed or plain tar, recognised by its first bytes);
/// - the extracted `aclImdb` folder, or a folder holding it;
/// - a folder holding one of [`ARCHIVE_NAMES`] (an extracted `aclImdb`
///   folder next to it is preferred, being faster to read).
pub fn load(path: &Path) -> Result<Imdb, LoadError> {
    if path.is_file() {
        return load_archive(path);
    }
    if path.is_dir() {
        let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase());
        if name
            .as_deref()
            .is_some_and(|n| [".tar.gz", ".tgz", ".tar"].iter().any(|x| n.ends_with(x)))
        {
            return Err(LoadError::WrongKind {
                path: path.to_path_buf(),
                expected: "a file (its name is an archive's)".into(),
                found: "a folder",
            });
        }
        let is_root = path.file_name().is_some_and(|n| n == ROOT);
        if is_root
            || path.join(ROOT).is_dir()
            || path.join("train").is_dir()
            || path.join("test").is_dir()
        {
            return load_folder(path);
        }
        let mut tried = vec![path.join(ROOT)];
        for name in ARCHIVE_NAMES {
            let p = path.join(name);
            if p.is_file() {
                return load_archive(&p);
            }
            if let Some(e) = LoadError::wrong_kind(&p, Kind::File, "a file (the IMDb archive)") {
                return Err(e);
            }
            tried.push(p);
        }
        return Err(LoadError::MissingFile {
            what: "IMDb reviews (an aclImdb folder or archive)".into(),
            tried,
        });
    }
    if let Some(e) = LoadError::wrong_kind(
        path,
        Kind::File,
        "an IMDb archive file or an aclImdb folder",
    ) {
        return Err(e);
    }
    Err(LoadError::MissingFile {
        what: "IMDb reviews (an aclImdb folder or archive)".into(),
        tried: vec![path.to_path_buf()],
    })
}

/// Loads the data set from an archive file (gzip-compressed or plain tar).
pub fn load_archive(path: &Path) -> Result<Imdb, LoadError> {
    let file = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    load_archive_reader(file, path)
}

/// Loads the data set from a stream holding an archive (gzip-compressed or
/// plain tar, recognised by the gzip magic bytes), e.g. a file or a byte
/// slice. Nothing is written to disk. `path` is only used in error messages.
///
/// An empty stream is [`LoadError::EmptyFile`]. An archive whose last entry
/// is complete but which lacks tar's two end-of-archive zero blocks loads
/// like a complete one (GNU tar and Python's `tarfile` accept it too); a
/// `.tar.gz` cut short anywhere fails on the gzip trailer instead.
///
/// The archive may list at most [`MAX_ENTRIES`] entries, and hold at most
/// [`MAX_REVIEWS`] reviews of [`MAX_TOTAL_REVIEW_BYTES`] in all
/// ([`LoadError::TooMuch`], before the review past the limit is read).
pub fn load_archive_reader<R: Read>(reader: R, path: &Path) -> Result<Imdb, LoadError> {
    load_archive_within(reader, path, LIMITS)
}

fn load_archive_within<R: Read>(reader: R, path: &Path, limits: Limits) -> Result<Imdb, LoadError> {
    let mut reader = Watch::new(reader);
    let source_err = reader.error.clone();
    let mut head = [0u8; 2];
    let prefix = read_head(&mut reader, &mut head, path)?;
    let stream = io::Cursor::new(prefix.to_vec()).chain(reader);
    let gz_err = Rc::new(RefCell::new(None));
    let body: Box<dyn Read> = if crate::mnist::is_gzip(prefix) {
        Box::new(Watch {
            inner: MultiGzDecoder::new(stream),
            error: gz_err.clone(),
        })
    } else {
        Box::new(stream)
    };
    let mut archive = tar::Archive::new(BufReader::with_capacity(1 << 18, body));
    let classify = |e: io::Error, entry: Option<&str>| {
        let entry = entry.map(str::to_string);
        if let Some((kind, msg)) = source_err.borrow().as_ref() {
            LoadError::Io {
                path: path.to_path_buf(),
                entry,
                source: io::Error::new(*kind, msg.clone()),
            }
        } else if let Some((_, msg)) = gz_err.borrow().as_ref() {
            LoadError::CorruptGzip {
                path: path.to_path_buf(),
                entry,
                reason: msg.clone(),
            }
        } else {
            LoadError::CorruptArchive {
                path: path.to_path_buf(),
                entry,
                // tar's messages quote header fields (entry names) verbatim.
                reason: crate::load_error::printable(&e.to_string()).into_owned(),
            }
        }
    };
    let mut acc = Collector::new(path);
    let mut budget = Budget::new(path, limits);
    for entry in archive.entries().map_err(|e| classify(e, None))? {
        let mut entry = entry.map_err(|e| classify(e, None))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        budget.entry(&name)?;
        let (slot, file) = match place(&name) {
            Place::Ignore => continue,
            Place::Folder(slot) => {
                acc.mark(slot);
                continue;
            }
            Place::File(slot, file) => (slot, file),
        };
        acc.mark(slot);
        if !entry.header().entry_type().is_file() || file.starts_with('.') {
            continue;
        }
        let (id, rating) = parse_name(file).map_err(|why| LoadError::BadEntryName {
            path: path.to_path_buf(),
            entry: name.clone(),
            why,
        })?;
        let text = read_review(&mut entry, &name, path, &mut budget, &classify)?;
        acc.push(slot, id, rating, text);
    }
    // Read to the end of the stream so that the gzip trailer (CRC and size)
    // is checked: tar stops at its end-of-archive blocks. An archive that
    // ends without those two zero blocks (but at an entry boundary) is
    // accepted on purpose, as GNU tar and Python's tarfile accept it: the
    // blocks carry no data, and what guards completeness is the gzip
    // trailer checked here plus the download's checksum.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(|e| classify(e, None))?;
    acc.finish(ROOT)
}

/// Reads up to `head.len()` bytes (fewer only at the end of the stream) and
/// returns them; an empty stream is [`LoadError::EmptyFile`].
fn read_head<'h>(
    reader: &mut impl Read,
    head: &'h mut [u8],
    path: &Path,
) -> Result<&'h [u8], LoadError> {
    let mut n = 0;
    while n < head.len() {
        match reader.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(LoadError::io(path, e)),
        }
    }
    if n == 0 {
        return Err(LoadError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    Ok(head.get(..n).unwrap_or_default())
}

/// One review's text from its archive entry `name`, within the size limits
/// (checked on the header's size before anything is read) and in UTF-8;
/// `classify` names a read error.
fn read_review<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    name: &str,
    path: &Path,
    budget: &mut Budget,
    classify: &dyn Fn(io::Error, Option<&str>) -> LoadError,
) -> Result<String, LoadError> {
    let size = entry.size();
    if size > MAX_REVIEW_BYTES {
        return Err(LoadError::InflatesTooFar {
            path: path.to_path_buf(),
            entry: Some(name.to_string()),
            limit: MAX_REVIEW_BYTES,
            why: format!("{REVIEW_LIMIT_WHY} (its tar header declares {size} bytes)"),
        });
    }
    budget.review(name, size)?;
    let hint = usize::try_from(size).unwrap_or(0).min(1 << 20);
    let mut bytes = Vec::with_capacity(hint);
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| classify(e, Some(name)))?;
    String::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
        path: path.to_path_buf(),
        entry: Some(name.to_string()),
        valid_up_to: e.utf8_error().valid_up_to(),
    })
}

/// Loads the data set from an extracted folder: `aclImdb` itself (holding
/// `train/` and `test/`) or its parent. The same limits as for an archive
/// hold ([`MAX_ENTRIES`] listed in the review folders, [`MAX_REVIEWS`],
/// [`MAX_TOTAL_REVIEW_BYTES`]).
pub fn load_folder(dir: &Path) -> Result<Imdb, LoadError> {
    load_folder_within(dir, LIMITS)
}

fn load_folder_within(dir: &Path, limits: Limits) -> Result<Imdb, LoadError> {
    let root = if dir.join(ROOT).is_dir() {
        dir.join(ROOT)
    } else {
        dir.to_path_buf()
    };
    let mut acc = Collector::new(&root);
    let mut budget = Budget::new(&root, limits);
    for (slot, folder) in FOLDERS.iter().enumerate() {
        let folder_path = root.join(folder);
        if !folder_path.is_dir() {
            continue;
        }
        acc.mark(slot);
        let listing =
            std::fs::read_dir(&folder_path).map_err(|e| LoadError::io(&folder_path, e))?;
        for item in listing {
            let item = item.map_err(|e| LoadError::io(&folder_path, e))?;
            let file_path = item.path();
            let name = item.file_name();
            budget.entry(&file_path.display().to_string())?;
            if name.as_encoded_bytes().starts_with(b".") || !file_path.is_file() {
                continue;
            }
            let parsed = match name.to_str() {
                Some(name) => parse_name(name),
                None => Err("the name is not valid UTF-8".to_string()),
            };
            let (id, rating) = parsed.map_err(|why| LoadError::BadEntryName {
                path: root.clone(),
                entry: file_path.display().to_string(),
                why,
            })?;
            // The size of the file opened (a symlink's target, not the link),
            // and never more than one byte past the limit read.
            let io_err = |e| LoadError::io(&file_path, e);
            let too_large = |size| LoadError::TooLarge {
                path: file_path.clone(),
                size,
                limit: MAX_REVIEW_BYTES,
                why: REVIEW_LIMIT_WHY.into(),
            };
            let file = std::fs::File::open(&file_path).map_err(io_err)?;
            let size = file.metadata().map_err(io_err)?.len();
            if size > MAX_REVIEW_BYTES {
                return Err(too_large(size));
            }
            budget.review(&file_path.display().to_string(), size)?;
            // A file that grew since is still cut at one byte past the limit.
            let mut bytes = Vec::with_capacity(size as usize);
            file.take(MAX_REVIEW_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(io_err)?;
            if bytes.len() as u64 > MAX_REVIEW_BYTES {
                return Err(too_large(bytes.len() as u64));
            }
            let text = String::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
                path: file_path.clone(),
                entry: None,
                valid_up_to: e.utf8_error().valid_up_to(),
            })?;
            acc.push(slot, id, rating, text);
        }
    }
    let prefix = root.display().to_string();
    acc.finish(&prefix)
}

/// Where an archive entry belongs.
enum Place<'a> {
    Ignore,
    /// One of the four review folders itself (slot index into [`FOLDERS`]).
    Folder(usize),
    /// A file directly inside a review folder.
    File(usize, &'a str),
}

fn slot_of(split: &str, class: &str) -> Option<usize> {
    let s = match split {
        "train" => 0,
        "test" => 2,
        _ => return None,
    };
    match class {
        "neg" => Some(s),
        "pos" => Some(s + 1),
        _ => None,
    }
}

fn place(name: &str) -> Place<'_> {
    let mut parts = name.split('/').filter(|c| !c.is_empty() && *c != ".");
    let (Some(ROOT), Some(split), Some(class)) = (parts.next(), parts.next(), parts.next()) else {
        return Place::Ignore;
    };
    let Some(slot) = slot_of(split, class) else {
        return Place::Ignore;
    };
    match (parts.next(), parts.next()) {
        (None, _) => Place::Folder(slot),
        (Some(file), None) => Place::File(slot, file),
        (Some(_), Some(_)) => Place::Ignore,
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses `<id>_<rating>.txt` into (id, rating); the error says what is wrong.
pub(crate) fn parse_name(file: &str) -> Result<(u32, u8), String> {
    const FORM: &str = "expected <id>_<rating>.txt";
    let stem = file
        .strip_suffix(".txt")
        .ok_or_else(|| format!("{FORM}: the name does not end in .txt"))?;
    let (id, rating) = stem
        .split_once('_')
        .ok_or_else(|| format!("{FORM}: no '_' between id and rating"))?;
    if !digits(id) || !digits(rating) {
        return Err(format!("{FORM}: id and rating must be decimal numbers"));
    }
    let id: u32 = id
        .parse()
        .map_err(|_| format!("{FORM}: id {id} is too large"))?;
    match rating.parse::<u8>() {
        Ok(r @ 1..=10) => Ok((id, r)),
        _ => Err(format!("{FORM}: rating {rating} is outside 1..=10")),
    }
}

/// Accumulates reviews per folder, then checks and sorts them.
struct Collector {
    path: PathBuf,
    seen: [bool; 4],
    counts: [usize; 4],
    train: Vec<Review>,
    test: Vec<Review>,
}

impl Collector {
    fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            seen: [false; 4],
            counts: [0; 4],
            train: Vec::new(),
            test: Vec::new(),
        }
    }

    /// Records that the folder of `slot` exists.
    fn mark(&mut self, slot: usize) {
        if let Some(seen) = self.seen.get_mut(slot) {
            *seen = true;
        }
    }

    fn push(&mut self, slot: usize, id: u32, rating: u8, text: String) {
        if let Some(c) = self.counts.get_mut(slot) {
            *c += 1;
        }
        let review = Review {
            id,
            rating,
            positive: slot % 2 == 1,
            text,
        };
        if slot < 2 {
            self.train.push(review);
        } else {
            self.test.push(review);
        }
    }

    /// `prefix` is how folders are named in messages (`aclImdb` in an archive,
    /// the root path on disk).
    fn finish(mut self, prefix: &str) -> Result<Imdb, LoadError> {
        let missing: Vec<String> = FOLDERS
            .iter()
            .zip(self.seen)
            .filter(|(_, seen)| !seen)
            .map(|(f, _)| format!("{prefix}/{f}"))
            .collect();
        if !missing.is_empty() {
            return Err(LoadError::MissingFolders {
                path: self.path,
                missing,
            });
        }
        if let Some((f, _)) = FOLDERS.iter().zip(self.counts).find(|(_, n)| *n == 0) {
            return Err(LoadError::Empty {
                path: self.path,
                what: format!("reviews in {prefix}/{f}"),
            });
        }
        for (split, reviews) in [("train", &mut self.train), ("test", &mut self.test)] {
            reviews.sort_unstable_by_key(|r| (r.positive, r.id));
            if let Some(w) = reviews
                .windows(2)
                .find(|w| matches!(w, [a, b] if (a.positive, a.id) == (b.positive, b.id)))
            {
                let name = |r: &Review| {
                    let class = if r.positive { "pos" } else { "neg" };
                    format!("{prefix}/{split}/{class}/{}_{}.txt", r.id, r.rating)
                };
                let (first, second) = match w {
                    [a, b] => (name(a), name(b)),
                    _ => (String::new(), String::new()),
                };
                return Err(LoadError::DuplicateEntry {
                    path: self.path,
                    first,
                    second,
                });
            }
        }
        Ok(Imdb {
            train: self.train,
            test: self.test,
        })
    }
}

/// A reader that remembers the first error its inner reader returned, so
/// that an error surfacing through the tar reader can be traced to the file
/// or to the gzip decoder.
struct Watch<R> {
    inner: R,
    error: Rc<RefCell<Option<(io::ErrorKind, String)>>>,
}

impl<R> Watch<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            error: Rc::new(RefCell::new(None)),
        }
    }
}

impl<R: Read> Read for Watch<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = self.inner.read(buf);
        if let Err(e) = &r {
            if e.kind() != io::ErrorKind::Interrupted {
                let mut slot = self.error.borrow_mut();
                if slot.is_none() {
                    *slot = Some((e.kind(), e.to_string()));
                }
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    type Entries<'a> = Vec<(&'a str, &'a [u8])>;

    fn valid() -> Entries<'static> {
        vec![
            ("aclImdb/train/pos/12_8.txt", b"Loved it.".as_slice()),
            ("aclImdb/train/pos/3_10.txt", b"Best film ever!"),
            (
                "aclImdb/train/neg/7_1.txt",
                b"Terrible.<br /><br />Just bad.",
            ),
            ("aclImdb/train/neg/0_4.txt", b"Meh."),
            ("aclImdb/train/unsup/5_0.txt", b"unlabelled, ignored"),
            ("aclImdb/train/labeledBow.feat", b"0 0:1"),
            ("aclImdb/train/urls_pos.txt", b"http://"),
            ("aclImdb/imdb.vocab", b"the"),
            ("aclImdb/test/pos/1_7.txt", b"Caf\xc3\xa9 scenes are good."),
            ("aclImdb/test/neg/1_2.txt", b"No."),
            (
                "aclImdb/test/neg/._1_2.txt",
                b"\xff\xfe hidden macOS companion",
            ),
            ("README", b"ignored"),
        ]
    }

    fn tar_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, path, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn targz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        gzip(&tar_bytes(entries))
    }

    fn load_mem(entries: &[(&str, &[u8])]) -> Result<Imdb, LoadError> {
        load_archive_reader(targz(entries).as_slice(), Path::new("mem.tar.gz"))
    }

    #[test]
    fn an_empty_file_is_named_as_empty_not_as_missing_folders() {
        let err = load_archive_reader(&[][..], Path::new("z.tar.gz")).unwrap_err();
        assert!(matches!(err, LoadError::EmptyFile { .. }), "{err}");
        assert!(err
            .to_string()
            .starts_with("z.tar.gz: the file is empty (0 bytes)"));
    }

    #[test]
    fn an_archive_without_end_blocks_loads_like_a_complete_one() {
        let whole = tar_bytes(&valid());
        // tar::Builder ends with two 512-byte zero blocks; cut them off.
        assert!(whole.ends_with(&[0u8; 1024]));
        let cut = whole.get(..whole.len() - 1024).unwrap();
        let expect = load_archive_reader(whole.as_slice(), Path::new("a.tar")).unwrap();
        for bytes in [cut.to_vec(), gzip(cut)] {
            let d = load_archive_reader(bytes.as_slice(), Path::new("a.tar")).unwrap();
            assert_eq!(d.train, expect.train);
            assert_eq!(d.test, expect.test);
        }
        // Cut inside an entry instead, it is an error, not a smaller data set.
        let short = whole.get(..whole.len() - 1024 - 600).unwrap();
        assert!(load_archive_reader(gzip(short).as_slice(), Path::new("a.tar.gz")).is_err());
    }

    #[test]
    fn control_bytes_from_an_archive_are_escaped_in_messages() {
        let name = "aclImdb/train/pos/\u{1b}[2J\u{7}1_1.txt";
        let mut bytes = tar_bytes(&[(name, b"x")]);
        // A size field that is not octal, with a valid header checksum, so
        // that the tar reader's message quotes the entry's name.
        bytes
            .get_mut(124..136)
            .unwrap()
            .copy_from_slice(b"zzzzzzzzzzz\0");
        bytes
            .get_mut(148..156)
            .unwrap()
            .copy_from_slice(b"        ");
        let sum: u32 = bytes
            .get(..512)
            .unwrap()
            .iter()
            .map(|&b| u32::from(b))
            .sum();
        let field = format!("{sum:06o}\0 ");
        bytes
            .get_mut(148..156)
            .unwrap()
            .copy_from_slice(field.as_bytes());
        let err = load_archive_reader(bytes.as_slice(), Path::new("e.tar")).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, LoadError::CorruptArchive { .. }), "{msg}");
        assert!(
            !msg.chars().any(|c| c == '\u{1b}' || c == '\u{7}'),
            "{msg:?}"
        );
        assert!(msg.contains("\\u{1b}[2J"), "{msg:?}");
    }

    #[test]
    fn a_folder_named_like_an_archive_is_named_as_a_folder() {
        let dir = temp_dir("folder-archive");
        let fake = dir.join("aclImdb_v1.tar.gz");
        std::fs::create_dir_all(&fake).unwrap();
        for path in [&fake, &dir] {
            let err = load(path).unwrap_err();
            assert!(
                matches!(&err, LoadError::WrongKind { found: "a folder", path, .. } if *path == fake),
                "{err}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("seqlab-imdb-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn write_tree(root: &Path, entries: &[(&str, &[u8])]) {
        for (path, data) in entries {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        }
    }

    fn names(err: &LoadError, what: &str) {
        assert!(err.to_string().contains(what), "{err} does not name {what}");
    }

    fn check_valid(d: &Imdb) {
        let ids = |rs: &[Review]| {
            rs.iter()
                .map(|r| (r.positive, r.id, r.rating))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(&d.train),
            vec![(false, 0, 4), (false, 7, 1), (true, 3, 10), (true, 12, 8)]
        );
        assert_eq!(ids(&d.test), vec![(false, 1, 2), (true, 1, 7)]);
        assert_eq!(d.train[1].text, "Terrible.<br /><br />Just bad.");
        assert_eq!(d.test[1].text, "Café scenes are good.");
        assert_eq!(labels(&d.train), vec![0, 0, 1, 1]);
        assert_eq!(
            texts(&d.test).collect::<Vec<_>>(),
            vec!["No.", "Café scenes are good."]
        );
        assert_eq!(d.len(), 6);
        assert!(!d.is_empty());
    }

    #[test]
    fn loads_archives_in_any_order() {
        let mut entries = valid();
        check_valid(&load_mem(&entries).unwrap());
        entries.reverse();
        check_valid(&load_mem(&entries).unwrap());
        // Plain (uncompressed) tar and a "./" prefix.
        let dotted: Vec<(String, &[u8])> = entries
            .iter()
            .map(|(p, d)| (format!("./{p}"), *d))
            .collect();
        let dotted: Entries = dotted.iter().map(|(p, d)| (p.as_str(), *d)).collect();
        let plain = tar_bytes(&dotted);
        check_valid(&load_archive_reader(plain.as_slice(), Path::new("plain.tar")).unwrap());
    }

    #[test]
    fn loads_from_disk_archive_and_folders() {
        let d = temp_dir("disk");
        let archive = d.join("aclImdb_labeled.tar.gz");
        std::fs::write(&archive, targz(&valid())).unwrap();
        check_valid(&load(&archive).unwrap());
        check_valid(&load(&d).unwrap()); // folder holding the archive
        let tree = d.join("x");
        write_tree(&tree, &valid());
        check_valid(&load(&tree).unwrap()); // parent of aclImdb
        check_valid(&load(&tree.join(ROOT)).unwrap()); // aclImdb itself
        let err = load(&d.join("nothing-here")).unwrap_err();
        assert!(matches!(err, LoadError::MissingFile { .. }));
        names(&err, "nothing-here");
        let empty = d.join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let err = load(&empty).unwrap_err();
        assert!(matches!(&err, LoadError::MissingFile { tried, .. } if tried.len() == 3));
        names(&err, "aclImdb_v1.tar.gz");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_review_larger_than_any_real_one_is_refused_before_it_is_read() {
        let big = vec![b'a'; (MAX_REVIEW_BYTES + 1) as usize];
        let mut entries = valid();
        entries.push(("aclImdb/train/pos/99_9.txt", big.as_slice()));
        let err = load_mem(&entries).unwrap_err();
        assert!(matches!(err, LoadError::InflatesTooFar { .. }), "{err}");
        names(&err, "aclImdb/train/pos/99_9.txt");
        names(&err, "mem.tar.gz");
        // The same limit on disk, from the file's size (the folder loader
        // used to read any file whole).
        let d = temp_dir("oversized");
        write_tree(&d, &entries);
        let err = load(&d).unwrap_err();
        assert!(
            matches!(err, LoadError::TooLarge { size, limit: MAX_REVIEW_BYTES, .. } if size == MAX_REVIEW_BYTES + 1),
            "{err}"
        );
        names(&err, "train/pos/99_9.txt");
        names(&err, "the most one review may hold");
        // A symlink is measured by its target, not by the link's own size.
        let big = d.join("big.bin");
        std::fs::rename(d.join("aclImdb/train/pos/99_9.txt"), &big).unwrap();
        std::os::unix::fs::symlink(&big, d.join("aclImdb/train/pos/99_9.txt")).unwrap();
        let err = load(&d).unwrap_err();
        assert!(
            matches!(err, LoadError::TooLarge { size, .. } if size == MAX_REVIEW_BYTES + 1),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn an_archive_or_folder_past_the_total_limits_is_refused_before_the_rest_is_read() {
        let entries = valid();
        let bytes = tar_bytes(&entries);
        let d = temp_dir("budget");
        write_tree(&d, &entries);
        let total: u64 = entries
            .iter()
            .filter(|(p, _)| matches!(place(p), Place::File(_, f) if !f.starts_with('.')))
            .map(|(_, t)| t.len() as u64)
            .sum();
        // At the limits (12 archive entries, 7 in the review folders, 6
        // reviews, every byte): loads.
        let at = |entries| Limits {
            entries,
            reviews: 6,
            bytes: total,
        };
        load_archive_within(bytes.as_slice(), Path::new("m.tar"), at(12)).unwrap();
        load_folder_within(&d, at(7)).unwrap();
        for (limits, what) in [
            (
                Limits {
                    entries: 11,
                    ..at(12)
                },
                "more than 11 entries",
            ),
            (
                Limits {
                    reviews: 5,
                    ..at(12)
                },
                "more than 5 reviews",
            ),
            (
                Limits {
                    bytes: total - 1,
                    ..at(12)
                },
                "bytes of reviews in all",
            ),
        ] {
            let err =
                load_archive_within(bytes.as_slice(), Path::new("m.tar"), limits).unwrap_err();
            assert!(matches!(err, LoadError::TooMuch { .. }), "{err}");
            names(&err, what);
            names(&err, "m.tar");
            names(&err, "(entry \"");
            let folder = Limits {
                entries: limits.entries.min(12) - 5,
                ..limits
            };
            let err = load_folder_within(&d, folder).unwrap_err();
            assert!(matches!(err, LoadError::TooMuch { .. }), "{err}");
            names(&err, &d.join("aclImdb").display().to_string());
        }
        // The real data set (50,000 reviews, 65,483,480 bytes, about 100,000
        // entries in the original archive) fits with room to spare.
        const { assert!(MAX_REVIEWS >= 2 * 50_000 && MAX_TOTAL_REVIEW_BYTES >= 3 * 65_483_480) };
        const { assert!(MAX_ENTRIES >= 3 * 100_000) };
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn missing_folders() {
        let entries: Entries = valid()
            .into_iter()
            .filter(|(p, _)| !p.starts_with("aclImdb/test/"))
            .collect();
        let err = load_mem(&entries).unwrap_err();
        match &err {
            LoadError::MissingFolders { missing, .. } => {
                assert_eq!(missing, &["aclImdb/test/neg", "aclImdb/test/pos"])
            }
            e => panic!("unexpected {e}"),
        }
        names(&err, "mem.tar.gz");
        names(&err, "aclImdb/test/neg");
        // An archive of something else entirely.
        let err = load_mem(&[("other/train/pos/1_9.txt", b"x")]).unwrap_err();
        assert!(matches!(&err, LoadError::MissingFolders { missing, .. } if missing.len() == 4));
        // The same on disk.
        let d = temp_dir("missing");
        write_tree(&d, &entries);
        let err = load(&d).unwrap_err();
        assert!(matches!(&err, LoadError::MissingFolders { missing, .. } if missing.len() == 2));
        names(&err, "test/pos");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn empty_folder() {
        // A folder present only as a directory entry (archive) or empty directory (disk).
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in valid() {
            if !path.starts_with("aclImdb/train/pos/") {
                let mut h = tar::Header::new_gnu();
                h.set_size(data.len() as u64);
                h.set_cksum();
                b.append_data(&mut h, path, data).unwrap();
            }
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        h.set_cksum();
        b.append_data(&mut h, "aclImdb/train/pos/", io::empty())
            .unwrap();
        let bytes = gzip(&b.into_inner().unwrap());
        let err = load_archive_reader(bytes.as_slice(), Path::new("e.tar.gz")).unwrap_err();
        assert!(matches!(err, LoadError::Empty { .. }), "{err}");
        names(&err, "e.tar.gz");
        names(&err, "aclImdb/train/pos");
        let d = temp_dir("empty");
        write_tree(&d, &valid());
        std::fs::remove_dir_all(d.join("aclImdb/test/neg")).unwrap();
        std::fs::create_dir_all(d.join("aclImdb/test/neg")).unwrap();
        let err = load(&d).unwrap_err();
        assert!(matches!(err, LoadError::Empty { .. }), "{err}");
        names(&err, "test/neg");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn bad_entry_names() {
        for bad in [
            "aclImdb/train/pos/12.txt",
            "aclImdb/train/pos/12_8.text",
            "aclImdb/train/pos/a_8.txt",
            "aclImdb/train/pos/+1_8.txt",
            "aclImdb/train/pos/1_0.txt",
            "aclImdb/train/pos/1_11.txt",
            "aclImdb/train/pos/1_999.txt",
            "aclImdb/train/pos/99999999999_8.txt",
            "aclImdb/train/pos/_8.txt",
        ] {
            let mut entries = valid();
            entries.push((bad, b"text"));
            let err = load_mem(&entries).unwrap_err();
            assert!(
                matches!(&err, LoadError::BadEntryName { entry, .. } if entry == bad),
                "{bad}: {err}"
            );
            names(&err, "mem.tar.gz");
            names(&err, bad);
        }
        let d = temp_dir("badname");
        let mut entries = valid();
        entries.push(("aclImdb/test/pos/notes.md", b"x"));
        write_tree(&d, &entries);
        let err = load(&d).unwrap_err();
        assert!(matches!(err, LoadError::BadEntryName { .. }), "{err}");
        names(&err, "notes.md");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn duplicates() {
        let mut entries = valid();
        entries.push(("aclImdb/train/pos/3_9.txt", b"again"));
        let err = load_mem(&entries).unwrap_err();
        assert!(matches!(err, LoadError::DuplicateEntry { .. }), "{err}");
        names(&err, "aclImdb/train/pos/3_9.txt");
        names(&err, "aclImdb/train/pos/3_10.txt");
    }

    #[test]
    fn not_utf8() {
        let mut entries = valid();
        entries.push(("aclImdb/train/neg/9_3.txt", b"ok \xe9t\xe9"));
        let err = load_mem(&entries).unwrap_err();
        assert!(
            matches!(&err, LoadError::NotUtf8 { entry: Some(e), valid_up_to: 3, .. } if e == "aclImdb/train/neg/9_3.txt"),
            "{err}"
        );
        names(&err, "mem.tar.gz");
        let d = temp_dir("utf8");
        write_tree(&d, &entries);
        let err = load(&d).unwrap_err();
        assert!(matches!(err, LoadError::NotUtf8 { .. }), "{err}");
        names(&err, "9_3.txt");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn corrupt_gzip_and_tar() {
        let gz = targz(&valid());
        let cut = &gz[..gz.len() / 2];
        let err = load_archive_reader(cut, Path::new("cut.tar.gz")).unwrap_err();
        assert!(matches!(err, LoadError::CorruptGzip { .. }), "{err}");
        names(&err, "cut.tar.gz");
        let mut flipped = gz.clone();
        let n = flipped.len();
        flipped[n - 6] ^= 0x55; // CRC
        let err = load_archive_reader(flipped.as_slice(), Path::new("crc.tar.gz")).unwrap_err();
        assert!(matches!(err, LoadError::CorruptGzip { .. }), "{err}");
        names(&err, "crc.tar.gz");
        // A tar header with a wrong checksum.
        let mut t = tar_bytes(&valid());
        t[0] ^= 0x20;
        let err = load_archive_reader(gzip(&t).as_slice(), Path::new("hdr.tar.gz")).unwrap_err();
        assert!(matches!(err, LoadError::CorruptArchive { .. }), "{err}");
        names(&err, "hdr.tar.gz");
        // Entry data cut short inside an uncompressed tar.
        let t = tar_bytes(&valid());
        let err = load_archive_reader(&t[..512 + 4], Path::new("short.tar")).unwrap_err();
        assert!(matches!(err, LoadError::CorruptArchive { .. }), "{err}");
        names(&err, "short.tar");
        // Nothing at all: an empty file, not an archive lacking folders.
        let err = load_archive_reader(&[][..], Path::new("nil.tar")).unwrap_err();
        assert!(matches!(err, LoadError::EmptyFile { .. }), "{err}");
    }

    #[test]
    fn entry_names() {
        assert_eq!(parse_name("0_2.txt"), Ok((0, 2)));
        assert_eq!(parse_name("12499_10.txt"), Ok((12499, 10)));
        assert!(matches!(
            place("aclImdb/train/pos/1_2.txt"),
            Place::File(1, "1_2.txt")
        ));
        assert!(matches!(place("aclImdb/test/neg/"), Place::Folder(2)));
        assert!(matches!(
            place("aclImdb/train/unsup/1_0.txt"),
            Place::Ignore
        ));
        assert!(matches!(
            place("aclImdb/train/pos/sub/1_2.txt"),
            Place::Ignore
        ));
        assert!(matches!(
            place("x/aclImdb/train/pos/1_2.txt"),
            Place::Ignore
        ));
    }
}
