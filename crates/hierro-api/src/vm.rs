use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{EventKind, Operation, Privilege};

/// Request to create a VM (the body of `POST /api/vms`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VmCreate {
    /// Unique on the host; letters, digits, `-`, `_`, `.`.
    #[schema(pattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,79}$")]
    pub name: String,
    /// Datastore that holds the VM's folder.
    pub datastore: String,
    #[serde(default = "default_cpus")]
    #[schema(minimum = 1, maximum = 64)]
    pub cpus: u32,
    #[schema(minimum = 64, maximum = 1048576)]
    pub memory_mib: u64,
    pub disk: DiskSpec,
    pub boot: Boot,
    #[serde(default)]
    pub nics: Vec<NicSpec>,
    /// CD-ROM drives (at most 4, SATA).
    #[serde(default)]
    pub cdroms: Vec<Cdrom>,
    /// The order the firmware tries devices in (a disk boot).
    #[serde(default = "default_boot_order")]
    pub boot_order: Vec<BootDevice>,
    #[serde(default)]
    pub display: Display,
    #[serde(default)]
    pub guest_os: GuestOs,
}

fn default_cpus() -> u32 {
    1
}

/// The firmware's boot order when the VM is made without one: its disk,
/// then its CD-ROM drives (an empty disk falls through to an installer).
pub fn default_boot_order() -> Vec<BootDevice> {
    vec![BootDevice::Disk, BootDevice::Cdrom]
}

/// At most this many CD-ROM drives (the SATA controller's ports).
pub const MAX_CDROMS: usize = 4;

/// A CD-ROM drive on the VM's SATA controller.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cdrom {
    /// The ISO image it holds, a datastore path (`[ds] iso/x.iso`); absent
    /// for an empty drive. Changed while the VM runs, the medium changes
    /// at once (the guest sees a disc ejected and another inserted).
    #[serde(default)]
    pub iso: Option<String>,
    /// "Connect at power on": the ISO is in the drive when the VM powers
    /// on; otherwise the drive starts empty until the ISO is set again.
    #[serde(default = "yes")]
    pub start_connected: bool,
}

fn yes() -> bool {
    true
}

/// A device the firmware may boot from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BootDevice {
    /// The CD-ROM drives, in order.
    Cdrom,
    /// The VM's disk.
    Disk,
    /// The NICs, in order (PXE).
    Network,
}

impl std::str::FromStr for BootDevice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cdrom" => Ok(BootDevice::Cdrom),
            "disk" => Ok(BootDevice::Disk),
            "network" => Ok(BootDevice::Network),
            _ => Err(format!(
                "unknown boot device {s:?}: use cdrom, disk or network"
            )),
        }
    }
}

/// The VM's graphics adapter. With one, the VM has a graphical console
/// (VNC, relayed by the host) and screenshots.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Display {
    /// Standard VGA: every guest and firmware drives it.
    #[default]
    Vga,
    /// virtio-gpu: resizable, needs the guest's virtio-gpu driver.
    VirtioGpu,
    /// No graphics adapter: the serial console only.
    None,
}

/// The VM's system disk: a new blank qcow2 of `size_mib`, or a clone of a
/// disk (`clone_from`, a datastore path) that grows to `size_mib`: linked
/// (the source stays its backing file, and must never change again), or,
/// with `full_copy`, a copy of its data that depends on nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiskSpec {
    #[serde(default)]
    pub size_mib: Option<u64>,
    #[serde(default)]
    pub clone_from: Option<String>,
    #[serde(default)]
    pub full_copy: bool,
}

/// How the VM boots: a kernel and initrd given directly (datastore paths), or
/// its disk.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Boot {
    Kernel {
        kernel: String,
        #[serde(default)]
        initrd: Option<String>,
        /// Extra kernel arguments; the host adds the console and the guest
        /// network settings from the NIC configuration.
        #[serde(default)]
        cmdline: String,
    },
    Disk,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NicSpec {
    /// The network (port group) the NIC connects to.
    pub network: String,
    /// Assigned by the host when absent, then kept in the VM's configuration.
    #[serde(default)]
    #[schema(pattern = "^(?!00:00:00:00:00:00$)[0-9A-Fa-f][02468AaCcEe](:[0-9A-Fa-f]{2}){5}$")]
    pub mac: Option<String>,
    /// Guest IP in CIDR form (`10.99.0.101/24`), handed to the guest image.
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub gateway: Option<String>,
    /// The adapter the guest sees; by default what the guest OS type
    /// suggests (virtio, or e1000e for Windows).
    #[serde(default)]
    pub model: Option<NicModel>,
}

/// A network adapter's model.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NicModel {
    /// virtio-net: the fastest; Linux has its driver, Windows needs it installed.
    #[default]
    Virtio,
    /// Intel 82574 (e1000e): every installer has its driver.
    E1000e,
}

