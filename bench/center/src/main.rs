//! `bench/center`: the center with 100 hosts and 10,000 VMs, on SQLite and
//! on PostgreSQL side by side. The hosts are simulated (`simulator.rs`, for
//! this benchmark only): their change feeds go through the center's own
//! `host_sync::apply`, as a real host's would. A real `hierro center serve`
//! answers the HTTPS calls. Measured:
//! - loading the inventory (100 full change feeds of 100 VMs each);
//! - listing all VMs (`GET /api/inventory?kind=vm`) as the administrator,
//!   and as a user whose only permission is Read-only on a folder of 100;
//! - permission checks per second: in the authorization engine, and over
//!   HTTPS (`GET /api/effective`).
//!
//! Run: `scripts/bench-center.sh` (starts PostgreSQL, builds in release).

mod flood;
mod simulator;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use hierro_center::authz::Subject;
use hierro_center::db::Db;
use hierro_center::inventory::{self, ObjectKind};
use hierro_client::{Client, Trust};
use rand::seq::IndexedRandom;
use reqwest::Method;
use serde_json::{json, Value};
use simulator::HostSimulator;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 100)]
    hosts: usize,
    #[arg(long, default_value_t = 100)]
    vms_per_host: usize,
    /// Timed repetitions of each listing.
    #[arg(long, default_value_t = 15)]
    runs: usize,
    /// Concurrent logins in the flood.
    #[arg(long, default_value_t = 200)]
    logins: usize,
    /// The `hierro` binary (the center).
    #[arg(long, default_value = "target/release/hierro")]
    hierro: PathBuf,
    /// A PostgreSQL server URL (`scripts/postgres.sh` prints one).
    #[arg(long)]
    postgres: String,
    #[arg(long, default_value = "/tmp/hierro-bench-center")]
    dir: PathBuf,
}

struct Row {
    database: &'static str,
    load: Duration,
    list_admin: (Duration, Duration),
    list_user: (Duration, Duration),
    engine_checks_per_s: f64,
    http_checks_per_s: f64,
    flood: flood::Flood,
}

/// A `hierro center serve`, killed when dropped.
struct CenterProcess(Child);

impl Drop for CenterProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let _ = std::fs::remove_dir_all(&args.dir);
    let pg = Db::create_database(&args.postgres, "hierro_bench_center").await?;
    let rows = vec![
        run(&args, "SQLite", None).await.context("SQLite")?,
        run(&args, "PostgreSQL", Some(pg))
            .await
            .context("PostgreSQL")?,
    ];
    Db::drop_database(&args.postgres, "hierro_bench_center").await?;
    print(&args, &rows);
    Ok(())
}

