//! The center's database: SQLite embedded by default, PostgreSQL when a
//! `postgres://` URL is configured. One schema and one set of migrations
//! (`migrations/`) serve both; queries use only what both understand.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Executor, Transaction};

/// How long a statement waits for a connection (sqlx's pool default).
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

type Shared = Arc<tokio::sync::Mutex<Transaction<'static, Any>>>;

tokio::task_local! {
    /// The transaction of the change this tokio task is making
    /// (`Db::atomic`): every statement of the stores on this task joins it.
    static ATOMIC: Shared;
}

/// A connection for one or a few statements (`Db::conn`): the transaction
/// of the change being made, or one of the pool's.
pub enum Conn {
    Pooled(PoolConnection<Any>),
    Atomic(tokio::sync::OwnedMutexGuard<Transaction<'static, Any>>),
}

impl Deref for Conn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            Conn::Pooled(c) => c,
            Conn::Atomic(t) => t,
        }
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Conn::Pooled(c) => c,
            Conn::Atomic(t) => t,
        }
    }
}

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

    /// The connection the next statements run on: within `atomic`, its
    /// transaction's (held until the `Conn` drops, so hold it for a
    /// statement or a nested transaction, `Connection::begin`, which is a
    /// savepoint there); otherwise one from the pool.
    pub async fn conn(&self) -> Result<Conn, sqlx::Error> {
        if let Ok(tx) = ATOMIC.try_with(Shared::clone) {
            // As the pool would: a statement that cannot have the connection
            // (a `Conn` held across a call that needs one) fails, not hangs.
            return tokio::time::timeout(ACQUIRE_TIMEOUT, tx.lock_owned())
                .await
                .map(Conn::Atomic)
                .map_err(|_| sqlx::Error::PoolTimedOut);
        }
        Ok(Conn::Pooled(self.pool.acquire().await?))
    }

    /// Runs `work` as one transaction: every statement the stores run for
    /// it (through `conn`) commits when it succeeds, and none when it fails
    /// or the process dies first. Within another `atomic`, it joins that.
    pub async fn atomic<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: std::future::Future<Output = Result<T, E>>,
        E: From<sqlx::Error>,
    {
        if ATOMIC.try_with(|_| ()).is_ok() {
            return work.await;
        }
        let tx: Shared = Arc::new(tokio::sync::Mutex::new(self.pool.begin().await?));
        let result = ATOMIC.scope(tx.clone(), work).await;
        let tx = Arc::into_inner(tx)
            .expect("a connection of the change outlived it")
            .into_inner();
        match result {
            Ok(v) => {
                tx.commit().await?;
                Ok(v)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
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
