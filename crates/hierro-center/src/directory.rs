//! The local identity domain: users (argon2id passwords) and groups.

use argon2::PasswordHash;
use chrono::Utc;
pub use hierro_api::User;
pub use hierro_http::login::hash_password;
use hierro_http::login::hash_password_blocking;
use sqlx::Row;

use crate::db::Db;

pub use crate::error::StoreError as DirectoryError;
type Result<T> = crate::error::StoreResult<T>;

fn validate_principal(what: &str, name: &str) -> Result<()> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@');
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok) {
        return Err(DirectoryError::Invalid(format!(
            "{what} name {} must be 1 to 64 letters, digits, '-', '_', '.' or '@'",
            hierro_api::shown(name)
        )));
    }
    Ok(())
}

fn check_password(password: &str) -> Result<()> {
    if password.len() < 8 {
        return Err(DirectoryError::Invalid(
            "a password needs at least 8 characters".into(),
        ));
    }
    Ok(())
}

fn conflict_or(e: sqlx::Error, msg: String) -> DirectoryError {
    if Db::is_unique_violation(&e) {
        DirectoryError::Conflict(msg)
    } else {
        e.into()
    }
}

pub async fn create_user(db: &Db, name: &str, password: &str, full_name: &str) -> Result<User> {
    check_password(password)?;
    let hash = hash_password_blocking(password.to_string()).await;
    create_user_hashed(db, name, &hash, full_name).await?;
    get_user(db, name).await
}

/// A user whose password hash is already made (the configured first
/// administrator).
pub async fn create_user_hashed(
    db: &Db,
    name: &str,
    password_hash: &str,
    full_name: &str,
) -> Result<()> {
    validate_principal("user", name)?;
    let full_name =
        &hierro_api::free_text("full name", full_name, 256).map_err(DirectoryError::Invalid)?;
    PasswordHash::new(password_hash)
        .map_err(|e| DirectoryError::Invalid(format!("password hash: {e}")))?;
    sqlx::query("INSERT INTO users (name, password_hash, full_name, disabled, created) VALUES ($1, $2, $3, 0, $4)")
        .bind(name)
        .bind(password_hash)
        .bind(full_name)
        .bind(Utc::now().to_rfc3339())
        .execute(&mut *db.conn().await?)
        .await
        .map_err(|e| conflict_or(e, format!("a user named {} exists already", hierro_api::shown(name))))?;
    Ok(())
}

pub async fn get_user(db: &Db, name: &str) -> Result<User> {
    let row = sqlx::query("SELECT name, full_name, disabled FROM users WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *db.conn().await?)
        .await?
        .ok_or_else(|| DirectoryError::NotFound(format!("no user {}", hierro_api::shown(name))))?;
    Ok(User {
        name: row.try_get("name")?,
        full_name: row.try_get("full_name")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        groups: groups_of(db, name).await?,
    })
}

pub async fn list_users(db: &Db) -> Result<Vec<User>> {
    let names: Vec<String> = sqlx::query("SELECT name FROM users ORDER BY name")
        .fetch_all(&mut *db.conn().await?)
        .await?
        .iter()
        .map(|r| r.try_get("name"))
        .collect::<std::result::Result<_, _>>()?;
    let mut out = vec![];
    for n in names {
        out.push(get_user(db, &n).await?);
    }
    Ok(out)
}

/// The password hash a login checks against: none for an unknown or a
/// disabled user (`hierro_http::login` checks those against a dummy, so
/// they take the same time). The query's connection is back in the pool
/// before the slow check.
pub async fn login_hash(db: &Db, name: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT password_hash, disabled FROM users WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *db.conn().await?)
        .await?;
    match row {
        Some(row) if row.try_get::<i64, _>("disabled")? == 0 => {
            Ok(Some(row.try_get("password_hash")?))
        }
        _ => Ok(None),
    }
}