async fn start_center(
    args: &Args,
    dir: &Path,
    database: Option<&str>,
) -> anyhow::Result<(CenterProcess, Client)> {
    std::fs::create_dir_all(dir)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    hierro_center::config::CenterConfig {
        web_dir: None,
        perf_collect_secs: 20,
        lockout: Default::default(),
        certificate_check_secs: 3600,
        certificate_renew_days: 30,
        fault_injection: false,
        name: "bench".into(),
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        data_dir: dir.to_path_buf(),
        database: database.map(str::to_string),
        session_idle_secs: 1800,
        admin: hierro_center::config::Admin {
            user: "administrator".into(),
            password_hash: hierro_center::directory::hash_password("admin password"),
        },
    }
    .save(&dir.join("center.toml"))?;
    let child = Command::new(&args.hierro)
        .args(["center", "serve", "--config"])
        .arg(dir.join("center.toml"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("starting the center")?;
    let process = CenterProcess(child);
    let url = format!("https://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let thumbprint = loop {
        if let Ok(t) = hierro_client::fetch_thumbprint(&url).await {
            break t;
        }
        anyhow::ensure!(Instant::now() < deadline, "the center did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut admin = Client::new(&url, Trust::Thumbprint(thumbprint))?;
    admin.login("administrator", "admin password").await?;
    Ok((process, admin))
}

async fn call(
    c: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    Ok(c.call_json(method, path, body.as_ref()).await?)
}

/// Median and 95th percentile of `runs` timed calls; checks the count.
async fn time_listing(
    c: &Client,
    runs: usize,
    expect: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let mut times = vec![];
    for _ in 0..runs + 2 {
        let t0 = Instant::now();
        let v = call(c, Method::GET, "/api/inventory?kind=vm", None).await?;
        times.push(t0.elapsed());
        let n = v.as_array().map_or(0, |a| a.len());
        anyhow::ensure!(n == expect, "listed {n} VMs, expected {expect}");
    }
    // The first two warm caches up.
    let mut times = times.split_off(2);
    times.sort();
    let p95 = times[((times.len() * 95).div_ceil(100)).saturating_sub(1)];
    Ok((times[times.len() / 2], p95))
}

async fn run(args: &Args, name: &'static str, pg: Option<String>) -> anyhow::Result<Row> {
    let dir = args.dir.join(name.to_lowercase());
    let (_center, admin) = start_center(args, &dir, pg.as_deref()).await?;
    let db = Db::open(&pg.clone().unwrap_or_else(|| Db::sqlite_url(&dir))).await?;

    let mk = |kind: &str, name: &str, parent: &str| {
        Some(json!({"kind": kind, "name": name, "parent": parent}))
    };
    let dc = call(
        &admin,
        Method::POST,
        "/api/inventory",
        mk("datacenter", "Bench", "root"),
    )
    .await?;
    let dc = dc["id"].as_str().context("datacenter id")?.to_string();
    let cluster = call(
        &admin,
        Method::POST,
        "/api/inventory",
        mk("cluster", "Cluster", &dc),
    )
    .await?;
    let cluster = cluster["id"].as_str().context("cluster id")?.to_string();
    let team = call(
        &admin,
        Method::POST,
        "/api/inventory",
        mk("folder", "Team", &dc),
    )
    .await?;
    let team = team["id"].as_str().context("folder id")?.to_string();

    // The simulated hosts join, then their change feeds are applied.
    let mut hosts = vec![];
    for i in 0..args.hosts {
        let data = json!({"address": format!("simulated-{i}"), "state": "connected", "memory_mib": 262144});
        hosts.push(
            inventory::create(
                &db,
                ObjectKind::Host,
                &format!("sim-{i:03}"),
                &cluster,
                data,
            )
            .await?
            .id,
        );
    }
    let t0 = Instant::now();
    for (i, host) in hosts.iter().enumerate() {
        let sim = HostSimulator {
            index: i,
            vms: args.vms_per_host,
        };
        hierro_center::host_sync::apply(&db, host, &sim.full_update()).await?;
    }
    let load = t0.elapsed();

    // One host's VMs go to folder Team, where a user may read them.
    sqlx::query("UPDATE objects SET parent = $1 WHERE kind = 'vm' AND host = $2")
        .bind(&team)
        .bind(&hosts[0])
        .execute(&db.pool)
        .await?;
    call(
        &admin,
        Method::POST,
        "/api/users",
        Some(json!({"name": "viewer", "password": "viewer password"})),
    )
    .await?;
    call(
        &admin,
        Method::POST,
        "/api/permissions",
        Some(json!({"principal": {"user": "viewer"}, "role": "read-only", "object": team, "propagate": true})),
    )
    .await?;
    let mut viewer = Client::new(
        admin.base(),
        Trust::Thumbprint(hierro_client::fetch_thumbprint(admin.base()).await?),
    )?;
    viewer.login("viewer", "viewer password").await?;

    let total = args.hosts * args.vms_per_host;
    let list_admin = time_listing(&admin, args.runs, total).await?;
    let list_user = time_listing(&viewer, args.runs, args.vms_per_host).await?;

    // Permission checks in the engine: random VMs, both subjects.
    let vm_ids: Vec<String> = inventory::search(&db, Some(ObjectKind::Vm), None)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    let (authz, tree) = hierro_center::access::load(&db).await?;
    let no_groups: [&str; 0] = [];
    let subjects = [
        Subject::user("administrator", no_groups),
        Subject::user("viewer", no_groups),
    ];
    let mut rng = rand::rng();
    let (checks, t0) = (200_000, Instant::now());
    let mut granted = 0usize;
    for i in 0..checks {
        let vm = vm_ids.choose(&mut rng).context("no VMs")?;
        granted += authz.effective(&subjects[i % 2], &tree.path(vm)).visible() as usize;
    }
    let engine_checks_per_s = checks as f64 / t0.elapsed().as_secs_f64();
    anyhow::ensure!(granted > checks / 2, "the administrator sees every VM");

    // Over HTTPS: what may the viewer do on a VM of its folder.
    let team_vms: Vec<Value> = call(&viewer, Method::GET, "/api/inventory?kind=vm", None)
        .await?
        .as_array()
        .cloned()
        .unwrap_or_default();
    let (calls, t0) = (200, Instant::now());
    for i in 0..calls {
        let vm = team_vms[i % team_vms.len()]["id"]
            .as_str()
            .context("VM id")?;
        call(
            &viewer,
            Method::GET,
            &format!("/api/effective?object={vm}"),
            None,
        )
        .await?;
    }
    let http_checks_per_s = calls as f64 / t0.elapsed().as_secs_f64();
    let flood = flood::measure(&admin, args.logins).await?;
    db.pool.close().await;
    Ok(Row {
        database: name,
        load,
        list_admin,
        list_user,
        engine_checks_per_s,
        http_checks_per_s,
        flood,
    })
}

fn print(args: &Args, rows: &[Row]) {
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    println!(
        "\ncenter with {} simulated hosts and {} VMs ({} runs per listing)\n",
        args.hosts,
        args.hosts * args.vms_per_host,
        args.runs
    );
    println!(
        "| database   | load inventory (s) | list all VMs as admin, median / p95 (ms) | list as folder user ({} VMs), median / p95 (ms) | checks/s, engine | checks/s, HTTPS |",
        args.vms_per_host
    );
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {:<10} | {:.2} | {} / {} | {} / {} | {:.0} | {:.0} |",
            r.database,
            r.load.as_secs_f64(),
            ms(r.list_admin.0),
            ms(r.list_admin.1),
            ms(r.list_user.0),
            ms(r.list_user.1),
            r.engine_checks_per_s,
            r.http_checks_per_s
        );
    }
    println!(
        "\n{} logins at once (unknown names, each from its own address) beside a quiet center:\n",
        args.logins
    );
    println!("| database   | GET /api/health quiet, median / max (ms) | during the flood, median / max (ms) | ratio of medians | checked (401) / refused (429) | flood took (s) |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        let f = &r.flood;
        println!(
            "| {:<10} | {} / {} | {} / {} | {:.1} | {} / {} | {:.1} |",
            r.database,
            ms(f.quiet.0),
            ms(f.quiet.1),
            ms(f.flooded.0),
            ms(f.flooded.1),
            f.flooded.0.as_secs_f64() / f.quiet.0.as_secs_f64(),
            f.checked,
            f.refused,
            f.took.as_secs_f64()
        );
    }
}
