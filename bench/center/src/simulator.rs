//! A host simulator, for this benchmark only: it makes the change feed a
//! host with `vms` VMs would send (`GET /api/updates?since=0`), so that the
//! center's own code applies it. No VM, QEMU or host agent is involved.

use chrono::Utc;
use hierro_api::{
    Boot, Datastore, DiskConfig, HostNetwork, HostUpdates, Nic, PortGroup, PowerState, VmConfig,
    VmInfo,
};
use uuid::Uuid;

pub struct HostSimulator {
    pub index: usize,
    pub vms: usize,
}

impl HostSimulator {
    /// Everything the host has, as its first answer to the center.
    pub fn full_update(&self) -> HostUpdates {
        let vms = (0..self.vms).map(|n| self.vm(n)).collect();
        HostUpdates {
            version: 1,
            full: true,
            vms,
            removed_vms: vec![],
            datastores: Some(vec![Datastore {
                name: "shared".into(),
                path: "/srv/shared".into(),
                capacity_bytes: 1 << 40,
                free_bytes: 1 << 39,
                accessible: true,
            }]),
            network: Some(HostNetwork {
                vswitches: vec![],
                portgroups: vec![PortGroup {
                    teaming: Default::default(),
                    name: "VM Network".into(),
                    vswitch: "vSwitch0".into(),
                    vlan: 0,
                    security: Default::default(),
                }],
                vmknics: vec![],
                mirrors: vec![],
                distributed: vec![],
            }),
            lockdown: false,
        }
    }

    fn vm(&self, n: usize) -> VmInfo {
        let id = Uuid::new_v4();
        let name = format!("vm-{:03}-{:03}", self.index, n);
        VmInfo {
            id,
            name: name.clone(),
            power_state: if n.is_multiple_of(2) {
                PowerState::PoweredOn
            } else {
                PowerState::PoweredOff
            },
            datastore: "shared".into(),
            folder: format!("[shared] {name}"),
            config: VmConfig {
                id,
                name,
                cpus: 1,
                memory_mib: 512,
                disk: DiskConfig {
                    file: "disk.qcow2".into(),
                    size_mib: 1024,
                    clone_of: None,
                },
                boot: Boot::Disk,
                nics: vec![Nic {
                    network: "VM Network".into(),
                    mac: format!(
                        "52:54:00:{:02x}:{:02x}:{:02x}",
                        self.index,
                        n / 256,
                        n % 256
                    ),
                    ip: None,
                    gateway: None,
                    model: Default::default(),
                }],
                created: Utc::now(),
                template: false,
                cdroms: vec![],
                boot_order: hierro_api::default_boot_order(),
                boot_once: None,
                display: Default::default(),
                guest_os: Default::default(),
            },
            runtime: None,
            guest: None,
            snapshots: vec![],
        }
    }
}
