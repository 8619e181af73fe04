//! The center renews the certificates it issued its hosts before they end
//! (vCenter's VMCA renewal): every `certificate_check_secs` it looks at the
//! certificate each followed host presents, and one within
//! `certificate_renew_days` of its end is replaced by a new one from the
//! center's CA (a new key made on the host), then pinned.

use std::sync::Arc;
use std::time::Duration;

use hierro_api::{EventKind, Severity};
use hierro_http::tls::{due, expiry_of_der};

use super::{OpError, OpResult};
use crate::{hosts, inventory, journal, Center};

/// Checks and renews, for as long as the center runs.
pub async fn run(center: Arc<Center>) {
    let every = Duration::from_secs(center.config.certificate_check_secs);
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = renew_due(&center).await {
            tracing::warn!("renewing host certificates: {e}");
        }
    }
}

/// Renews the certificates that are due; how many. A host that does not
/// answer, or presents another certificate than the pinned one (for a
/// user to confirm by reconnecting it), is left for next time.
pub async fn renew_due(c: &Center) -> OpResult<usize> {
    let mut renewed = 0;
    for host in hosts::followed(&c.db).await? {
        match renew(c, &host).await {
            Ok(true) => renewed += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(host, "renewing its certificate: {e}"),
        }
    }
    Ok(renewed)
}

async fn renew(c: &Center, host: &str) -> OpResult<bool> {
    let conn = hosts::connection(&c.db, host).await?;
    let Ok((presented, der)) = hierro_client::fetch_certificate(&conn.address).await else {
        return Ok(false);
    };
    if presented != conn.thumbprint {
        return Ok(false);
    }
    let ends = expiry_of_der(&der).map_err(OpError::Internal)?;
    if !due(ends, c.config.certificate_renew_days) {
        return Ok(false);
    }
    let name = inventory::get(&c.db, host).await?.name;
    let thumbprint = hosts::issue_certificate(&conn, &c.pki, &name)
        .await
        .map_err(|e| OpError::Internal(e.to_string()))?;
    hosts::pin(&c.db, host, &thumbprint).await?;
    let message = format!(
        "Renewed the certificate of {name}, which ended {}; the new one's thumbprint is {thumbprint}",
        ends.format("%Y-%m-%d")
    );
    journal::event(
        &c.db,
        EventKind::HostCertificateReplaced,
        Severity::Info,
        host,
        &name,
        "center",
        &message,
        None,
    )
    .await?;
    Ok(true)
}
