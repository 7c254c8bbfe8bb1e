//! A published checksum of a data file (MD5 or SHA-256, as hex): what the
//! data directory expects and what a download is checked against.

use std::fmt;

/// A published checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum<'a> {
    /// MD5, as hex.
    Md5(&'a str),
    /// SHA-256, as hex.
    Sha256(&'a str),
}

impl Checksum<'_> {
    /// The hex digest.
    pub fn hex(&self) -> &str {
        match self {
            Checksum::Md5(h) | Checksum::Sha256(h) => h,
        }
    }

    /// `md5` or `sha256`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            Checksum::Md5(_) => "md5",
            Checksum::Sha256(_) => "sha256",
        }
    }
}

impl fmt::Display for Checksum<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm(), self.hex())
    }
}
