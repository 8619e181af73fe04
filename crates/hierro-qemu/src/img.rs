//! VM disks through `qemu-img`: create, linked clones, offline snapshots.

use std::path::Path;

use serde::Deserialize;

/// Why a disk operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ImgError {
    #[error("cannot run qemu-img: {0}")]
    Spawn(#[source] std::io::Error),
    /// qemu-img ran and refused (a disk in use, a missing file...), in its
    /// own words.
    #[error("qemu-img {command}: {stderr}")]
    Failed { command: String, stderr: String },
    #[error("qemu-img info: {0}")]
    Info(#[source] serde_json::Error),
}

async fn qemu_img(args: &[&str]) -> Result<String, ImgError> {
    let out = tokio::process::Command::new("qemu-img")
        .args(args)
        .output()
        .await
        .map_err(ImgError::Spawn)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(ImgError::Failed {
            command: args.first().unwrap_or(&"").to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

/// A new, empty qcow2 disk.
pub async fn create(disk: &Path, size_mib: u64) -> Result<(), ImgError> {
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        s(disk),
        &format!("{size_mib}M"),
    ])
    .await
    .map(|_| ())
}

/// A linked clone: a qcow2 whose backing file is the template. `backing` is
/// written as given, so a path relative to the clone's folder keeps working
/// wherever the datastore is mounted.
pub async fn create_linked_clone(
    disk: &Path,
    backing: &str,
    size_mib: Option<u64>,
) -> Result<(), ImgError> {
    let size = size_mib.map(|m| format!("{m}M"));
    let mut args = vec![
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        backing,
        "-F",
        "qcow2",
        s(disk),
    ];
    if let Some(size) = &size {
        args.push(size);
    }
    qemu_img(&args).await.map(|_| ())
}

/// A full copy: the data `source` shows (its backing chain flattened) in a
/// new qcow2 that depends on nothing, grown to `size_mib` if that is larger.
/// qemu-img takes the source's lock, so a disk a running QEMU writes is
/// refused rather than copied half-written.
pub async fn copy(source: &Path, disk: &Path, size_mib: Option<u64>) -> Result<(), ImgError> {
    qemu_img(&["convert", "-q", "-O", "qcow2", s(source), s(disk)]).await?;
    if let Some(mib) = size_mib {
        if info(disk).await?.virtual_size < mib << 20 {
            qemu_img(&["resize", "-q", s(disk), &format!("{mib}M")]).await?;
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct ImageInfo {
    pub format: String,
    #[serde(rename = "virtual-size")]
    pub virtual_size: u64,
    #[serde(rename = "backing-filename", default)]
    pub backing_filename: Option<String>,
    #[serde(default)]
    pub snapshots: Vec<SnapshotInfo>,
}

#[derive(Debug, Deserialize)]
pub struct SnapshotInfo {
    pub name: String,
    #[serde(rename = "vm-state-size", default)]
    pub vm_state_size: u64,
}

/// Reads an image without taking its write lock (`-U`), so it works on the
/// disk of a running VM.
pub async fn info(disk: &Path) -> Result<ImageInfo, ImgError> {
    let out = qemu_img(&["info", "-U", "--output=json", s(disk)]).await?;
    serde_json::from_str(&out).map_err(ImgError::Info)
}

pub async fn snapshot_create(disk: &Path, tag: &str) -> Result<(), ImgError> {
    qemu_img(&["snapshot", "-c", tag, s(disk)])
        .await
        .map(|_| ())
}

pub async fn snapshot_apply(disk: &Path, tag: &str) -> Result<(), ImgError> {
    qemu_img(&["snapshot", "-a", tag, s(disk)])
        .await
        .map(|_| ())
}

pub async fn snapshot_delete(disk: &Path, tag: &str) -> Result<(), ImgError> {
    qemu_img(&["snapshot", "-d", tag, s(disk)])
        .await
        .map(|_| ())
}
