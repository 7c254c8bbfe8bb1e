//! Checksummed downloads (feature `download`, on by default).
//!
//! A download streams the body to a hidden temporary file next to the
//! destination while hashing it, checks the length announced by the server
//! and the expected checksum, and only then renames the file into place. A
//! file that fails any check is deleted: a corrupt or truncated download is
//! never kept.

use crate::checksum::Checksum;
use md5::Md5;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

/// Why one download attempt failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DownloadError {
    /// The server answered with an HTTP error status.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// URL tried.
        url: String,
        /// HTTP status code.
        status: u16,
    },
    /// The connection failed or broke off.
    #[error("cannot download {url}: {message}")]
    Transport {
        /// URL tried.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The body was shorter than the announced length.
    #[error("download of {url} was cut off after {received} of {expected} bytes")]
    Truncated {
        /// URL tried.
        url: String,
        /// Bytes announced by Content-Length.
        expected: u64,
        /// Bytes received.
        received: u64,
    },
    /// The file's checksum is not the published one.
    #[error(
        "download of {url} has {algorithm} {actual}, expected {expected}; the file was deleted"
    )]
    ChecksumMismatch {
        /// URL tried.
        url: String,
        /// `md5` or `sha256`.
        algorithm: &'static str,
        /// Published checksum.
        expected: String,
        /// Checksum of what was received.
        actual: String,
    },
    /// Writing the file failed.
    #[error("cannot write {path}: {message}")]
    Write {
        /// Destination.
        path: String,
        /// What went wrong.
        message: String,
    },
}

enum Hasher {
    Md5(Md5),
    Sha256(Sha256),
}

