//! The security and teaming options that switches and port groups share,
//! on hosts' standard switches and on distributed ones.

use clap::{Args, ValueEnum};
use hierro_api::{
    FailoverOrder, FailureDetection, LoadBalancing, SecurityOverride, SecurityPolicy,
    TeamingOverride, TeamingPolicy,
};

#[derive(Clone, Copy, ValueEnum)]
pub enum Setting {
    Accept,
    Reject,
    /// Port groups only: take the switch's setting.
    Inherit,
}

impl Setting {
    fn value(self) -> Option<bool> {
        match self {
            Setting::Accept => Some(true),
            Setting::Reject => Some(false),
            Setting::Inherit => None,
        }
    }
}

#[derive(Args)]
pub struct Policy {
    #[arg(long)]
    promiscuous: Option<Setting>,
    #[arg(long)]
    mac_changes: Option<Setting>,
    #[arg(long)]
    forged_transmits: Option<Setting>,
}

/// NIC teaming and failover (esxcli's `policy failover set`).
#[derive(Args)]
pub struct Teaming {
    #[arg(long, value_enum)]
    load_balancing: Option<Balancing>,
    /// Active uplinks, in order (comma-separated); with --standby, the
    /// switch's other uplinks are unused.
    #[arg(long, value_delimiter = ',')]
    active: Option<Vec<String>>,
    /// Standby uplinks, in order (comma-separated).
    #[arg(long, value_delimiter = ',')]
    standby: Option<Vec<String>>,
    #[arg(long, value_enum)]
    failure_detection: Option<Detection>,
    /// Send RARPs when a port's uplink changes (true or false).
    #[arg(long)]
    notify_switches: Option<bool>,
    /// A recovered active uplink takes its traffic back (true or false).
    #[arg(long)]
    failback: Option<bool>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Balancing {
    OriginatingPort,
    SourceMac,
    IpHash,
    FailoverOrder,
}

impl From<Balancing> for LoadBalancing {
    fn from(b: Balancing) -> Self {
        match b {
            Balancing::OriginatingPort => LoadBalancing::OriginatingPort,
            Balancing::SourceMac => LoadBalancing::SourceMac,
            Balancing::IpHash => LoadBalancing::IpHash,
            Balancing::FailoverOrder => LoadBalancing::FailoverOrder,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Detection {
    LinkStatus,
    BeaconProbing,
}

impl From<Detection> for FailureDetection {
    fn from(d: Detection) -> Self {
        match d {
            Detection::LinkStatus => FailureDetection::LinkStatus,
            Detection::BeaconProbing => FailureDetection::BeaconProbing,
        }
    }
}

impl Teaming {
    /// The failover order these flags give, if they give one: the active
    /// uplinks default to the switch's uplinks that are not standby.
    fn order(&self, uplinks: &[String]) -> Option<FailoverOrder> {
        if self.active.is_none() && self.standby.is_none() {
            return None;
        }
        let standby = self.standby.clone().unwrap_or_default();
        let active = self.active.clone().unwrap_or_else(|| {
            let rest = uplinks.iter().filter(|u| !standby.contains(u));
            rest.cloned().collect()
        });
        Some(FailoverOrder { active, standby })
    }

    pub(crate) fn switch(&self, mut t: TeamingPolicy, uplinks: &[String]) -> TeamingPolicy {
        t.load_balancing = self.load_balancing.map_or(t.load_balancing, Into::into);
        t.failover_order = self.order(uplinks).or(t.failover_order);
        t.failure_detection = self
            .failure_detection
            .map_or(t.failure_detection, Into::into);
        t.notify_switches = self.notify_switches.unwrap_or(t.notify_switches);
        t.failback = self.failback.unwrap_or(t.failback);
        t
    }

    pub(crate) fn group(&self, mut t: TeamingOverride, uplinks: &[String]) -> TeamingOverride {
        t.load_balancing = self.load_balancing.map(Into::into).or(t.load_balancing);
        t.failover_order = self.order(uplinks).or(t.failover_order);
        t.failure_detection = self
            .failure_detection
            .map(Into::into)
            .or(t.failure_detection);
        t.notify_switches = self.notify_switches.or(t.notify_switches);
        t.failback = self.failback.or(t.failback);
        t
    }
}

pub(crate) fn switch_policy(base: SecurityPolicy, p: &Policy) -> anyhow::Result<SecurityPolicy> {
    let pick = |s: Option<Setting>, now: bool| match s {
        Some(Setting::Inherit) => anyhow::bail!("a switch has no setting to inherit"),
        Some(s) => Ok(s.value().unwrap_or(now)),
        None => Ok(now),
    };
    Ok(SecurityPolicy {
        allow_promiscuous: pick(p.promiscuous, base.allow_promiscuous)?,
        allow_mac_changes: pick(p.mac_changes, base.allow_mac_changes)?,
        allow_forged_transmits: pick(p.forged_transmits, base.allow_forged_transmits)?,
    })
}

pub(crate) fn group_policy(base: SecurityOverride, p: &Policy) -> SecurityOverride {
    let pick = |s: Option<Setting>, now: Option<bool>| s.map(Setting::value).unwrap_or(now);
    SecurityOverride {
        allow_promiscuous: pick(p.promiscuous, base.allow_promiscuous),
        allow_mac_changes: pick(p.mac_changes, base.allow_mac_changes),
        allow_forged_transmits: pick(p.forged_transmits, base.allow_forged_transmits),
    }
}

/// One line for a team: its policy and which uplinks do what.
pub(super) fn teaming_line(t: &TeamingPolicy, uplinks: &[String]) -> String {
    let order = t.order(uplinks);
    let unused: Vec<&String> = uplinks
        .iter()
        .filter(|u| !order.active.contains(u) && !order.standby.contains(u))
        .collect();
    // As the API spells them: "originating_port", "beacon_probing".
    let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
    format!(
        "teaming {} / active [{}] standby [{}] unused [{}] / {} / notify switches {} / failback {}",
        name(serde_json::json!(t.load_balancing)),
        order.active.join(", "),
        order.standby.join(", "),
        unused
            .iter()
            .map(|u| u.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        name(serde_json::json!(t.failure_detection)),
        t.notify_switches,
        t.failback
    )
}
