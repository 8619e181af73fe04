//! Logins against guessing and floods: a locked account refuses even its
//! right password until its unlock time, unknown names are locked the same
//! way, an address that keeps failing waits while others log in, a flood
//! gets refusals, not errors, while the center keeps answering, and every
//! failure and lockout is an event.

use std::net::IpAddr;
use std::time::Duration;

use hierro_api::{EventKind, NewUser};
use hierro_http::login::LockoutPolicy;
use serde_json::{json, Value};

use crate::common::center::{call, login, start_with};
use crate::common::TestLab;

/// A login from `from` (a loopback address): status, `Retry-After`, body.
async fn login_from(
    url: &str,
    from: IpAddr,
    user: &str,
    password: &str,
) -> (u16, Option<u64>, Value) {
    // Only statuses are checked here: the certificate is not.
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .local_address(from)
        .build()
        .unwrap();
    let resp = http
        .post(format!("{url}/api/session"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    (status, retry, resp.json().await.unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn the_center_locks_out_guessing_and_holds_back_a_flood() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let policy = LockoutPolicy {
        max_failures: 3,
        window_secs: 60,
        unlock_secs: 3,
        source_max_failures: 10,
    };
    let center = start_with(None, |c| c.lockout = policy).await;
    let url = center.url.as_str();
    let admin = login(&center, "administrator", "admin password").await;
    let mallory = NewUser {
        name: "mallory".into(),
        password: "mallory password".into(),
        full_name: String::new(),
    };
    admin.create_user(&mallory).await.unwrap();
    let here: IpAddr = "127.0.0.1".parse().unwrap();

    // Three wrong passwords lock the account: then even the right one is
    // refused, with when to try again; other accounts log in.
    for _ in 0..3 {
        let (status, _, body) = login_from(url, here, "mallory", "guess").await;
        assert_eq!((status, code(&body)), (401, "unauthenticated"), "{body}");
    }
    let (status, retry, body) = login_from(url, here, "mallory", "mallory password").await;
    assert_eq!((status, code(&body)), (429, "too_many_requests"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("locked"),
        "{body}"
    );
    assert!(matches!(retry, Some(1..=3)), "Retry-After: {retry:?}");
    login(&center, "administrator", "admin password").await;

    // A name that does not exist answers and locks alike.
    for _ in 0..3 {
        let (status, _, body) = login_from(url, here, "nobody", "guess").await;
        assert_eq!((status, code(&body)), (401, "unauthenticated"), "{body}");
    }
    let (status, _, body) = login_from(url, here, "nobody", "guess").await;
    assert_eq!((status, code(&body)), (429, "too_many_requests"), "{body}");

    // Failures and lockouts are events on the root folder.
    let events = admin.events(None, Some("root")).await.unwrap();
    let count = |kind: EventKind, user: &str| {
        events
            .iter()
            .filter(|e| e.kind == kind && e.user == user)
            .count()
    };
    assert_eq!(
        count(EventKind::BadUsernameSession, "mallory"),
        3,
        "{events:?}"
    );
    assert_eq!(count(EventKind::AccountLocked, "mallory"), 1, "{events:?}");
    assert_eq!(count(EventKind::AccountLocked, "nobody"), 1, "{events:?}");
    assert!(
        count(EventKind::UserLoginSession, "administrator") >= 2,
        "{events:?}"
    );

    // The lock ends after its unlock time.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _, body) = login_from(url, here, "mallory", "mallory password").await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 429, "{body}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "mallory stays locked"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // A flood from another address, each guess a different name: refusals
    // (401, then 429 once the address is over its failures), never a
    // server error; the center answers meanwhile.
    let flooder: IpAddr = "127.0.0.2".parse().unwrap();
    let flood = (0..60).map(|i| {
        let url = url.to_string();
        tokio::spawn(async move { login_from(&url, flooder, &format!("user{i}"), "guess").await })
    });
    let health = call(&admin, reqwest::Method::GET, "/api/health", Value::Null);
    let (answers, health) = tokio::join!(futures_util::future::join_all(flood), health);
    health.expect("the center answers during a flood");
    let statuses: Vec<u16> = answers.into_iter().map(|a| a.unwrap().0).collect();
    assert!(
        statuses.iter().all(|s| matches!(s, 401 | 429)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&429),
        "the flood was never held back: {statuses:?}"
    );
    // The flooding address waits, even with the right password; this one
    // does not.
    let (status, retry, _) = login_from(url, flooder, "administrator", "admin password").await;
    assert_eq!(status, 429);
    assert!(retry.is_some());
    let (status, _, _) = login_from(url, here, "administrator", "admin password").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_host_locks_out_guessing_and_records_it() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t = TestLab::without_center(30, 1, 0).await;
    let host = &t.lab.hosts[0];
    let from: IpAddr = t.lab.gateway.into();
    // ESXi's default: five failures lock.
    for _ in 0..5 {
        let (status, _, body) = login_from(&host.url, from, "nobody", "guess").await;
        assert_eq!((status, code(&body)), (401, "unauthenticated"), "{body}");
    }
    let (status, retry, body) = login_from(&host.url, from, "nobody", "guess").await;
    assert_eq!((status, code(&body)), (429, "too_many_requests"), "{body}");
    assert!(retry.is_some());
    // The administrator still logs in, and sees what happened.
    let c = t.client(0).await;
    let events = c.events(None, None).await.unwrap();
    let of = |kind: EventKind| {
        events
            .iter()
            .filter(|e| e.kind == kind && e.user == "nobody")
            .count()
    };
    assert_eq!(of(EventKind::BadUsernameSession), 5, "{events:?}");
    assert_eq!(of(EventKind::AccountLocked), 1, "{events:?}");
}