impl Hasher {
    fn new(checksum: &Checksum<'_>) -> Self {
        match checksum {
            Checksum::Md5(_) => Hasher::Md5(Md5::new()),
            Checksum::Sha256(_) => Hasher::Sha256(Sha256::new()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
        }
    }

    fn hex(self) -> String {
        let digest: Vec<u8> = match self {
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        };
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Hex checksum of a file on disk with the algorithm of `checksum`.
pub fn file_checksum(path: &Path, checksum: &Checksum<'_>) -> std::io::Result<String> {
    let mut hasher = Hasher::new(checksum);
    let mut file = fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.hex())
}

/// Downloads `url` to `dest`, verifying `checksum`. Returns the size in bytes.
pub fn download(url: &str, dest: &Path, checksum: &Checksum<'_>) -> Result<u64, DownloadError> {
    let write_err = |e: &dyn std::fmt::Display| DownloadError::Write {
        path: dest.display().to_string(),
        message: e.to_string(),
    };
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(20))
        .timeout_read(Duration::from_secs(60))
        .build();
    let response = agent.get(url).call();
    let response = match response {
        Ok(r) => r,
        Err(ureq::Error::Status(status, _)) => {
            return Err(DownloadError::Status {
                url: url.into(),
                status,
            })
        }
        Err(e) => {
            // ureq's message starts with the URL, which the error already names.
            let message = e.to_string();
            let message = message
                .strip_prefix(&format!("{url}: "))
                .unwrap_or(&message)
                .to_string();
            return Err(DownloadError::Transport {
                url: url.into(),
                message,
            });
        }
    };
    // Only now that the server is sending the file, create its folder.
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| write_err(&e))?;
    }
    let announced: Option<u64> = response
        .header("Content-Length")
        .and_then(|v| v.trim().parse().ok());
    let tmp = seqlab_io::temp_path_for(dest).map_err(|e| write_err(&e))?;
    let result = stream_to(response.into_reader(), &tmp, url, announced, checksum);
    match result {
        Ok(size) => {
            fs::rename(&tmp, dest).map_err(|e| {
                let _ = fs::remove_file(&tmp);
                write_err(&e)
            })?;
            Ok(size)
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn stream_to(
    mut body: impl Read,
    tmp: &Path,
    url: &str,
    announced: Option<u64>,
    checksum: &Checksum<'_>,
) -> Result<u64, DownloadError> {
    let write_err = |e: std::io::Error| DownloadError::Write {
        path: tmp.display().to_string(),
        message: e.to_string(),
    };
    let mut file = fs::File::create(tmp).map_err(write_err)?;
    let mut hasher = Hasher::new(checksum);
    let mut buf = vec![0u8; 1 << 16];
    let mut received = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => {
                return Err(DownloadError::Transport {
                    url: url.into(),
                    message: e.to_string(),
                })
            }
        };
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).map_err(write_err)?;
        received += n as u64;
    }
    if let Some(expected) = announced.filter(|&e| e != received) {
        return Err(DownloadError::Truncated {
            url: url.into(),
            expected,
            received,
        });
    }
    file.sync_all().map_err(write_err)?;
    let actual = hasher.hex();
    if !actual.eq_ignore_ascii_case(checksum.hex()) {
        return Err(DownloadError::ChecksumMismatch {
            url: url.into(),
            algorithm: checksum.algorithm(),
            expected: checksum.hex().to_string(),
            actual,
        });
    }
    Ok(received)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datadir::{DataDir, DataFile};
    use std::io::BufRead;
    use std::net::{TcpListener, TcpStream};
    use std::path::PathBuf;
    use std::time::Instant;

    const BODY: &[u8] = b"the quick brown fox jumps over the lazy dog\n";
    // md5 and sha256 of BODY, computed with coreutils md5sum and sha256sum.
    const BODY_MD5: &str = "1e280e1713df124d35709cf6138d9f91";
    const BODY_SHA256: &str = "1153a4080f1fcb04425aa0b841c2b14606fe6df25d9076d2a1face2d5af57129";

    /// A tiny HTTP/1.1 server on 127.0.0.1 that answers by path and stops by
    /// itself after `requests` connections or 20 seconds.
    fn serve(requests: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut served = 0;
            while served < requests && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        served += 1;
                        answer(stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        format!("http://{addr}")
    }

    fn answer(mut stream: TcpStream) {
        stream.set_nonblocking(false).unwrap();
        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                break;
            }
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_string();
        let header = |status: &str, len: usize| {
            format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
        };
        let _ = match path.as_str() {
            "/good" => stream.write_all(&[header("200 OK", BODY.len()).as_bytes(), BODY].concat()),
            "/altered" => stream.write_all(
                &[
                    header("200 OK", BODY.len()).as_bytes(),
                    &BODY.to_ascii_uppercase(),
                ]
                .concat(),
            ),
            // Announces 1000 bytes, sends 10, then closes.
            "/truncated" => {
                stream.write_all(&[header("200 OK", 1000).as_bytes(), &BODY[..10]].concat())
            }
            _ => stream.write_all(header("404 Not Found", 0).as_bytes()),
        };
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("seqlab-fetch-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn only_file(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn good_file_is_verified_and_kept() {
        let base = serve(2);
        let dir = scratch("good");
        let dest = dir.join("sub").join("a.txt");
        assert_eq!(
            download(&format!("{base}/good"), &dest, &Checksum::Md5(BODY_MD5)),
            Ok(BODY.len() as u64)
        );
        assert_eq!(fs::read(&dest).unwrap(), BODY);
        assert_eq!(
            file_checksum(&dest, &Checksum::Sha256("")).unwrap(),
            BODY_SHA256
        );
        let dest2 = dir.join("b.txt");
        download(
            &format!("{base}/good"),
            &dest2,
            &Checksum::Sha256(BODY_SHA256),
        )
        .unwrap();
        assert_eq!(only_file(&dir), vec!["b.txt", "sub"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wrong_checksum_truncation_and_404_keep_nothing() {
        let base = serve(3);
        let dir = scratch("bad");
        let dest = dir.join("a.txt");
        let err =
            download(&format!("{base}/altered"), &dest, &Checksum::Md5(BODY_MD5)).unwrap_err();
        assert!(
            matches!(err, DownloadError::ChecksumMismatch { ref expected, .. } if expected == BODY_MD5),
            "{err}"
        );
        assert!(err.to_string().contains("deleted"));
        let err = download(
            &format!("{base}/truncated"),
            &dest,
            &Checksum::Md5(BODY_MD5),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                DownloadError::Truncated {
                    expected: 1000,
                    received: 10,
                    ..
                }
            ),
            "{err}"
        );
        let err = download(
            &format!("{base}/nothing-here"),
            &dest,
            &Checksum::Md5(BODY_MD5),
        )
        .unwrap_err();
        assert!(
            matches!(err, DownloadError::Status { status: 404, .. }),
            "{err}"
        );
        assert!(
            only_file(&dir).is_empty(),
            "left behind: {:?}",
            only_file(&dir)
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn data_dir_fetch_downloads_missing_files_and_reports_every_url_tried() {
        let base = serve(3);
        let dir = scratch("fetch");
        let (missing, good) = (format!("{base}/missing"), format!("{base}/good"));
        let urls = [missing.as_str(), good.as_str()];
        let file = DataFile {
            name: "sub/a.txt",
            also: &["a.txt"],
            urls: &urls,
            checksum: Checksum::Md5(BODY_MD5),
        };
        // The first mirror answers 404, the second has the file.
        let path = DataDir::at(&dir).fetch(&file).unwrap();
        assert_eq!(path, dir.join("sub/a.txt"));
        assert_eq!(fs::read(&path).unwrap(), BODY);

        let truncated = format!("{base}/truncated");
        let bad = DataFile {
            name: "c.txt",
            also: &[],
            urls: &[truncated.as_str()],
            checksum: Checksum::Md5(BODY_MD5),
        };
        let err = DataDir::at(&dir).fetch(&bad).unwrap_err().to_string();
        for needle in [
            "c.txt",
            "cut off after 10 of 1000 bytes",
            &truncated,
            BODY_MD5,
            dir.to_str().unwrap(),
        ] {
            assert!(err.contains(needle), "{needle:?} not in {err}");
        }
        assert!(!dir.join("c.txt").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn connection_refused_is_a_transport_error() {
        // Bind then drop a listener to get a port nobody listens on.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = scratch("refused");
        let err = download(
            &format!("http://127.0.0.1:{port}/x"),
            &dir.join("x"),
            &Checksum::Md5(BODY_MD5),
        )
        .unwrap_err();
        assert!(matches!(err, DownloadError::Transport { .. }), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
