//! A login flood beside a quiet center: `GET /api/health` timed while
//! nothing else happens, then while 200 logins arrive at once (each a
//! different unknown name from a different loopback address, so each costs
//! a real argon2 check and none is throttled). The ratio says how much a
//! flood slows everyone else.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use hierro_client::Client;
use reqwest::Method;

pub struct Flood {
    pub quiet: (Duration, Duration),
    pub flooded: (Duration, Duration),
    pub refused: usize,
    pub checked: usize,
    pub took: Duration,
}

/// Median and maximum of timed health checks, while `more` (given how
/// many so far) says go on.
async fn health_times(
    c: &Client,
    mut more: impl FnMut(usize) -> bool,
) -> anyhow::Result<(Duration, Duration)> {
    let mut times = vec![];
    while more(times.len()) {
        let t0 = Instant::now();
        c.call_json(Method::GET, "/api/health", None).await?;
        times.push(t0.elapsed());
    }
    times.sort();
    Ok((times[times.len() / 2], times[times.len() - 1]))
}

async fn login(url: String, from: IpAddr, user: String) -> anyhow::Result<u16> {
    // Only statuses count here: the certificate is not checked.
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .local_address(from)
        .build()?;
    let resp = http
        .post(format!("{url}/api/session"))
        .json(&serde_json::json!({"username": user, "password": "guess"}))
        .send()
        .await?;
    Ok(resp.status().as_u16())
}

pub async fn measure(admin: &Client, logins: usize) -> anyhow::Result<Flood> {
    let quiet = health_times(admin, |n| n < 50).await?;
    let t0 = Instant::now();
    let flood: Vec<_> = (0..logins)
        .map(|i| {
            let from = IpAddr::from([127, 0, (2 + i / 250) as u8, (1 + i % 250) as u8]);
            tokio::spawn(login(admin.base().to_string(), from, format!("nobody{i}")))
        })
        .collect();
    let done = || flood.iter().all(|f| f.is_finished());
    let flooded = health_times(admin, |n| n < 2 || !done()).await?;
    let mut statuses = vec![];
    for f in flood {
        statuses.push(f.await??);
    }
    let took = t0.elapsed();
    anyhow::ensure!(
        statuses.iter().all(|s| matches!(s, 401 | 429)),
        "a login answered other than 401 or 429: {statuses:?}"
    );
    Ok(Flood {
        quiet,
        flooded,
        refused: statuses.iter().filter(|s| **s == 429).count(),
        checked: statuses.iter().filter(|s| **s == 401).count(),
        took,
    })
}
