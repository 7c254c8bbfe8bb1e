//! MNIST handwritten digits from the IDX files (LeCun, Cortes, Burges).
//!
//! The four files keep their canonical names ([`TRAIN_IMAGES`],
//! [`TRAIN_LABELS`], [`TEST_IMAGES`], [`TEST_LABELS`]), each raw or
//! gzip-compressed. Compression is recognised by the gzip magic bytes
//! `1f 8b`, not by the file name, so a `.gz` name holding raw bytes (or the
//! reverse) loads as well. [`load_split`] looks in the given folder and in its
//! `mnist/` subfolder, for the raw name first, then the `.gz` name.
//!
//! Images become an [`Array`] of shape `[n, 28, 28]` with values
//! `byte / 255` in `[0, 1]`; row `r` of an image is time step `r` when the
//! image is read as a 28-step sequence of 28 features (the chapter's
//! autoencoders). Labels are the digits `0..=9` as `i64`.
//!
//! Integrity: [`verify_split`] compares the md5 of the *decompressed* content
//! with the canonical values. The md5 of the original `.gz` downloads is
//! given as well ([`CanonicalFile::gz_md5`]), but re-compressed copies (like
//! the project's shared offline copies) have other `.gz` bytes and the same
//! content, so only the content is a reliable check.
//!
//! ```
//! use seqlab_data::mnist;
//! use std::path::Path;
//! // Two 28x28 images and their labels, as IDX bytes.
//! let mut images = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28];
//! images.extend(std::iter::repeat(255u8).take(2 * 28 * 28));
//! let labels = vec![0, 0, 8, 1, 0, 0, 0, 2, 7, 3];
//! let m = mnist::Mnist::from_idx_bytes(&images, &labels, Path::new("img"), Path::new("lbl")).unwrap();
//! assert_eq!(m.images.shape(), &[2, 28, 28]);
//! assert_eq!(m.images.data()[0], 1.0);
//! assert_eq!(m.labels, vec![7, 3]);
//! assert_eq!(m.label_counts()[7], 1);
//! let ds = m.to_dataset().unwrap();
//! assert_eq!(ds.len(), 2);
//! ```

use crate::load_error::Kind;
use crate::{Array, DataError, Dataset, LoadError, Targets};
use flate2::read::MultiGzDecoder;
use md5::{Digest, Md5};
use std::fmt::{self, Write as _};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The two magic bytes that start every gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Rows of an MNIST image (= time steps when read as a sequence).
pub const ROWS: usize = 28;
/// Columns of an MNIST image (= features per time step).
pub const COLS: usize = 28;
/// Number of classes (digits 0 to 9).
pub const N_CLASSES: usize = 10;

/// One of the four canonical MNIST files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanonicalFile {
    /// File name without `.gz`, e.g. `train-images-idx3-ubyte`.
    pub name: &'static str,
    /// md5 of the decompressed content (lowercase hex).
    pub content_md5: &'static str,
    /// md5 of the original `.gz` download from the canonical site (lowercase hex);
    /// re-compressed copies differ.
    pub gz_md5: &'static str,
    /// Number of records (images or labels).
    pub records: usize,
}

/// Training images (60,000 x 28 x 28).
pub const TRAIN_IMAGES: CanonicalFile = CanonicalFile {
    name: "train-images-idx3-ubyte",
    content_md5: "6bbc9ace898e44ae57da46a324031adb",
    gz_md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    records: 60_000,
};
/// Training labels (60,000).
pub const TRAIN_LABELS: CanonicalFile = CanonicalFile {
    name: "train-labels-idx1-ubyte",
    content_md5: "a25bea736e30d166cdddb491f175f624",
    gz_md5: "d53e105ee54ea40749a09fcbcd1e9432",
    records: 60_000,
};
/// Test images (10,000 x 28 x 28).
pub const TEST_IMAGES: CanonicalFile = CanonicalFile {
    name: "t10k-images-idx3-ubyte",
    content_md5: "2646ac647ad5339dbf082846283269ea",
    gz_md5: "9fb629c4189551a2d022fa330f9573f3",
    records: 10_000,
};
/// Test labels (10,000).
pub const TEST_LABELS: CanonicalFile = CanonicalFile {
    name: "t10k-labels-idx1-ubyte",
    content_md5: "27ae3e4e09519cfbb04c329615203637",
    gz_md5: "ec29112dd5afa0611ce80d1b7f02629c",
    records: 10_000,
};
/// All four canonical files.
pub const FILES: [CanonicalFile; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];

