//! A portable dump of the whole data dir: JSON Lines per tree plus the blobs,
//! and its restore into an empty data dir. sled 0.34 is frozen and sled 1.0
//! changes the on-disk format, so this dump is the upgrade and recovery path:
//! it must not depend on sled's files.

use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::codec::{CODEC_JSON_V1, json_body, printable_key};
use super::{BlobStore, DB_DIR, Hash, Result, SCHEMA_VERSION, Store, StoreError};
use crate::domain::Manifest;

const FORMAT: &str = "leadscout-backup";
const FORMAT_VERSION: u32 = 1;
const SLED_DEFAULT_TREE: &[u8] = b"__sled__default";

/// One record of a tree dump. Keys that are text are kept readable; values
/// in leadscout's encoding are embedded as JSON.
#[derive(Serialize, Deserialize)]
struct Line<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kx: Option<String>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    v: Option<&'a RawValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vx: Option<String>,
}

impl Store {
    /// Writes a backup into `dir`, which must not exist or be empty.
    pub fn backup(&self, dir: &Path) -> Result<Manifest> {
        super::files::prepare_out_dir(dir, "backup directory").map_err(out_dir_error)?;
        self.write_pending_views()?;
        let io = |what: String| move |e| StoreError::io(what, e);
        super::files::create_private_dir(&dir.join("trees"))
            .map_err(io(format!("cannot create {}", dir.join("trees").display())))?;
        let mut trees = std::collections::BTreeMap::new();
        let mut names: Vec<Vec<u8>> = self
            .db()
            .tree_names()
            .into_iter()
            .map(|n| n.to_vec())
            .collect();
        names.retain(|n| n.as_slice() != SLED_DEFAULT_TREE);
        names.sort();
        for name in names {
            let name = String::from_utf8(name)
                .map_err(|_| StoreError::Invalid("tree with a non-text name".into()))?;
            let tree = self.db().open_tree(&name)?;
            let path = dir.join("trees").join(format!("{name}.jsonl"));
            let file = super::files::create_new_file(&path)
                .map_err(io(format!("cannot create {}", path.display())))?;
            let mut out = BufWriter::new(file);
            let mut count = 0u64;
            for item in tree.iter() {
                let (key, value) = item?;
                write_line(&mut out, &key, &value)
                    .map_err(io(format!("cannot write {}", path.display())))?;
                count += 1;
            }
            let file = out.into_inner().map_err(|e| {
                StoreError::io(format!("cannot write {}", path.display()), e.into_error())
            })?;
            file.sync_all()
                .map_err(io(format!("cannot fsync {}", path.display())))?;
            trees.insert(name, count);
        }
        let blob_dir = BlobStore::open(&dir.join("blobs"))?;
        let mut blobs = 0;
        for (hash, _) in self.blobs().list()? {
            if let Some(bytes) = self.blobs().get(hash)? {
                blob_dir.put(&bytes)?;
                blobs += 1;
            }
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            leadscout_version: env!("CARGO_PKG_VERSION").into(),
            schema_version: self.schema_version()?.unwrap_or(SCHEMA_VERSION),
            created_at: jiff::Timestamp::now().to_string(),
            trees,
            blobs,
        };
        let path = dir.join("manifest.json");
        let body =
            serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::Invalid(e.to_string()))?;
        super::files::create_new_file(&path)
            .and_then(|mut file| file.write_all(&body))
            .map_err(io(format!("cannot write {}", path.display())))?;
        Ok(manifest)
    }

    /// Restores a backup from `from` into the data dir `to`, which must have
    /// no store yet, then opens it (running any schema migration).
    pub fn restore(from: &Path, to: &Path, command: &str) -> Result<(Store, Manifest)> {
        let manifest_path = from.join("manifest.json");
        let bytes = fs::read(&manifest_path).map_err(|e| {
            StoreError::io(
                format!(
                    "{} is not a leadscout backup (cannot read manifest.json)",
                    from.display()
                ),
                e,
            )
        })?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Invalid(format!("{}: {e}", manifest_path.display())))?;
        if manifest.format != FORMAT || manifest.format_version > FORMAT_VERSION {
            return Err(StoreError::Invalid(format!(
                "{} is a backup format this leadscout cannot read ({} v{})",
                from.display(),
                manifest.format,
                manifest.format_version
            )));
        }
        if manifest.schema_version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                dir: from.to_path_buf(),
                found: manifest.schema_version,
            });
        }
        if to.join(DB_DIR).exists() {
            return Err(StoreError::Invalid(format!(
                "data dir {} already has a store; restore only into a new or empty data dir",
                to.display()
            )));
        }
        fs::create_dir_all(to)
            .and_then(|()| super::files::make_dir_private(to))
            .map_err(|e| StoreError::io(format!("cannot create {}", to.display()), e))?;
        {
            let db = sled::Config::new().path(to.join(DB_DIR)).open()?;
            for (name, expected) in &manifest.trees {
                let restored = restore_tree(&db, from, name)?;
                if restored != *expected {
                    return Err(StoreError::Invalid(format!(
                        "backup tree `{name}` has {restored} records, the manifest says {expected}"
                    )));
                }
            }
            db.flush()?;
        }
        // sled's threads may hold the lock a moment longer: our own.
        super::lock::note_released(to);
        let source_blobs = BlobStore::open(&from.join("blobs"))?;
        let target_blobs = BlobStore::open(&to.join(super::BLOB_DIR))?;
        for (hash, _) in source_blobs.list()? {
            let bytes = source_blobs
                .get(hash)?
                .ok_or_else(|| StoreError::Invalid(format!("blob {hash} vanished")))?;
            let written: Hash = target_blobs.put(&bytes)?;
            debug_assert_eq!(written, hash);
        }
        let store = Store::open(to, command)?;
        Ok((store, manifest))
    }
}

