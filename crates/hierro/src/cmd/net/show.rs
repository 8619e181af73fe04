//! A host's network configuration, as `hierro host net ls` prints it.

use hierro_api::{HostNetwork, TeamingOverride};

use super::mirror::mirror_line;
use super::policy::teaming_line;
use crate::output::Output;

pub(super) fn show(net: &HostNetwork, out: Output) {
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(net).expect("serializable")
        );
        return;
    }
    let yes = |b: bool| if b { "accept" } else { "reject" };
    for s in &net.vswitches {
        println!(
            "vswitch {}  mtu {}  uplinks [{}]  promiscuous {} / mac changes {} / forged transmits {}",
            s.name,
            s.mtu,
            s.uplinks.join(", "),
            yes(s.security.allow_promiscuous),
            yes(s.security.allow_mac_changes),
            yes(s.security.allow_forged_transmits)
        );
        println!("  {}", teaming_line(&s.teaming, &s.uplinks));
        for g in net.portgroups.iter().filter(|g| g.vswitch == s.name) {
            let p = s.security.with(&g.security);
            println!(
                "  port group {:24} vlan {:4}  promiscuous {} / mac changes {} / forged transmits {}",
                g.name,
                g.vlan,
                yes(p.allow_promiscuous),
                yes(p.allow_mac_changes),
                yes(p.allow_forged_transmits)
            );
            if g.teaming != TeamingOverride::default() {
                let t = s.teaming.with(&g.teaming);
                println!("    {}", teaming_line(&t, &s.uplinks));
            }
            for k in net.vmknics.iter().filter(|k| k.portgroup == g.name) {
                println!(
                    "    {} {} {}",
                    k.name,
                    k.mac.clone().unwrap_or_default(),
                    k.ip.clone().unwrap_or_default()
                );
            }
        }
        for m in net.mirrors.iter().filter(|m| m.vswitch == s.name) {
            println!("  {}", mirror_line(m));
        }
    }
}
