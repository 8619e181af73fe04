//! Choosing between KVM and TCG.
//!
//! `/dev/kvm` alone is not proof that KVM runs stock guests: the build
//! machines expose it through kvm-pvm, which only runs PVM guest kernels and
//! hangs a stock one. So `auto` picks KVM only when the hardware KVM module
//! (kvm_intel or kvm_amd) is loaded.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    /// `auto`, `kvm` or `tcg`.
    pub fn from_setting(s: &str) -> Result<Accel, String> {
        match s {
            "auto" => Ok(detect()),
            "kvm" => Ok(Accel::Kvm),
            "tcg" => Ok(Accel::Tcg),
            other => Err(format!("accel must be auto, kvm or tcg, not {other:?}")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

pub fn detect() -> Accel {
    detect_in(Path::new("/"))
}

fn detect_in(root: &Path) -> Accel {
    let hw_module = ["sys/module/kvm_intel", "sys/module/kvm_amd"]
        .iter()
        .any(|m| root.join(m).exists());
    if hw_module && root.join("dev/kvm").exists() {
        Accel::Kvm
    } else {
        Accel::Tcg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_root(entries: &[&str]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("hierro-accel-{}", rand::random::<u64>()));
        for e in entries {
            let p = dir.join(e);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn pvm_only_means_tcg() {
        let root = fake_root(&["dev/kvm", "sys/module/kvm/x", "sys/module/kvm_pvm/x"]);
        assert_eq!(detect_in(&root), Accel::Tcg);
    }

    #[test]
    fn hardware_module_and_device_mean_kvm() {
        let root = fake_root(&["dev/kvm", "sys/module/kvm_intel/x"]);
        assert_eq!(detect_in(&root), Accel::Kvm);
        let root = fake_root(&["sys/module/kvm_amd/x"]);
        assert_eq!(detect_in(&root), Accel::Tcg, "no /dev/kvm, no KVM");
    }

    #[test]
    fn settings() {
        assert_eq!(Accel::from_setting("tcg"), Ok(Accel::Tcg));
        assert!(Accel::from_setting("xen").is_err());
    }
}
