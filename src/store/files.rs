//! Private files and directories: the data dir, backups and exports are
//! the operator's alone (0700 directories, 0600 files) whatever the umask,
//! and an output directory is written only when it is new or empty and
//! never through a symlink. Plain std::fs; no store types.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Directory mode: the owner only.
pub const DIR_MODE: u32 = 0o700;
/// File mode: the owner only.
pub const FILE_MODE: u32 = 0o600;

/// Why an output directory cannot be used; the message names the path.
#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    #[error(
        "{what} {path} is a symlink; name a real directory (nothing is written through a symlink)"
    )]
    Symlink { what: String, path: String },
    #[error("{what} {path} is not a directory; pick a new directory")]
    NotDir { what: String, path: String },
    #[error("{what} {path} is not empty; pick a new or empty directory (nothing is overwritten)")]
    NotEmpty { what: String, path: String },
    #[error("cannot prepare {what} {path}: {source}")]
    Io {
        what: String,
        path: String,
        source: io::Error,
    },
}

/// Makes `dir` ready to receive output: created (mode 0700) when missing;
/// when present it must be a real, empty directory, and it is narrowed to
/// 0700. Parent directories are created as needed.
pub fn prepare_out_dir(dir: &Path, what: &str) -> Result<(), OutDirError> {
    let path = dir.display().to_string();
    let fail = |source| OutDirError::Io {
        what: what.to_string(),
        path: path.clone(),
        source,
    };
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(OutDirError::Symlink {
                what: what.to_string(),
                path,
            });
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(OutDirError::NotDir {
                what: what.to_string(),
                path,
            });
        }
        Ok(_) => {
            if fs::read_dir(dir).map_err(fail)?.next().is_some() {
                return Err(OutDirError::NotEmpty {
                    what: what.to_string(),
                    path,
                });
            }
            fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE)).map_err(fail)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent).map_err(fail)?;
            }
            // A directory that appeared meanwhile is refused, not reused.
            fs::DirBuilder::new()
                .mode(DIR_MODE)
                .create(dir)
                .map_err(fail)?;
            // The umask may have taken bits away; never more than 0700.
            fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE)).map_err(fail)?;
        }
        Err(e) => return Err(fail(e)),
    }
    Ok(())
}

/// Creates a directory inside an output directory (0700). One that
/// exists already is accepted only when it is a real directory.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    match fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let meta = fs::symlink_metadata(dir)?;
            if meta.is_dir() {
                Ok(())
            } else {
                Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a directory", dir.display()),
                ))
            }
        }
        Err(e) => Err(e),
    }
}

/// Creates a new file (0600): never one that exists, never through a
/// symlink, so nothing placed in the way is overwritten or followed.
pub fn create_new_file(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Narrows an existing directory to 0700 (the data dir of an older
/// version may be 0755).
pub fn make_dir_private(dir: &Path) -> io::Result<()> {
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
}

/// Narrows a directory tree the process made: directories to 0700, files
/// to 0600. Symlinks are left alone (they are not followed).
pub fn make_tree_private(root: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(root)?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    if meta.is_dir() {
        if meta.permissions().mode() & 0o777 != DIR_MODE {
            make_dir_private(root)?;
        }
        for entry in fs::read_dir(root)? {
            make_tree_private(&entry?.path())?;
        }
    } else if meta.permissions().mode() & 0o077 != 0 {
        let narrowed = meta.permissions().mode() & 0o700;
        fs::set_permissions(root, fs::Permissions::from_mode(narrowed))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_dir_new_empty_symlink_and_full() {
        let tmp = tempfile::tempdir().unwrap();
        let fresh = tmp.path().join("a/b");
        prepare_out_dir(&fresh, "export directory").unwrap();
        let mode = fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        // Empty: accepted again.
        prepare_out_dir(&fresh, "export directory").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&fresh, &link).unwrap();
        let err = prepare_out_dir(&link, "export directory").unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        assert!(err.to_string().contains(&link.display().to_string()));
        fs::write(fresh.join("x"), b"x").unwrap();
        let err = prepare_out_dir(&fresh, "export directory").unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
    }

    #[test]
    fn new_file_never_follows_or_overwrites() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target");
        fs::write(&target, b"keep").unwrap();
        let link = tmp.path().join("robots.txt");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(create_new_file(&link).is_err());
        assert!(create_new_file(&target).is_err());
        assert_eq!(fs::read(&target).unwrap(), b"keep");
        let fresh = tmp.path().join("fresh");
        create_new_file(&fresh).unwrap();
        let mode = fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
