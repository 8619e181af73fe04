//! API tokens: long-lived credentials a user makes for scripts. A token
//! acts as its user, with the user's permissions, until it expires, is
//! revoked, or the user is disabled or deleted. Sent like a session token
//! (the `hierro-session` header); told apart by its prefix.

use chrono::{DateTime, Duration, Utc};
pub use hierro_api::{ApiToken, NewToken};
use sqlx::Row;

use crate::db::Db;
use crate::error::{StoreError, StoreResult};

/// What every API token starts with.
pub const PREFIX: &str = "hapi_";

pub async fn create(
    db: &Db,
    username: &str,
    name: &str,
    valid_days: Option<u32>,
) -> StoreResult<NewToken> {
    if name.trim().is_empty() || name.len() > 64 {
        return Err(StoreError::Invalid(
            "a token name needs 1 to 64 characters".into(),
        ));
    }
    if valid_days.is_some_and(|d| d == 0 || d > hierro_api::TOKEN_MAX_DAYS) {
        return Err(StoreError::Invalid(format!(
            "valid_days must be 1 to {}",
            hierro_api::TOKEN_MAX_DAYS
        )));
    }
    let token = format!("{PREFIX}{}", hierro_http::new_secret());
    let now = Utc::now();
    let record = ApiToken {
        id: uuid::Uuid::new_v4().to_string(),
        username: username.to_string(),
        name: name.to_string(),
        created: now.to_rfc3339(),
        expires: valid_days.map(|d| (now + Duration::days(d.into())).to_rfc3339()),
        last_used: None,
    };
    sqlx::query("INSERT INTO api_tokens (id, username, name, sha256, created, expires) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&record.id)
        .bind(username)
        .bind(name)
        .bind(hierro_http::secret_hash(&token))
        .bind(&record.created)
        .bind(&record.expires)
        .execute(&mut *db.conn().await?)
        .await
        .map_err(|e| {
            if Db::is_unique_violation(&e) {
                StoreError::Conflict(format!("{username} already has a token named {name:?}"))
            } else {
                e.into()
            }
        })?;
    Ok(NewToken { record, token })
}

fn row_to_token(r: &sqlx::any::AnyRow) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        name: r.try_get("name")?,
        created: r.try_get("created")?,
        expires: r.try_get("expires")?,
        last_used: r.try_get("last_used")?,
    })
}

const COLUMNS: &str = "id, username, name, created, expires, last_used";

/// The tokens of one user, or of everyone.
pub async fn list(db: &Db, username: Option<&str>) -> StoreResult<Vec<ApiToken>> {
    let rows = match username {
        Some(u) => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM api_tokens WHERE username = $1 ORDER BY name"
            ))
            .bind(u)
            .fetch_all(&mut *db.conn().await?)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM api_tokens ORDER BY username, name"
            ))
            .fetch_all(&mut *db.conn().await?)
            .await?
        }
    };
    rows.iter().map(row_to_token).collect()
}

pub async fn get(db: &Db, id: &str) -> StoreResult<ApiToken> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *db.conn().await?)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no API token {id:?}")))?;
    row_to_token(&row)
}

pub async fn revoke(db: &Db, id: &str) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
        .bind(id)
        .execute(&mut *db.conn().await?)
        .await?;
    crate::error::changed(done, || format!("no API token {id:?}"))
}

/// The user a token acts as: `None` for an unknown or expired token, or one
/// whose user is disabled.
pub async fn user_of(db: &Db, token: &str) -> StoreResult<Option<String>> {
    let row = sqlx::query(
        "SELECT t.id, t.username, t.expires, t.last_used FROM api_tokens t \
         JOIN users u ON u.name = t.username WHERE t.sha256 = $1 AND u.disabled = 0",
    )
    .bind(hierro_http::secret_hash(token))
    .fetch_optional(&mut *db.conn().await?)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let expires: Option<String> = row.try_get("expires")?;
    let expired = expires
        .and_then(|e| DateTime::parse_from_rfc3339(&e).ok())
        .is_some_and(|e| e < Utc::now());
    if expired {
        return Ok(None);
    }
    // Last use to the minute: a script's every call need not be a write.
    let last_used: Option<String> = row.try_get("last_used")?;
    let stale = last_used
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .is_none_or(|t| Utc::now() - t.with_timezone(&Utc) > Duration::minutes(1));
    if stale {
        let id: String = row.try_get("id")?;
        sqlx::query("UPDATE api_tokens SET last_used = $1 WHERE id = $2")
            .bind(Utc::now().to_rfc3339())
            .bind(&id)
            .execute(&mut *db.conn().await?)
            .await?;
    }
    Ok(Some(row.try_get("username")?))
}
