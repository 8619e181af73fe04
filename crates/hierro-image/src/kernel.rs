//! Debian's kernel: fetching the package, and picking the modules the guest
//! needs with everything they depend on, in load order.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{elf, run};

/// The metapackage that names Debian's current amd64 kernel.
const METAPACKAGE: &str = "linux-image-amd64";

/// A downloaded kernel package.
pub struct KernelDeb {
    pub path: PathBuf,
    pub package: String,
    pub version: String,
}

/// Finds the kernel .deb in `work`, downloading it with apt-get if absent.
/// A package already in `work` is reused as is, so builds are reproducible and
/// work offline; delete it (or `work`) to move to a newer kernel.
pub fn fetch(work: &Path) -> Result<KernelDeb> {
    let meta = find_or_download(work, METAPACKAGE)?;
    let depends = deb_field(&meta, "Depends")?;
    // "linux-image-6.1.0-56-amd64 (= 6.1.192-2)"
    let package = depends
        .split([',', '|'])
        .filter_map(|d| d.split_whitespace().next())
        .find(|name| name.starts_with("linux-image-"))
        .with_context(|| format!("{}: no linux-image-* in Depends: {depends}", meta.display()))?
        .to_string();
    let path = find_or_download(work, &package)?;
    let version = deb_field(&path, "Version")?;
    Ok(KernelDeb {
        path,
        package,
        version,
    })
}

fn find_or_download(work: &Path, package: &str) -> Result<PathBuf> {
    if let Some(deb) = find_deb(work, package)? {
        return Ok(deb);
    }
    let mut apt = Command::new("apt-get");
    apt.args(["download", package]).current_dir(work);
    run(&mut apt).context("downloading the kernel (is `apt-get update` done?)")?;
    find_deb(work, package)?.with_context(|| {
        format!(
            "apt-get download {package} left no .deb in {}",
            work.display()
        )
    })
}

/// `work/<package>_*.deb`; the last one by name if several.
fn find_deb(work: &Path, package: &str) -> Result<Option<PathBuf>> {
    let prefix = format!("{package}_");
    let mut debs: Vec<PathBuf> = std::fs::read_dir(work)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".deb")
        })
        .collect();
    debs.sort();
    Ok(debs.pop())
}

fn deb_field(deb: &Path, field: &str) -> Result<String> {
    let out = run(Command::new("dpkg-deb").arg("-f").arg(deb).arg(field))?;
    Ok(String::from_utf8(out)?.trim().to_string())
}

/// The modules to load, in order, with their (decompressed) contents.
pub struct Modules {
    pub order: Vec<(String, Vec<u8>)>,
    /// Requested modules that are built into the kernel (nothing to load).
    pub builtin: Vec<String>,
}

/// Module name from a path: "kernel/drivers/net/virtio_net.ko.xz" -> "virtio_net".
/// The kernel treats '-' and '_' alike in module names; normalise to '_'.
fn module_name(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    let stem = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))?;
    Some(stem.replace('-', "_"))
}

/// Resolves `wanted` and their dependencies (each module's `depends=` field)
/// in the extracted module tree `moddir` (/lib/modules/<release>).
pub fn resolve_modules(moddir: &Path, wanted: &[&str]) -> Result<Modules> {
    let builtin_list = std::fs::read_to_string(moddir.join("modules.builtin"))
        .with_context(|| format!("reading {}/modules.builtin", moddir.display()))?;
    let builtin: HashSet<String> = builtin_list.lines().filter_map(module_name).collect();
    let mut files = HashMap::new();
    index_modules(&moddir.join("kernel"), &mut files)?;

    let mut r = Resolver {
        builtin,
        files,
        seen: HashSet::new(),
        out: Modules {
            order: Vec::new(),
            builtin: Vec::new(),
        },
    };
    for name in wanted {
        r.visit(&name.replace('-', "_"))?;
    }
    Ok(r.out)
}

/// Every module file under `dir`, by module name.
fn index_modules(dir: &Path, files: &mut HashMap<String, PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            index_modules(&path, files)?;
        } else if let Some(name) = module_name(&path.to_string_lossy()) {
            files.insert(name, path);
        }
    }
    Ok(())
}

struct Resolver {
    builtin: HashSet<String>,
    files: HashMap<String, PathBuf>,
    seen: HashSet<String>,
    out: Modules,
}

impl Resolver {
    /// Depth first: a module's dependencies are added before the module.
    fn visit(&mut self, name: &str) -> Result<()> {
        if !self.seen.insert(name.to_string()) {
            return Ok(());
        }
        if self.builtin.contains(name) {
            self.out.builtin.push(name.to_string());
            return Ok(());
        }
        let path = self
            .files
            .get(name)
            .with_context(|| format!("module {name} is neither built in nor in the package"))?;
        let data = read_module(path)?;
        let depends = elf::modinfo(&data, "depends")
            .with_context(|| format!("reading {}", path.display()))?;
        for dep in depends
            .unwrap_or_default()
            .split(',')
            .filter(|d| !d.is_empty())
        {
            self.visit(&dep.replace('-', "_"))?;
        }
        self.out.order.push((name.to_string(), data));
        Ok(())
    }
}

/// A module's contents, decompressed: busybox insmod wants plain .ko files.
fn read_module(path: &Path) -> Result<Vec<u8>> {
    let tool = match path.extension().and_then(|e| e.to_str()) {
        Some("ko") => {
            return std::fs::read(path).with_context(|| format!("reading {}", path.display()))
        }
        Some("xz") => "xz",
        Some("zst") => "zstd",
        Some("gz") => "gzip",
        _ => bail!("unexpected module file {}", path.display()),
    };
    run(Command::new(tool).arg("-dc").arg(path))
}

#[cfg(test)]
mod tests {
    use super::module_name;

    #[test]
    fn module_names() {
        assert_eq!(
            module_name("kernel/drivers/net/virtio_net.ko").as_deref(),
            Some("virtio_net")
        );
        assert_eq!(
            module_name("kernel/drivers/char/hw_random/virtio-rng.ko.xz").as_deref(),
            Some("virtio_rng")
        );
        assert_eq!(module_name("kernel/x/y.ko.zst").as_deref(), Some("y"));
        assert_eq!(module_name("modules.dep"), None);
    }
}
