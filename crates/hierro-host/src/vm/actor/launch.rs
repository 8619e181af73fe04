//! The QEMU command line of a VM's power-on (or arrival): its files and
//! port groups checked, its devices in the firmware's boot order.

use hierro_api::{Boot, BootDevice, Display, NicModel, VmConfig};
use hierro_qemu::{CdromLaunch, Graphics, LaunchSpec, NicLaunch};

use super::{kernel_cmdline, Actor};
use crate::error::{HostError, HostResult};
use crate::net;

impl Actor {
    /// The QEMU command for this VM, its files and port groups checked.
    pub(super) fn launch_spec(
        &self,
        loadvm: Option<String>,
        incoming: bool,
    ) -> HostResult<LaunchSpec> {
        let config = self.vm.config();
        let ds = &self.host.datastores;
        let disk = self.vm.folder.join(&config.disk.file);
        if !disk.is_file() {
            return Err(HostError::invalid(format!(
                "the VM's disk [{}] {}/{} is missing",
                self.vm.datastore, self.vm.folder_rel, config.disk.file
            )));
        }
        let kernel = match &config.boot {
            Boot::Kernel {
                kernel,
                initrd,
                cmdline,
            } => {
                let k = ds.resolve_existing("boot.kernel", kernel)?;
                let i = match initrd {
                    Some(i) => Some(ds.resolve_existing("boot.initrd", i)?),
                    None => None,
                };
                Some((k, i, kernel_cmdline(&config, cmdline)))
            }
            Boot::Disk => None,
        };
        for nic in &config.nics {
            if !self.host.portgroup_exists(&nic.network) {
                return Err(HostError::invalid(format!(
                    "port group {:?} does not exist on this host",
                    nic.network
                )));
            }
        }
        let boot = BootIndexes::of(&config);
        let nics: Vec<NicLaunch> = config
            .nics
            .iter()
            .enumerate()
            .map(|(i, n)| NicLaunch {
                tap: net::tap_name(&config.id, i),
                mac: n.mac.clone(),
                fd: None,
                bootindex: boot.nics[i],
                device: match n.model {
                    NicModel::Virtio => "virtio-net-pci",
                    NicModel::E1000e => "e1000e",
                },
            })
            .collect();
        let mut cdroms = vec![];
        for (i, cd) in config.cdroms.iter().enumerate() {
            // An arriving VM's drives hold what its configuration says.
            let iso = match &cd.iso {
                Some(iso) if cd.start_connected || incoming => {
                    Some(ds.resolve_existing(&format!("cdroms[{i}].iso"), iso)?)
                }
                _ => None,
            };
            cdroms.push(CdromLaunch {
                iso,
                bootindex: boot.cdroms[i],
            });
        }
        let graphics = match config.display {
            Display::Vga => Some(Graphics::Vga),
            Display::VirtioGpu => Some(Graphics::VirtioGpu),
            Display::None => None,
        };
        Ok(LaunchSpec {
            name: config.name.clone(),
            uuid: config.id.to_string(),
            accel: self.host.accel,
            cpus: config.cpus,
            memory_mib: config.memory_mib,
            disk,
            disk_bootindex: boot.disk,
            cdroms,
            graphics,
            kernel,
            nics,
            serial_log: self.vm.folder.join("serial.log"),
            loadvm,
            incoming,
        })
    }
}

/// Each device's place in the firmware's boot order for one power-on:
/// `boot_once`'s devices first, then the boot order's; drives and NICs in
/// their own order. Devices left out are never booted.
struct BootIndexes {
    disk: Option<u32>,
    cdroms: Vec<Option<u32>>,
    nics: Vec<Option<u32>>,
}

impl BootIndexes {
    fn of(config: &VmConfig) -> Self {
        let mut order: Vec<BootDevice> = config.boot_once.into_iter().collect();
        order.extend(
            config
                .boot_order
                .iter()
                .filter(|d| Some(**d) != config.boot_once),
        );
        let mut b = BootIndexes {
            disk: None,
            cdroms: vec![None; config.cdroms.len()],
            nics: vec![None; config.nics.len()],
        };
        let mut next = 1..;
        for device in order {
            match device {
                BootDevice::Disk => b.disk = next.next(),
                BootDevice::Cdrom => b.cdroms.iter_mut().for_each(|c| *c = next.next()),
                BootDevice::Network => b.nics.iter_mut().for_each(|n| *n = next.next()),
            }
        }
        b
    }
}
