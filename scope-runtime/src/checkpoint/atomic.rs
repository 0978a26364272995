//! Crash-safe file replacement: every file of a save is written to a temporary beside its final
//! name and synced; only when all are complete are they renamed into place (data before index,
//! the `checkpoint` state file last) and the directory synced. A crash at any point leaves each
//! final name holding either its old complete content or its new complete content.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::CheckpointError;

/// The temporaries of one save, renamed into place by [`commit`](Self::commit) and removed if
/// dropped uncommitted.
#[derive(Debug, Default)]
pub(crate) struct AtomicFiles {
    /// `(temporary, final)` in the order they are renamed.
    files: Vec<(PathBuf, PathBuf)>,
    /// Test hook: fail the n-th step (create, sync or rename) with an injected error.
    fail_at: Option<usize>,
    steps: usize,
}

impl AtomicFiles {
    pub(crate) fn new() -> AtomicFiles {
        AtomicFiles::default()
    }

    /// Fails the `n`-th step, counting from 0 (for tests of crash safety).
    #[cfg(test)]
    pub(crate) fn failing_at(n: usize) -> AtomicFiles {
        let mut files = AtomicFiles::default();
        files.fail_at = Some(n);
        files
    }

    fn step(&mut self, path: &Path, op: &'static str) -> Result<(), CheckpointError> {
        let k = self.steps;
        self.steps += 1;
        if self.fail_at == Some(k) {
            let e = std::io::Error::other("injected failure");
            return Err(CheckpointError::io(path.display(), op, &e));
        }
        Ok(())
    }

    /// The temporary name of `path`, beside it (its directory created if missing).
    fn temporary(&self, path: &Path) -> Result<PathBuf, CheckpointError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| CheckpointError::io(dir.display(), "create directory", &e))?;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(path.with_file_name(format!("{name}.tmp-{}-{}", std::process::id(), self.files.len())))
    }

    /// Creates the temporary of `path`.
    pub(crate) fn create(&mut self, path: &Path) -> Result<File, CheckpointError> {
        self.step(path, "create")?;
        let tmp = self.temporary(path)?;
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| CheckpointError::io(tmp.display(), "create", &e))?;
        self.files.push((tmp, path.to_path_buf()));
        Ok(f)
    }

    /// A temporary name for `path` that another writer fills; [`sync_path`](Self::sync_path)
    /// syncs it once written.
    pub(crate) fn reserve(&mut self, path: &Path) -> Result<PathBuf, CheckpointError> {
        self.step(path, "create")?;
        let tmp = self.temporary(path)?;
        self.files.push((tmp.clone(), path.to_path_buf()));
        Ok(tmp)
    }

    /// Syncs the temporary `tmp` of `path` made by [`reserve`](Self::reserve).
    pub(crate) fn sync_path(&mut self, path: &Path, tmp: &Path) -> Result<(), CheckpointError> {
        self.step(path, "sync")?;
        let f = File::open(tmp).map_err(|e| CheckpointError::io(tmp.display(), "open", &e))?;
        f.sync_all().map_err(|e| CheckpointError::io(path.display(), "sync", &e))
    }

    /// Syncs a temporary made by [`create`](Self::create) once it is completely written.
    pub(crate) fn finish(&mut self, path: &Path, f: File) -> Result<(), CheckpointError> {
        self.step(path, "sync")?;
        f.sync_all().map_err(|e| CheckpointError::io(path.display(), "sync", &e))
    }

    /// Writes `bytes` as the new content of `path` (a temporary, synced).
    pub(crate) fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
        let mut f = self.create(path)?;
        f.write_all(bytes).map_err(|e| CheckpointError::io(path.display(), "write", &e))?;
        self.finish(path, f)
    }

    /// Renames every temporary into place, in order, then syncs the directories.
    pub(crate) fn commit(mut self) -> Result<(), CheckpointError> {
        let files = std::mem::take(&mut self.files);
        for (i, (tmp, dst)) in files.iter().enumerate() {
            if let Err(e) = self
                .step(dst, "rename")
                .and_then(|()| std::fs::rename(tmp, dst).map_err(|e| CheckpointError::io(dst.display(), "rename", &e)))
            {
                self.files = files[i..].to_vec(); // removed on drop
                return Err(e);
            }
        }
        let mut dirs: Vec<&Path> = files.iter().filter_map(|(_, d)| d.parent()).collect();
        dirs.dedup();
        for dir in dirs {
            let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
            // Directories cannot be opened for syncing everywhere; the renames are done either way.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for AtomicFiles {
    fn drop(&mut self) {
        for (tmp, _) in &self.files {
            let _ = std::fs::remove_file(tmp);
        }
    }
}
