//! The datastore browser: a datastore's folders and files, listed, made,
//! deleted, renamed and downloaded (uploads: `upload.rs`).
//!
//! Every path is resolved by the kernel beneath the datastore's top
//! (`openat2` with `RESOLVE_BENEATH`): no `..`, absolute path or symbolic
//! link leads out of it, even one made while the request runs. Then each
//! change works on the last name inside the folder it resolved
//! (`mkdirat`, `unlinkat`, `renameat2`).

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use hierro_api::{
    file_path_parts, DatastoreFile, DatastoreFolder, EventKind, FileKind, FileMove, Operation,
    Severity,
};
use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{FileStat, Mode, SFlag};

use crate::error::{HostError, HostResult};
use crate::tasks::Target;
use crate::Host;

/// A folder of a datastore, open, and the datastore path it was named by.
pub struct Folder {
    pub fd: OwnedFd,
    pub datastore: String,
    /// From the datastore's top ("" for the top).
    pub path: String,
}

/// The last part of a path inside the folder that holds it.
pub struct Entry {
    pub parent: Folder,
    pub name: String,
}

impl Folder {
    /// Where the kernel says this folder is (for messages and in-use checks).
    pub fn real_path(&self) -> PathBuf {
        std::fs::read_link(format!("/proc/self/fd/{}", self.fd.as_raw_fd())).unwrap_or_default()
    }

    fn stat(&self, name: &str) -> nix::Result<FileStat> {
        nix::sys::stat::fstatat(&self.fd, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
    }
}

impl Entry {
    pub fn path(&self) -> String {
        join(&self.parent.path, &self.name)
    }

    pub fn real_path(&self) -> PathBuf {
        self.parent.real_path().join(&self.name)
    }

    /// What is there now, if anything.
    pub fn stat(&self) -> Option<FileStat> {
        self.parent.stat(&self.name).ok()
    }

    /// The entry as the API shows it.
    pub fn describe(&self) -> HostResult<DatastoreFile> {
        let st = self
            .stat()
            .ok_or_else(|| HostError::not_found(format!("{} is gone", self.path())))?;
        Ok(describe(&self.name, self.path(), &st))
    }
}

fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    }
}

fn is_dir(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
}

fn is_file(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG
}

fn describe(name: &str, path: String, st: &FileStat) -> DatastoreFile {
    let folder = is_dir(st);
    DatastoreFile {
        name: name.to_string(),
        path,
        kind: if folder {
            FileKind::Folder
        } else {
            FileKind::File
        },
        size_bytes: if folder { 0 } else { st.st_size as u64 },
        modified: DateTime::<Utc>::from_timestamp(st.st_mtime, st.st_mtime_nsec as u32)
            .unwrap_or_default(),
    }
}

/// Resolves `path` beneath `top` (an open directory), opened with `flags`.
fn beneath(top: &OwnedFd, path: &str, flags: OFlag) -> nix::Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    nix::fcntl::openat2(top, if path.is_empty() { "." } else { path }, how)
}

/// The errors of resolving a path, in the API's words.
fn resolve_error(datastore: &str, path: &str, e: Errno) -> HostError {
    let at = format!("[{datastore}] {path}");
    match e {
        Errno::ENOENT => HostError::not_found(format!("{at} does not exist")),
        Errno::ENOTDIR => HostError::not_found(format!(
            "{at} does not exist: a part of it is a file, not a folder"
        )),
        Errno::EXDEV | Errno::ELOOP => {
            HostError::invalid(format!("{at} leads out of its datastore (a symbolic link)"))
        }
        Errno::EACCES | Errno::EPERM => HostError::refused(format!("{at}: permission denied")),
        e => HostError::internal(format!("{at}: {e}")),
    }
}

fn io_error(what: &str, e: Errno) -> HostError {
    match e {
        Errno::ENOENT => HostError::not_found(format!("{what} does not exist")),
        Errno::EEXIST | Errno::ENOTEMPTY => HostError::conflict(format!("{what} exists already")),
        Errno::ENOSPC | Errno::EDQUOT => {
            HostError::refused(format!("{what}: the datastore is full"))
        }
        Errno::EINVAL => HostError::invalid(format!("{what}: a folder cannot move into itself")),
        Errno::EISDIR | Errno::ENOTDIR => HostError::conflict(format!(
            "{what}: a file and a folder cannot replace each other"
        )),
        e => HostError::internal(format!("{what}: {e}")),
    }
}

