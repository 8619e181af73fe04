//! Managed hosts: adding one (its certificate thumbprint confirmed by the
//! caller, a service token obtained with its admin credentials, which are
//! not kept), talking to it over TLS pinned to that thumbprint, and its VMs
//! in the inventory.

use hierro_api::EventKind;
use hierro_api::{CertificateInstall, Severity};
use hierro_client::{Client, ClientError, Trust};

use crate::tls::Pki;
use serde_json::{json, Value};
use sqlx::Row;

use crate::db::Db;
use crate::error::{StoreError, StoreResult};
use crate::inventory::{self, InventoryObject, ObjectKind};

pub use hierro_api::{AddHost, Reconnect};

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
    #[error(
        "another center manages the host; add it with force to take it over (that center loses it)"
    )]
    ManagedElsewhere,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks what the host presents against what the caller confirmed.
async fn confirm_thumbprint(
    address: &str,
    confirmed: Option<&str>,
) -> Result<String, AddHostError> {
    let presented = hierro_client::fetch_thumbprint(address)
        .await
        .map_err(|e| AddHostError::Unreachable(e.to_string()))?;
    let confirmed = match confirmed {
        None => return Err(AddHostError::ThumbprintRequired(presented)),
        Some(t) => hierro_client::normalize_thumbprint(t),
    };
    if confirmed != presented {
        return Err(AddHostError::ThumbprintMismatch {
            presented,
            confirmed,
        });
    }
    Ok(presented)
}

/// Logs in with the host's admin credentials and trades them for a service
/// token; the credentials are not kept. A host another center manages is
/// refused unless `take_over` (its token is then replaced, as vCenter takes
/// a host from another vCenter).
pub async fn service_token(
    address: &str,
    thumbprint: &str,
    (username, password): (&str, &str),
    take_over: bool,
) -> Result<(String, hierro_api::About), AddHostError> {
    let mut client = Client::new(address, Trust::Thumbprint(thumbprint.to_string()))
        .map_err(|e| AddHostError::Unreachable(e.to_string()))?;
    match client.login(username, password).await {
        Ok(_) => {}
        Err(e) if e.code() == Some(hierro_api::ErrorCode::Unauthenticated) => {
            return Err(AddHostError::BadCredentials)
        }
        Err(e) => return Err(AddHostError::Unreachable(e.to_string())),
    }
    let unreachable = |e: ClientError| AddHostError::Unreachable(e.to_string());
    let about = client.about().await.map_err(unreachable)?;
    if !take_over && client.host().await.map_err(unreachable)?.managed {
        let _ = client.logout().await;
        return Err(AddHostError::ManagedElsewhere);
    }
    let token = client
        .create_service_token(SERVICE_TOKEN)
        .await
        .map_err(unreachable)?
        .token;
    let _ = client.logout().await;
    Ok((token, about))
}

/// The name of the center's service token on its hosts.
pub const SERVICE_TOKEN: &str = "center";

/// Whether `address` is a host name (ASCII), an IPv4 address or a
/// bracketed IPv6 one, with an optional port, and nothing else (no user,
/// path or query that the URL made of it would carry).
fn address_ok(address: &str) -> bool {
    let Ok(url) = url::Url::parse(&format!("https://{address}")) else {
        return false;
    };
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        None => return false,
    };
    let plain = url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    // What the URL kept is what was given (no normalizing away of IDN
    // names, odd IPv4 forms or a port of 443).
    let kept = match url.port() {
        Some(port) => vec![format!("{host}:{port}")],
        None => vec![host.clone(), format!("{host}:443")],
    };
    plain && kept.iter().any(|k| k.eq_ignore_ascii_case(address))
}

