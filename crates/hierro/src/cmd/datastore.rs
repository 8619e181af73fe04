use std::path::PathBuf;

use clap::Subcommand;
use hierro_api::{DatastoreCreate, FileKind, FileMove};

use super::connect::ConnArgs;
use crate::output::{time, Output};

#[derive(Subcommand)]
pub enum DatastoreCmd {
    /// List datastores with capacity and free space; with DATASTORE, the
    /// files and folders in one of its folders (the datastore browser).
    Ls {
        /// A datastore: its name (on a center, or its object id).
        datastore: Option<String>,
        /// A folder from the datastore's top (default: the top).
        #[arg(default_value = "")]
        path: String,
    },
    /// Add a directory of the host as a datastore.
    Add { name: String, path: String },
    /// Upload a local file (an ISO, a disk image...), streamed, with a
    /// progress bar. PATH is where it goes (default: its own name at the
    /// top; a PATH ending in '/' is a folder to put it in).
    Upload {
        datastore: String,
        local: PathBuf,
        path: Option<String>,
        /// Replace a file of that name.
        #[arg(long)]
        overwrite: bool,
    },
    /// Download a file to LOCAL (default: its name, here); never overwrites.
    Download {
        datastore: String,
        path: String,
        local: Option<PathBuf>,
    },
    /// Make a folder (its parent must exist).
    Mkdir { datastore: String, path: String },
    /// Delete a file, or a folder with everything in it.
    Rm { datastore: String, path: String },
    /// Rename or move a file or folder inside the datastore.
    Mv {
        datastore: String,
        from: String,
        to: String,
        /// Replace a file at TO.
        #[arg(long)]
        overwrite: bool,
    },
}

/// Refuses an upload the host would refuse anyway before any byte goes:
/// its folder missing, or its name taken (by a folder, or by a file
/// without --overwrite). The host checks again when the bytes come; a
/// listing it will not give (no Datastore.Browse) checks nothing here.
async fn preflight(
    client: &hierro_client::Client,
    datastore: &str,
    path: &str,
    overwrite: bool,
) -> anyhow::Result<()> {
    let trimmed = path.trim_end_matches('/');
    let (folder, name) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
    let listing = match client.browse(datastore, folder).await {
        Ok(l) => l,
        Err(e) if e.status().is_some_and(|s| s == 404 || s == 400) => return Err(e.into()),
        Err(_) => return Ok(()),
    };
    match listing.entries.iter().find(|e| e.name == name) {
        Some(e) if e.kind == hierro_api::FileKind::Folder => {
            anyhow::bail!(
                "[{datastore}] {trimmed} is a folder: name the file in it (PATH ending in '/')"
            )
        }
        Some(_) if !overwrite => {
            anyhow::bail!("[{datastore}] {trimmed} exists already: --overwrite replaces it")
        }
        _ => Ok(()),
    }
}

fn gib(b: u64) -> String {
    format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)
}

/// A byte count as people read it.
fn size(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => gib(b),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// A byte progress bar (hidden with --json).
fn bar(out: Output, length: u64, message: String) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressStyle};
    let bar = if out.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(length)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:30} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {eta}",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

pub async fn run(cmd: DatastoreCmd, conn: &ConnArgs, out: Output) -> anyhow::Result<()> {
    let client = conn.client().await?;
    match cmd {
        DatastoreCmd::Ls {
            datastore: None, ..
        } => {
            let list = client.datastores().await?;
            out.show(&list, &["NAME", "PATH", "CAPACITY", "FREE"], |l| {
                l.iter()
                    .map(|d| {
                        vec![
                            d.name.clone(),
                            d.path.clone(),
                            gib(d.capacity_bytes),
                            gib(d.free_bytes),
                        ]
                    })
                    .collect()
            });
        }
        DatastoreCmd::Ls {
            datastore: Some(ds),
            path,
        } => {
            let folder = client.browse(&ds, &path).await?;
            out.show(&folder, &["NAME", "SIZE", "MODIFIED"], |f| {
                f.entries
                    .iter()
                    .map(|e| {
                        let folder = e.kind == FileKind::Folder;
                        vec![
                            if folder {
                                format!("{}/", e.name)
                            } else {
                                e.name.clone()
                            },
                            if folder {
                                String::new()
                            } else {
                                size(e.size_bytes)
                            },
                            time(&e.modified),
                        ]
                    })
                    .collect()
            });
        }
        DatastoreCmd::Add { name, path } => {
            let d = client
                .add_datastore(&DatastoreCreate { name, path })
                .await?;
            out.show_fields(&d, |d| {
                vec![
                    ("name", d.name.clone()),
                    ("path", d.path.clone()),
                    ("free", gib(d.free_bytes)),
                ]
            });
        }
        DatastoreCmd::Upload {
            datastore,
            local,
            path,
            overwrite,
        } => {
            let name = local
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| anyhow::anyhow!("{} names no file", local.display()))?;
            let path = match path {
                None => name.to_string(),
                Some(p) if p.ends_with('/') => format!("{p}{name}"),
                Some(p) => p,
            };
            let length = std::fs::metadata(&local)
                .map_err(|e| anyhow::anyhow!("{}: {e}", local.display()))?
                .len();
            preflight(&client, &datastore, &path, overwrite).await?;
            let bar = bar(out, length, format!("[{datastore}] {path}"));
            let shown = bar.clone();
            let done = client
                .upload_file(&datastore, &path, overwrite, &local, move |n| {
                    shown.set_position(n)
                })
                .await;
            match &done {
                Ok(_) => bar.finish(),
                Err(_) => bar.abandon(),
            }
            let f = done?;
            out.show_fields(&f, |f| {
                vec![
                    ("uploaded", format!("[{datastore}] {}", f.path)),
                    ("size", size(f.size_bytes)),
                ]
            });
        }
        DatastoreCmd::Download {
            datastore,
            path,
            local,
        } => {
            let local = local.unwrap_or_else(|| {
                PathBuf::from(
                    path.trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or("file"),
                )
            });
            let bar = bar(out, 0, format!("[{datastore}] {path}"));
            let done = client
                .download_file(&datastore, &path, &local, |n, total| {
                    if let Some(t) = total {
                        bar.set_length(t);
                    }
                    bar.set_position(n)
                })
                .await;
            match &done {
                Ok(_) => bar.finish(),
                Err(_) => bar.abandon(),
            }
            let n = done?;
            let shown = (local.display().to_string(), n);
            out.show_fields(&shown, |(l, n)| {
                vec![("downloaded", l.clone()), ("size", size(*n))]
            });
        }
        DatastoreCmd::Mkdir { datastore, path } => {
            let f = client.make_folder(&datastore, &path).await?;
            out.show_fields(&f, |f| vec![("made", format!("[{datastore}] {}/", f.path))]);
        }
        DatastoreCmd::Rm { datastore, path } => {
            client.delete_file(&datastore, &path).await?;
            if !out.json {
                println!("deleted [{datastore}] {path}");
            }
        }
        DatastoreCmd::Mv {
            datastore,
            from,
            to,
            overwrite,
        } => {
            let f = client
                .move_file(
                    &datastore,
                    &FileMove {
                        from,
                        to,
                        overwrite,
                    },
                )
                .await?;
            out.show_fields(&f, |f| {
                vec![("moved to", format!("[{datastore}] {}", f.path))]
            });
        }
    }
    Ok(())
}
