//! The lab: a Hierro cluster on one machine. A `fabric` namespace holds the
//! physical switch (a Linux bridge); each host agent runs in its own
//! namespace with an uplink veth into it; all hosts share one datastore
//! directory; this machine's own namespace joins the fabric too, so the CLI
//! and tests reach every host and VM directly.
//!
//! `lab.json` in the lab directory records everything `up` made, written
//! before each step, so `down` can undo a lab that was only half made.

pub mod center;
pub mod netns;
pub mod probe;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use hierro_api::{Boot, DiskSpec, NicSpec, PowerOp, VmCreate};
use hierro_client::{Client, Trust};
use serde::{Deserialize, Serialize};

/// Name of the VM network on every lab host.
pub const VM_NETWORK: &str = "VM Network";
/// The physical NICs of every lab host.
const UPLINKS: [&str; 2] = ["eth0", "eth1"];
/// NICs no standard switch uses: for a distributed switch.
pub const SPARE_NICS: [&str; 2] = ["eth2", "eth3"];
/// The port group of the hosts' management VMkernel port.
pub const MANAGEMENT_NETWORK: &str = "Management Network";
/// The port group of the hosts' vMotion VMkernel port, and its VLAN: vMotion
/// traffic crosses the fabric tagged, apart from the VMs'.
pub const VMOTION_NETWORK: (&str, u16) = ("vMotion", 200);
/// Tagged port groups on every lab host: VLAN id and name.
pub const LAB_VLANS: [(u16, &str); 2] = [(101, "VLAN 101"), (102, "VLAN 102")];

/// A lab host's standard switch: both uplinks, the management VMkernel port,
/// the vMotion VMkernel port (10.98.<lab>.<10+n> on VLAN 200), the untagged
/// VM network, a port group per lab VLAN and a trunk.
fn lab_network(lab: u8, host: u32, ip: Ipv4Addr) -> hierro_api::HostNetwork {
    use hierro_api::{PortGroup, VSwitch, VmkNic, VmkService};
    let pg = |name: &str, vlan: u16| PortGroup {
        teaming: Default::default(),
        name: name.into(),
        vswitch: "vSwitch0".into(),
        vlan,
        security: Default::default(),
    };
    let mut portgroups = vec![
        pg(MANAGEMENT_NETWORK, 0),
        pg(VMOTION_NETWORK.0, VMOTION_NETWORK.1),
        pg(VM_NETWORK, 0),
        pg("Trunk", hierro_api::VLAN_TRUNK),
    ];
    portgroups.extend(LAB_VLANS.iter().map(|(vlan, name)| pg(name, *vlan)));
    hierro_api::HostNetwork {
        vswitches: vec![VSwitch {
            teaming: Default::default(),
            name: "vSwitch0".into(),
            mtu: 1500,
            uplinks: UPLINKS.iter().map(|u| u.to_string()).collect(),
            security: Default::default(),
        }],
        portgroups,
        vmknics: vec![
            VmkNic {
                name: "vmk0".into(),
                portgroup: MANAGEMENT_NETWORK.into(),
                // Fixed, so a rebuilt host keeps its address's MAC.
                mac: Some(format!("02:99:{lab:02x}:00:00:{host:02x}")),
                ip: Some(format!("{ip}/24")),
                services: vec![VmkService::Management],
            },
            VmkNic {
                name: "vmk1".into(),
                portgroup: VMOTION_NETWORK.0.into(),
                mac: Some(format!("02:98:{lab:02x}:00:00:{host:02x}")),
                ip: Some(format!("10.98.{lab}.{}/24", ip.octets()[3])),
                services: vec![VmkService::Vmotion],
            },
        ],
        mirrors: vec![],
        distributed: vec![],
    }
}

/// The guest image, copied to `[shared] images/`: kernel and initramfs for
/// direct boot, and a bootable disk to clone.
const IMAGE_FILES: [&str; 3] = ["vmlinuz", "initrd.img", "disk.qcow2"];

/// The break-glass account of every lab host (same password as the admin):
/// it still works in lockdown mode.
pub const BREAK_GLASS_USER: &str = "breakglass";

/// Name of the shared datastore on every lab host.
pub const DATASTORE: &str = "shared";

