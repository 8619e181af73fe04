//! What a task does. A host and the center name the same operation the same
//! way (`VirtualMachine.powerOn` on both), after vSphere's method names.

crate::vocabulary! {
    /// A task's operation.
    Operation {
        // VMs, on hosts and through the center.
        VmCreate = "VirtualMachine.create" => "Create virtual machine",
        VmClone = "VirtualMachine.clone" => "Clone virtual machine",
        VmDeploy = "VirtualMachine.deploy" => "Deploy virtual machine from template",
        VmPowerOn = "VirtualMachine.powerOn" => "Power on virtual machine",
        VmPowerOff = "VirtualMachine.powerOff" => "Power off virtual machine",
        VmReset = "VirtualMachine.reset" => "Reset virtual machine",
        VmShutdownGuest = "VirtualMachine.shutdownGuest" => "Shut down guest OS",
        VmReconfigure = "VirtualMachine.reconfigure" => "Reconfigure virtual machine",
        VmMarkAsTemplate = "VirtualMachine.markAsTemplate" => "Mark as template",
        VmMarkAsVirtualMachine = "VirtualMachine.markAsVirtualMachine" => "Mark as virtual machine",
        VmDestroy = "VirtualMachine.destroy" => "Delete virtual machine",
        VmUnregister = "VirtualMachine.unregister" => "Remove virtual machine from inventory",
        VmCreateSnapshot = "VirtualMachine.createSnapshot" => "Create virtual machine snapshot",
        VmRevertToSnapshot = "VirtualMachine.revertToSnapshot" => "Revert to snapshot",
        VmRemoveSnapshot = "VirtualMachine.removeSnapshot" => "Remove snapshot",
        VmMigrate = "VirtualMachine.migrate" => "Migrate virtual machine",
        VmReceiveMigration = "VirtualMachine.receiveMigration" => "Receive migrating virtual machine",
        // Hosts, through the center.
        HostAdd = "host.add" => "Add host",
        HostDisconnect = "host.disconnect" => "Disconnect host",
        HostReconnect = "host.reconnect" => "Reconnect host",
        HostRemove = "host.remove" => "Remove host",
        HostLockdown = "host.lockdown" => "Change lockdown mode",
        HostNetwork = "host.network" => "Change host networking",
        HostCapture = "host.capture" => "Capture packets",
        HostEnterMaintenance = "host.enterMaintenance" => "Enter maintenance mode",
        HostExitMaintenance = "host.exitMaintenance" => "Exit maintenance mode",
        // Datastore files, on hosts and through the center.
        DatastoreUpload = "datastore.uploadFile" => "Upload file to datastore",
        DatastoreMakeFolder = "datastore.makeDirectory" => "Create datastore folder",
        DatastoreDeleteFile = "datastore.deleteFile" => "Delete datastore file",
        DatastoreMoveFile = "datastore.moveFile" => "Move datastore file",
        // The inventory's containers.
        FolderCreate = "folder.create" => "Create folder",
        FolderUpdate = "folder.update" => "Rename or move folder",
        FolderDelete = "folder.delete" => "Delete folder",
        DatacenterCreate = "datacenter.create" => "Create datacenter",
        DatacenterUpdate = "datacenter.update" => "Rename or move datacenter",
        DatacenterDelete = "datacenter.delete" => "Delete datacenter",
        ClusterCreate = "cluster.create" => "Create cluster",
        ClusterUpdate = "cluster.update" => "Rename or move cluster",
        ClusterDelete = "cluster.delete" => "Delete cluster",
        HostUpdate = "host.update" => "Move host",
        VmUpdate = "vm.update" => "Move virtual machine",
        // Distributed switches.
        DvsCreate = "dvswitch.create" => "Create distributed switch",
        DvsUpdate = "dvswitch.update" => "Reconfigure distributed switch",
        DvsAddHost = "dvswitch.add_host" => "Add host to distributed switch",
        DvsRemoveHost = "dvswitch.remove_host" => "Remove host from distributed switch",
        DvsDelete = "dvswitch.delete" => "Delete distributed switch",
        // Users, groups, roles, permissions, tokens.
        UserCreate = "user.create" => "Create user",
        UserDelete = "user.delete" => "Delete user",
        GroupCreate = "group.create" => "Create group",
        GroupDelete = "group.delete" => "Delete group",
        GroupAddMember = "group.addMember" => "Add user to group",
        GroupRemoveMember = "group.removeMember" => "Remove user from group",
        RoleCreate = "role.create" => "Create role",
        RoleUpdate = "role.update" => "Edit role",
        RoleDelete = "role.delete" => "Delete role",
        PermissionSet = "permission.set" => "Set permission",
        PermissionRemove = "permission.remove" => "Remove permission",
        TokenCreate = "token.create" => "Create API token",
        TokenRevoke = "token.revoke" => "Revoke API token",
    }
}
