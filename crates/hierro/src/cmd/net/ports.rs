//! `hierro host net ports` and `capture`: the switch's ports with their
//! counters, and a port's frames to a pcap file (pktcap-uw).

use hierro_api::CaptureRequest;
use hierro_client::Client;

use crate::output::Output;

/// Every port's counters (and drops by reason), and the mirror sessions'.
pub(super) async fn show(client: &Client, out: Output) -> anyhow::Result<()> {
    let list = client.ports().await?;
    out.show(
        &list,
        &[
            "PORT",
            "VSWITCH",
            "PORTGROUP",
            "UPLINK",
            "IN",
            "OUT",
            "DROPS",
        ],
        |l| {
            l.ports
                .iter()
                .map(|p| {
                    let c = &p.counters;
                    let drops = [
                        ("vlan", c.drop_vlan),
                        ("forged", c.drop_forged),
                        ("mac-change", c.drop_mac_change),
                        ("promiscuous", c.drop_promiscuous),
                        ("no-uplink", c.drop_no_uplink),
                        ("malformed", c.drop_malformed),
                        ("oversize", c.drop_oversize),
                    ]
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                    vec![
                        p.port.clone(),
                        p.vswitch.clone(),
                        p.portgroup.clone().unwrap_or_default(),
                        // A local port's uplink now; an uplink's state.
                        match (&p.uplink, p.link_up) {
                            (Some(u), _) => u.clone(),
                            (None, Some(true)) => "up".into(),
                            (None, Some(false)) => "failed".into(),
                            (None, None) => "none".into(),
                        },
                        format!("{} pkts / {} B", c.in_packets, c.in_bytes),
                        format!("{} pkts / {} B", c.out_packets, c.out_bytes),
                        drops,
                    ]
                })
                .collect()
        },
    );
    if !out.json && !list.mirrors.is_empty() {
        out.show(
            &list.mirrors,
            &["MIRROR SESSION", "FRAMES", "BYTES", "DROPPED"],
            |m| {
                m.iter()
                    .map(|m| {
                        let n = [m.frames, m.bytes, m.dropped];
                        let mut row = vec![m.name.clone()];
                        row.extend(n.iter().map(u64::to_string));
                        row
                    })
                    .collect()
            },
        );
    }
    Ok(())
}

/// A capture of `port`'s frames, written to `file`.
pub(super) async fn capture(
    client: &Client,
    port: String,
    file: &std::path::Path,
    packets: u64,
    seconds: u64,
) -> anyhow::Result<()> {
    let pcap = client
        .capture(&CaptureRequest {
            port,
            packets,
            seconds,
        })
        .await?;
    std::fs::write(file, &pcap)?;
    eprintln!("wrote {} ({} bytes)", file.display(), pcap.len());
    Ok(())
}
