//! Output files written whole or not at all: the bytes go to a temporary file in the same folder,
//! which then replaces the target by a rename. A full disk or a killed process leaves the old
//! file as it was (and at worst a stray `.NAME.tmp-PID.EXT` beside it).

use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically (on one filesystem, as rename is).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_with(path, |tmp| {
        let fail = |e: std::io::Error| Error(format!("cannot write {}: {e}", path.display()));
        let mut file = std::fs::File::create(tmp).map_err(fail)?;
        file.write_all(bytes).map_err(fail)?;
        file.sync_all().map_err(fail)
    })
}

/// Lets `write` make the file at a temporary path beside `path` (same extension, for writers
/// that pick their format by it), then renames it over `path`; on any error `path` is untouched.
pub fn replace_with(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = temporary(path)?;
    let done = write(&tmp).and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error(format!("cannot write {}: {e}", path.display()))));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// `.STEM.tmp-PID.EXT` beside `path`.
fn temporary(path: &Path) -> Result<PathBuf> {
    let stem = path.file_stem().ok_or_else(|| Error(format!("cannot write {}: not a file name", path.display())))?;
    let ext = path.extension().map_or(String::new(), |e| format!(".{}", e.to_string_lossy()));
    Ok(path.with_file_name(format!(".{}.tmp-{}{ext}", stem.to_string_lossy(), std::process::id())))
}
