//! What an operation of the center can fail with. The API maps each to its
//! error code (and so its HTTP status) at the edge (`api::error`).

use hierro_api::{ErrorCode, ErrorInfo, Privilege};
use hierro_client::ClientError;

use crate::error::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A host refused or failed, in its own words and code.
    #[error("{}", .0.message)]
    Host(ErrorInfo),
    /// A host that does not answer.
    #[error("the host does not answer: {0}")]
    Unreachable(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The object is in the wrong state for it (a running VM, a host in
    /// maintenance mode...).
    #[error("{0}")]
    InvalidState(String),
    #[error("{user} lacks the privilege {privilege} on {object}")]
    Forbidden {
        user: String,
        privilege: Privilege,
        object: String,
    },
    /// Wrong credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// A login not even checked: the account is locked, the address must
    /// wait, too many logins wait already.
    #[error(transparent)]
    Refused(#[from] hierro_http::login::Refused),
    /// A user cancelled the task.
    #[error("the task was cancelled by {0}")]
    Cancelled(String),
    /// A step failed because a test asked for it (`hierro-fail-step`).
    #[error("step {number} ({name}) failed as the request asked (hierro-fail-step)")]
    Injected { number: usize, name: String },
    /// A step failed, and undoing the steps before it failed too.
    #[error("{error}; undoing failed too: {undo}")]
    Undo { error: Box<OpError>, undo: String },
    #[error("{0}")]
    Internal(String),
}

pub type OpResult<T> = Result<T, OpError>;

impl OpError {
    pub fn code(&self) -> ErrorCode {
        use OpError::*;
        match self {
            Store(StoreError::NotFound(_)) | NotFound(_) => ErrorCode::NotFound,
            Store(StoreError::Invalid(_)) | Invalid(_) => ErrorCode::InvalidArgument,
            Store(StoreError::Conflict(_)) | Conflict(_) => ErrorCode::Conflict,
            Store(StoreError::Db(_)) | Injected { .. } | Internal(_) => ErrorCode::Internal,
            Host(info) => info.code,
            Unreachable(_) => ErrorCode::BackendFailed,
            InvalidState(_) => ErrorCode::InvalidState,
            Forbidden { .. } => ErrorCode::Forbidden,
            Cancelled(_) => ErrorCode::Cancelled,
            Unauthenticated(_) => ErrorCode::Unauthenticated,
            Refused(_) => ErrorCode::TooManyRequests,
            Undo { error, .. } => error.code(),
        }
    }

    /// The error as the API's body carries it.
    pub fn info(&self) -> ErrorInfo {
        match self {
            OpError::Host(info) => info.clone(),
            OpError::Refused(r) => hierro_http::ApiError::from(*r).info,
            e => ErrorInfo::new(e.code(), e.to_string()),
        }
    }
}

/// A host's refusal or failure, or that it does not answer.
impl From<ClientError> for OpError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Api { info, .. } | ClientError::Task { info, .. } => OpError::Host(info),
            e => OpError::Unreachable(e.to_string()),
        }
    }
}
