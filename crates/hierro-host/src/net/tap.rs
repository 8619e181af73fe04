//! VM NICs on the host: QEMU creates each NIC's tap device and vswitchd
//! takes its frames; the tap's name is derived from the VM id and NIC index
//! so that everyone finds it again after a restart.

/// Short (IFNAMSIZ is 16) and derived from the VM id.
pub fn tap_name(vm: &uuid::Uuid, index: usize) -> String {
    format!("hv{}n{index}", &vm.simple().to_string()[..8])
}

/// The vswitchd port key of a VM NIC.
pub fn port_key(vm: &uuid::Uuid, index: usize) -> String {
    format!("vm:{vm}:{index}")
}