/// Which half of MNIST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// The 60,000 training images.
    Train,
    /// The 10,000 test images (`t10k`).
    Test,
}

impl Split {
    /// The canonical image file of this split.
    pub fn images_file(self) -> &'static CanonicalFile {
        match self {
            Split::Train => &TRAIN_IMAGES,
            Split::Test => &TEST_IMAGES,
        }
    }

    /// The canonical label file of this split.
    pub fn labels_file(self) -> &'static CanonicalFile {
        match self {
            Split::Train => &TRAIN_LABELS,
            Split::Test => &TEST_LABELS,
        }
    }

    /// Number of images in the canonical split (60,000 or 10,000).
    pub fn canonical_len(self) -> usize {
        self.images_file().records
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Test => "test",
        })
    }
}

/// The content of an IDX image file: `count` images of `rows x cols` bytes, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// `count * rows * cols` pixel bytes (0 = background, 255 = ink).
    pub pixels: Vec<u8>,
}

/// One MNIST split in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist {
    /// Shape `[n, 28, 28]`, values `byte / 255` in `[0, 1]`; row `r` of an
    /// image is time step `r`.
    pub images: Array,
    /// The digit of each image, `0..=9`.
    pub labels: Vec<i64>,
}

impl Mnist {
    /// Parses an image file and a label file already in memory (decompressed),
    /// checks that the images are 28x28, that the counts agree and that there
    /// is at least one image. The paths are only used in error messages.
    pub fn from_idx_bytes(
        images: &[u8],
        labels: &[u8],
        images_path: &Path,
        labels_path: &Path,
    ) -> Result<Self, LoadError> {
        let idx = parse_idx_images(images, images_path)?;
        let labels = parse_idx_labels(labels, labels_path)?;
        Self::from_idx(idx, labels, images_path, labels_path)
    }

