//! vSphere's privileges: one action each, which roles grant on inventory
//! objects. Authorization checks these, and each operation of the center's
//! OpenAPI document names the ones it needs.

crate::vocabulary! {
    /// One action a role may allow, with vSphere's id (`System.View`,
    /// `VirtualMachine.Interact.PowerOn`...).
    Privilege {
    SystemAnonymous = "System.Anonymous" => "Base privilege held by every role except No access",
    SystemView = "System.View" => "See the object in the inventory",
    SystemRead = "System.Read" => "Read the object's properties",
    GlobalSettings = "Global.Settings" => "Read and change the center's settings",
    GlobalCancelTask = "Global.CancelTask" => "Cancel a running task",
    GlobalLogEvent = "Global.LogEvent" => "Log a user-defined event on the object",
    GlobalDiagnostics = "Global.Diagnostics" => "Get diagnostic information and log bundles",
    FolderCreate = "Folder.Create" => "Create a folder",
    FolderDelete = "Folder.Delete" => "Delete a folder",
    FolderMove = "Folder.Move" => "Move a folder",
    FolderRename = "Folder.Rename" => "Rename a folder",
    DatacenterCreate = "Datacenter.Create" => "Create a datacenter",
    DatacenterDelete = "Datacenter.Delete" => "Delete a datacenter",
    DatacenterMove = "Datacenter.Move" => "Move a datacenter",
    DatacenterRename = "Datacenter.Rename" => "Rename a datacenter",
    HostInventoryAddHostToCluster = "Host.Inventory.AddHostToCluster" => "Add a host to a cluster",
    HostInventoryAddStandaloneHost = "Host.Inventory.AddStandaloneHost" => "Add a standalone host",
    HostInventoryRemoveHostFromCluster = "Host.Inventory.RemoveHostFromCluster" => "Remove a host from a cluster",
    HostInventoryMoveHost = "Host.Inventory.MoveHost" => "Move a host between clusters",
    HostInventoryCreateCluster = "Host.Inventory.CreateCluster" => "Create a cluster",
    HostInventoryEditCluster = "Host.Inventory.EditCluster" => "Change a cluster's settings (HA, DRS)",
    HostInventoryDeleteCluster = "Host.Inventory.DeleteCluster" => "Delete a cluster",
    HostConfigConnection = "Host.Config.Connection" => "Disconnect and reconnect a host",
    HostConfigNetwork = "Host.Config.Network" => "Configure a host's networking",
    HostConfigStorage = "Host.Config.Storage" => "Configure a host's storage",
    HostConfigMaintenance = "Host.Config.Maintenance" => "Enter and leave maintenance mode, reboot a host",
    HostConfigSettings = "Host.Config.Settings" => "Change a host's settings, including lockdown mode",
    HostConfigNetService = "Host.Config.NetService" => "Change a host's firewall and services",
    DatastoreAllocateSpace = "Datastore.AllocateSpace" => "Use space on a datastore for disks and snapshots",
    DatastoreBrowse = "Datastore.Browse" => "Browse a datastore's files",
    DatastoreFileManagement = "Datastore.FileManagement" => "Copy, move and delete datastore files",
    DatastoreConfig = "Datastore.Config" => "Configure a datastore",
    DatastoreRename = "Datastore.Rename" => "Rename a datastore",
    DatastoreDelete = "Datastore.Delete" => "Remove a datastore",
    NetworkAssign = "Network.Assign" => "Connect a VM's NIC to the network",
    NetworkConfig = "Network.Config" => "Configure a network",
    NetworkDelete = "Network.Delete" => "Delete a network",
    DVSwitchCreate = "DVSwitch.Create" => "Create a distributed switch",
    DVSwitchModify = "DVSwitch.Modify" => "Change a distributed switch",
    DVSwitchDelete = "DVSwitch.Delete" => "Delete a distributed switch",
    DVPortgroupCreate = "DVPortgroup.Create" => "Create a distributed port group",
    DVPortgroupModify = "DVPortgroup.Modify" => "Change a distributed port group",
    DVPortgroupDelete = "DVPortgroup.Delete" => "Delete a distributed port group",
    VirtualMachineInventoryCreate = "VirtualMachine.Inventory.Create" => "Create a VM",
    VirtualMachineInventoryDelete = "VirtualMachine.Inventory.Delete" => "Delete a VM and its files",
    VirtualMachineInventoryMove = "VirtualMachine.Inventory.Move" => "Move a VM in the inventory",
    VirtualMachineInventoryRegister = "VirtualMachine.Inventory.Register" => "Register an existing VM",
    VirtualMachineInventoryUnregister = "VirtualMachine.Inventory.Unregister" => "Unregister a VM, keeping its files",
    VirtualMachineInteractPowerOn = "VirtualMachine.Interact.PowerOn" => "Power on or resume a VM",
    VirtualMachineInteractPowerOff = "VirtualMachine.Interact.PowerOff" => "Power off a VM",
    VirtualMachineInteractReset = "VirtualMachine.Interact.Reset" => "Reset a VM",
    VirtualMachineInteractSuspend = "VirtualMachine.Interact.Suspend" => "Suspend a VM",
    VirtualMachineInteractConsoleInteract = "VirtualMachine.Interact.ConsoleInteract" => "Use a VM's console",
    VirtualMachineInteractDeviceConnection = "VirtualMachine.Interact.DeviceConnection" => "Connect and disconnect a VM's devices",
    VirtualMachineInteractSetCDMedia = "VirtualMachine.Interact.SetCDMedia" => "Change the ISO in a VM's CD-ROM drives",
    VirtualMachineInteractGuestControl = "VirtualMachine.Interact.GuestControl" => "Run commands through the guest agent",
    VirtualMachineInteractCreateSecondary = "VirtualMachine.Interact.CreateSecondary" => "Turn on fault tolerance for a VM",
    VirtualMachineInteractTurnOffFaultTolerance = "VirtualMachine.Interact.TurnOffFaultTolerance" => "Turn off fault tolerance for a VM",
    VirtualMachineConfigCPUCount = "VirtualMachine.Config.CPUCount" => "Change a VM's CPU count",
    VirtualMachineConfigMemory = "VirtualMachine.Config.Memory" => "Change a VM's memory size",
    VirtualMachineConfigEditDevice = "VirtualMachine.Config.EditDevice" => "Change a VM's devices",
    VirtualMachineConfigAddNewDisk = "VirtualMachine.Config.AddNewDisk" => "Add a new disk to a VM",
    VirtualMachineConfigRemoveDisk = "VirtualMachine.Config.RemoveDisk" => "Remove a disk from a VM",
    VirtualMachineConfigRename = "VirtualMachine.Config.Rename" => "Rename a VM",
    VirtualMachineConfigSettings = "VirtualMachine.Config.Settings" => "Change a VM's general settings",
    VirtualMachineStateCreateSnapshot = "VirtualMachine.State.CreateSnapshot" => "Take a snapshot of a VM",
    VirtualMachineStateRevertToSnapshot = "VirtualMachine.State.RevertToSnapshot" => "Revert a VM to a snapshot",
    VirtualMachineStateRemoveSnapshot = "VirtualMachine.State.RemoveSnapshot" => "Delete a VM's snapshot",
    VirtualMachineProvisioningClone = "VirtualMachine.Provisioning.Clone" => "Clone a VM",
    VirtualMachineProvisioningDeployTemplate = "VirtualMachine.Provisioning.DeployTemplate" => "Deploy a VM from a template",
    VirtualMachineProvisioningMarkAsTemplate = "VirtualMachine.Provisioning.MarkAsTemplate" => "Turn a VM into a template",
    VirtualMachineProvisioningMarkAsVM = "VirtualMachine.Provisioning.MarkAsVM" => "Turn a template into a VM",
    VirtualMachineProvisioningDiskRandomRead = "VirtualMachine.Provisioning.DiskRandomRead" => "Read a VM's disks (backups)",
    ResourceAssignVMToPool = "Resource.AssignVMToPool" => "Place a VM in a resource pool or cluster",
    ResourceHotMigrate = "Resource.HotMigrate" => "Migrate a running VM (vMotion)",
    ResourceColdMigrate = "Resource.ColdMigrate" => "Migrate a powered-off VM",
    ResourceCreatePool = "Resource.CreatePool" => "Create a resource pool",
    ResourceDeletePool = "Resource.DeletePool" => "Delete a resource pool",
    AuthorizationModifyPermissions = "Authorization.ModifyPermissions" => "Set and remove permissions on the object",
    AuthorizationModifyRoles = "Authorization.ModifyRoles" => "Create, edit and delete custom roles",
    AuthorizationReassignRolePermissions = "Authorization.ReassignRolePermissions" => "Move permissions from one role to another",
    SessionsTerminateSession = "Sessions.TerminateSession" => "End other users' sessions",
    TaskCreate = "Task.Create" => "Create a task",
    TaskUpdate = "Task.Update" => "Update a task",
    AlarmCreate = "Alarm.Create" => "Create an alarm",
    AlarmEdit = "Alarm.Edit" => "Change an alarm",
    AlarmDelete = "Alarm.Delete" => "Delete an alarm",
    AlarmAcknowledge = "Alarm.Acknowledge" => "Acknowledge a triggered alarm",
    }
}

impl Privilege {
    /// Held by every role except No access (vSphere adds them to custom roles).
    pub const BASE: [Privilege; 3] = [
        Privilege::SystemAnonymous,
        Privilege::SystemView,
        Privilege::SystemRead,
    ];
}

/// A privilege and what it allows: the catalogue's entries
/// (`GET /api/privileges`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PrivilegeInfo {
    pub id: Privilege,
    pub description: String,
}

impl Privilege {
    /// Every privilege with its description.
    pub fn catalogue() -> Vec<PrivilegeInfo> {
        Privilege::ALL
            .iter()
            .map(|&id| PrivilegeInfo {
                id,
                description: id.description().to_string(),
            })
            .collect()
    }
}
