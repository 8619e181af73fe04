//! The lab's center: its own namespace on the fabric, SQLite by default or
//! a fresh database on a PostgreSQL server, with every lab host added
//! (thumbprints confirmed) to one cluster.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use hierro_api::{AddHost, InventoryCreate, InventoryQuery, ObjectKind};
use hierro_client::{Client, Trust};
use serde::{Deserialize, Serialize};

use crate::{netns, Lab};

pub const ADMIN: &str = "administrator";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabCenter {
    pub namespace: String,
    pub ip: Ipv4Addr,
    pub url: String,
    pub thumbprint: String,
    pub user: String,
    pub config: PathBuf,
    pub log: PathBuf,
    /// "sqlite", or the PostgreSQL database's URL.
    #[serde(default)]
    pub database: String,
}

/// Starts the center and waits until it answers.
pub async fn start(
    lab: &mut Lab,
    opts: &crate::LabOptions,
    password_hash: &str,
) -> anyhow::Result<()> {
    let (hierro_bin, postgres) = (&opts.hierro_bin, opts.postgres.as_deref());
    // The lab's own database, empty; the center's namespace reaches the
    // server through its unix socket, which namespaces share.
    let database = match postgres {
        Some(server) => Some(
            hierro_center::db::Db::create_database(server, &format!("hierro_lab{}", lab.id))
                .await
                .with_context(|| format!("making the lab's database on {server}"))?,
        ),
        None => None,
    };
    let ns = format!("hl{}-center", lab.id);
    lab.namespaces.push(ns.clone());
    lab.save()?;
    netns::add(&ns).await?;
    netns::veth_to_bridge(
        &format!("hl{}c", lab.id),
        Some((&ns, "eth0")),
        &lab.fabric_ns,
        "fabric0",
    )
    .await?;
    let ip = Ipv4Addr::new(10, 99, lab.id, 2);
    netns::ip(&["-n", &ns, "addr", "add", &format!("{ip}/24"), "dev", "eth0"]).await?;

    let dir = lab.dir.join("center");
    std::fs::create_dir_all(&dir)?;
    let config = hierro_center::config::CenterConfig {
        name: format!("lab{}-center", lab.id),
        listen: std::net::SocketAddr::new(ip.into(), 443),
        data_dir: dir.join("data"),
        database: database.clone(),
        session_idle_secs: 1800,
        admin: hierro_center::config::Admin {
            user: ADMIN.into(),
            password_hash: password_hash.to_string(),
        },
        web_dir: opts.web_dir.clone(),
        perf_collect_secs: opts.perf_interval_secs,
        lockout: Default::default(),
        certificate_check_secs: 3600,
        certificate_renew_days: 30,
        fault_injection: opts.fault_injection,
    };
    let config_path = dir.join("center.toml");
    config.save(&config_path)?;
    let log = dir.join("center.log");
    crate::spawn_in_namespace(
        &ns,
        hierro_bin,
        &[
            "center",
            "serve",
            "--config",
            &config_path.to_string_lossy(),
        ],
        &log,
    )?;

    let cert = dir.join("data/center.crt");
    let url = format!("https://{ip}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(pem) = std::fs::read_to_string(&cert) {
            let thumbprint =
                hierro_host::tls::thumbprint_of_pem(&pem).map_err(anyhow::Error::msg)?;
            if Client::new(&url, Trust::Thumbprint(thumbprint.clone()))?
                .about()
                .await
                .is_ok()
            {
                lab.center = Some(LabCenter {
                    namespace: ns,
                    ip,
                    url,
                    thumbprint,
                    user: ADMIN.into(),
                    config: config_path,
                    log,
                    database: database.unwrap_or_else(|| "sqlite".into()),
                });
                lab.save()?;
                return Ok(());
            }
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "the center did not answer within 30 s; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A client of the lab's center, logged in as its administrator.
pub async fn client(lab: &Lab) -> anyhow::Result<Client> {
    let c = lab.center.as_ref().context("this lab has no center")?;
    login(lab, &c.user, &lab.password).await
}

/// A client of the lab's center, logged in as `user`.
pub async fn login(lab: &Lab, user: &str, password: &str) -> anyhow::Result<Client> {
    let c = lab.center.as_ref().context("this lab has no center")?;
    let mut client = Client::new(&c.url, Trust::Thumbprint(c.thumbprint.clone()))?;
    client.login(user, password).await?;
    Ok(client)
}

/// The inventory ids of the lab's hosts in its center, in the lab's order.
pub async fn host_ids(lab: &Lab) -> anyhow::Result<Vec<String>> {
    let c = client(lab).await?;
    let q = InventoryQuery {
        kind: Some(ObjectKind::Host),
        name: None,
    };
    let hosts = c.inventory(&q).await?;
    lab.hosts
        .iter()
        .map(|h| {
            hosts
                .iter()
                .find(|o| o.name == h.name)
                .map(|o| o.id.clone())
                .with_context(|| format!("host {} is not in the center", h.name))
        })
        .collect()
}

/// The inventory id of the lab's datacenter, "Lab".
pub async fn datacenter_id(lab: &Lab) -> anyhow::Result<String> {
    object_id(lab, ObjectKind::Datacenter, "Lab").await
}

/// The inventory id of the lab's cluster, "Cluster".
pub async fn cluster_id(lab: &Lab) -> anyhow::Result<String> {
    object_id(lab, ObjectKind::Cluster, "Cluster").await
}

async fn object_id(lab: &Lab, kind: ObjectKind, name: &str) -> anyhow::Result<String> {
    let q = InventoryQuery {
        kind: Some(kind),
        name: Some(name.into()),
    };
    let found = client(lab).await?.inventory(&q).await?;
    let object = found.into_iter().find(|o| o.name == name);
    Ok(object
        .with_context(|| format!("the lab has no {} {name}", kind.as_str()))?
        .id)
}

/// Datacenter "Lab", cluster "Cluster", and every host in it. The hosts
/// then serve certificates from the center's CA: their new thumbprints are
/// recorded.
pub async fn add_hosts(lab: &mut Lab) -> anyhow::Result<()> {
    let c = client(lab).await?;
    let container = |kind, name: &str, parent: &str| InventoryCreate {
        kind,
        name: name.into(),
        parent: parent.into(),
    };
    let dc = c
        .inventory_create(&container(ObjectKind::Datacenter, "Lab", "root"))
        .await?;
    let cluster = c
        .inventory_create(&container(ObjectKind::Cluster, "Cluster", &dc.id))
        .await?;
    for h in &mut lab.hosts {
        let add = AddHost {
            address: h.ip.to_string(),
            username: lab.user.clone(),
            password: lab.password.clone(),
            thumbprint: Some(h.thumbprint.clone()),
            parent: cluster.id.clone(),
            lockdown: false,
            force: false,
        };
        let added = c
            .add_host(&add)
            .await
            .with_context(|| format!("adding host {} to the center", h.name))?;
        h.thumbprint = added.data["thumbprint"]
            .as_str()
            .context("the center did not say the host's new thumbprint")?
            .to_string();
    }
    lab.save()
}