impl super::Datastores {
    fn top(&self, datastore: &str) -> HostResult<OwnedFd> {
        let root = self.root(datastore)?;
        nix::fcntl::open(
            &root,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            HostError::backend(format!(
                "datastore {datastore} ({}) is not accessible: {e}",
                root.display()
            ))
        })
    }

    /// A folder of the datastore (`path` "" is its top).
    pub fn folder(&self, datastore: &str, path: &str) -> HostResult<Folder> {
        let parts = file_path_parts(path, true).map_err(HostError::invalid)?;
        let path = parts.join("/");
        let fd = beneath(
            &self.top(datastore)?,
            &path,
            OFlag::O_PATH | OFlag::O_DIRECTORY,
        )
        .map_err(|e| resolve_error(datastore, &path, e))?;
        Ok(Folder {
            fd,
            datastore: datastore.to_string(),
            path,
        })
    }

    /// A path's last part in its folder, which must exist; the part itself
    /// may or may not.
    pub fn entry(&self, datastore: &str, path: &str) -> HostResult<Entry> {
        let mut parts = file_path_parts(path, false).map_err(HostError::invalid)?;
        let name = parts.pop().unwrap_or_default().to_string();
        let parent = self.folder(datastore, &parts.join("/"))?;
        Ok(Entry { parent, name })
    }

    /// A regular file of the datastore, open for reading, and its length.
    pub fn open_file(&self, datastore: &str, path: &str) -> HostResult<(std::fs::File, u64)> {
        let parts = file_path_parts(path, false).map_err(HostError::invalid)?;
        let path = parts.join("/");
        let fd = beneath(&self.top(datastore)?, &path, OFlag::O_RDONLY)
            .map_err(|e| resolve_error(datastore, &path, e))?;
        let st = nix::sys::stat::fstat(&fd).map_err(|e| HostError::internal(e.to_string()))?;
        if !is_file(&st) {
            return Err(HostError::refused(format!(
                "[{datastore}] {path} is a folder: download its files one by one"
            )));
        }
        Ok((std::fs::File::from(fd), st.st_size as u64))
    }
}

/// A folder's entries: folders first, then files, each by name. The
/// agent's own temporary names are left out; a symbolic link shows as
/// what it leads to when that is in the datastore, and not otherwise.
pub fn list(host: &Host, datastore: &str, path: &str) -> HostResult<DatastoreFolder> {
    let folder = host.datastores.folder(datastore, path)?;
    let dir = std::fs::read_dir(format!("/proc/self/fd/{}", folder.fd.as_raw_fd()))
        .map_err(|e| HostError::internal(format!("[{datastore}] {path}: {e}")))?;
    let mut entries = vec![];
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(hierro_api::RESERVED_PREFIX) {
            continue;
        }
        let Ok(mut st) = folder.stat(name) else {
            continue;
        };
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK {
            match beneath(&folder.fd, name, OFlag::O_PATH).and_then(|fd| nix::sys::stat::fstat(&fd))
            {
                Ok(target) => st = target,
                Err(_) => continue,
            }
        }
        if !is_dir(&st) && !is_file(&st) {
            continue;
        }
        entries.push(describe(name, join(&folder.path, name), &st));
    }
    entries.sort_by(|a, b| {
        (a.kind != FileKind::Folder, &a.name).cmp(&(b.kind != FileKind::Folder, &b.name))
    });
    Ok(DatastoreFolder {
        datastore: datastore.to_string(),
        path: folder.path,
        entries,
    })
}

fn target(datastore: &str) -> Target {
    Target {
        id: format!("datastore:{datastore}"),
        name: datastore.to_string(),
    }
}

/// Runs a change of the datastore's files as a task with its event.
fn as_task<T: serde::Serialize>(
    host: &Host,
    datastore: &str,
    user: &str,
    operation: Operation,
    work: impl FnOnce() -> HostResult<(T, EventKind, String)>,
) -> HostResult<T> {
    let task = host.journal.task(operation, &target(datastore), user);
    task.start();
    match work() {
        Ok((value, kind, message)) => {
            task.event(kind, Severity::Info, message);
            task.succeed(serde_json::to_value(&value).ok());
            Ok(value)
        }
        Err(e) => {
            task.fail(e.info());
            Err(e)
        }
    }
}

pub fn make_folder(
    host: &Host,
    datastore: &str,
    path: &str,
    user: &str,
) -> HostResult<DatastoreFile> {
    let entry = host.datastores.entry(datastore, path)?;
    as_task(
        host,
        datastore,
        user,
        Operation::DatastoreMakeFolder,
        || {
            nix::sys::stat::mkdirat(
                &entry.parent.fd,
                entry.name.as_str(),
                Mode::from_bits_truncate(0o755),
            )
            .map_err(|e| io_error(&format!("[{datastore}] {}", entry.path()), e))?;
            let made = entry.describe()?;
            let message = format!("Made folder [{datastore}] {}", made.path);
            Ok((made, EventKind::DatastoreFolderCreated, message))
        },
    )
}

