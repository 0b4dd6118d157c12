//! Who holds a data dir. sled takes an exclusive file lock, which the OS
//! releases when a process dies; the pid file next to it only says who the
//! holder is, so a stale pid file after a crash is harmless.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub const PID_FILE: &str = "leadscout.pid";

/// What a running leadscout writes about itself into its data dir.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    /// The subcommand, e.g. `serve`, `import`, `tui`.
    pub command: String,
    pub version: String,
    pub started_at: String,
}

impl Holder {
    pub fn describe(&self) -> String {
        format!(
            "leadscout {} (pid {}, `leadscout {}`, started {})",
            self.version, self.pid, self.command, self.started_at
        )
    }
}

/// The pid file of an open store; removed again when the store closes.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    pub fn write(dir: &Path, holder: &Holder) -> io::Result<Self> {
        let path = dir.join(PID_FILE);
        let body = serde_json::to_vec(holder).map_err(io::Error::other)?;
        fs::write(&path, body)?;
        Ok(Self { path })
    }
}

/// Data dirs whose store this process opened and has since dropped, with
/// when. sled's background threads may keep the database file's lock for a
/// moment after the last handle goes (longer on a busy machine); a lock met
/// on one of these dirs soon after is most likely still our own.
static RELEASED_HERE: Mutex<BTreeMap<PathBuf, Instant>> = Mutex::new(BTreeMap::new());

/// How long after releasing a dir a lock on it is taken for our own.
const OWN_LOCK_GRACE: Duration = Duration::from_secs(10);

fn key(dir: &Path) -> PathBuf {
    fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Until when a lock met on `dir` is worth waiting for: this process let
/// it go less than [`OWN_LOCK_GRACE`] ago. Later, or never held here, a
/// lock is another process's and is reported at once.
pub fn own_lock_deadline(dir: &Path) -> Option<Instant> {
    let released = *RELEASED_HERE.lock().ok()?.get(&key(dir))?;
    Some(released + OWN_LOCK_GRACE).filter(|deadline| *deadline > Instant::now())
}

/// Records that this process just let go of `dir`'s database.
pub fn note_released(dir: &Path) {
    if let Ok(mut released) = RELEASED_HERE.lock() {
        released.insert(key(dir), Instant::now());
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if let Some(dir) = self.path.parent() {
            note_released(dir);
        }
        // Only remove it if it is still ours; another process may have taken
        // over the dir since, and its pid file must stay.
        if read_holder(self.path.parent().unwrap_or(Path::new(".")))
            .is_some_and(|h| h.pid == std::process::id())
        {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// The recorded holder of a data dir, if a pid file exists and parses.
pub fn read_holder(dir: &Path) -> Option<Holder> {
    let bytes = fs::read(dir.join(PID_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whether sled refused to open because another process holds its lock.
/// sled reports this as a generic I/O error, so the message is all there is.
pub fn is_lock_error(err: &sled::Error) -> bool {
    match err {
        sled::Error::Io(io) => io.to_string().contains("could not acquire lock"),
        _ => false,
    }
}