    /// Builds a split from parsed IDX content, with the same checks as
    /// [`Mnist::from_idx_bytes`].
    pub fn from_idx(
        images: IdxImages,
        labels: Vec<u8>,
        images_path: &Path,
        labels_path: &Path,
    ) -> Result<Self, LoadError> {
        if images.rows != ROWS || images.cols != COLS {
            return Err(LoadError::DimensionMismatch {
                path: images_path.to_path_buf(),
                expected: format!("{ROWS}x{COLS} images"),
                found: format!("{}x{} images", images.rows, images.cols),
            });
        }
        if images.count != labels.len() {
            return Err(LoadError::CountMismatch {
                images: images_path.to_path_buf(),
                n_images: images.count,
                labels: labels_path.to_path_buf(),
                n_labels: labels.len(),
            });
        }
        if images.count == 0 {
            return Err(LoadError::Empty {
                path: images_path.to_path_buf(),
                what: "images".into(),
            });
        }
        let data: Vec<f32> = images
            .pixels
            .iter()
            .map(|&b| f32::from(b) / 255.0)
            .collect();
        let images = Array::new(data, vec![images.count, ROWS, COLS]).map_err(|e| {
            LoadError::DimensionMismatch {
                path: images_path.to_path_buf(),
                expected: format!("{} x {ROWS} x {COLS} pixels", images.count),
                found: e.to_string(),
            }
        })?;
        Ok(Self {
            images,
            labels: labels.into_iter().map(i64::from).collect(),
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True if there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The 28x28 values of image `i` (row-major), or `None` if out of range.
    pub fn image(&self, i: usize) -> Option<&[f32]> {
        self.images.get_row(i).ok()
    }

    /// Images as inputs (`[n, 28, 28]`) and digits as class targets.
    pub fn to_dataset(&self) -> Result<Dataset, DataError> {
        Dataset::new(self.images.clone(), Targets::Classes(self.labels.clone()))
    }

    /// Like [`Mnist::to_dataset`] without copying.
    pub fn into_dataset(self) -> Result<Dataset, DataError> {
        Dataset::new(self.images, Targets::Classes(self.labels))
    }

    /// Number of images of each digit (labels outside `0..=9` are not counted).
    pub fn label_counts(&self) -> [usize; N_CLASSES] {
        let mut counts = [0usize; N_CLASSES];
        for &l in &self.labels {
            if let Some(c) = usize::try_from(l).ok().and_then(|l| counts.get_mut(l)) {
                *c += 1;
            }
        }
        counts
    }
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

fn check_magic(bytes: &[u8], path: &Path, expected: u32, header: u64) -> Result<(), LoadError> {
    let found = be_u32(bytes, 0).ok_or_else(|| LoadError::Truncated {
        path: path.to_path_buf(),
        part: "header",
        expected: header,
        actual: bytes.len() as u64,
    })?;
    if found != expected {
        return Err(LoadError::BadMagic {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    if (bytes.len() as u64) < header {
        return Err(LoadError::Truncated {
            path: path.to_path_buf(),
            part: "header",
            expected: header,
            actual: bytes.len() as u64,
        });
    }
    Ok(())
}

/// Checks that `bytes` holds exactly `header + payload` bytes.
fn check_size(bytes: &[u8], path: &Path, header: u64, payload: u128) -> Result<(), LoadError> {
    let expected = u128::from(header) + payload;
    let actual = bytes.len() as u64;
    let expected_u64 = u64::try_from(expected).unwrap_or(u64::MAX);
    if u128::from(actual) < expected {
        return Err(LoadError::Truncated {
            path: path.to_path_buf(),
            part: "data",
            expected: expected_u64,
            actual,
        });
    }
    if u128::from(actual) > expected {
        return Err(LoadError::TrailingData {
            path: path.to_path_buf(),
            expected: expected_u64,
            actual,
        });
    }
    Ok(())
}

/// Parses an IDX image file (decompressed): magic `0x00000803`, then the
/// big-endian `u32` count, rows and columns, then exactly
/// `count * rows * cols` pixel bytes. Any size is accepted here; the 28x28
/// check is in [`Mnist::from_idx`]. `path` is only used in error messages.
pub fn parse_idx_images(bytes: &[u8], path: &Path) -> Result<IdxImages, LoadError> {
    const HEADER: u64 = 16;
    check_magic(bytes, path, IMAGES_MAGIC, HEADER)?;
    let field = |at| {
        be_u32(bytes, at).ok_or_else(|| LoadError::Truncated {
            path: path.to_path_buf(),
            part: "header",
            expected: HEADER,
            actual: bytes.len() as u64,
        })
    };
    let (count, rows, cols) = (field(4)?, field(8)?, field(12)?);
    let payload = u128::from(count) * u128::from(rows) * u128::from(cols);
    check_size(bytes, path, HEADER, payload)?;
    // The size check bounds every product by bytes.len(), so the casts are lossless.
    Ok(IdxImages {
        count: count as usize,
        rows: rows as usize,
        cols: cols as usize,
        pixels: bytes.get(HEADER as usize..).unwrap_or_default().to_vec(),
    })
}

/// Parses an IDX label file (decompressed): magic `0x00000801`, the
/// big-endian `u32` count, then exactly `count` label bytes, each `0..=9`.
/// `path` is only used in error messages.
pub fn parse_idx_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, LoadError> {
    const HEADER: u64 = 8;
    check_magic(bytes, path, LABELS_MAGIC, HEADER)?;
    let count = be_u32(bytes, 4).ok_or_else(|| LoadError::Truncated {
        path: path.to_path_buf(),
        part: "header",
        expected: HEADER,
        actual: bytes.len() as u64,
    })?;
    check_size(bytes, path, HEADER, u128::from(count))?;
    let labels = bytes.get(HEADER as usize..).unwrap_or_default();
    let max = (N_CLASSES - 1) as u8;
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l > max) {
        return Err(LoadError::InvalidLabel {
            path: path.to_path_buf(),
            index,
            label,
            max,
        });
    }
    Ok(labels.to_vec())
}

/// True if `bytes` starts with the gzip magic bytes `1f 8b`.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// The most bytes an IDX file may decompress to (MNIST's largest is 47 MB).
pub const MAX_IDX_BYTES: u64 = 1 << 30;

/// The size an IDX header declares (magic `00 00 type ndims`, then `ndims`
/// big-endian `u32` sizes): header plus `product of sizes × element size`.
/// `None` if `head` is not the start of an IDX header.
fn idx_declared_size(head: &[u8]) -> Option<u64> {
    let (&ty, &ndims) = (head.get(2)?, head.get(3)?);
    if head.first() != Some(&0) || head.get(1) != Some(&0) || ndims == 0 {
        return None;
    }
    let elem: u64 = match ty {
        0x08 | 0x09 => 1,
        0x0B => 2,
        0x0C | 0x0D => 4,
        0x0E => 8,
        _ => return None,
    };
    let mut n: u64 = elem;
    for d in 0..usize::from(ndims) {
        let size = be_u32(head, 4 + 4 * d)?;
        n = n.checked_mul(u64::from(size))?;
    }
    n.checked_add(4 + 4 * u64::from(ndims))
}

/// Decompresses `bytes` if they are gzip data (by the magic bytes), else
/// returns them unchanged. Concatenated gzip members are all decompressed.
/// Inflation stops at the size the IDX header in the first bytes declares
/// (at most [`MAX_IDX_BYTES`]): a small file that would inflate to
/// gigabytes is an error before it fills memory. `path` is only used in
/// error messages.
pub fn gunzip_if_needed(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>, LoadError> {
    if !is_gzip(&bytes) {
        return Ok(bytes);
    }
    let corrupt = |e: std::io::Error| LoadError::CorruptGzip {
        path: path.to_path_buf(),
        entry: None,
        reason: e.to_string(),
    };
    let mut decoder = MultiGzDecoder::new(bytes.as_slice());
    // The header first (magic and up to 4 sizes), then what it declares.
    let mut out = Vec::new();
    (&mut decoder)
        .take(4)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    let ndims = u64::from(out.get(3).copied().unwrap_or(0).min(4));
    (&mut decoder)
        .take(4 * ndims)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    let (limit, why) = match idx_declared_size(&out) {
        Some(n) if n <= MAX_IDX_BYTES => (n, "the size its IDX header declares".to_string()),
        Some(n) => {
            return Err(LoadError::InflatesTooFar {
                path: path.to_path_buf(),
                entry: None,
                limit: MAX_IDX_BYTES,
                why: format!("and its IDX header declares {n} bytes"),
            })
        }
        None => (MAX_IDX_BYTES, "the most an IDX file may hold".to_string()),
    };
    let have = out.len() as u64;
    (&mut decoder)
        .take((limit + 1).saturating_sub(have))
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    if out.len() as u64 > limit {
        return Err(LoadError::InflatesTooFar {
            path: path.to_path_buf(),
            entry: None,
            limit,
            why,
        });
    }
    // Drain the rest of the stream (nothing, for a valid file) so that a bad CRC is still seen.
    let mut rest = [0u8; 1];
    match decoder.read(&mut rest).map_err(corrupt)? {
        0 => Ok(out),
        _ => Err(LoadError::InflatesTooFar {
            path: path.to_path_buf(),
            entry: None,
            limit,
            why,
        }),
    }
}

/// Reads a file and decompresses it if it is gzip data (decided by the magic
/// bytes `1f 8b`, not by the name).
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| LoadError::io(path, e))?;
    if bytes.is_empty() {
        return Err(LoadError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    gunzip_if_needed(bytes, path)
}

/// The lowercase hex md5 of `bytes`.
pub fn content_md5(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .fold(String::with_capacity(32), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Finds `name` (raw) or `name.gz` in `dir` or in `dir/mnist`, in that order.
/// The error lists every candidate tried.
pub fn find_file(dir: &Path, name: &str) -> Result<PathBuf, LoadError> {
    let gz = format!("{name}.gz");
    let sub = dir.join("mnist");
    let tried = vec![dir.join(name), dir.join(&gz), sub.join(name), sub.join(&gz)];
    if let Some(e) = LoadError::wrong_kind(dir, Kind::Folder, "a folder (the MNIST data directory)")
    {
        return Err(e);
    }
    if let Some(p) = tried.iter().find(|p| p.is_file()) {
        return Ok(p.clone());
    }
    // A candidate that exists as a folder (or a device) is named, not
    // reported as missing.
    if let Some(e) = tried
        .iter()
        .find_map(|p| LoadError::wrong_kind(p, Kind::File, format!("a file (MNIST file {name})")))
    {
        return Err(e);
    }
    Err(LoadError::MissingFile {
        what: format!("MNIST file {name}"),
        tried,
    })
}

/// The image file and the label file of `split` in `dir` (see [`find_file`]).
pub fn locate(dir: &Path, split: Split) -> Result<(PathBuf, PathBuf), LoadError> {
    Ok((
        find_file(dir, split.images_file().name)?,
        find_file(dir, split.labels_file().name)?,
    ))
}

/// Loads one split from `dir` (or `dir/mnist`), raw or gzip-compressed.
///
/// Checks the IDX headers, that the images are 28x28, that the image and
/// label counts agree, that labels are `0..=9` and that the split is not
/// empty. It does not check checksums; see [`verify_split`].
pub fn load_split(dir: &Path, split: Split) -> Result<Mnist, LoadError> {
    let (images_path, labels_path) = locate(dir, split)?;
    let images = read_maybe_gzip(&images_path)?;
    let labels = read_maybe_gzip(&labels_path)?;
    Mnist::from_idx_bytes(&images, &labels, &images_path, &labels_path)
}

/// Checks the md5 of the decompressed content of a file against `canonical`.
pub fn verify_file(path: &Path, canonical: &CanonicalFile) -> Result<(), LoadError> {
    let actual = content_md5(&read_maybe_gzip(path)?);
    if actual != canonical.content_md5 {
        return Err(LoadError::Checksum {
            path: path.to_path_buf(),
            algorithm: "md5",
            expected: canonical.content_md5.to_string(),
            actual,
        });
    }
    Ok(())
}

/// Checks that both files of `split` in `dir` (or `dir/mnist`) hold the
/// canonical content (md5 of the decompressed bytes).
pub fn verify_split(dir: &Path, split: Split) -> Result<(), LoadError> {
    let (images_path, labels_path) = locate(dir, split)?;
    verify_file(&images_path, split.images_file())?;
    verify_file(&labels_path, split.labels_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
        let mut b = IMAGES_MAGIC.to_be_bytes().to_vec();
        for v in [n, rows, cols] {
            b.extend(v.to_be_bytes());
        }
        b.extend((0..n * rows * cols).map(|i| (i % 256) as u8));
        b
    }

    fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut b = LABELS_MAGIC.to_be_bytes().to_vec();
        b.extend((labels.len() as u32).to_be_bytes());
        b.extend(labels);
        b
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn a_folder_a_file_or_nothing_where_data_belongs_is_named_for_what_it_is() {
        let dir = temp_dir("kinds");
        let name = TRAIN_IMAGES.name;
        // A folder where the image file belongs.
        std::fs::create_dir_all(dir.join("mnist").join(name)).unwrap();
        let err = find_file(&dir, name).unwrap_err();
        assert!(
            matches!(
                &err,
                LoadError::WrongKind {
                    found: "a folder",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("not a file (MNIST file train-images"),
            "{err}"
        );
        // A file where the data directory belongs.
        let file = dir.join("plain");
        std::fs::write(&file, b"x").unwrap();
        let err = find_file(&file, name).unwrap_err();
        assert!(
            matches!(
                &err,
                LoadError::WrongKind {
                    found: "a file",
                    ..
                }
            ),
            "{err}"
        );
        // An empty file.
        let empty = dir.join("empty.gz");
        std::fs::write(&empty, b"").unwrap();
        let err = read_maybe_gzip(&empty).unwrap_err();
        assert!(matches!(&err, LoadError::EmptyFile { .. }), "{err}");
        // Nothing at all: still "not found".
        let err = find_file(&dir.join("none"), name).unwrap_err();
        assert!(matches!(&err, LoadError::MissingFile { .. }), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("seqlab-mnist-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn p(s: &str) -> &Path {
        Path::new(s)
    }

    fn names(err: &LoadError, file: &str) {
        assert!(err.to_string().contains(file), "{err} does not name {file}");
    }

    #[test]
    fn parses_images_and_labels() {
        let img = parse_idx_images(&idx_images(3, 2, 4), p("i")).unwrap();
        assert_eq!((img.count, img.rows, img.cols), (3, 2, 4));
        assert_eq!(img.pixels.len(), 24);
        assert_eq!(img.pixels[23], 23);
        assert_eq!(
            parse_idx_labels(&idx_labels(&[0, 9, 5]), p("l")).unwrap(),
            [0, 9, 5]
        );
        // Zero records is a valid IDX file; emptiness is checked when building a split.
        assert_eq!(
            parse_idx_labels(&idx_labels(&[]), p("l")).unwrap(),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn wrong_magic() {
        let err = parse_idx_images(&idx_labels(&[1]), p("imgs.idx")).unwrap_err();
        assert!(matches!(
            err,
            LoadError::BadMagic {
                expected: IMAGES_MAGIC,
                found: LABELS_MAGIC,
                ..
            }
        ));
        names(&err, "imgs.idx");
        assert!(err.to_string().contains("0x00000803"));
        let err = parse_idx_labels(&idx_images(1, 1, 1), p("lbl.idx")).unwrap_err();
        assert!(matches!(
            err,
            LoadError::BadMagic {
                found: IMAGES_MAGIC,
                ..
            }
        ));
        names(&err, "lbl.idx");
    }

    #[test]
    fn truncated_header() {
        for len in [0, 3, 4, 15] {
            let bytes = &idx_images(1, 28, 28)[..len];
            let err = parse_idx_images(bytes, p("short.idx")).unwrap_err();
            match &err {
                LoadError::Truncated {
                    part,
                    expected,
                    actual,
                    ..
                } => assert_eq!((*part, *expected, *actual), ("header", 16, len as u64)),
                e => panic!("unexpected {e}"),
            }
            names(&err, "short.idx");
        }
        let err = parse_idx_labels(&idx_labels(&[1])[..6], p("short-l")).unwrap_err();
        assert!(matches!(
            err,
            LoadError::Truncated {
                part: "header",
                expected: 8,
                actual: 6,
                ..
            }
        ));
        names(&err, "short-l");
    }

    #[test]
    fn truncated_data_and_trailing_bytes() {
        let full = idx_images(2, 28, 28);
        let err = parse_idx_images(&full[..full.len() - 1], p("cut.idx")).unwrap_err();
        assert!(matches!(
            err,
            LoadError::Truncated {
                part: "data",
                expected: 1584,
                actual: 1583,
                ..
            }
        ));
        names(&err, "cut.idx");
        let mut long = full.clone();
        long.push(0);
        let err = parse_idx_images(&long, p("long.idx")).unwrap_err();
        assert!(matches!(
            err,
            LoadError::TrailingData {
                expected: 1584,
                actual: 1585,
                ..
            }
        ));
        names(&err, "long.idx");
        let err = parse_idx_labels(&idx_labels(&[1, 2])[..9], p("cut-l")).unwrap_err();
        assert!(matches!(
            err,
            LoadError::Truncated {
                part: "data",
                expected: 10,
                actual: 9,
                ..
            }
        ));
        // A header claiming 2^96 bytes neither overflows nor allocates.
        let mut huge = IMAGES_MAGIC.to_be_bytes().to_vec();
        huge.extend([0xff; 12]);
        let err = parse_idx_images(&huge, p("huge")).unwrap_err();
        assert!(matches!(
            err,
            LoadError::Truncated {
                expected: u64::MAX,
                actual: 16,
                ..
            }
        ));
    }

    #[test]
    fn label_out_of_range() {
        let err = parse_idx_labels(&idx_labels(&[3, 9, 10]), p("lbl")).unwrap_err();
        assert!(matches!(
            err,
            LoadError::InvalidLabel {
                index: 2,
                label: 10,
                max: 9,
                ..
            }
        ));
        names(&err, "lbl");
    }

    #[test]
    fn split_checks() {
        let err = Mnist::from_idx_bytes(
            &idx_images(2, 28, 27),
            &idx_labels(&[1, 2]),
            p("img"),
            p("lbl"),
        )
        .unwrap_err();
        assert!(matches!(err, LoadError::DimensionMismatch { .. }));
        names(&err, "img");
        assert!(err.to_string().contains("28x27"));
        let err = Mnist::from_idx_bytes(
            &idx_images(2, 28, 28),
            &idx_labels(&[1, 2, 3]),
            p("img"),
            p("lbl"),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            LoadError::CountMismatch {
                n_images: 2,
                n_labels: 3,
                ..
            }
        ));
        names(&err, "img");
        names(&err, "lbl");
        let err =
            Mnist::from_idx_bytes(&idx_images(0, 28, 28), &idx_labels(&[]), p("img"), p("lbl"))
                .unwrap_err();
        assert!(matches!(err, LoadError::Empty { .. }));
        names(&err, "img");
        let m = Mnist::from_idx_bytes(
            &idx_images(2, 28, 28),
            &idx_labels(&[4, 4]),
            p("img"),
            p("lbl"),
        )
        .unwrap();
        assert_eq!(m.len(), 2);
        assert!(!m.is_empty());
        assert_eq!(m.image(1).unwrap()[0], (784 % 256) as f32 / 255.0);
        assert!(m.image(2).is_none());
        assert_eq!(m.label_counts(), [0, 0, 0, 0, 2, 0, 0, 0, 0, 0]);
        let ds = m.into_dataset().unwrap();
        assert_eq!(ds.inputs().shape(), &[2, 28, 28]);
    }

    #[test]
    fn gzip_detected_by_magic() {
        let raw = idx_labels(&[1, 2, 3]);
        assert_eq!(gunzip_if_needed(raw.clone(), p("x")).unwrap(), raw);
        assert_eq!(gunzip_if_needed(gzip(&raw), p("x")).unwrap(), raw);
        // Two concatenated gzip members.
        let mut two = gzip(&raw[..5]);
        two.extend(gzip(&raw[5..]));
        assert_eq!(gunzip_if_needed(two, p("x")).unwrap(), raw);
    }

    #[test]
    fn inflation_stops_at_the_size_the_idx_header_declares() {
        // A valid 2-label header followed by 20 MB of zeros: stopped after 11 bytes.
        let mut bomb = idx_labels(&[1, 2]);
        bomb.extend(std::iter::repeat_n(0u8, 20 << 20));
        let gz = gzip(&bomb);
        assert!(
            gz.len() < 100_000,
            "the test's bomb should be small: {}",
            gz.len()
        );
        let err = gunzip_if_needed(gz, p("bomb.gz")).unwrap_err();
        assert!(
            matches!(err, LoadError::InflatesTooFar { limit: 10, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("bomb.gz") && err.to_string().contains("IDX header"));
        // A header that declares more than any IDX file may hold is refused at once.
        let mut huge = IMAGES_MAGIC.to_be_bytes().to_vec();
        for d in [60_000u32, 60_000, 60_000] {
            huge.extend(d.to_be_bytes());
        }
        let err = gunzip_if_needed(gzip(&huge), p("huge.gz")).unwrap_err();
        assert!(matches!(err, LoadError::InflatesTooFar { .. }), "{err}");
        assert!(
            err.to_string().contains("declares 216000000000016 bytes"),
            "{err}"
        );
    }

    #[test]
    fn corrupt_gzip() {
        let gz = gzip(&idx_images(3, 28, 28));
        let cases: Vec<Vec<u8>> = vec![
            gz[..gz.len() / 2].to_vec(), // cut short
            gz[..gz.len() - 4].to_vec(), // trailer missing
            {
                let mut g = gz.clone();
                let n = g.len();
                g[n - 6] ^= 0xff; // CRC mismatch
                g
            },
            {
                let mut g = gz.clone();
                g[12..20].fill(0xff); // bad deflate data
                g
            },
            vec![0x1f, 0x8b], // magic only
        ];
        for (i, bytes) in cases.into_iter().enumerate() {
            let err = gunzip_if_needed(bytes, p("bad.gz")).unwrap_err();
            assert!(
                matches!(err, LoadError::CorruptGzip { .. }),
                "case {i}: {err}"
            );
            names(&err, "bad.gz");
        }
    }

    #[test]
    fn load_and_verify_from_disk() {
        let d = temp_dir("load");
        let imgs = idx_images(3, 28, 28);
        let lbls = idx_labels(&[0, 1, 9]);
        // Raw names in dir/mnist, gzip content under a name without .gz.
        std::fs::create_dir_all(d.join("mnist")).unwrap();
        std::fs::write(d.join("mnist").join(TEST_IMAGES.name), gzip(&imgs)).unwrap();
        std::fs::write(d.join(format!("{}.gz", TEST_LABELS.name)), &lbls).unwrap();
        let m = load_split(&d, Split::Test).unwrap();
        assert_eq!(m.labels, vec![0, 1, 9]);
        assert_eq!(m.images.shape(), &[3, 28, 28]);
        let err = verify_split(&d, Split::Test).unwrap_err();
        match &err {
            LoadError::Checksum {
                expected, actual, ..
            } => {
                assert_eq!(expected, TEST_IMAGES.content_md5);
                assert_eq!(actual, &content_md5(&imgs));
            }
            e => panic!("unexpected {e}"),
        }
        names(&err, TEST_IMAGES.name);
        // Missing files list every candidate.
        let err = load_split(&d, Split::Train).unwrap_err();
        assert!(matches!(&err, LoadError::MissingFile { tried, .. } if tried.len() == 4));
        let msg = err.to_string();
        assert!(msg.contains("train-images-idx3-ubyte.gz"), "{msg}");
        assert!(msg.contains(
            &d.join("mnist")
                .join("train-images-idx3-ubyte")
                .display()
                .to_string()
        ));
        // A corrupt gzip file on disk.
        std::fs::write(
            d.join(format!("{}.gz", TRAIN_IMAGES.name)),
            [0x1f, 0x8b, 8, 0, 1, 2],
        )
        .unwrap();
        std::fs::write(d.join(TRAIN_LABELS.name), &lbls).unwrap();
        let err = load_split(&d, Split::Train).unwrap_err();
        assert!(matches!(err, LoadError::CorruptGzip { .. }));
        names(&err, TRAIN_IMAGES.name);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn md5_hex() {
        assert_eq!(content_md5(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(content_md5(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(Split::Train.to_string(), "train");
        assert_eq!(Split::Test.canonical_len(), 10_000);
    }
}