pub async fn set_password(db: &Db, name: &str, password: &str) -> Result<()> {
    check_password(password)?;
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
        .bind(hash_password_blocking(password.to_string()).await)
        .bind(name)
        .execute(&mut *db.conn().await?)
        .await?;
    crate::error::changed(done, || format!("no user {}", hierro_api::shown(name)))
}

pub async fn set_disabled(db: &Db, name: &str, disabled: bool) -> Result<()> {
    let done = sqlx::query("UPDATE users SET disabled = $1 WHERE name = $2")
        .bind(disabled as i64)
        .bind(name)
        .execute(&mut *db.conn().await?)
        .await?;
    crate::error::changed(done, || format!("no user {}", hierro_api::shown(name)))
}

pub async fn delete_user(db: &Db, name: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM users WHERE name = $1")
        .bind(name)
        .execute(&mut *db.conn().await?)
        .await?;
    crate::error::changed(done, || format!("no user {}", hierro_api::shown(name)))
}

pub async fn create_group(db: &Db, name: &str, description: &str) -> Result<()> {
    validate_principal("group", name)?;
    let description = &hierro_api::free_text("description", description, 1024)
        .map_err(DirectoryError::Invalid)?;
    sqlx::query("INSERT INTO groups (name, description) VALUES ($1, $2)")
        .bind(name)
        .bind(description)
        .execute(&mut *db.conn().await?)
        .await
        .map_err(|e| {
            conflict_or(
                e,
                format!("a group named {} exists already", hierro_api::shown(name)),
            )
        })?;
    Ok(())
}

pub async fn list_groups(db: &Db) -> Result<Vec<(String, Vec<String>)>> {
    let rows = sqlx::query("SELECT name FROM groups ORDER BY name")
        .fetch_all(&mut *db.conn().await?)
        .await?;
    let mut out = vec![];
    for r in rows {
        let g: String = r.try_get("name")?;
        let members = sqlx::query(
            "SELECT user_name FROM group_members WHERE group_name = $1 ORDER BY user_name",
        )
        .bind(&g)
        .fetch_all(&mut *db.conn().await?)
        .await?
        .iter()
        .map(|r| r.try_get("user_name"))
        .collect::<std::result::Result<_, _>>()?;
        out.push((g, members));
    }
    Ok(out)
}

pub async fn delete_group(db: &Db, name: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM groups WHERE name = $1")
        .bind(name)
        .execute(&mut *db.conn().await?)
        .await?;
    crate::error::changed(done, || format!("no group {}", hierro_api::shown(name)))
}

pub async fn add_member(db: &Db, group: &str, user: &str) -> Result<()> {
    sqlx::query("INSERT INTO group_members (group_name, user_name) VALUES ($1, $2)")
        .bind(group)
        .bind(user)
        .execute(&mut *db.conn().await?)
        .await
        .map_err(|e| {
            if Db::is_foreign_key_violation(&e) {
                DirectoryError::NotFound(format!(
                    "no group {} or no user {}",
                    hierro_api::shown(group),
                    hierro_api::shown(user)
                ))
            } else {
                conflict_or(e, format!("{user} is already in {group}"))
            }
        })?;
    Ok(())
}

pub async fn remove_member(db: &Db, group: &str, user: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM group_members WHERE group_name = $1 AND user_name = $2")
        .bind(group)
        .bind(user)
        .execute(&mut *db.conn().await?)
        .await?;
    crate::error::changed(done, || format!("{user} is not in {group}"))
}

pub async fn groups_of(db: &Db, user: &str) -> Result<Vec<String>> {
    Ok(
        sqlx::query(
            "SELECT group_name FROM group_members WHERE user_name = $1 ORDER BY group_name",
        )
        .bind(user)
        .fetch_all(&mut *db.conn().await?)
        .await?
        .iter()
        .map(|r| r.try_get("group_name"))
        .collect::<std::result::Result<_, _>>()?,
    )
}