/// What adding a host checks before it touches the host: the thumbprint
/// it presents is the confirmed one, no center here manages that address
/// yet, and a host may go under the parent. The confirmed thumbprint.
pub async fn check_new(db: &Db, req: &AddHost) -> Result<String, AddHostError> {
    if !address_ok(&req.address) {
        return Err(StoreError::Invalid(format!(
            "address {} must be a host name or IP address, with an optional :port",
            hierro_api::shown(&req.address)
        ))
        .into());
    }
    let thumbprint = confirm_thumbprint(&req.address, req.thumbprint.as_deref()).await?;
    if let Some(existing) = sqlx::query("SELECT host FROM host_connections WHERE address = $1")
        .bind(&req.address)
        .fetch_optional(&mut *db.conn().await.map_err(StoreError::from)?)
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
    let parent = inventory::get(db, &req.parent).await?;
    inventory::check_placement(db, ObjectKind::Host, &parent).await?;
    Ok(thumbprint)
}

/// A new host's inventory object, under `parent`, from what it says of
/// itself.
pub async fn new_object(
    conn: &Connection,
    parent: &str,
    about: &hierro_api::About,
) -> Result<InventoryObject, AddHostError> {
    let unreachable = |e: ClientError| AddHostError::Unreachable(e.to_string());
    let info = conn
        .client()
        .map_err(unreachable)?
        .host()
        .await
        .map_err(unreachable)?;
    Ok(InventoryObject::new(
        ObjectKind::Host,
        &about.host_name,
        parent,
        json!({
            "address": conn.address,
            "thumbprint": conn.thumbprint,
            "certificate": "issued by the center",
            "state": "connected",
            "version": about.version,
            "cpus": info.cpus,
            "memory_mib": info.memory_mib,
            "accel": info.accel,
            "cpu_model": info.cpu_model,
            "cpu_flags": info.cpu_flags,
        }),
    ))
}

/// The host object and its connection, both or neither.
pub async fn record(
    db: &Db,
    host: &InventoryObject,
    parent: &InventoryObject,
    conn: &Connection,
) -> StoreResult<()> {
    let mut c = db.conn().await?;
    let mut tx = sqlx::Connection::begin(&mut *c).await?;
    inventory::insert(&mut tx, host, None)
        .await
        .map_err(|e| inventory::name_taken(e, &host.name, parent))?;
    sqlx::query(
        "INSERT INTO host_connections (host, address, thumbprint, token) VALUES ($1, $2, $3, $4)",
    )
    .bind(&host.id)
    .bind(&conn.address)
    .bind(&conn.thumbprint)
    .bind(db.secrets.seal(&host.id, &conn.token))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    drop(c);
    Ok(())
}

/// Gives the host a certificate from the center's CA (for a key the host
/// made and keeps); returns its thumbprint, the new pin.
pub async fn issue_certificate(
    conn: &Connection,
    pki: &Pki,
    host_name: &str,
) -> Result<String, AddHostError> {
    let unreachable = |e: ClientError| AddHostError::Unreachable(e.to_string());
    let client = conn.client().map_err(unreachable)?;
    let csr = client.certificate_request().await.map_err(unreachable)?;
    let mut names = vec![host_name.to_string()];
    names.extend(hierro_client::server_host(&conn.address));
    let cert_pem = pki
        .sign_request(&csr.csr_pem, host_name, &names)
        .map_err(|e| AddHostError::Unreachable(e.to_string()))?;
    let expected = hierro_http::tls::thumbprint_of_pem(&cert_pem).map_err(StoreError::Invalid)?;
    let installed = client
        .install_certificate(&CertificateInstall {
            cert_pem,
            ca_pem: pki.ca_pem.clone(),
        })
        .await
        .map_err(unreachable)?;
    if installed.thumbprint != expected {
        return Err(AddHostError::Unreachable(format!(
            "the host installed a certificate with thumbprint {}, not the issued {expected}",
            installed.thumbprint
        )));
    }
    Ok(expected)
}

/// How the center reaches a managed host.
pub struct Connection {
    pub address: String,
    pub thumbprint: String,
    pub token: String,
    /// The host's change version the inventory reflects.
    pub version: u64,
    /// False once a user disconnected the host.
    pub enabled: bool,
}

impl Connection {
    /// A client pinned to the host's thumbprint, with the service token.
    pub fn client(&self) -> Result<Client, ClientError> {
        Ok(
            Client::new(&self.address, Trust::Thumbprint(self.thumbprint.clone()))?
                .with_token(&self.token),
        )
    }
}

