//! A writer for "newc" cpio archives, the format of a Linux initramfs.
//!
//! Written here rather than by `cpio(1)` so that the archive is reproducible
//! (fixed timestamps, owners and inode numbers, sorted entries) and can hold
//! /dev/console without building as root.

use std::collections::BTreeMap;

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

enum Entry {
    Dir,
    File { mode: u32, data: Vec<u8> },
    Symlink(String),
    CharDev { mode: u32, major: u32, minor: u32 },
}

/// An archive being assembled; entries are written sorted by path, so a
/// directory always comes before its contents.
#[derive(Default)]
pub struct Archive {
    entries: BTreeMap<String, Entry>,
}

impl Archive {
    /// Adds a directory, and its parents.
    pub fn dir(&mut self, path: &str) {
        let mut prefix = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            self.entries.entry(prefix.clone()).or_insert(Entry::Dir);
        }
    }

    fn add(&mut self, path: &str, entry: Entry) {
        let path = path.trim_start_matches('/');
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.entries.insert(path.to_string(), entry);
    }

    pub fn file(&mut self, path: &str, mode: u32, data: Vec<u8>) {
        self.add(path, Entry::File { mode, data });
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        self.add(path, Entry::Symlink(target.to_string()));
    }

    pub fn char_dev(&mut self, path: &str, mode: u32, major: u32, minor: u32) {
        self.add(path, Entry::CharDev { mode, major, minor });
    }

    /// The archive bytes.
    pub fn finish(self) -> Vec<u8> {
        let mut out = Vec::new();
        for (ino, (path, entry)) in self.entries.iter().enumerate() {
            let ino = ino as u32 + 1;
            match entry {
                Entry::Dir => write_entry(&mut out, path, ino, S_IFDIR | 0o755, 2, b"", (0, 0)),
                Entry::File { mode, data } => {
                    write_entry(&mut out, path, ino, S_IFREG | mode, 1, data, (0, 0))
                }
                Entry::Symlink(target) => write_entry(
                    &mut out,
                    path,
                    ino,
                    S_IFLNK | 0o777,
                    1,
                    target.as_bytes(),
                    (0, 0),
                ),
                Entry::CharDev { mode, major, minor } => write_entry(
                    &mut out,
                    path,
                    ino,
                    S_IFCHR | mode,
                    1,
                    b"",
                    (*major, *minor),
                ),
            }
        }
        write_entry(&mut out, "TRAILER!!!", 0, 0, 1, b"", (0, 0));
        out
    }
}

/// One newc record: "070701", thirteen 8-digit hex fields, the NUL-terminated
/// name padded to 4 bytes, the data padded to 4 bytes. Owner root, mtime 0.
fn write_entry(
    out: &mut Vec<u8>,
    name: &str,
    ino: u32,
    mode: u32,
    nlink: u32,
    data: &[u8],
    rdev: (u32, u32),
) {
    let fields = [
        ino,
        mode,
        0,
        0,
        nlink,
        0,
        data.len() as u32,
        0,
        0,
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0,
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    out.resize(out.len().next_multiple_of(4), 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_newc() {
        let mut a = Archive::default();
        a.file("/bin/x", 0o755, b"hello".to_vec());
        let out = a.finish();
        // "bin" directory first, then "bin/x", then the trailer.
        assert!(out.starts_with(b"070701"));
        assert_eq!(&out[110..114], b"bin\0");
        let second = 116; // 110 + "bin\0" = 114, padded to 116; no data
        assert_eq!(&out[second..second + 6], b"070701");
        assert_eq!(&out[second + 110..second + 116], b"bin/x\0");
        assert_eq!(&out[second + 116..second + 121], b"hello");
        assert_eq!(out.len() % 4, 0);
        assert!(out.windows(10).any(|w| w == b"TRAILER!!!"));
    }

    #[test]
    fn is_readable_by_cpio_if_installed() {
        let Ok(mut child) = std::process::Command::new("cpio")
            .args(["-t", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
        else {
            return;
        };
        let mut a = Archive::default();
        a.file("init", 0o755, b"#!/bin/sh\n".to_vec());
        a.symlink("bin/sh", "busybox");
        a.char_dev("dev/console", 0o600, 5, 1);
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&a.finish()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "bin\nbin/sh\ndev\ndev/console\ninit\n"
        );
    }
}
