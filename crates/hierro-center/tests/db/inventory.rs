//! The inventory on SQLite and PostgreSQL alike.

use hierro_center::inventory::{self, InventoryError, ObjectKind, ROOT};
use serde_json::json;

#[tokio::test]
async fn inventory_tree_rules_on_both_databases() {
    for t in crate::common::both().await {
        let db = &t.db;
        let n = t.name;
        inventory::ensure_root(db).await.unwrap();
        inventory::ensure_root(db).await.unwrap(); // idempotent

        let dc = inventory::create(db, ObjectKind::Datacenter, "DC1", ROOT, json!({}))
            .await
            .unwrap();
        let prod = inventory::create(db, ObjectKind::Folder, "Prod", &dc.id, json!({}))
            .await
            .unwrap();
        let cluster = inventory::create(db, ObjectKind::Cluster, "Cluster1", &dc.id, json!({}))
            .await
            .unwrap();
        let host = inventory::create(
            db,
            ObjectKind::Host,
            "esx01",
            &cluster.id,
            json!({"address": "10.0.0.1"}),
        )
        .await
        .unwrap();
        let vm = inventory::create(db, ObjectKind::Vm, "web1", &prod.id, json!({}))
            .await
            .unwrap();
        assert_eq!(
            inventory::get(db, &host.id).await.unwrap().data["address"],
            "10.0.0.1",
            "{n}"
        );

        // Containment: no VM in a cluster, no cluster outside a datacenter.
        for (kind, parent) in [
            (ObjectKind::Vm, &cluster.id),
            (ObjectKind::Cluster, &ROOT.to_string()),
            (ObjectKind::Datacenter, &dc.id),
        ] {
            let e = inventory::create(db, kind, "x", parent, json!({}))
                .await
                .unwrap_err();
            assert!(matches!(e, InventoryError::Invalid(_)), "{n}: {e}");
        }
        // Names are unique within a parent, not across parents.
        let e = inventory::create(db, ObjectKind::Vm, "web1", &prod.id, json!({}))
            .await
            .unwrap_err();
        assert!(matches!(e, InventoryError::Conflict(_)), "{n}: {e}");
        let other = inventory::create(db, ObjectKind::Vm, "web1", &dc.id, json!({}))
            .await
            .unwrap();
        for bad in ["", " x", "a/b", &"x".repeat(81)] {
            assert!(
                inventory::create(db, ObjectKind::Folder, bad, &dc.id, json!({}))
                    .await
                    .is_err(),
                "{n}: {bad:?}"
            );
        }

        // Moving: into a folder of the same kind of place, not into itself,
        // not onto a name that is taken.
        let test = inventory::create(db, ObjectKind::Folder, "Test", &prod.id, json!({}))
            .await
            .unwrap();
        let moved = inventory::move_to(db, &vm.id, &test.id).await.unwrap();
        assert_eq!(moved.parent.as_deref(), Some(test.id.as_str()));
        assert!(
            matches!(
                inventory::move_to(db, &prod.id, &test.id)
                    .await
                    .unwrap_err(),
                InventoryError::Invalid(_)
            ),
            "{n}"
        );
        let e = inventory::move_to(db, &other.id, &test.id)
            .await
            .unwrap_err();
        assert!(matches!(e, InventoryError::Conflict(_)), "{n}: {e}");
        assert_eq!(
            inventory::get(db, &other.id)
                .await
                .unwrap()
                .parent
                .as_deref(),
            Some(dc.id.as_str()),
            "{n}: unchanged"
        );

        // The path to the root, search, rename, delete.
        let path: Vec<String> = inventory::path(db, &vm.id)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(path, ["web1", "Test", "Prod", "DC1", "Datacenters"], "{n}");
        let found = inventory::search(db, Some(ObjectKind::Vm), Some("web"))
            .await
            .unwrap();
        assert_eq!(found.len(), 2, "{n}");
        assert!(
            inventory::search(db, None, Some("%"))
                .await
                .unwrap()
                .is_empty(),
            "{n}: % is literal"
        );
        inventory::rename(db, &other.id, "web2").await.unwrap();
        assert!(
            matches!(
                inventory::delete(db, &prod.id).await.unwrap_err(),
                InventoryError::Conflict(_)
            ),
            "{n}"
        );
        inventory::delete(db, &other.id).await.unwrap();
        assert!(
            matches!(
                inventory::get(db, &other.id).await.unwrap_err(),
                InventoryError::NotFound(_)
            ),
            "{n}"
        );
        assert_eq!(inventory::parents(db).await.unwrap().len(), 7, "{n}");
    }
}
