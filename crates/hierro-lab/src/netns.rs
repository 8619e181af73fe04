//! Namespaces and links through `ip`, and stopping processes.

use std::time::Duration;

use anyhow::bail;

pub async fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = tokio::process::Command::new("ip")
        .args(args)
        .output()
        .await?;
    if !out.status.success() {
        bail!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

pub async fn add(ns: &str) -> anyhow::Result<()> {
    ip(&["netns", "add", ns]).await?;
    ip(&["-n", ns, "link", "set", "lo", "up"]).await
}

/// Deletes a namespace; one that is already gone is fine.
pub async fn del(ns: &str) -> anyhow::Result<()> {
    if std::path::Path::new("/run/netns").join(ns).exists() {
        ip(&["netns", "del", ns]).await?;
    }
    Ok(())
}

/// A veth pair: one end (`name`, or `name` + "p" moved into a namespace and
/// renamed) stays outside, the other end joins `bridge` in `bridge_ns`.
pub async fn veth_to_bridge(
    name: &str,
    into: Option<(&str, &str)>,
    bridge_ns: &str,
    bridge: &str,
) -> anyhow::Result<()> {
    let peer = format!("{name}f");
    let near = match into {
        Some(_) => format!("{name}p"),
        None => name.to_string(),
    };
    ip(&["link", "add", &near, "type", "veth", "peer", "name", &peer]).await?;
    ip(&["link", "set", &peer, "netns", bridge_ns]).await?;
    ip(&[
        "-n", bridge_ns, "link", "set", &peer, "master", bridge, "up",
    ])
    .await?;
    if let Some((ns, new_name)) = into {
        ip(&["link", "set", &near, "netns", ns]).await?;
        ip(&["-n", ns, "link", "set", &near, "name", new_name]).await?;
        ip(&["-n", ns, "link", "set", new_name, "up"]).await?;
    }
    Ok(())
}

/// Turns offloads off on a link (`ethtool -K dev tso off ...`).
pub async fn ethtool_off(dev: &str, features: &[&str]) -> anyhow::Result<()> {
    let mut args = vec!["-K", dev];
    for f in features {
        args.extend([*f, "off"]);
    }
    let out = tokio::process::Command::new("ethtool")
        .args(&args)
        .output()
        .await?;
    if !out.status.success() {
        bail!(
            "ethtool {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The processes running in a namespace.
pub async fn pids(ns: &str) -> Vec<u32> {
    if !std::path::Path::new("/run/netns").join(ns).exists() {
        return vec![];
    }
    match tokio::process::Command::new("ip")
        .args(["netns", "pids", ns])
        .output()
        .await
    {
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect(),
        Err(_) => vec![],
    }
}

/// SIGTERM, then SIGKILL after 5 s; returns once the process is gone.
pub async fn kill_wait(pid: u32) {
    hierro_qemu::process::stop(pid, Some(Duration::from_secs(5))).await
}