/// What the guest runs: it picks the defaults of what the VM is made with
/// (today the NICs' model), and says what the VM is for.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GuestOs {
    Linux,
    Windows,
    #[default]
    Other,
}

impl GuestOs {
    /// The NIC model a guest of this type drives without extra drivers.
    pub fn nic_model(self) -> NicModel {
        match self {
            GuestOs::Windows => NicModel::E1000e,
            GuestOs::Linux | GuestOs::Other => NicModel::Virtio,
        }
    }
}

impl std::str::FromStr for GuestOs {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "linux" => Ok(GuestOs::Linux),
            "windows" => Ok(GuestOs::Windows),
            "other" => Ok(GuestOs::Other),
            _ => Err(format!(
                "unknown guest OS {s:?}: use linux, windows or other"
            )),
        }
    }
}

/// A change of an existing VM (the body of `PATCH /api/vms/{id}`); absent
/// fields stay as they are. `nics`, when given, is the whole new list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VmUpdate {
    #[serde(default)]
    #[schema(minimum = 1, maximum = 64)]
    pub cpus: Option<u32>,
    #[serde(default)]
    #[schema(minimum = 64, maximum = 1048576)]
    pub memory_mib: Option<u64>,
    #[serde(default)]
    pub nics: Option<Vec<NicSpec>>,
    /// Marks a powered-off VM as a template (it then cannot be powered on,
    /// changed or snapshotted, only cloned), or a template as a VM again.
    #[serde(default)]
    pub template: Option<bool>,
    /// The whole new list of CD-ROM drives. While the VM runs, only their
    /// ISOs may change (the media change at once), not their number.
    #[serde(default)]
    pub cdroms: Option<Vec<Cdrom>>,
    #[serde(default)]
    pub boot_order: Option<Vec<BootDevice>>,
    /// Boot from this device first at the next power-on only ("boot from
    /// CD next time"); the boot order applies again after it.
    #[serde(default)]
    pub boot_once: Option<BootDevice>,
    /// Changes while the VM is off.
    #[serde(default)]
    pub display: Option<Display>,
    /// Any time; NICs keep their model.
    #[serde(default)]
    pub guest_os: Option<GuestOs>,
}

impl VmUpdate {
    /// Changes nothing.
    pub fn is_empty(&self) -> bool {
        let VmUpdate {
            cpus,
            memory_mib,
            nics,
            template,
            cdroms,
            boot_order,
            boot_once,
            display,
            guest_os,
        } = self;
        cpus.is_none()
            && memory_mib.is_none()
            && nics.is_none()
            && template.is_none()
            && cdroms.is_none()
            && boot_order.is_none()
            && boot_once.is_none()
            && display.is_none()
            && guest_os.is_none()
    }
}

/// A clone of a powered-off VM, or a VM deployed from a template (the body
/// of a center's `POST /api/vms/{vm}/clone`): the source's hardware, and a
/// full copy of its disk.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VmClone {
    #[schema(pattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,79}$")]
    pub name: String,
    /// The datastore of the new VM's folder; the source's by default.
    #[serde(default)]
    pub datastore: Option<String>,
    /// The new VM's NICs; by default on the source's port groups, with new
    /// MACs and no guest addresses.
    #[serde(default)]
    pub nics: Option<Vec<NicSpec>>,
}

/// The VM's stored configuration (`vm.json` in its folder; the .vmx analog).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct VmConfig {
    pub id: Uuid,
    pub name: String,
    pub cpus: u32,
    pub memory_mib: u64,
    pub disk: DiskConfig,
    pub boot: Boot,
    pub nics: Vec<Nic>,
    pub created: DateTime<Utc>,
    /// A template: a VM kept to be cloned, never powered on.
    #[serde(default)]
    pub template: bool,
    #[serde(default)]
    pub cdroms: Vec<Cdrom>,
    #[serde(default = "default_boot_order")]
    pub boot_order: Vec<BootDevice>,
    /// Tried first at the next power-on, then cleared.
    #[serde(default)]
    pub boot_once: Option<BootDevice>,
    /// A VM made before displays existed has VGA.
    #[serde(default)]
    pub display: Display,
    #[serde(default)]
    pub guest_os: GuestOs,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct DiskConfig {
    /// File name inside the VM folder.
    pub file: String,
    pub size_mib: u64,
    /// The template this disk is a linked clone of, if any.
    #[serde(default)]
    pub clone_of: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct Nic {
    pub network: String,
    pub mac: String,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub gateway: Option<String>,
    /// A NIC made before models existed is virtio.
    #[serde(default)]
    pub model: NicModel,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum PowerState {
    PoweredOff,
    PoweredOn,
}

impl std::fmt::Display for PowerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PowerState::PoweredOff => "poweredOff",
            PowerState::PoweredOn => "poweredOn",
        })
    }
}