pub async fn connection(db: &Db, host: &str) -> StoreResult<Connection> {
    let row = sqlx::query(
        "SELECT address, thumbprint, token, version, enabled FROM host_connections WHERE host = $1",
    )
    .bind(host)
    .fetch_optional(&mut *db.conn().await?)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("{host} is not a managed host")))?;
    Ok(Connection {
        address: row.try_get("address")?,
        thumbprint: row.try_get("thumbprint")?,
        // A token that does not open (another center's key) leaves the host
        // refusing the center until a reconnect with credentials.
        token: db
            .secrets
            .open(host, &row.try_get::<String, _>("token")?)
            .unwrap_or_else(|e| {
                tracing::warn!(host, "{e}");
                String::new()
            }),
        version: row.try_get::<i64, _>("version")? as u64,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
    })
}

/// Seals the service tokens stored before they were sealed (a center
/// upgraded in place); how many.
pub async fn seal_tokens(db: &Db) -> StoreResult<usize> {
    let rows = sqlx::query("SELECT host, token FROM host_connections")
        .fetch_all(&mut *db.conn().await?)
        .await?;
    let mut sealed = 0;
    for row in rows {
        let (host, token): (String, String) = (row.try_get("host")?, row.try_get("token")?);
        if crate::secrets::Secrets::is_sealed(&token) {
            continue;
        }
        sqlx::query("UPDATE host_connections SET token = $1 WHERE host = $2 AND token = $3")
            .bind(db.secrets.seal(&host, &token))
            .bind(&host)
            .bind(&token)
            .execute(&mut *db.conn().await?)
            .await?;
        sealed += 1;
    }
    Ok(sealed)
}

/// The hosts the center follows (all but those a user disconnected).
pub async fn followed(db: &Db) -> StoreResult<Vec<String>> {
    let rows = sqlx::query("SELECT host FROM host_connections WHERE enabled = 1")
        .fetch_all(&mut *db.conn().await?)
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get("host"))
        .collect::<Result<_, _>>()?)
}

/// A client of a managed host: pinned to its thumbprint, with the service token.
pub async fn client(db: &Db, host: &str) -> StoreResult<Client> {
    connection(db, host)
        .await?
        .client()
        .map_err(|e| StoreError::Invalid(e.to_string()))
}

/// A host's connection state, as the inventory shows it.
pub enum State<'a> {
    Connected,
    /// The host does not answer, or refuses the center (the reason).
    Disconnected(&'a str),
}

/// Records the connection state; an event marks each change.
pub async fn set_state(db: &Db, host: &str, state: State<'_>) -> StoreResult<()> {
    let obj = inventory::get(db, host).await?;
    let mut data = obj.data.clone();
    let (name, reason, kind, message) = match state {
        State::Connected => (
            "connected",
            Value::Null,
            EventKind::HostReconnected,
            format!("Host {} is connected", obj.name),
        ),
        State::Disconnected(why) => (
            "disconnected",
            json!(why),
            EventKind::HostConnectionLost,
            format!("Lost the connection to host {}: {why}", obj.name),
        ),
    };
    let changed = data["state"] != json!(name);
    if !changed && data["state_reason"] == reason {
        return Ok(());
    }
    data["state"] = json!(name);
    data["state_reason"] = reason;
    inventory::set_data(db, host, data).await?;
    // The reason may change while disconnected (the latest is shown); an
    // event marks only the change of state.
    if !changed {
        return Ok(());
    }
    let severity = if name == "connected" {
        Severity::Info
    } else {
        Severity::Error
    };
    crate::journal::event(
        db, kind, severity, host, &obj.name, "system", &message, None,
    )
    .await
}

/// Stops following a host on a user's request; it stays in the inventory.
pub async fn disconnect(db: &Db, host: &str, user: &str) -> StoreResult<()> {
    sqlx::query("UPDATE host_connections SET enabled = 0 WHERE host = $1")
        .bind(host)
        .execute(&mut *db.conn().await?)
        .await?;
    set_state(
        db,
        host,
        State::Disconnected(&format!("disconnected by {user}")),
    )
    .await
}

