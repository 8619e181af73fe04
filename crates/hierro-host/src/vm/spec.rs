//! Validation of a VM create request into the configuration stored in
//! `vm.json`. Every check happens here, before anything is made.

use std::net::Ipv4Addr;

use chrono::Utc;
use hierro_api::{
    Boot, BootDevice, Cdrom, DiskConfig, Nic, NicSpec, VmConfig, VmCreate, VmUpdate, MAX_CDROMS,
};
use uuid::Uuid;

use crate::error::{HostError, HostResult};
use crate::Host;

pub const MAX_CPUS: u32 = 64;
pub const MIN_MEMORY_MIB: u64 = 64;
pub const MAX_MEMORY_MIB: u64 = 1024 * 1024;
pub const MAX_DISK_MIB: u64 = 64 * 1024 * 1024;

/// Names of VMs and datastores: they become folder names and appear in
/// datastore paths, so only a safe alphabet.
pub fn validate_name(what: &str, name: &str) -> HostResult<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 80 {
        return Err(HostError::invalid(format!(
            "{what} must be 1 to 80 characters"
        )));
    }
    if !name.chars().all(ok_char) || name.starts_with('.') {
        return Err(HostError::invalid(format!(
            "{what} {name:?} may only hold letters, digits, '-', '_' and '.', and may not start with '.'"
        )));
    }
    Ok(())
}

pub fn validate(host: &Host, req: &VmCreate) -> HostResult<VmConfig> {
    validate_name("name", &req.name)?;
    host.datastores.root(&req.datastore)?;
    validate_size(req.cpus, req.memory_mib)?;
    let disk = match (&req.disk.size_mib, &req.disk.clone_from) {
        (None, None) => {
            return Err(HostError::invalid(
                "disk needs size_mib, clone_from, or both",
            ));
        }
        (Some(0), _) => return Err(HostError::invalid("disk.size_mib must be above 0")),
        (Some(s), _) if *s > MAX_DISK_MIB => {
            return Err(HostError::invalid(format!(
                "disk.size_mib must be at most {MAX_DISK_MIB}"
            )));
        }
        (size, Some(source)) => {
            let path = host
                .datastores
                .resolve_existing("disk.clone_from", source)?;
            if let Some(vm) = super::clones::running_owner(host, &path) {
                return Err(HostError::refused(format!(
                    "disk.clone_from {source} is the disk of {vm}, which is running: power it off first"
                )));
            }
            DiskConfig {
                file: format!("{}.qcow2", req.name),
                size_mib: size.unwrap_or(0),
                // A full copy depends on nothing; a linked clone on its source.
                clone_of: (!req.disk.full_copy).then(|| source.clone()),
            }
        }
        (_, None) if req.disk.full_copy => {
            return Err(HostError::invalid("disk.full_copy needs disk.clone_from"));
        }
        (Some(size), None) => DiskConfig {
            file: format!("{}.qcow2", req.name),
            size_mib: *size,
            clone_of: None,
        },
    };
    if let Boot::Kernel { kernel, initrd, .. } = &req.boot {
        host.datastores.resolve_existing("boot.kernel", kernel)?;
        if let Some(initrd) = initrd {
            host.datastores.resolve_existing("boot.initrd", initrd)?;
        }
    }
    let nics = validate_nics(host, &req.nics, None, req.guest_os)?;
    validate_cdroms(host, &req.cdroms)?;
    validate_boot_order(&req.boot_order)?;
    Ok(VmConfig {
        id: Uuid::new_v4(),
        name: req.name.clone(),
        cpus: req.cpus,
        memory_mib: req.memory_mib,
        disk,
        boot: req.boot.clone(),
        nics,
        created: Utc::now(),
        template: false,
        cdroms: req.cdroms.clone(),
        boot_order: req.boot_order.clone(),
        boot_once: None,
        display: req.display,
        guest_os: req.guest_os,
    })
}

/// At most `MAX_CDROMS` drives, each empty or holding an ISO that exists.
fn validate_cdroms(host: &Host, cdroms: &[Cdrom]) -> HostResult<()> {
    if cdroms.len() > MAX_CDROMS {
        return Err(HostError::invalid(format!(
            "a VM has at most {MAX_CDROMS} CD-ROM drives, not {}",
            cdroms.len()
        )));
    }
    for (i, cd) in cdroms.iter().enumerate() {
        if let Some(iso) = &cd.iso {
            host.datastores
                .resolve_existing(&format!("cdroms[{i}].iso"), iso)?;
        }
    }
    Ok(())
}