fn write_line(out: &mut impl Write, key: &[u8], value: &[u8]) -> std::io::Result<()> {
    let text_key = std::str::from_utf8(key)
        .ok()
        .filter(|k| printable_key(k.as_bytes()) == *k);
    let raw = json_body(value)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| serde_json::from_str::<&RawValue>(s).ok());
    let line = Line {
        k: text_key.map(str::to_string),
        kx: text_key.is_none().then(|| hex::encode(key)),
        v: raw,
        vx: raw.is_none().then(|| hex::encode(value)),
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

fn restore_tree(db: &sled::Db, from: &Path, name: &str) -> Result<u64> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StoreError::Invalid(format!(
            "backup names an invalid tree `{name}`"
        )));
    }
    let path: PathBuf = from.join("trees").join(format!("{name}.jsonl"));
    let file = fs::File::open(&path)
        .map_err(|e| StoreError::io(format!("cannot open {}", path.display()), e))?;
    let tree = db.open_tree(name)?;
    let mut count = 0;
    let bad = |line_no: usize, why: String| {
        StoreError::Invalid(format!("{}:{line_no}: {why}", path.display()))
    };
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line =
            line.map_err(|e| StoreError::io(format!("cannot read {}", path.display()), e))?;
        let record: Line = serde_json::from_str(&line).map_err(|e| bad(i + 1, e.to_string()))?;
        let key = match (record.k, record.kx) {
            (Some(k), None) => k.into_bytes(),
            (None, Some(kx)) => hex::decode(kx).map_err(|e| bad(i + 1, e.to_string()))?,
            _ => return Err(bad(i + 1, "a record needs exactly one of k / kx".into())),
        };
        let value = match (record.v, record.vx) {
            (Some(v), None) => {
                let mut bytes = Vec::with_capacity(v.get().len() + 1);
                bytes.push(CODEC_JSON_V1);
                bytes.extend_from_slice(v.get().as_bytes());
                bytes
            }
            (None, Some(vx)) => hex::decode(vx).map_err(|e| bad(i + 1, e.to_string()))?,
            _ => return Err(bad(i + 1, "a record needs exactly one of v / vx".into())),
        };
        tree.insert(key, value)?;
        count += 1;
    }
    Ok(count)
}

fn out_dir_error(e: super::files::OutDirError) -> StoreError {
    match e {
        super::files::OutDirError::Io { what, path, source } => {
            StoreError::io(format!("cannot prepare {what} {path}"), source)
        }
        refused => StoreError::Invalid(refused.to_string()),
    }
}