/// Follows a host again, after checking it still presents the pinned
/// certificate (or the newly confirmed one), optionally with a new token.
pub async fn reconnect(db: &Db, host: &str, req: &Reconnect) -> Result<(), AddHostError> {
    let conn = connection(db, host).await?;
    let confirmed = req.thumbprint.as_deref().unwrap_or(&conn.thumbprint);
    let thumbprint = confirm_thumbprint(&conn.address, Some(confirmed)).await?;
    let token = match (&req.username, &req.password) {
        // Its own host: the token it replaces is this center's.
        (Some(u), Some(p)) => {
            service_token(&conn.address, &thumbprint, (u, p), true)
                .await?
                .0
        }
        (None, None) => conn.token,
        _ => {
            return Err(
                StoreError::Invalid("give both username and password, or neither".into()).into(),
            )
        }
    };
    sqlx::query("UPDATE host_connections SET token = $1, enabled = 1 WHERE host = $2")
        .bind(db.secrets.seal(host, &token))
        .bind(host)
        .execute(&mut *db.conn().await.map_err(StoreError::from)?)
        .await
        .map_err(StoreError::from)?;
    pin(db, host, &thumbprint).await?;
    Ok(())
}

/// Pins the host's certificate by `thumbprint`: how the center reaches it,
/// and what the inventory shows.
pub async fn pin(db: &Db, host: &str, thumbprint: &str) -> StoreResult<()> {
    sqlx::query("UPDATE host_connections SET thumbprint = $1 WHERE host = $2")
        .bind(thumbprint)
        .bind(host)
        .execute(&mut *db.conn().await?)
        .await?;
    let mut data = inventory::get(db, host).await?.data;
    data["thumbprint"] = json!(thumbprint);
    inventory::set_data(db, host, data).await
}

/// Marks a host in maintenance mode (placement and power-on avoid it) or
/// not; entering first empties it (see the API).
pub async fn set_maintenance(db: &Db, host: &str, on: bool) -> StoreResult<()> {
    let mut data = inventory::get(db, host).await?.data;
    data["maintenance"] = json!(on);
    inventory::set_data(db, host, data).await
}

/// Puts the host in lockdown mode or takes it out, through the host.
pub async fn set_lockdown(db: &Db, host: &str, enabled: bool) -> Result<(), AddHostError> {
    let client = connection(db, host)
        .await?
        .client()
        .map_err(|e| AddHostError::Unreachable(e.to_string()))?;
    client
        .set_lockdown(enabled)
        .await
        .map_err(|e| AddHostError::Unreachable(e.to_string()))?;
    let mut data = inventory::get(db, host).await?.data;
    data["lockdown"] = json!(enabled);
    inventory::set_data(db, host, data).await?;
    Ok(())
}

/// Takes a host and everything it reported out of the inventory, after
/// withdrawing the center's token from the host (when it answers; the host
/// then leaves lockdown mode by itself).
pub async fn remove(db: &Db, host: &str) -> StoreResult<()> {
    let conn = connection(db, host).await?;
    if let Ok(client) = conn.client() {
        if let Err(e) = client.revoke_service_token(SERVICE_TOKEN).await {
            tracing::warn!(host, "withdrawing the center's token from the host: {e}");
        }
    }
    forget(db, host).await
}

/// Takes a host, its connection and all it reported out of the inventory.
pub async fn forget(db: &Db, host: &str) -> StoreResult<()> {
    let mut conn = db.conn().await?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    crate::host_sync::forget(&mut tx, host).await?;
    sqlx::query("DELETE FROM objects WHERE id = $1")
        .bind(host)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    drop(conn);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_address_is_a_host_and_an_optional_port() {
        for good in [
            "h1",
            "esx-01.lab.example",
            "10.0.0.1",
            "10.0.0.1:8443",
            "[::1]",
            "[fe80::1]:443",
            "H1:443",
        ] {
            assert!(super::address_ok(good), "{good}");
        }
        for bad in [
            "",
            " ",
            "a b",
            "a^b",
            "user@10.0.0.1",
            "x/y",
            "h?q=1",
            "h#f",
            "é",
            "010.0.0.1",
            "h:99999",
            "https://h",
            "h:",
        ] {
            assert!(!super::address_ok(bad), "{bad}");
        }
    }
}
