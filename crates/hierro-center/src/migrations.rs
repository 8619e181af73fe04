//! vMotions under way, recorded so that the source host's "gone" does not
//! take the VM out of the inventory before the destination reports it.

use chrono::Utc;

use crate::db::Db;
use crate::error::{StoreError, StoreResult};

/// Records that `vm` moves; refuses a second move of the same VM.
pub async fn begin(db: &Db, vm: &str, from: &str, to: &str) -> StoreResult<()> {
    sqlx::query("INSERT INTO migrations (vm, from_host, to_host, started) VALUES ($1, $2, $3, $4)")
        .bind(vm)
        .bind(from)
        .bind(to)
        .bind(Utc::now().to_rfc3339())
        .execute(&mut *db.conn().await?)
        .await
        .map_err(|e| {
            if Db::is_unique_violation(&e) {
                StoreError::Conflict(format!("{vm} is being migrated already"))
            } else {
                e.into()
            }
        })?;
    Ok(())
}

pub async fn end(db: &Db, vm: &str) -> StoreResult<()> {
    let mut conn = db.conn().await?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    end_in(&mut tx, vm).await?;
    tx.commit().await?;
    drop(conn);
    Ok(())
}

/// `end`, as part of a larger transaction.
pub async fn end_in(tx: &mut sqlx::Transaction<'_, sqlx::Any>, vm: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM migrations WHERE vm = $1")
        .bind(vm)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Forgets the moves a killed center was following (their tasks are
/// failed as interrupted; the hosts' change feeds say where each VM is).
pub async fn clear(db: &Db) -> StoreResult<()> {
    sqlx::query("DELETE FROM migrations")
        .execute(&mut *db.conn().await?)
        .await?;
    Ok(())
}
