//! Uploads: a file's bytes streamed from the request to the datastore as
//! they arrive, into a temporary file beside the final one, renamed into
//! place only once whole and on disk. A failed or cancelled upload, or a
//! client gone away, removes the temporary file; an agent killed during an
//! upload leaves one, which it removes when it starts again (`sweep`). So
//! nothing ever appears under the final name but a whole file.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use futures_util::StreamExt;
use hierro_api::{DatastoreFile, EventKind, Operation, Severity, UploadAt, RESERVED_PREFIX};
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use tokio::io::AsyncWriteExt;

use super::files::{refuse_in_use, Entry};
use crate::error::{HostError, HostResult};
use crate::Host;

/// The temporary names of this host's uploads (hosts that share a
/// datastore leave each other's alone).
fn prefix(host: &str) -> String {
    format!("{RESERVED_PREFIX}upload-{host}-")
}

/// The temporary file, removed unless the upload completes.
struct Partial {
    dir: OwnedFd,
    name: String,
    kept: bool,
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.kept {
            let _ = nix::unistd::unlinkat(
                &self.dir,
                self.name.as_str(),
                nix::unistd::UnlinkatFlags::NoRemoveDir,
            );
        }
    }
}

/// Writes the body to `at` in `datastore` as a task (cancelable; its
/// progress follows the bytes when the client said how many).
pub async fn upload(
    host: &Host,
    datastore: &str,
    at: &UploadAt,
    body: axum::body::Body,
    length: Option<u64>,
    user: &str,
) -> HostResult<DatastoreFile> {
    let entry = host.datastores.entry(datastore, &at.path)?;
    let where_ = format!("[{datastore}] {}", entry.path());
    check_target(host, &entry, &where_, at.overwrite)?;
    if let Some(length) = length {
        let free = nix::sys::statvfs::fstatvfs(&entry.parent.fd)
            .map(|s| s.blocks_available() * s.fragment_size())
            .unwrap_or(u64::MAX);
        if length > free {
            return Err(HostError::refused(format!(
                "{where_}: the file has {length} bytes and datastore {datastore} has {free} free"
            )));
        }
    }
    let task = host.journal.task(
        Operation::DatastoreUpload,
        &crate::tasks::Target {
            id: format!("datastore:{datastore}"),
            name: datastore.to_string(),
        },
        user,
    );
    task.start();
    let cancel = task.cancellation();
    let received = tokio::select! {
        r = receive(host, &entry, &where_, at.overwrite, body, length, |pct| task.progress(pct)) => r,
        _ = cancel.cancelled() => Err(task.cancelled()),
    };
    match received.and_then(|_| entry.describe()) {
        Ok(file) => {
            task.event(
                EventKind::DatastoreFileUploaded,
                Severity::Info,
                format!("Uploaded {where_} ({} bytes)", file.size_bytes),
            );
            task.succeed(serde_json::to_value(&file).ok());
            Ok(file)
        }
        Err(e) => {
            task.fail(e.info());
            Err(e)
        }
    }
}

/// What may be at the final name: nothing, or a file to replace that no
/// VM uses.
fn check_target(host: &Host, entry: &Entry, at: &str, overwrite: bool) -> HostResult<()> {
    let Some(st) = entry.stat() else {
        return Ok(());
    };
    if !overwrite {
        return Err(HostError::conflict(format!(
            "{at} exists already (overwrite replaces a file)"
        )));
    }
    if nix::sys::stat::SFlag::from_bits_truncate(st.st_mode) & nix::sys::stat::SFlag::S_IFMT
        != nix::sys::stat::SFlag::S_IFREG
    {
        return Err(HostError::conflict(format!(
            "{at} is a folder: an upload replaces only a file"
        )));
    }
    refuse_in_use(host, &entry.real_path(), at, "replace")
}

/// Streams the body into a temporary file and renames it into place.
async fn receive(
    host: &Host,
    entry: &Entry,
    at: &str,
    overwrite: bool,
    body: axum::body::Body,
    length: Option<u64>,
    progress: impl Fn(u8),
) -> HostResult<()> {
    let dir = entry
        .parent
        .fd
        .try_clone()
        .map_err(|e| HostError::internal(e.to_string()))?;
    let name = format!(
        "{}{}",
        prefix(&host.config.name),
        uuid::Uuid::new_v4().simple()
    );
    let fd = nix::fcntl::openat(
        dir.as_fd(),
        name.as_str(),
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o644),
    )
    .map_err(|e| HostError::internal(format!("{at}: {e}")))?;
    let mut partial = Partial {
        dir,
        name,
        kept: false,
    };
    let file = tokio::fs::File::from_std(std::fs::File::from(fd));
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut stream = body.into_data_stream();
    let (mut got, mut shown) = (0u64, 0u8);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            HostError::invalid(format!("{at}: the upload broke off after {got} bytes: {e}"))
        })?;
        out.write_all(&chunk)
            .await
            .map_err(|e| write_error(at, e))?;
        got += chunk.len() as u64;
        if let Some(length) = length.filter(|l| *l > 0) {
            let pct = (got.min(length) * 100 / length) as u8;
            if pct != shown {
                shown = pct;
                progress(pct);
            }
        }
    }
    if let Some(length) = length.filter(|l| *l != got) {
        return Err(HostError::invalid(format!(
            "{at}: the upload ended after {got} of {length} bytes"
        )));
    }
    out.flush().await.map_err(|e| write_error(at, e))?;
    out.get_ref()
        .sync_all()
        .await
        .map_err(|e| write_error(at, e))?;
    // The name may have been taken while the bytes came.
    check_target(host, entry, at, overwrite)?;
    let flags = if overwrite {
        nix::fcntl::RenameFlags::empty()
    } else {
        nix::fcntl::RenameFlags::RENAME_NOREPLACE
    };
    nix::fcntl::renameat2(
        &partial.dir,
        partial.name.as_str(),
        &entry.parent.fd,
        entry.name.as_str(),
        flags,
    )
    .map_err(|e| match e {
        nix::errno::Errno::EEXIST => HostError::conflict(format!("{at} exists already")),
        e => HostError::internal(format!("{at}: {e}")),
    })?;
    partial.kept = true;
    let _ = nix::unistd::fsync(&entry.parent.fd);
    Ok(())
}

fn write_error(at: &str, e: std::io::Error) -> HostError {
    if e.raw_os_error() == Some(libc::ENOSPC) {
        HostError::refused(format!("{at}: the datastore is full"))
    } else {
        HostError::internal(format!("{at}: {e}"))
    }
}

/// Removes the temporary files of uploads this host's agent was running
/// when it stopped, in every datastore (folders down to 16 deep; symbolic
/// links are not followed). Answers how many.
pub fn sweep(host_name: &str, roots: &[std::path::PathBuf]) -> usize {
    fn walk(dir: &Path, prefix: &str, depth: usize) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        let mut removed = 0;
        for e in entries.flatten() {
            let Ok(kind) = e.file_type() else { continue };
            let name = e.file_name();
            if kind.is_file() && name.to_string_lossy().starts_with(prefix) {
                removed += usize::from(std::fs::remove_file(e.path()).is_ok());
            } else if kind.is_dir() && depth < 16 {
                removed += walk(&e.path(), prefix, depth + 1);
            }
        }
        removed
    }
    let prefix = prefix(host_name);
    roots.iter().map(|r| walk(r, &prefix, 0)).sum()
}