/// A VM as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VmInfo {
    pub id: Uuid,
    pub name: String,
    pub power_state: PowerState,
    pub datastore: String,
    /// The VM folder as a datastore path.
    pub folder: String,
    pub config: VmConfig,
    #[serde(default)]
    pub runtime: Option<VmRuntime>,
    /// Filled from the guest agent when the VM runs and the agent answers.
    #[serde(default)]
    pub guest: Option<GuestInfo>,
    #[serde(default)]
    pub snapshots: Vec<Snapshot>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VmRuntime {
    /// The QEMU process.
    pub pid: u32,
    pub started_at: Option<DateTime<Utc>>,
    /// QEMU's own run state (`running`, `paused`, ...).
    pub qemu_status: String,
    pub accel: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, ToSchema)]
pub struct GuestInfo {
    pub agent_running: bool,
    #[serde(default)]
    pub agent_version: Option<String>,
    #[serde(default)]
    pub host_name: Option<String>,
    /// The guest's addresses, loopback left out.
    #[serde(default)]
    pub ip_addresses: Vec<String>,
    #[serde(default)]
    pub interfaces: Vec<GuestInterface>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GuestInterface {
    pub name: String,
    #[serde(default)]
    pub mac: Option<String>,
    pub ip_addresses: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct Snapshot {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub created: DateTime<Utc>,
    /// Taken while running: holds the memory too, and revert resumes there.
    pub memory: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotCreate {
    #[schema(pattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,79}$")]
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Power operations (`POST /api/vms/{id}/power/{op}`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PowerOp {
    On,
    Off,
    Reset,
    /// Clean shutdown through the guest agent.
    Shutdown,
}

impl PowerOp {
    pub fn as_str(self) -> &'static str {
        match self {
            PowerOp::On => "on",
            PowerOp::Off => "off",
            PowerOp::Reset => "reset",
            PowerOp::Shutdown => "shutdown",
        }
    }

    /// The power state the VM must be in for it.
    pub fn valid_in(self) -> PowerState {
        match self {
            PowerOp::On => PowerState::PoweredOff,
            PowerOp::Off | PowerOp::Reset | PowerOp::Shutdown => PowerState::PoweredOn,
        }
    }

    /// Its task's operation, on a host and through the center.
    pub fn operation(self) -> Operation {
        match self {
            PowerOp::On => Operation::VmPowerOn,
            PowerOp::Off => Operation::VmPowerOff,
            PowerOp::Reset => Operation::VmReset,
            PowerOp::Shutdown => Operation::VmShutdownGuest,
        }
    }

    /// The event it leaves when done.
    pub fn event(self) -> EventKind {
        match self {
            PowerOp::On => EventKind::VmPoweredOn,
            PowerOp::Off => EventKind::VmPoweredOff,
            PowerOp::Reset => EventKind::VmResetting,
            PowerOp::Shutdown => EventKind::VmGuestShutdown,
        }
    }

    /// The privilege it needs (a guest shutdown is a power-off).
    pub fn privilege(self) -> Privilege {
        match self {
            PowerOp::On => Privilege::VirtualMachineInteractPowerOn,
            PowerOp::Off | PowerOp::Shutdown => Privilege::VirtualMachineInteractPowerOff,
            PowerOp::Reset => Privilege::VirtualMachineInteractReset,
        }
    }
}

/// The path segment of `POST /api/vms/{vm}/power/{op}`.
impl std::str::FromStr for PowerOp {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "on" => Ok(PowerOp::On),
            "off" => Ok(PowerOp::Off),
            "reset" => Ok(PowerOp::Reset),
            "shutdown" => Ok(PowerOp::Shutdown),
            _ => Err(format!(
                "unknown power operation {s:?}: use on, off, reset or shutdown"
            )),
        }
    }
}

/// Where the center puts a new VM (`?placement=&folder=`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Placement {
    /// The host or cluster to run the VM on.
    pub placement: String,
    /// The folder (or datacenter) to put it in; the datacenter by default.
    pub folder: Option<String>,
}

/// A VM named in a path (`/api/vms/{vm}/...`), on a host or a center.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VmKey {
    /// The VM's id (on a center, its inventory object's), or its name when
    /// only one VM the caller may see has it.
    pub vm: String,
}

/// A VM's snapshot named in a path (`/api/vms/{vm}/snapshots/{name}`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SnapshotKey {
    /// The VM's id (on a center, its inventory object's), or its name when
    /// only one VM the caller may see has it.
    pub vm: String,
    /// The snapshot's name.
    pub name: String,
}

/// A one-time ticket to a VM's graphical console (the answer of
/// `POST /api/vms/{vm}/console/ticket`): it opens the console's WebSocket
/// once, within a minute, for the session that asked while it lasts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsoleTicket {
    pub ticket: String,
    /// The WebSocket to open (ticket included): the VM's display over
    /// VNC (RFB), binary frames both ways, as noVNC speaks it.
    pub path: String,
    pub expires_in_secs: u64,
}

/// The ticket of `GET /api/vms/{vm}/vnc?ticket=`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketAt {
    pub ticket: String,
}
