//! The center's inventory: one tree of objects under the root folder, as in
//! vSphere (`/api/inventory`).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What an inventory object is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    Folder,
    Datacenter,
    Cluster,
    Host,
    Vm,
    Datastore,
    Network,
    /// A distributed switch (its port groups are `Network` objects, as the
    /// member hosts report them).
    DvSwitch,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Folder => "folder",
            ObjectKind::Datacenter => "datacenter",
            ObjectKind::Cluster => "cluster",
            ObjectKind::Host => "host",
            ObjectKind::Vm => "vm",
            ObjectKind::Datastore => "datastore",
            ObjectKind::Network => "network",
            ObjectKind::DvSwitch => "dvswitch",
        }
    }

    pub fn parse(s: &str) -> Option<ObjectKind> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

/// An object of the inventory. Its schema keeps the name `Object`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[schema(as = Object)]
pub struct InventoryObject {
    pub id: String,
    pub kind: ObjectKind,
    pub name: String,
    pub parent: Option<String>,
    /// Kind-specific facts (a host's address, a VM's power state...).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created: String,
}

impl InventoryObject {
    /// A new object with a fresh id, not yet stored.
    pub fn new(kind: ObjectKind, name: &str, parent: &str, data: serde_json::Value) -> Self {
        InventoryObject {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            name: name.to_string(),
            parent: Some(parent.to_string()),
            data,
            created: chrono::Utc::now().to_rfc3339(),
        }
    }
}

/// One object with its path (`GET /api/inventory/{id}`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ObjectView {
    #[serde(flatten)]
    pub object: InventoryObject,
    /// Names from the root down to the object.
    pub path: Vec<String>,
}

/// `POST /api/inventory`: a folder, datacenter or cluster.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryCreate {
    /// A folder, datacenter or cluster (hosts, VMs, datastores and networks
    /// come otherwise).
    pub kind: ObjectKind,
    pub name: String,
    /// The parent object's id.
    pub parent: String,
}

/// `PATCH /api/inventory/{id}`: rename or move.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryUpdate {
    /// A new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The id of a new parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// `GET /api/inventory?kind=&name=`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InventoryQuery {
    /// Only objects of this kind.
    pub kind: Option<ObjectKind>,
    /// Only objects whose name contains this.
    pub name: Option<String>,
}
