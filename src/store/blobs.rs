//! The content-addressed blob cache (screenshots, thumbnails): files named by
//! the SHA-256 of their bytes, sharded two levels deep, written atomically
//! (temp file, fsync, rename, fsync dir) and verified on every read.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub use crate::domain::Hash;

use super::{Result, StoreError};
use crate::domain::GcReport;

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn open(root: &Path) -> Result<Self> {
        fs::create_dir_all(root.join("tmp"))
            .map_err(|e| StoreError::io(format!("cannot create blob dir {}", root.display()), e))?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, hash: Hash) -> PathBuf {
        let hex = hash.to_hex();
        self.root.join(&hex[..2]).join(&hex[2..4]).join(hex)
    }

    pub fn contains(&self, hash: Hash) -> bool {
        self.path(hash).is_file()
    }

    /// Stores bytes and returns their hash. Storing the same bytes twice
    /// writes them once.
    pub fn put(&self, bytes: &[u8]) -> Result<Hash> {
        let hash = Hash::of(bytes);
        let path = self.path(hash);
        if path.is_file() {
            return Ok(hash);
        }
        let io = |what: &str, e| StoreError::io(format!("blob {hash}: {what}"), e);
        let shard = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(shard).map_err(|e| io("cannot create shard dir", e))?;
        let mut tmp = tempfile::NamedTempFile::new_in(self.root.join("tmp"))
            .map_err(|e| io("cannot create temp file", e))?;
        tmp.write_all(bytes).map_err(|e| io("cannot write", e))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| io("cannot fsync", e))?;
        tmp.persist(&path)
            .map_err(|e| io("cannot rename into place", e.error))?;
        // The rename is only durable once the directory entry is.
        fs::File::open(shard)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("cannot fsync shard dir", e))?;
        Ok(hash)
    }

    /// Reads a blob and checks its bytes still hash to its name. A mismatch
    /// is an error, never silently served; so is a symlink where the blob
    /// should be (blobs are only ever written as regular files).
    pub fn get(&self, hash: Hash) -> Result<Option<Vec<u8>>> {
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.path(hash);
        let opened = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path);
        let mut file = match opened {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(StoreError::Corrupt {
                    tree: "blobs".into(),
                    key: hash.to_hex(),
                    reason: format!("{} is a symlink, not a stored blob", path.display()),
                });
            }
            Err(e) => return Err(StoreError::io(format!("cannot read blob {hash}"), e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| StoreError::io(format!("cannot read blob {hash}"), e))?;
        if Hash::of(&bytes) != hash {
            return Err(StoreError::Corrupt {
                tree: "blobs".into(),
                key: hash.to_hex(),
                reason: format!("content of {} does not match its hash", path.display()),
            });
        }
        Ok(Some(bytes))
    }

    /// Every stored blob's hash and size.
    pub fn list(&self) -> Result<Vec<(Hash, u64)>> {
        let mut out = Vec::new();
        for (path, meta) in self.files()? {
            if let Some(hash) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse().ok())
            {
                out.push((hash, meta.len()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Deletes blobs for which `referenced` is false and that are older than
    /// `min_age` (so a blob written by a running job, not yet referenced by
    /// its record, survives). Also clears stale temp files.
    pub fn gc(&self, referenced: impl Fn(&Hash) -> bool, min_age: Duration) -> Result<GcReport> {
        let mut report = GcReport::default();
        let now = SystemTime::now();
        let old_enough = |meta: &fs::Metadata| {
            meta.modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age >= min_age)
        };
        for (path, meta) in self.files()? {
            let hash: Option<Hash> = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse().ok());
            let keep = match hash {
                Some(h) => referenced(&h) || !old_enough(&meta),
                None => true,
            };
            if keep {
                report.kept += 1;
                continue;
            }
            fs::remove_file(&path)
                .map_err(|e| StoreError::io(format!("cannot delete {}", path.display()), e))?;
            report.deleted += 1;
            report.bytes_freed += meta.len();
        }
        if let Ok(entries) = fs::read_dir(self.root.join("tmp")) {
            for entry in entries.flatten() {
                if entry.metadata().is_ok_and(|m| old_enough(&m)) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(report)
    }

    /// Regular files in the two shard levels (never following symlinks).
    fn files(&self) -> Result<Vec<(PathBuf, fs::Metadata)>> {
        let mut out = Vec::new();
        let read = |dir: &Path| {
            fs::read_dir(dir)
                .map_err(|e| StoreError::io(format!("cannot list {}", dir.display()), e))
        };
        for level1 in read(&self.root)?.flatten() {
            let name = level1.file_name();
            if name == "tmp" || !level1.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            for level2 in read(&level1.path())?.flatten() {
                if !level2.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                for file in read(&level2.path())?.flatten() {
                    if let Ok(meta) = file.path().symlink_metadata()
                        && meta.is_file()
                    {
                        out.push((file.path(), meta));
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_dedupe_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        let a = blobs.put(b"hello").unwrap();
        assert_eq!(
            a.to_hex(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(blobs.put(b"hello").unwrap(), a);
        assert_eq!(blobs.list().unwrap(), vec![(a, 5)]);
        assert_eq!(blobs.get(a).unwrap().unwrap(), b"hello");
        assert!(
            blobs.path(a).ends_with(
                "2c/f2/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
            )
        );

        fs::write(blobs.path(a), b"tampered").unwrap();
        assert!(matches!(blobs.get(a), Err(StoreError::Corrupt { .. })));
        assert_eq!(blobs.get(Hash::of(b"absent")).unwrap(), None);
    }

    #[test]
    fn gc_deletes_only_old_unreferenced_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        let keep = blobs.put(b"keep").unwrap();
        let drop = blobs.put(b"drop").unwrap();
        let fresh = blobs.gc(|h| *h == keep, Duration::from_secs(3600)).unwrap();
        assert_eq!(fresh.deleted, 0, "young blobs survive");
        let report = blobs.gc(|h| *h == keep, Duration::ZERO).unwrap();
        assert_eq!(
            report,
            GcReport {
                deleted: 1,
                kept: 1,
                bytes_freed: 4
            }
        );
        assert!(blobs.contains(keep) && !blobs.contains(drop));
    }

    #[test]
    fn hash_parsing_is_strict() {
        let good = "a".repeat(64);
        assert!(good.parse::<Hash>().is_ok());
        for bad in [
            "A".repeat(64),
            "a".repeat(63),
            format!("{}/", "a".repeat(63)),
            "../etc/passwd".into(),
            format!("{}g", "a".repeat(63)),
        ] {
            assert!(bad.parse::<Hash>().is_err(), "{bad}");
        }
    }
}
