//! The center's database: SQLite embedded by default, PostgreSQL when a
//! `postgres://` URL is configured. One schema and one set of migrations
//! (`migrations/`) serve both; queries use only what both understand.

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// Seals the secrets stored (`secrets.rs`): the center's key once
    /// `server` sets it, a key of this process's until then.
    pub secrets: std::sync::Arc<crate::secrets::Secrets>,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Config(String),
}

impl Db {
    /// The embedded SQLite database in `data_dir`.
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!("sqlite://{}?mode=rwc", data_dir.join("center.db").display())
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::Config(format!(
                "database URL {url:?} is neither sqlite: nor postgres:"
            )));
        };
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = AnyPoolOptions::new()
            // SQLite allows one writer: one connection avoids busy errors.
            .max_connections(if backend == Backend::Sqlite { 1 } else { 8 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL with full sync: a committed transaction survives
                        // a SIGKILL (and a power cut); foreign keys enforced.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Db {
            pool,
            backend,
            secrets: std::sync::Arc::new(crate::secrets::Secrets::ephemeral()),
        })
    }

    /// A plain pool without migrations (for administering a server).
    pub async fn connect_raw(url: &str) -> Result<AnyPool, DbError> {
        sqlx::any::install_default_drivers();
        Ok(AnyPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await?)
    }

    /// Makes an empty database `name` on the PostgreSQL server that
    /// `server_url` reaches (dropping one left from before) and returns
    /// the URL of the new database.
    pub async fn create_database(server_url: &str, name: &str) -> Result<String, DbError> {
        let admin = Self::connect_raw(server_url).await?;
        Self::drop_database_on(&admin, name).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await?;
        let mut url = url::Url::parse(server_url)
            .map_err(|e| DbError::Config(format!("database URL {server_url:?}: {e}")))?;
        url.set_path(name);
        Ok(url.to_string())
    }

    pub async fn drop_database(server_url: &str, name: &str) -> Result<(), DbError> {
        Self::drop_database_on(&Self::connect_raw(server_url).await?, name).await
    }

    async fn drop_database_on(admin: &AnyPool, name: &str) -> Result<(), DbError> {
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(DbError::Config(format!("database name {name:?}")));
        }
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(admin)
            .await?;
        Ok(())
    }

    /// Whether an error is a unique-constraint violation (a duplicate name).
    pub fn is_unique_violation(e: &sqlx::Error) -> bool {
        e.as_database_error()
            .is_some_and(|d| d.is_unique_violation())
    }

    pub fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
        e.as_database_error()
            .is_some_and(|d| d.is_foreign_key_violation())
    }
}