/// Each device once, at least one.
fn validate_boot_order(order: &[BootDevice]) -> HostResult<()> {
    if order.is_empty() {
        return Err(HostError::invalid(
            "boot_order needs at least one device (cdrom, disk, network)",
        ));
    }
    for (i, d) in order.iter().enumerate() {
        if order[..i].contains(d) {
            return Err(HostError::invalid(format!("boot_order names {d:?} twice")));
        }
    }
    Ok(())
}

fn validate_size(cpus: u32, memory_mib: u64) -> HostResult<()> {
    if cpus == 0 || cpus > MAX_CPUS {
        return Err(HostError::invalid(format!(
            "cpus must be 1 to {MAX_CPUS}, not {}",
            cpus
        )));
    }
    if !(MIN_MEMORY_MIB..=MAX_MEMORY_MIB).contains(&memory_mib) {
        return Err(HostError::invalid(format!(
            "memory_mib must be {MIN_MEMORY_MIB} to {MAX_MEMORY_MIB}, not {}",
            memory_mib
        )));
    }
    Ok(())
}

/// NICs: port groups that exist, MACs that are valid and free on this host
/// (`own_vm`'s own MACs are free for it), addresses that parse; a NIC
/// without a model gets the one `guest_os` drives.
fn validate_nics(
    host: &Host,
    specs: &[NicSpec],
    own_vm: Option<Uuid>,
    guest_os: hierro_api::GuestOs,
) -> HostResult<Vec<Nic>> {
    let mut nics = Vec::new();
    for (i, n) in specs.iter().enumerate() {
        if !host.portgroup_exists(&n.network) {
            return Err(HostError::invalid(format!(
                "nics[{i}].network: no port group named {:?} on this host",
                n.network
            )));
        }
        let mac = match &n.mac {
            Some(m) => {
                parse_mac(m).map_err(|e| HostError::invalid(format!("nics[{i}].mac: {e}")))?
            }
            None => random_mac(),
        };
        if nics.iter().any(|x: &Nic| x.mac == mac) || host.mac_in_use(&mac, own_vm) {
            return Err(HostError::conflict(format!(
                "nics[{i}].mac {mac} is already in use on this host"
            )));
        }
        if let Some(ip) = &n.ip {
            parse_cidr(ip).map_err(|e| HostError::invalid(format!("nics[{i}].ip: {e}")))?;
        }
        if let Some(gw) = &n.gateway {
            gw.parse::<Ipv4Addr>().map_err(|_| {
                HostError::invalid(format!("nics[{i}].gateway {gw:?} is not an IPv4 address"))
            })?;
        }
        nics.push(Nic {
            network: n.network.clone(),
            mac,
            ip: n.ip.clone(),
            gateway: n.gateway.clone(),
            model: n.model.unwrap_or(guest_os.nic_model()),
        });
    }
    Ok(nics)
}

