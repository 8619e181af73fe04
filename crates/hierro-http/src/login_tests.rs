use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;
use std::time::Duration;

use super::*;

fn addr(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

/// The hash of "right" (made once: argon2 is slow).
fn right() -> Option<String> {
    static HASH: OnceLock<String> = OnceLock::new();
    Some(HASH.get_or_init(|| hash_password("right")).clone())
}

fn policy() -> LockoutPolicy {
    LockoutPolicy {
        max_failures: 3,
        window_secs: 60,
        unlock_secs: 30,
        source_max_failures: 5,
    }
}

async fn try_login(l: &Logins, user: &str, from: IpAddr, pw: &str) -> Result<Outcome, Refused> {
    Ok(l.begin(user, from).await?.check(right(), pw).await)
}

#[tokio::test(start_paused = true)]
async fn failures_lock_the_account_even_for_the_right_password_until_unlock() {
    let l = Logins::new(policy());
    let a = addr(1);
    assert_eq!(try_login(&l, "u", a, "right").await, Ok(Outcome::Accepted));
    for n in 1..=3 {
        let locked = n == 3;
        assert_eq!(
            try_login(&l, "u", a, "wrong").await,
            Ok(Outcome::Failed { locked })
        );
    }
    assert_eq!(
        try_login(&l, "u", a, "right").await,
        Err(Refused::Locked(30))
    );
    // Another account is not locked.
    assert_eq!(try_login(&l, "v", a, "right").await, Ok(Outcome::Accepted));
    tokio::time::advance(Duration::from_secs(29)).await;
    assert_eq!(
        try_login(&l, "u", addr(2), "right").await,
        Err(Refused::Locked(1))
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(try_login(&l, "u", a, "right").await, Ok(Outcome::Accepted));
}

#[tokio::test(start_paused = true)]
async fn failures_outside_the_window_and_before_a_success_do_not_count() {
    let l = Logins::new(policy());
    let a = addr(1);
    for _ in 0..2 {
        try_login(&l, "u", a, "wrong").await.unwrap();
    }
    tokio::time::advance(Duration::from_secs(61)).await;
    for _ in 0..2 {
        try_login(&l, "u", a, "wrong").await.unwrap();
    }
    assert_eq!(try_login(&l, "u", a, "right").await, Ok(Outcome::Accepted));
    for _ in 0..2 {
        try_login(&l, "u", a, "wrong").await.unwrap();
    }
    assert_eq!(try_login(&l, "u", a, "right").await, Ok(Outcome::Accepted));
}

#[tokio::test(start_paused = true)]
async fn an_unknown_user_fails_and_is_locked_as_a_known_one() {
    let l = Logins::new(policy());
    let a = addr(1);
    for n in 1..=3 {
        let out = l
            .begin("nobody", a)
            .await
            .unwrap()
            .check(None, "right")
            .await;
        assert_eq!(out, Outcome::Failed { locked: n == 3 });
    }
    assert!(matches!(
        l.begin("nobody", a).await,
        Err(Refused::Locked(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn an_address_past_its_failures_waits_doubling_whatever_account_it_tries() {
    let l = Logins::new(policy());
    let a = addr(1);
    // 5 failures on 5 accounts (none locked): the 5th makes the address wait 1 s.
    for n in 0..5 {
        let user = format!("user{n}");
        assert_eq!(
            try_login(&l, &user, a, "wrong").await,
            Ok(Outcome::Failed { locked: false })
        );
    }
    assert_eq!(
        try_login(&l, "fresh", a, "right").await,
        Err(Refused::Throttled(1))
    );
    // Another address is not held back.
    assert_eq!(
        try_login(&l, "fresh", addr(2), "right").await,
        Ok(Outcome::Accepted)
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    try_login(&l, "user9", a, "wrong").await.unwrap();
    assert_eq!(
        try_login(&l, "fresh", a, "right").await,
        Err(Refused::Throttled(2))
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(
        try_login(&l, "fresh", a, "right").await,
        Ok(Outcome::Accepted)
    );
}

#[tokio::test]
async fn a_flood_of_one_account_is_checked_in_turn_and_stops_at_the_lock() {
    let l = std::sync::Arc::new(Logins::new(LockoutPolicy {
        source_max_failures: 0,
        ..policy()
    }));
    let tries = (0..12).map(|i| {
        let l = l.clone();
        tokio::spawn(async move { try_login(&l, "u", addr(i), "wrong").await })
    });
    let mut failed = 0;
    let mut locked = 0;
    for t in tries {
        match t.await.unwrap() {
            Ok(Outcome::Failed { .. }) => failed += 1,
            Err(Refused::Locked(_)) => locked += 1,
            other => panic!("{other:?}"),
        }
    }
    // Only as many guesses as the policy allows were checked.
    assert_eq!((failed, locked), (3, 9));
}

#[test]
fn the_policy_needs_a_window_and_an_unlock_time() {
    assert!(LockoutPolicy::default().check().is_ok());
    let bad = LockoutPolicy {
        unlock_secs: 0,
        ..LockoutPolicy::default()
    };
    assert!(bad.check().is_err());
}
