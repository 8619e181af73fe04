//! Roles and permissions stored in SQLite and PostgreSQL, evaluated by the
//! authorization model: the database round trip must not change a verdict.

use std::collections::BTreeSet;

use hierro_center::access::{self, AccessError};
use hierro_center::authz::{
    Permission, Principal, Subject, ADMINISTRATOR_ROLE, NO_ACCESS_ROLE, READ_ONLY_ROLE,
};
use hierro_center::directory;
use hierro_center::inventory::{self, ObjectKind, ROOT};
use serde_json::json;

fn perm(p: Principal, role: &str, object: &str, propagate: bool) -> Permission {
    Permission {
        principal: p,
        role: role.into(),
        object: object.into(),
        propagate,
    }
}

#[tokio::test]
async fn roles_and_permissions_on_both_databases() {
    for t in crate::common::both().await {
        let (db, n) = (&t.db, t.name);
        inventory::ensure_root(db).await.unwrap();
        access::ensure_system_roles(db).await.unwrap();
        access::ensure_system_roles(db).await.unwrap();
        let dc = inventory::create(db, ObjectKind::Datacenter, "DC", ROOT, json!({}))
            .await
            .unwrap();
        let prod = inventory::create(db, ObjectKind::Folder, "Prod", &dc.id, json!({}))
            .await
            .unwrap();
        let secret = inventory::create(db, ObjectKind::Folder, "Secret", &prod.id, json!({}))
            .await
            .unwrap();
        let web = inventory::create(db, ObjectKind::Vm, "web", &prod.id, json!({}))
            .await
            .unwrap();
        let vault = inventory::create(db, ObjectKind::Vm, "vault", &secret.id, json!({}))
            .await
            .unwrap();
        for u in ["alice", "bob"] {
            directory::create_user(db, u, "long password", "")
                .await
                .unwrap();
        }
        directory::create_group(db, "ops", "").await.unwrap();
        directory::add_member(db, "ops", "alice").await.unwrap();

        // Roles: system ones are fixed, custom ones checked against the catalogue.
        let ids: BTreeSet<String> = access::roles(db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert!(
            ids.contains(ADMINISTRATOR_ROLE)
                && ids.contains(READ_ONLY_ROLE)
                && ids.contains(NO_ACCESS_ROLE),
            "{n}"
        );
        let power: BTreeSet<String> = [
            "VirtualMachine.Interact.PowerOn",
            "VirtualMachine.Interact.PowerOff",
        ]
        .map(String::from)
        .into();
        let operator = access::create_role(db, "VM operator", &power)
            .await
            .unwrap();
        assert!(
            operator
                .privileges
                .contains(&hierro_api::Privilege::SystemView),
            "{n}: every role can see"
        );
        let bad: BTreeSet<String> = ["VirtualMachine.Fly".to_string()].into();
        assert!(
            matches!(
                access::create_role(db, "Pilot", &bad).await.unwrap_err(),
                AccessError::Invalid(_)
            ),
            "{n}"
        );
        assert!(
            matches!(
                access::create_role(db, "VM operator", &power)
                    .await
                    .unwrap_err(),
                AccessError::Conflict(_)
            ),
            "{n}"
        );
        assert!(
            matches!(
                access::update_role(db, ADMINISTRATOR_ROLE, &power)
                    .await
                    .unwrap_err(),
                AccessError::Conflict(_)
            ),
            "{n}"
        );

        // Permissions: ops operate Prod and below; alice herself is
        // read-only on web; No access for ops on Secret hides it.
        access::set_permission(
            db,
            &perm(Principal::Group("ops".into()), &operator.id, &prod.id, true),
        )
        .await
        .unwrap();
        access::set_permission(
            db,
            &perm(
                Principal::User("alice".into()),
                READ_ONLY_ROLE,
                &web.id,
                false,
            ),
        )
        .await
        .unwrap();
        access::set_permission(
            db,
            &perm(
                Principal::Group("ops".into()),
                NO_ACCESS_ROLE,
                &secret.id,
                true,
            ),
        )
        .await
        .unwrap();
        access::set_permission(
            db,
            &perm(
                Principal::User("bob".into()),
                ADMINISTRATOR_ROLE,
                &dc.id,
                false,
            ),
        )
        .await
        .unwrap();
        // Unknown principals, roles and objects are refused.
        for bad in [
            perm(
                Principal::User("mallory".into()),
                READ_ONLY_ROLE,
                &dc.id,
                true,
            ),
            perm(
                Principal::Group("nogroup".into()),
                READ_ONLY_ROLE,
                &dc.id,
                true,
            ),
            perm(Principal::User("bob".into()), "no-such-role", &dc.id, true),
            perm(
                Principal::User("bob".into()),
                READ_ONLY_ROLE,
                "no-such-object",
                true,
            ),
        ] {
            assert!(
                matches!(
                    access::set_permission(db, &bad).await.unwrap_err(),
                    AccessError::NotFound(_)
                ),
                "{n}: {bad:?}"
            );
        }
        // One permission per principal and object: setting again replaces.
        access::set_permission(
            db,
            &perm(
                Principal::User("bob".into()),
                ADMINISTRATOR_ROLE,
                &dc.id,
                true,
            ),
        )
        .await
        .unwrap();
        assert_eq!(access::permissions(db).await.unwrap().len(), 4, "{n}");
        assert!(
            matches!(
                access::delete_role(db, &operator.id).await.unwrap_err(),
                AccessError::Conflict(_)
            ),
            "{n}: in use"
        );

        let (authz, tree) = access::load(db).await.unwrap();
        let alice = Subject::user("alice", ["ops"]);
        let bob = Subject::user("bob", Vec::<String>::new());
        let on =
            |s: &Subject, id: &str, p: &str| authz.allows(s, &tree.path(id), p.parse().unwrap());
        assert!(
            on(&alice, &prod.id, "VirtualMachine.Interact.PowerOn"),
            "{n}"
        );
        assert!(
            !on(&alice, &web.id, "VirtualMachine.Interact.PowerOn"),
            "{n}: her own read-only wins on web"
        );
        assert!(on(&alice, &web.id, "System.Read"), "{n}");
        assert!(
            !on(&alice, &vault.id, "System.View"),
            "{n}: No access hides Secret's subtree"
        );
        assert!(
            !on(&alice, &dc.id, "System.View"),
            "{n}: nothing above Prod"
        );
        assert!(
            on(&bob, &vault.id, "VirtualMachine.Inventory.Delete"),
            "{n}: propagating Administrator"
        );
        // One object's path and permissions decide as the whole model does.
        for id in [ROOT, &dc.id, &prod.id, &secret.id, &web.id, &vault.id] {
            let (one, path) = access::load_path(db, id).await.unwrap();
            assert_eq!(path, tree.path(id), "{n}");
            for s in [&alice, &bob] {
                assert_eq!(
                    one.effective(s, &path),
                    authz.effective(s, &tree.path(id)),
                    "{n}: {id}"
                );
            }
        }
        assert!(access::load_path(db, "nothing").await.unwrap().1.is_empty());
        let why = authz.effective(&alice, &tree.path(&vault.id));
        assert!(
            why.no_access && why.decided_at.as_deref() == Some(secret.id.as_str()),
            "{n}: {why:?}"
        );

        // Removing a permission changes the verdict.
        access::remove_permission(db, &Principal::Group("ops".into()), &secret.id)
            .await
            .unwrap();
        let (authz, tree) = access::load(db).await.unwrap();
        assert!(
            authz.allows(
                &alice,
                &tree.path(&vault.id),
                hierro_api::Privilege::VirtualMachineInteractPowerOff
            ),
            "{n}"
        );
        assert!(matches!(
            access::remove_permission(db, &Principal::Group("ops".into()), &secret.id)
                .await
                .unwrap_err(),
            AccessError::NotFound(_)
        ));
    }
}
