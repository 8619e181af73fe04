//! Managed hosts: adding one (its certificate thumbprint confirmed by the
//! caller, a service token obtained with its admin credentials, which are
//! not kept), talking to it over TLS pinned to that thumbprint, and its VMs
//! in the inventory.

use hierro_client::{Client, ClientError, Trust};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::db::Db;
use crate::error::{StoreError, StoreResult};
use crate::inventory::{self, Kind, Object};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddHost {
    /// `address[:port]` of the host agent.
    pub address: String,
    pub username: String,
    pub password: String,
    /// The SHA-256 thumbprint the caller confirms; without it the answer
    /// says what the host presents.
    #[serde(default)]
    pub thumbprint: Option<String>,
    /// A cluster, datacenter or host folder.
    pub parent: String,
}

/// Why adding a host failed, for the API to map.
#[derive(Debug, thiserror::Error)]
pub enum AddHostError {
    #[error("confirm the host's certificate: its SHA-256 thumbprint is {0}")]
    ThumbprintRequired(String),
    #[error("the host presents thumbprint {presented}, not the confirmed {confirmed}")]
    ThumbprintMismatch {
        presented: String,
        confirmed: String,
    },
    #[error("cannot reach the host: {0}")]
    Unreachable(String),
    #[error("the host refused the credentials")]
    BadCredentials,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn add(db: &Db, req: &AddHost) -> Result<Object, AddHostError> {
    let presented = hierro_client::fetch_thumbprint(&req.address)
        .await
        .map_err(|e| AddHostError::Unreachable(e.to_string()))?;
    let confirmed = match &req.thumbprint {
        None => return Err(AddHostError::ThumbprintRequired(presented)),
        Some(t) => hierro_client::normalize_thumbprint(t),
    };
    if confirmed != presented {
        return Err(AddHostError::ThumbprintMismatch {
            presented,
            confirmed,
        });
    }
    let mut client = Client::new(&req.address, Trust::Thumbprint(presented.clone()))
        .map_err(|e| AddHostError::Unreachable(e.to_string()))?;
    match client.login(&req.username, &req.password).await {
        Ok(_) => {}
        Err(e) if e.status().map(|s| s.as_u16()) == Some(401) => {
            return Err(AddHostError::BadCredentials)
        }
        Err(e) => return Err(AddHostError::Unreachable(e.to_string())),
    }
    let about = client
        .about()
        .await
        .map_err(|e| AddHostError::Unreachable(e.to_string()))?;
    if let Some(existing) = sqlx::query("SELECT host FROM host_connections WHERE address = $1")
        .bind(&req.address)
        .fetch_optional(&db.pool)
        .await
        .map_err(StoreError::from)?
    {
        let id: String = existing.try_get("host").map_err(StoreError::from)?;
        return Err(StoreError::Conflict(format!(
            "{} is already managed (host {id})",
            req.address
        ))
        .into());
    }
    let token = client
        .create_service_token("center")
        .await
        .map_err(|e| AddHostError::Unreachable(e.to_string()))?
        .token;
    let host = inventory::create(
        db,
        Kind::Host,
        &about.host_name,
        &req.parent,
        json!({"address": req.address, "thumbprint": presented, "state": "connected", "version": about.version}),
    )
    .await?;
    sqlx::query(
        "INSERT INTO host_connections (host, address, thumbprint, token) VALUES ($1, $2, $3, $4)",
    )
    .bind(&host.id)
    .bind(&req.address)
    .bind(&presented)
    .bind(&token)
    .execute(&db.pool)
    .await
    .map_err(StoreError::from)?;
    sync(db, &host.id).await?;
    Ok(host)
}

/// A client of a managed host: pinned to its thumbprint, with the service token.
pub async fn client(db: &Db, host: &str) -> StoreResult<Client> {
    let row =
        sqlx::query("SELECT address, thumbprint, token FROM host_connections WHERE host = $1")
            .bind(host)
            .fetch_optional(&db.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("{host} is not a managed host")))?;
    let (address, thumbprint, token): (String, String, String) = (
        row.try_get("address")?,
        row.try_get("thumbprint")?,
        row.try_get("token")?,
    );
    Ok(Client::new(&address, Trust::Thumbprint(thumbprint))
        .map_err(|e| StoreError::Invalid(e.to_string()))?
        .with_token(&token))
}

/// Brings the host's VMs into the inventory (in the host's datacenter),
/// and records whether the host answers.
pub async fn sync(db: &Db, host: &str) -> StoreResult<()> {
    let vms = match client(db, host).await?.vms().await {
        Ok(v) => v,
        Err(e) => {
            set_state(db, host, "disconnected", &e).await?;
            return Ok(());
        }
    };
    let datacenter = inventory::path(db, host)
        .await?
        .into_iter()
        .find(|o| o.kind == Kind::Datacenter)
        .ok_or_else(|| StoreError::Invalid("a host outside a datacenter".into()))?;
    let known = inventory::search(db, Some(Kind::Vm), None).await?;
    for vm in vms {
        let data = json!({"host": host, "vm_id": vm.id, "power_state": vm.power_state, "cpus": vm.config.cpus, "memory_mib": vm.config.memory_mib});
        match known.iter().find(|o| o.data["vm_id"] == json!(vm.id)) {
            Some(o) => inventory::set_data(db, &o.id, data).await?,
            None => {
                inventory::create(db, Kind::Vm, &vm.name, &datacenter.id, data).await?;
            }
        }
    }
    Ok(())
}

async fn set_state(db: &Db, host: &str, state: &str, why: &ClientError) -> StoreResult<()> {
    let mut data = inventory::get(db, host).await?.data;
    data["state"] = json!(state);
    data["state_reason"] = json!(why.to_string());
    inventory::set_data(db, host, data).await
}
