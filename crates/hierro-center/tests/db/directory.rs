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
        assert!(
            directory::authenticate(db, "alice", "correct horse")
                .await
                .unwrap()
                .is_some(),
            "{n}"
        );
        assert!(
            directory::authenticate(db, "alice", "wrong")
                .await
                .unwrap()
                .is_none(),
            "{n}"
        );
        assert!(
            directory::authenticate(db, "nobody", "x")
                .await
                .unwrap()
                .is_none(),
            "{n}"
        );
        directory::set_disabled(db, "alice", true).await.unwrap();
        assert!(
            directory::authenticate(db, "alice", "correct horse")
                .await
                .unwrap()
                .is_none(),
            "{n}"
        );
        directory::set_disabled(db, "alice", false).await.unwrap();
        directory::set_password(db, "alice", "new password")
            .await
            .unwrap();
        assert!(
            directory::authenticate(db, "alice", "new password")
                .await
                .unwrap()
                .is_some(),
            "{n}"
        );

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
