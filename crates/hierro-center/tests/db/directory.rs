//! Users and groups on SQLite and PostgreSQL alike.

use hierro_center::directory::{self, DirectoryError};

#[tokio::test]
async fn users_and_groups_on_both_databases() {
    for t in crate::common::both().await {
        let (db, n) = (&t.db, t.name);
        let alice = directory::create_user(db, "alice", "correct horse", "Alice A.")
            .await
            .unwrap();
        assert_eq!(
            (alice.name.as_str(), alice.disabled),
            ("alice", false),
            "{n}"
        );
        assert!(
            matches!(
                directory::create_user(db, "alice", "whatever1", "")
                    .await
                    .unwrap_err(),
                DirectoryError::Conflict(_)
            ),
            "{n}"
        );
        assert!(
            matches!(
                directory::create_user(db, "bob", "short", "")
                    .await
                    .unwrap_err(),
                DirectoryError::Invalid(_)
            ),
            "{n}"
        );
        assert!(
            matches!(
                directory::create_user(db, "bad name", "long enough", "")
                    .await
                    .unwrap_err(),
                DirectoryError::Invalid(_)
            ),
            "{n}"
        );
        directory::create_user(db, "bob", "battery staple", "")
            .await
            .unwrap();

        // Passwords: argon2id, checked; disabled accounts cannot log in.
        assert!(logs_in(db, "alice", "correct horse").await, "{n}");
        assert!(!logs_in(db, "alice", "wrong").await, "{n}");
        assert!(!logs_in(db, "nobody", "x").await, "{n}");
        directory::set_disabled(db, "alice", true).await.unwrap();
        assert!(!logs_in(db, "alice", "correct horse").await, "{n}");
        directory::set_disabled(db, "alice", false).await.unwrap();
        directory::set_password(db, "alice", "new password")
            .await
            .unwrap();
        assert!(logs_in(db, "alice", "new password").await, "{n}");

        // Groups and membership.
        directory::create_group(db, "ops", "operators")
            .await
            .unwrap();
        directory::create_group(db, "devs", "").await.unwrap();
        directory::add_member(db, "ops", "alice").await.unwrap();
        directory::add_member(db, "devs", "alice").await.unwrap();
        directory::add_member(db, "devs", "bob").await.unwrap();
        assert!(
            matches!(
                directory::add_member(db, "ops", "alice").await.unwrap_err(),
                DirectoryError::Conflict(_)
            ),
            "{n}"
        );
        assert!(
            matches!(
                directory::add_member(db, "nogroup", "alice")
                    .await
                    .unwrap_err(),
                DirectoryError::NotFound(_)
            ),
            "{n}"
        );
        assert_eq!(
            directory::get_user(db, "alice").await.unwrap().groups,
            ["devs", "ops"],
            "{n}"
        );
        directory::remove_member(db, "ops", "alice").await.unwrap();
        assert_eq!(
            directory::groups_of(db, "alice").await.unwrap(),
            ["devs"],
            "{n}"
        );
        // Deleting a user takes it out of its groups.
        directory::delete_user(db, "bob").await.unwrap();
        let groups = directory::list_groups(db).await.unwrap();
        assert_eq!(
            groups,
            vec![
                ("devs".to_string(), vec!["alice".to_string()]),
                ("ops".to_string(), vec![])
            ],
            "{n}"
        );
        assert_eq!(directory::list_users(db).await.unwrap().len(), 1, "{n}");
    }
}

/// Whether the user logs in with the password, as the center checks it.
async fn logs_in(db: &hierro_center::db::Db, user: &str, password: &str) -> bool {
    let never_locked = hierro_http::login::LockoutPolicy {
        max_failures: 0,
        source_max_failures: 0,
        ..Default::default()
    };
    let logins = hierro_http::login::Logins::new(never_locked);
    let hash = directory::login_hash(db, user).await.unwrap();
    let attempt = logins
        .begin(user, std::net::Ipv4Addr::LOCALHOST.into())
        .await
        .unwrap();
    attempt.check(hash, password).await == hierro_http::login::Outcome::Accepted
}