#[derive(Debug, Clone)]
pub struct LabOptions {
    pub dir: PathBuf,
    /// Distinguishes concurrent labs: subnet 10.99.<id>.0/24, names `hl<id>-...`.
    pub id: u8,
    pub hosts: u32,
    pub vms_per_host: u32,
    pub vm_memory_mib: u64,
    /// Directory with the guest image (vmlinuz, initrd.img).
    pub image_dir: PathBuf,
    /// The `hierro` binary the host agents run.
    pub hierro_bin: PathBuf,
    /// Start a center and add the hosts to it (tests of adding hosts
    /// themselves go without).
    pub center: bool,
    /// A PostgreSQL server URL (as `scripts/postgres.sh` prints) for the
    /// center's database; SQLite when `None`.
    pub postgres: Option<String>,
    /// The web client's built files, for the center to serve.
    pub web_dir: Option<PathBuf>,
    /// Seconds between performance samples on the hosts, and between the
    /// center's collections of them.
    pub perf_interval_secs: u64,
    /// The center honours `hierro-fail-step` (tests of undo only).
    pub fault_injection: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lab {
    pub id: u8,
    pub dir: PathBuf,
    pub subnet: String,
    /// This machine's address on the fabric.
    pub gateway: Ipv4Addr,
    pub user: String,
    pub password: String,
    pub fabric_ns: String,
    pub datastore_dir: PathBuf,
    pub hosts: Vec<LabHost>,
    /// Every namespace and root-side link made, for `down`.
    pub namespaces: Vec<String>,
    pub links: Vec<String>,
    /// The center, with every host in one cluster.
    #[serde(default)]
    pub center: Option<center::LabCenter>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabHost {
    pub name: String,
    pub namespace: String,
    pub ip: Ipv4Addr,
    pub url: String,
    pub thumbprint: String,
    pub agent_pid: Option<u32>,
    pub config: PathBuf,
    pub run_dir: PathBuf,
    pub log: PathBuf,
    pub vms: Vec<LabVm>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabVm {
    pub name: String,
    pub id: String,
    pub ip: Ipv4Addr,
}

impl Lab {
    pub fn state_file(dir: &Path) -> PathBuf {
        dir.join("lab.json")
    }

    pub fn load(dir: &Path) -> anyhow::Result<Lab> {
        let f = Self::state_file(dir);
        let text = std::fs::read_to_string(&f)
            .with_context(|| format!("no lab in {} ({})", dir.display(), f.display()))?;
        Ok(serde_json::from_str(&text)?)
    }

    fn save(&self) -> anyhow::Result<()> {
        std::fs::write(
            Self::state_file(&self.dir),
            serde_json::to_vec_pretty(self)?,
        )?;
        Ok(())
    }

    /// A logged-in client of one lab host.
    pub async fn client(&self, host: &LabHost) -> anyhow::Result<Client> {
        let mut c = Client::new(&host.url, Trust::Thumbprint(host.thumbprint.clone()))?;
        c.login(&self.user, &self.password).await?;
        Ok(c)
    }

    fn ip(&self, last: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 99, self.id, last)
    }

    /// A VM spec on the lab's network and image, for tests and `up`.
    pub fn vm_spec(&self, name: &str, ip: Ipv4Addr, memory_mib: u64) -> VmCreate {
        VmCreate {
            name: name.to_string(),
            datastore: DATASTORE.into(),
            cpus: 1,
            memory_mib,
            disk: DiskSpec {
                size_mib: Some(64),
                ..Default::default()
            },
            boot: Boot::Kernel {
                kernel: format!("[{DATASTORE}] images/vmlinuz"),
                initrd: Some(format!("[{DATASTORE}] images/initrd.img")),
                cmdline: String::new(),
            },
            nics: vec![NicSpec {
                network: VM_NETWORK.into(),
                mac: None,
                ip: Some(format!("{ip}/24")),
                gateway: Some(self.gateway.to_string()),
                model: None,
            }],
            cdroms: vec![],
            boot_order: hierro_api::default_boot_order(),
            display: Default::default(),
            guest_os: hierro_api::GuestOs::Linux,
        }
    }

    /// A free VM address on the lab subnet (.100 and up).
    pub fn vm_ip(&self, index: u32) -> Ipv4Addr {
        self.ip(100 + index as u8)
    }
}

/// Builds the lab: network, host agents, VMs. On failure, undoes it all.
pub async fn up(opts: &LabOptions) -> anyhow::Result<Lab> {
    if nix::unistd::geteuid().as_raw() != 0 {
        bail!("the lab needs root (it makes network namespaces and runs host agents)");
    }
    if opts.hosts == 0 || opts.hosts > 50 {
        bail!("--hosts must be 1 to 50");
    }
    if opts.hosts * opts.vms_per_host > 150 {
        bail!("at most 150 VMs in a lab");
    }
    for f in IMAGE_FILES {
        if !opts.image_dir.join(f).is_file() {
            bail!(
                "the guest image is missing: {} (build it with scripts/build-image.sh or `hierro image build`)",
                opts.image_dir.join(f).display()
            );
        }
    }
    if Lab::state_file(&opts.dir).exists() {
        bail!(
            "a lab is already up in {} (hierro lab down first)",
            opts.dir.display()
        );
    }
    std::fs::create_dir_all(&opts.dir)?;
    let dir = opts.dir.canonicalize()?;
    let mut lab = Lab {
        id: opts.id,
        dir: dir.clone(),
        subnet: format!("10.99.{}.0/24", opts.id),
        gateway: Ipv4Addr::new(10, 99, opts.id, 1),
        user: "root".into(),
        password: hex::encode(rand::random::<[u8; 8]>()),
        fabric_ns: format!("hl{}-fabric", opts.id),
        datastore_dir: dir.join("datastore"),
        hosts: vec![],
        namespaces: vec![],
        links: vec![],
        center: None,
    };
    lab.save()?;
    match build(&mut lab, opts).await {
        Ok(()) => Ok(lab),
        Err(e) => {
            let _ = lab.save();
            if let Err(d) = down(&lab.dir).await {
                tracing::error!("cleaning up the failed lab: {d:#}");
            }
            Err(e)
        }
    }
}

async fn build(lab: &mut Lab, opts: &LabOptions) -> anyhow::Result<()> {
    let images = lab.datastore_dir.join("images");
    std::fs::create_dir_all(&images)?;
    for f in IMAGE_FILES {
        std::fs::copy(opts.image_dir.join(f), images.join(f))?;
    }

    // The physical switch, and this machine's port on it.
    let fabric = lab.fabric_ns.clone();
    lab.namespaces.push(fabric.clone());
    lab.save()?;
    netns::add(&fabric).await?;
    netns::ip(&["-n", &fabric, "link", "add", "fabric0", "type", "bridge"]).await?;
    netns::ip(&["-n", &fabric, "link", "set", "fabric0", "up"]).await?;
    let root_link = format!("hl{}r", lab.id);
    lab.links.push(root_link.clone());
    lab.save()?;
    netns::veth_to_bridge(&root_link, None, &fabric, "fabric0").await?;
    netns::ip(&[
        "addr",
        "add",
        &format!("{}/24", lab.gateway),
        "dev",
        &root_link,
    ])
    .await?;
    netns::ip(&["link", "set", &root_link, "up"]).await?;
    // A physical network carries frames of at most its MTU with real
    // checksums; this machine's stack must not hand veth 64 KiB TCP
    // super-frames with checksums left for a NIC.
    netns::ethtool_off(&root_link, &["tso", "gso", "tx"]).await?;

    let password_hash = hierro_host::auth::hash_password(&lab.password);
    for i in 1..=opts.hosts {
        let host = add_host(lab, opts, i, &password_hash).await?;
        lab.hosts.push(host);
        lab.save()?;
    }
    for h in &mut lab.hosts {
        wait_for_agent(h).await?;
    }
    lab.save()?;

    // VMs: created and powered on host by host, then all awaited together.
    let mut index = 0;
    for hi in 0..lab.hosts.len() {
        let client = lab.client(&lab.hosts[hi]).await?;
        for j in 1..=opts.vms_per_host {
            let name = format!("{}-vm{j}", lab.hosts[hi].name);
            let ip = lab.vm_ip(index);
            index += 1;
            let t = client
                .run(
                    client
                        .create_vm(&lab.vm_spec(&name, ip, opts.vm_memory_mib))
                        .await,
                )
                .await?;
            let id = t.target.trim_start_matches("vm:").to_string();
            client.run(client.power(&name, PowerOp::On).await).await?;
            lab.hosts[hi].vms.push(LabVm { name, id, ip });
            lab.save()?;
        }
    }
    for h in &lab.hosts {
        let client = lab.client(h).await?;
        for vm in &h.vms {
            wait_for_guest(&client, &vm.name, Duration::from_secs(180)).await?;
        }
    }
    // The center last, so that adding the hosts brings their VMs along.
    if opts.center {
        center::start(lab, opts, &password_hash).await?;
        center::add_hosts(lab).await?;
    }
    Ok(())
}

async fn add_host(
    lab: &mut Lab,
    opts: &LabOptions,
    i: u32,
    password_hash: &str,
) -> anyhow::Result<LabHost> {
    let name = format!("h{i}");
    let ns = format!("hl{}-{name}", lab.id);
    lab.namespaces.push(ns.clone());
    lab.save()?;
    netns::add(&ns).await?;
    // Two uplinks into the physical switch, eth0 and eth1 inside the host;
    // vswitchd owns them, and the management address is on its vmk0. Two
    // more, eth2 and eth3, wait for a distributed switch.
    for (n, uplink) in UPLINKS.iter().chain(&SPARE_NICS).enumerate() {
        netns::veth_to_bridge(
            &format!("hl{}h{i}{}", lab.id, (b'a' + n as u8) as char),
            Some((&ns, uplink)),
            &lab.fabric_ns,
            "fabric0",
        )
        .await?;
    }
    let ip = lab.ip(10 + i as u8);

    let hdir = lab.dir.join("hosts").join(&name);
    std::fs::create_dir_all(&hdir)?;
    let config = hierro_host::HostConfig {
        name: name.clone(),
        listen: std::net::SocketAddr::new(ip.into(), 443),
        data_dir: hdir.join("data"),
        run_dir: hdir.join("run"),
        accel: "auto".into(),
        admin: hierro_host::config::AdminAccount {
            user: lab.user.clone(),
            password_hash: password_hash.to_string(),
        },
        break_glass: Some(hierro_host::config::AdminAccount {
            user: BREAK_GLASS_USER.into(),
            password_hash: password_hash.to_string(),
        }),
        lockout: Default::default(),
        session_idle_secs: 1800,
        perf_interval_secs: opts.perf_interval_secs,
        network: lab_network(lab.id, i, ip),
        datastore_roots: vec![lab.datastore_dir.clone()],
        memory_overcommit: 1.0,
        datastores: vec![hierro_api::DatastoreCreate {
            name: DATASTORE.into(),
            path: lab.datastore_dir.display().to_string(),
        }],
    };
    let config_path = hdir.join("host.toml");
    std::fs::write(&config_path, toml::to_string(&config)?)?;
    let log = hdir.join("agent.log");
    let mut host = LabHost {
        name,
        namespace: ns,
        ip,
        url: format!("https://{ip}"),
        thumbprint: String::new(),
        agent_pid: None,
        config: config_path,
        run_dir: hdir.join("run"),
        log,
        vms: vec![],
    };
    host.agent_pid = Some(start_agent(&host, &opts.hierro_bin)?);
    Ok(host)
}

/// Starts a host agent in its namespace, detached from us (its own session),
/// logging to its `agent.log`.
pub fn start_agent(host: &LabHost, hierro_bin: &Path) -> anyhow::Result<u32> {
    let config = host.config.to_string_lossy();
    spawn_in_namespace(
        &host.namespace,
        hierro_bin,
        &["host", "serve", "--config", &config],
        &host.log,
    )
}

/// Runs `hierro ARGS` in a namespace, in its own session (so it outlives
/// us), appending its output to `log`; returns its pid (`ip netns exec`
/// execs the program, so the pid is the program's).
pub fn spawn_in_namespace(
    ns: &str,
    hierro_bin: &Path,
    args: &[&str],
    log: &Path,
) -> anyhow::Result<u32> {
    use std::os::unix::process::CommandExt;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let mut cmd = std::process::Command::new("ip");
    cmd.args(["netns", "exec", ns])
        .arg(hierro_bin)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("starting hierro {}", args.join(" ")))?;
    Ok(child.id())
}

impl Lab {
    /// Starts a host's agent again (after a test killed it) and records it.
    pub async fn restart_agent(&mut self, host: usize, hierro_bin: &Path) -> anyhow::Result<()> {
        let pid = start_agent(&self.hosts[host], hierro_bin)?;
        self.hosts[host].agent_pid = Some(pid);
        self.save()?;
        wait_for_agent(&mut self.hosts[host]).await
    }
}

/// Waits until the agent answers, and pins the certificate it made.
pub async fn wait_for_agent(host: &mut LabHost) -> anyhow::Result<()> {
    let dir = host
        .config
        .parent()
        .context("a host's config has a folder")?;
    let cert = dir.join("data/host.crt");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(pem) = std::fs::read_to_string(&cert) {
            host.thumbprint =
                hierro_host::tls::thumbprint_of_pem(&pem).map_err(anyhow::Error::msg)?;
            let client = Client::new(&host.url, Trust::Thumbprint(host.thumbprint.clone()))?;
            if client.about().await.is_ok() {
                return Ok(());
            }
        }
        if tokio::time::Instant::now() > deadline {
            let log = std::fs::read_to_string(&host.log).unwrap_or_default();
            bail!(
                "host agent {} did not answer within 30 s; its log:\n{log}",
                host.name
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the VM's guest agent answers.
pub async fn wait_for_guest(
    client: &Client,
    vm: &str,
    limit: Duration,
) -> anyhow::Result<hierro_api::VmInfo> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let info = client.vm(vm).await?;
        if info.guest.as_ref().is_some_and(|g| g.agent_running) {
            return Ok(info);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the guest agent of {vm} did not answer within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Stops every process the lab started and removes its namespaces, links
/// and files.
pub async fn down(dir: &Path) -> anyhow::Result<()> {
    let lab = Lab::load(dir)?;
    // Host agents and their QEMUs (which outlive agents by design) all run
    // inside the host namespaces: end every process there.
    // Rounds until a namespace is empty: a host agent still alive restarts
    // the vswitchd killed before it.
    for ns in &lab.namespaces {
        for _ in 0..10 {
            let pids = netns::pids(ns).await;
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                netns::kill_wait(pid).await;
            }
        }
    }
    for link in &lab.links {
        let _ = netns::ip(&["link", "del", link]).await;
    }
    for ns in lab.namespaces.iter().rev() {
        netns::del(ns).await?;
    }
    std::fs::remove_dir_all(&lab.dir).with_context(|| format!("removing {}", lab.dir.display()))?;
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct HostStatus {
    pub name: String,
    pub url: String,
    pub agent: String,
    pub vms: Vec<VmStatus>,
}

#[derive(Debug, Serialize)]
pub struct VmStatus {
    pub name: String,
    pub power: String,
    pub ip: String,
    pub guest_agent: bool,
}

pub async fn status(dir: &Path) -> anyhow::Result<(Lab, Vec<HostStatus>)> {
    let lab = Lab::load(dir)?;
    let mut out = vec![];
    for h in &lab.hosts {
        let mut st = HostStatus {
            name: h.name.clone(),
            url: h.url.clone(),
            agent: "not answering".into(),
            vms: vec![],
        };
        if let Ok(client) = lab.client(h).await {
            st.agent = "running".into();
            for v in client.vms().await.unwrap_or_default() {
                let guest = client
                    .vm(&v.name)
                    .await
                    .ok()
                    .and_then(|i| i.guest)
                    .is_some_and(|g| g.agent_running);
                st.vms.push(VmStatus {
                    name: v.name.clone(),
                    power: v.power_state.to_string(),
                    ip: v
                        .config
                        .nics
                        .first()
                        .and_then(|n| n.ip.clone())
                        .unwrap_or_default(),
                    guest_agent: guest,
                });
            }
        }
        out.push(st);
    }
    Ok((lab, out))
}