/// Deletes a file, or a folder with all it holds; refused for what a VM
/// of this host uses, or a folder where another host runs a VM.
pub fn delete(host: &Host, datastore: &str, path: &str, user: &str) -> HostResult<()> {
    let entry = host.datastores.entry(datastore, path)?;
    let at = format!("[{datastore}] {}", entry.path());
    let st = entry
        .stat()
        .ok_or_else(|| HostError::not_found(format!("{at} does not exist")))?;
    refuse_in_use(host, &entry.real_path(), &at, "delete")?;
    as_task(
        host,
        datastore,
        user,
        Operation::DatastoreDeleteFile,
        || {
            if is_dir(&st) {
                // std's remove_dir_all never follows a symbolic link out.
                std::fs::remove_dir_all(
                    Path::new(&format!("/proc/self/fd/{}", entry.parent.fd.as_raw_fd()))
                        .join(&entry.name),
                )
                .map_err(|e| HostError::internal(format!("{at}: {e}")))?;
            } else {
                nix::unistd::unlinkat(
                    &entry.parent.fd,
                    entry.name.as_str(),
                    nix::unistd::UnlinkatFlags::NoRemoveDir,
                )
                .map_err(|e| io_error(&at, e))?;
            }
            Ok(((), EventKind::DatastoreFileDeleted, format!("Deleted {at}")))
        },
    )
}

/// Renames or moves a file or folder inside its datastore.
pub fn move_file(
    host: &Host,
    datastore: &str,
    req: &FileMove,
    user: &str,
) -> HostResult<DatastoreFile> {
    let from = host.datastores.entry(datastore, &req.from)?;
    let to = host.datastores.entry(datastore, &req.to)?;
    let (from_at, to_at) = (
        format!("[{datastore}] {}", from.path()),
        format!("[{datastore}] {}", to.path()),
    );
    if from.stat().is_none() {
        return Err(HostError::not_found(format!("{from_at} does not exist")));
    }
    refuse_in_use(host, &from.real_path(), &from_at, "move")?;
    if let Some(there) = to.stat() {
        if !req.overwrite {
            return Err(HostError::conflict(format!(
                "{to_at} exists already (overwrite replaces a file)"
            )));
        }
        if is_dir(&there) {
            return Err(HostError::conflict(format!(
                "{to_at} is a folder: a move replaces only a file"
            )));
        }
        refuse_in_use(host, &to.real_path(), &to_at, "replace")?;
    }
    as_task(host, datastore, user, Operation::DatastoreMoveFile, || {
        let flags = if req.overwrite {
            nix::fcntl::RenameFlags::empty()
        } else {
            nix::fcntl::RenameFlags::RENAME_NOREPLACE
        };
        nix::fcntl::renameat2(
            &from.parent.fd,
            from.name.as_str(),
            &to.parent.fd,
            to.name.as_str(),
            flags,
        )
        .map_err(|e| io_error(&format!("moving {from_at} to {to_at}"), e))?;
        let moved = to.describe()?;
        Ok((
            moved,
            EventKind::DatastoreFileMoved,
            format!("Moved {from_at} to {to_at}"),
        ))
    })
}

/// Refuses `op` on `path` (a real path) when it is or holds what a VM
/// uses: the folder of a VM this host has, a file a running VM of this
/// host reads (its kernel, initrd, CD-ROM image), the base disk of a linked
/// clone, or a folder whose VM another host runs (it holds the lease).
pub fn refuse_in_use(host: &Host, path: &Path, at: &str, op: &str) -> HostResult<()> {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let within = |used: &Path| {
        used.canonicalize()
            .map(|u| u.starts_with(&path))
            .unwrap_or(false)
    };
    for (used, vm) in crate::vm::files_in_use(host) {
        if within(&used) {
            return Err(HostError::refused(format!(
                "cannot {op} {at}: VM {vm} uses {}",
                used.display()
            )));
        }
    }
    if let Some(folder) = leased_folder(&path) {
        if let Some(holder) = crate::vm::lease::holder(&folder) {
            return Err(HostError::refused(format!(
                "cannot {op} {at}: host {holder} runs the VM in {}",
                folder.display()
            )));
        }
    }
    Ok(())
}

/// A folder at or under `path` (two levels at most: VM folders sit at a
/// datastore's top) that holds a VM's lease file.
fn leased_folder(path: &Path) -> Option<PathBuf> {
    let leased = |p: &Path| p.join(".lease").is_file();
    if leased(path) {
        return Some(path.to_path_buf());
    }
    let children = std::fs::read_dir(path).ok()?;
    children
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .find(|p| leased(p))
}
