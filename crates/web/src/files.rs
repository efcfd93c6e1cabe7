//! Uploaded files (上传材料): stored on disk under their SHA-256, so that one file
//! uploaded twice is stored once and a stored file never changes. A file is written to
//! a temporary name, synced, renamed into place and its directory synced before its id
//! is handed out: an acknowledged upload survives a crash.
//!
//! Who may read a file is decided by the case that names it (see the download handlers):
//! an id alone opens nothing.

use std::io::Write;
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use tongban_core::case::MaterialLine;
use tongban_core::case::action::MaterialInput;
use tongban_core::{Error, Result};

/// Largest file accepted (10 MiB: a scanned A4 page at 300 dpi is well under 2 MiB).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// The kinds of file accepted, told by their first bytes (not by their name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// PDF.
    Pdf,
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
}

impl FileType {
    /// The type of `bytes`, if accepted.
    pub fn sniff(bytes: &[u8]) -> Option<FileType> {
        if bytes.starts_with(b"%PDF-") {
            Some(FileType::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileType::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileType::Png)
        } else {
            None
        }
    }

    /// Its media type.
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
        }
    }

    /// A file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Jpeg => "jpg",
            FileType::Png => "png",
        }
    }
}

/// Check an upload for `field`: not empty, not too large, an accepted type.
pub fn check(field: &str, bytes: &[u8]) -> Result<FileType> {
    if bytes.is_empty() {
        return Err(Error::field(field, "文件为空"));
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::field(
            field,
            format!(
                "文件过大（{:.1} MB），单个文件不得超过 10 MB",
                bytes.len() as f64 / 1048576.0
            ),
        ));
    }
    FileType::sniff(bytes).ok_or_else(|| {
        Error::field(
            field,
            "文件类型不支持，请上传 PDF、JPG 或 PNG 格式的扫描件或照片",
        )
    })
}

/// True for a well-formed file id (64 lowercase hex digits).
pub fn valid_id(id: &str) -> bool {
    id.len() == 64
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The files on disk.
#[derive(Clone, Debug)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    /// Files under `root` (created when the first file is stored).
    pub fn new(root: impl Into<PathBuf>) -> FileStore {
        FileStore { root: root.into() }
    }

    fn path(&self, id: &str) -> PathBuf {
        self.root.join(&id[..2]).join(id)
    }

    /// Store `bytes` durably; returns the file's id.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let id = hex::encode(Sha256::digest(bytes));
        let path = self.path(&id);
        if path.exists() {
            return Ok(id);
        }
        let dir = self.root.join(&id[..2]);
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".{id}.{}", &crate::auth::new_token()[..8]));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            std::fs::File::open(&dir)?.sync_all()
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map(|_| id)
    }

    /// True when a file with this id is stored.
    pub fn exists(&self, id: &str) -> bool {
        valid_id(id) && self.path(id).is_file()
    }

    /// A stored file's bytes.
    pub fn get(&self, id: &str) -> std::io::Result<Option<Vec<u8>>> {
        if !valid_id(id) {
            return Ok(None);
        }
        match std::fs::read(self.path(id)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every file a request names must have been uploaded: `field` is the request's
    /// path to the materials list (`materials`).
    pub fn check_named(&self, field: &str, lines: &[MaterialLine]) -> Result<()> {
        let mut errors = tongban_core::error::FieldErrors::new();
        for (i, line) in lines.iter().enumerate() {
            if let MaterialInput::Provided { files, .. } = &line.input {
                for (j, f) in files.iter().enumerate() {
                    if !self.exists(f) {
                        errors.add(
                            format!("{field}[{i}].files[{j}]"),
                            "没有这个已上传的文件，请先上传",
                        );
                    }
                }
            }
        }
        errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_told_by_content_and_limits_hold() {
        assert_eq!(check("f", b"%PDF-1.7 ...").unwrap(), FileType::Pdf);
        assert_eq!(check("f", b"\x89PNG\r\n\x1a\n....").unwrap(), FileType::Png);
        assert!(check("f", b"MZ\x90\x00 an exe").is_err());
        assert!(check("f", b"").is_err());
        let big = [b"%PDF-".as_slice(), &vec![0u8; MAX_FILE_BYTES]].concat();
        assert!(check("f", &big).is_err());
    }

    #[test]
    fn stored_once_under_the_hash_and_read_back() {
        let dir = std::env::temp_dir().join(format!("tb-files-{}", crate::auth::new_token()));
        let s = FileStore::new(&dir);
        let a = s.put(b"%PDF-1.4 hello").unwrap();
        let b = s.put(b"%PDF-1.4 hello").unwrap();
        assert_eq!(a, b);
        assert!(valid_id(&a) && s.exists(&a));
        assert_eq!(s.get(&a).unwrap().unwrap(), b"%PDF-1.4 hello");
        assert_eq!(s.get(&"0".repeat(64)).unwrap(), None);
        assert_eq!(s.get("../../etc/passwd").unwrap(), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
