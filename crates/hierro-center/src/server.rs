//! `hierro center serve`: opens the database, makes the first administrator
//! and the CA on first start, and serves the REST API over HTTPS.

use std::sync::Arc;
use std::time::Duration;

use hierro_http::SessionStore;

use crate::Center;

use crate::authz::{Permission, Principal, ADMINISTRATOR_ROLE};
use crate::config::CenterConfig;
use crate::db::Db;
use crate::{access, api, directory, inventory, tls};

/// Opens (and on first start, initializes) the center's database.
pub async fn open_db(config: &CenterConfig) -> anyhow::Result<Db> {
    let url = config
        .database
        .clone()
        .unwrap_or_else(|| Db::sqlite_url(&config.data_dir));
    let mut db = Db::open(&url).await?;
    // Files of an older version, made before the umask: the database's too.
    for f in ["center.db", "center.db-wal", "center.db-shm"] {
        let path = config.data_dir.join(f);
        if path.exists() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    db.secrets = std::sync::Arc::new(crate::secrets::Secrets::load_or_create(&config.data_dir)?);
    let sealed = crate::hosts::seal_tokens(&db).await?;
    if sealed > 0 {
        tracing::info!("sealed {sealed} host service tokens stored in the clear");
    }
    inventory::ensure_root(&db).await?;
    let interrupted = crate::journal::fail_interrupted(&db).await?;
    crate::migrations::clear(&db).await?;
    if interrupted > 0 {
        tracing::warn!("{interrupted} tasks were running when the center last stopped");
    }
    access::ensure_system_roles(&db).await?;
    if directory::get_user(&db, &config.admin.user).await.is_err() {
        directory::create_user_hashed(
            &db,
            &config.admin.user,
            &config.admin.password_hash,
            "Administrator",
        )
        .await?;
        access::set_permission(
            &db,
            &Permission {
                principal: Principal::User(config.admin.user.clone()),
                role: ADMINISTRATOR_ROLE.into(),
                object: inventory::ROOT.into(),
                propagate: true,
            },
        )
        .await?;
    }
    Ok(db)
}

pub async fn serve(config: CenterConfig) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    hierro_http::keep_private(&[&config.data_dir])?;
    let db = open_db(&config).await?;
    let names = vec![
        config.name.clone(),
        config.listen.ip().to_string(),
        "localhost".into(),
    ];
    let pki = tls::Pki::load_or_create(&config.data_dir, &config.name, &names)?;
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem(
        pki.cert_pem.clone().into_bytes(),
        pki.key_pem.clone().into_bytes(),
    )
    .await?;
    let listen = config.listen;
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    listener.set_nonblocking(true)?;
    println!(
        "hierro center {} listening on https://{listen} thumbprint {} database {}",
        config.name,
        pki.thumbprint,
        if config.database.is_some() {
            "postgresql"
        } else {
            "sqlite"
        }
    );
    let center = Arc::new(Center {
        sessions: SessionStore::new(Duration::from_secs(config.session_idle_secs)),
        logins: hierro_http::login::Logins::new(config.lockout),
        config,
        db,
        pki,
        followers: Default::default(),
        cancels: Default::default(),
        console_tickets: Default::default(),
        access_changes: Default::default(),
    });
    tokio::spawn(crate::perf::run(
        center.db.clone(),
        Duration::from_secs(center.config.perf_collect_secs),
    ));
    tokio::spawn(crate::ops::certificates::run(center.clone()));
    for host in crate::hosts::followed(&center.db).await? {
        center.followers.start(&center.db, &host);
    }
    axum_server::from_tcp_rustls(listener, tls)?
        .serve(api::router(center).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await?;
    Ok(())
}
