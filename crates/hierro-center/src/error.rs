//! The one error type of the center's stores.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<crate::authz::RoleError> for StoreError {
    fn from(e: crate::authz::RoleError) -> Self {
        match e {
            crate::authz::RoleError::SystemRole(_) => StoreError::Conflict(e.to_string()),
            _ => StoreError::Invalid(e.to_string()),
        }
    }
}

/// `NotFound(what)` when a statement changed no row.
pub fn changed(done: sqlx::any::AnyQueryResult, what: impl FnOnce() -> String) -> StoreResult<()> {
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound(what()))
    } else {
        Ok(())
    }
}
