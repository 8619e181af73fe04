//! What an event says happened, with vSphere's event type names; hosts and
//! the center use the same name for the same happening.

crate::vocabulary! {
    /// An event's type (vSphere's event class names).
    EventKind {
        // Sessions and accounts.
        UserLoginSession = "UserLoginSessionEvent" => "A user logged in",
        BadUsernameSession = "BadUsernameSessionEvent" => "A login failed: unknown user or wrong password",
        AccountLocked = "AccountLockedEvent" => "An account was locked after too many failed logins",
        LockdownLoginRefused = "LockdownLoginRefusedEvent" => "A login was refused because the host is in lockdown mode",
        ApiTokenCreated = "ApiTokenCreatedEvent" => "A user made an API token",
        ApiTokenRevoked = "ApiTokenRevokedEvent" => "An API token was revoked",
        ServiceTokenCreated = "ServiceTokenCreatedEvent" => "A host made a service token for a center",
        ServiceTokenRevoked = "ServiceTokenRevokedEvent" => "A host's service token was revoked",
        AccountCreated = "AccountCreatedEvent" => "A user was created",
        AccountRemoved = "AccountRemovedEvent" => "A user was removed",
        GroupAdded = "GroupAddedEvent" => "A group was created",
        GroupRemoved = "GroupRemovedEvent" => "A group was removed",
        UserAddedToGroup = "UserAddedToGroupEvent" => "A user joined a group",
        UserRemovedFromGroup = "UserRemovedFromGroupEvent" => "A user left a group",
        // Roles and permissions.
        RoleAdded = "RoleAddedEvent" => "A role was created",
        RoleUpdated = "RoleUpdatedEvent" => "A role's privileges changed",
        RoleRemoved = "RoleRemovedEvent" => "A role was removed",
        PermissionAdded = "PermissionAddedEvent" => "A permission was set on an object",
        PermissionRemoved = "PermissionRemovedEvent" => "A permission was removed from an object",
        // The inventory.
        FolderCreated = "FolderCreatedEvent" => "A folder was created",
        DatacenterCreated = "DatacenterCreatedEvent" => "A datacenter was created",
        ClusterCreated = "ClusterCreatedEvent" => "A cluster was created",
        ObjectChanged = "ObjectChangedEvent" => "An inventory object was renamed or moved",
        ObjectRemoved = "ObjectRemovedEvent" => "An inventory object was removed",
        DatastoreAdded = "DatastoreAddedEvent" => "A host added a datastore",
        // Hosts.
        HostAgentStarted = "HostAgentStartedEvent" => "A host agent started",
        HostConnected = "HostConnectedEvent" => "A host was added to the center",
        HostDisconnected = "HostDisconnectedEvent" => "A host was disconnected from the center",
        HostReconnectRequested = "HostReconnectRequestedEvent" => "A user asked to reconnect a host",
        HostReconnected = "HostReconnectedEvent" => "The center reaches a host again",
        HostConnectionLost = "HostConnectionLostEvent" => "The center lost its connection to a host",
        HostRemoved = "HostRemovedEvent" => "A host was removed from the center",
        HostCertificateReplaced = "HostCertificateReplacedEvent" => "A host's certificate was replaced by one its center issued",
        HostLockdownChanged = "HostLockdownChangedEvent" => "A user turned a host's lockdown mode on or off through the center",
        HostLockdownEnabled = "HostLockdownEnabledEvent" => "A host entered lockdown mode",
        HostLockdownDisabled = "HostLockdownDisabledEvent" => "A host left lockdown mode",
        HostNetworkChanged = "HostNetworkChangedEvent" => "A host's network configuration changed",
        EnteredMaintenanceMode = "EnteredMaintenanceModeEvent" => "A host entered maintenance mode",
        ExitMaintenanceMode = "ExitMaintenanceModeEvent" => "A host left maintenance mode",
        VswitchdRestarted = "VswitchdRestartedEvent" => "A host agent restarted its vswitchd",
        // Distributed switches.
        DvsCreated = "DvsCreatedEvent" => "A distributed switch was created",
        DvsReconfigured = "DvsReconfiguredEvent" => "A distributed switch or its members changed",
        // VMs.
        VmCreated = "VmCreatedEvent" => "A VM was created",
        VmCloned = "VmClonedEvent" => "A VM was cloned",
        VmDeployed = "VmDeployedEvent" => "A VM was deployed from a template",
        VmDiscovered = "VmDiscoveredEvent" => "The center found a VM on a host",
        VmRegistered = "VmRegisteredEvent" => "A VM was registered from its folder",
        VmUnregistered = "VmUnregisteredEvent" => "A VM was unregistered; its files stay",
        VmRemoved = "VmRemovedEvent" => "A VM was deleted or is gone from its host",
        VmReconfigured = "VmReconfiguredEvent" => "A VM's hardware changed",
        VmMarkedAsTemplate = "VmMarkedAsTemplateEvent" => "A VM became a template",
        VmMarkedAsVirtualMachine = "VmMarkedAsVirtualMachineEvent" => "A template became a VM",
        VmPoweredOn = "VmPoweredOnEvent" => "A VM was powered on",
        VmPoweredOff = "VmPoweredOffEvent" => "A VM was powered off",
        VmResetting = "VmResettingEvent" => "A VM was reset",
        VmGuestShutdown = "VmGuestShutdownEvent" => "A VM's guest was shut down",
        VmPowerStateChanged = "VmPowerStateChangedEvent" => "A VM's power state changed on its host",
        VmReconnected = "VmReconnectedEvent" => "A restarted host agent found a VM still running",
        VmSnapshotCreated = "VmSnapshotCreatedEvent" => "A snapshot of a VM was taken",
        VmRevertedToSnapshot = "VmRevertedToSnapshotEvent" => "A VM was reverted to a snapshot",
        VmSnapshotRemoved = "VmSnapshotRemovedEvent" => "A snapshot of a VM was deleted",
        VmMigrated = "VmMigratedEvent" => "A VM moved to another host",
        VmMigratedIn = "VmMigratedInEvent" => "A VM arrived from another host and runs here",
        // Tasks.
        TaskFailed = "TaskFailedEvent" => "A task ended in error",
    }
}
