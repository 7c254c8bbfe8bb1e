//! A file tree described by bytes, written under a scratch folder and packed
//! as a tar archive, for checking the folder loader against the archive
//! loader. Depends on std, `tar` and seqlab-data only, so that seqlab-data's stable test
//! of the seed corpus can include this file as a module.
//!
//! [`check_folder`] is the `imdb_folder` fuzz target's check.
//!
//! Format: records separated by `\0`; each record is `path \x01 content`
//! (no `\x01`: empty content). A path ending in `/` is a folder (its
//! content is ignored). Path components that are empty, `.` or `..` are
//! dropped, so everything stays under the scratch folder; at most
//! [`MAX_DEPTH`] components of at most [`MAX_COMPONENT`] bytes are kept.

use seqlab_data::imdb;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The most components a path keeps.
pub const MAX_DEPTH: usize = 6;
/// The most bytes a path component keeps (file systems allow 255).
pub const MAX_COMPONENT: usize = 200;

/// One file or folder of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Relative path, `/`-separated, without empty, `.` or `..` components.
    pub path: Vec<u8>,
    /// `None` for a folder.
    pub content: Option<Vec<u8>>,
}

/// Splits the input into records (see the module docs).
pub fn parse(data: &[u8]) -> Vec<Record> {
    data.split(|&b| b == 0)
        .filter_map(|rec| {
            let (path, content) = match rec.iter().position(|&b| b == 1) {
                Some(i) => (&rec[..i], &rec[i + 1..]),
                None => (rec, &[][..]),
            };
            let folder = path.ends_with(b"/");
            let parts: Vec<&[u8]> = path
                .split(|&b| b == b'/')
                .filter(|c| !c.is_empty() && *c != b"." && *c != b"..")
                .take(MAX_DEPTH)
                .map(|c| &c[..c.len().min(MAX_COMPONENT)])
                .collect();
            if parts.is_empty() {
                return None;
            }
            Some(Record {
                path: parts.join(&b'/'),
                content: (!folder).then(|| content.to_vec()),
            })
        })
        .collect()
}

/// A scratch folder of this process, emptied on creation and removed on drop.
pub struct Scratch {
    root: PathBuf,
}

impl Scratch {
    /// `<temp>/seqlab-fuzz-<name>-<pid>`, empty.
    pub fn new(name: &str) -> Self {
        let root = std::env::temp_dir().join(format!("seqlab-fuzz-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let _ = std::fs::create_dir_all(&root);
        Self { root }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes the records in order and returns what the tree then holds:
    /// the records that could be created (a file below a path that is a
    /// file, or a file over a folder, cannot), in first-creation order, with
    /// each file's last content (a later record for the same file
    /// overwrites it, as on disk).
    pub fn write(&self, records: &[Record]) -> Vec<Record> {
        let mut out: Vec<Record> = Vec::new();
        for rec in records {
            let path = self.root.join(OsStr::from_bytes(&rec.path));
            let ok = match &rec.content {
                None => std::fs::create_dir_all(&path).is_ok(),
                Some(bytes) => {
                    path.parent()
                        .is_some_and(|p| std::fs::create_dir_all(p).is_ok())
                        && std::fs::write(&path, bytes).is_ok()
                }
            };
            if !ok {
                continue;
            }
            // Folders created on the way to this path are part of the tree too.
            let mut prefix = Vec::new();
            let parts: Vec<&[u8]> = rec.path.split(|&b| b == b'/').collect();
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    prefix.push(b'/');
                }
                prefix.extend_from_slice(part);
                let last = i + 1 == parts.len();
                let content = if last { rec.content.clone() } else { None };
                match out.iter_mut().find(|r| r.path == prefix) {
                    Some(r) => {
                        if last && content.is_some() {
                            r.content = content;
                        }
                    }
                    None => out.push(Record {
                        path: prefix.clone(),
                        content,
                    }),
                }
            }
        }
        out
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The records as a plain tar archive (folders as folder entries, GNU long
/// names where a path needs them), in the given order; `None` for a path
/// the `tar` crate cannot write (some long non-UTF-8 names, whose
/// truncated header name would be empty).
pub fn tar_of(records: &[Record]) -> Option<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    for rec in records {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        let path = Path::new(OsStr::from_bytes(&rec.path));
        let result = match &rec.content {
            None => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                b.append_data(&mut h, path, std::io::empty())
            }
            Some(bytes) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(bytes.len() as u64);
                b.append_data(&mut h, path, bytes.as_slice())
            }
        };
        result.ok()?;
    }
    b.into_inner().ok()
}

/// Builds the tree of `data` under a scratch folder, loads it with
/// `imdb::load_folder` and, packed as a tar archive, with
/// `imdb::load_archive_reader`, and checks that both give the same outcome
/// (the same reviews, or an error each) and that the folder's error names
/// the folder. Panics on a violation; returns the folder's outcome.
pub fn check_folder(data: &[u8]) -> Result<imdb::Imdb, seqlab_data::LoadError> {
    let records = parse(data);
    let scratch = Scratch::new("imdb-folder");
    let written = scratch.write(&records);
    let from_folder = imdb::load_folder(scratch.root());
    // The folder loader takes `aclImdb` or its parent; an archive's entries
    // always start with `aclImdb/`. Pack the tree as the folder loader reads it.
    let written = if scratch.root().join("aclImdb").is_dir() {
        written
    } else {
        let mut nested = vec![Record {
            path: b"aclImdb".to_vec(),
            content: None,
        }];
        nested.extend(written.into_iter().map(|r| Record {
            path: [&b"aclImdb/"[..], &r.path].concat(),
            content: r.content,
        }));
        nested
    };
    // The folder's error names the folder, whatever the archive does.
    if let Err(e) = &from_folder {
        let root = scratch.root().display().to_string();
        assert!(e.to_string().contains(&root), "{e} does not name {root}");
    }
    // What tar cannot pack is checked without the comparison.
    let Some(archive) = tar_of(&written) else {
        return from_folder;
    };
    let from_archive = imdb::load_archive_reader(archive.as_slice(), Path::new("fuzz.tar"));
    match (&from_folder, &from_archive) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the folder and the archive load different reviews"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!(
            "the folder and the archive disagree:\n  folder: {:?}\n  archive: {:?}",
            a.as_ref().map(|d| (d.train.len(), d.test.len())),
            b.as_ref().map(|d| (d.train.len(), d.test.len()))
        ),
    }
    from_folder
}