/// A reconfiguration of an existing VM, vSphere's rules: CPU, memory and the
/// set of NICs change only while it is powered off; a NIC's port group (and
/// guest IP, used at next boot) may change while it runs.
pub fn validate_update(
    host: &Host,
    current: &VmConfig,
    update: &VmUpdate,
    running: bool,
) -> HostResult<VmConfig> {
    let mut next = current.clone();
    if let Some(template) = update.template {
        if template && running {
            return Err(HostError::refused(format!(
                "{} is powered on: power it off to make it a template",
                current.name
            )));
        }
        next.template = template;
    }
    let hardware = update.cpus.is_some()
        || update.memory_mib.is_some()
        || update.nics.is_some()
        || update.cdroms.is_some()
        || update.display.is_some();
    if next.template && hardware {
        return Err(HostError::refused(format!(
            "{} is a template: convert it to a virtual machine to change its hardware",
            current.name
        )));
    }
    if let Some(cpus) = update.cpus {
        next.cpus = cpus;
    }
    if let Some(mem) = update.memory_mib {
        next.memory_mib = mem;
    }
    validate_size(next.cpus, next.memory_mib)?;
    if let Some(specs) = &update.nics {
        // A NIC keeps its MAC and model unless the update names others.
        let specs: Vec<NicSpec> = specs
            .iter()
            .enumerate()
            .map(|(i, n)| NicSpec {
                mac: n
                    .mac
                    .clone()
                    .or_else(|| current.nics.get(i).map(|c| c.mac.clone())),
                model: n.model.or_else(|| current.nics.get(i).map(|c| c.model)),
                ..n.clone()
            })
            .collect();
        if let Some(os) = update.guest_os {
            next.guest_os = os;
        }
        next.nics = validate_nics(host, &specs, Some(current.id), next.guest_os)?;
    }
    if let Some(cdroms) = &update.cdroms {
        validate_cdroms(host, cdroms)?;
        next.cdroms = cdroms.clone();
    }
    if let Some(order) = &update.boot_order {
        validate_boot_order(order)?;
        next.boot_order = order.clone();
    }
    if let Some(once) = update.boot_once {
        next.boot_once = Some(once);
    }
    if let Some(display) = update.display {
        next.display = display;
    }
    if let Some(os) = update.guest_os {
        next.guest_os = os;
    }
    if running {
        if next.cdroms.len() != current.cdroms.len() {
            return Err(HostError::refused(format!(
                "{} is powered on: CD-ROM drives are added and removed only while it is off (their ISOs change now)",
                current.name
            )));
        }
        if next.display != current.display {
            return Err(HostError::refused(format!(
                "{} is powered on: its display adapter changes only while it is off",
                current.name
            )));
        }
        let hardware_changed = next.cpus != current.cpus
            || next.memory_mib != current.memory_mib
            || next.nics.len() != current.nics.len()
            || next
                .nics
                .iter()
                .zip(&current.nics)
                .any(|(a, b)| a.mac != b.mac || a.model != b.model);
        if hardware_changed {
            return Err(HostError::refused(format!(
                "{} is powered on: CPU, memory, the number of NICs, their MACs and models change only while it is off (a NIC's port group may change now)",
                current.name
            )));
        }
    }
    Ok(next)
}

/// A unicast MAC in lower-case colon form.
pub fn parse_mac(s: &str) -> Result<String, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let bytes: Option<Vec<u8>> = (parts.len() == 6)
        .then(|| {
            parts
                .iter()
                .map(|p| {
                    let hex = p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit());
                    u8::from_str_radix(p, 16).ok().filter(|_| hex)
                })
                .collect()
        })
        .flatten();
    let bytes =
        bytes.ok_or_else(|| format!("{s:?} is not a MAC address like 52:54:00:12:34:56"))?;
    if bytes[0] & 1 == 1 {
        return Err(format!("{s} is a multicast address"));
    }
    if bytes.iter().all(|b| *b == 0) {
        return Err("00:00:00:00:00:00 is not a usable address".into());
    }
    Ok(bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// A MAC in QEMU's 52:54:00 range.
pub fn random_mac() -> String {
    let r: [u8; 3] = rand::random();
    format!("52:54:00:{:02x}:{:02x}:{:02x}", r[0], r[1], r[2])
}

pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let (ip, prefix) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?} must be an IPv4 address with a prefix, like 10.0.0.5/24"))?;
    let ip: Ipv4Addr = ip
        .parse()
        .map_err(|_| format!("{ip:?} is not an IPv4 address"))?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| (1..=32).contains(p))
        .ok_or_else(|| format!("prefix {prefix:?} must be 1 to 32"))?;
    Ok((ip, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("name", "web-01_a.b").is_ok());
        for bad in ["", ".hidden", "a/b", "a b", "../x", &"x".repeat(81)] {
            assert!(validate_name("name", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn macs() {
        assert_eq!(parse_mac("52:54:00:AA:bb:01").unwrap(), "52:54:00:aa:bb:01");
        assert!(parse_mac("01:00:5e:00:00:01").is_err(), "multicast");
        assert!(parse_mac("52:54:00:aa:bb").is_err());
        assert!(parse_mac("52:54:00:aa:bb:1").is_err());
        assert!(parse_mac("zz:54:00:aa:bb:01").is_err());
        assert!(parse_mac(&random_mac()).is_ok());
    }

    #[test]
    fn cidrs() {
        assert_eq!(
            parse_cidr("10.0.0.5/24").unwrap(),
            ("10.0.0.5".parse().unwrap(), 24)
        );
        assert!(parse_cidr("10.0.0.5").is_err());
        assert!(parse_cidr("10.0.0.5/33").is_err());
        assert!(parse_cidr("10.0.0.256/24").is_err());
    }
}
