pub mod center;
pub mod center_verbs;
pub mod connect;
pub mod console;
pub mod datastore;
pub mod dvs;
pub mod host;
pub mod image;
pub mod lab;
pub mod net;
pub mod perf;
pub mod task;
pub mod vm;

/// An inventory object of `kind` by id, or else by its whole name.
pub(crate) async fn find(
    c: &hierro_client::Client,
    kind: hierro_api::ObjectKind,
    key: &str,
) -> anyhow::Result<hierro_api::InventoryObject> {
    if let Ok(o) = c.inventory_object(key).await {
        if o.object.kind == kind {
            return Ok(o.object);
        }
    }
    let q = hierro_api::InventoryQuery {
        kind: Some(kind),
        name: Some(key.to_string()),
    };
    // The search matches parts of names: only the whole name counts.
    let mut named: Vec<_> = c
        .inventory(&q)
        .await?
        .into_iter()
        .filter(|o| o.name == key)
        .collect();
    let kind = kind.as_str();
    match named.len() {
        1 => Ok(named.remove(0)),
        0 => anyhow::bail!("no {kind} {key:?}"),
        _ => anyhow::bail!("more than one {kind} is named {key:?}: give its id"),
    }
}
