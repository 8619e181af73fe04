//! Adding a host, as a saga: trade the admin credentials for a service
//! token (the password is not kept), give the host a certificate from the
//! center's CA, put it in lockdown if asked, record it with its connection,
//! then take in what it reports and follow it. Undone, the host's lockdown
//! ends, the center's token is withdrawn and the records go; the host keeps
//! the certificate the center issued (its old one is gone), which a later
//! add confirms anew.

use std::sync::Arc;

use hierro_api::{
    AddHost, ErrorCode, ErrorInfo, EventKind, HostUpdates, InventoryObject, Operation,
};

use super::saga::{self, Cx, Done, Saga, Step};
use super::{Caller, OpError, OpResult, TaskRun};
use crate::hosts::{self, AddHostError, Connection, SERVICE_TOKEN};
use crate::{inventory, Center};

/// A host being added.
pub struct Adding {
    center: Arc<Center>,
    req: AddHost,
    parent: Option<InventoryObject>,
    /// The thumbprint confirmed, then the certificate's the center issued.
    thumbprint: String,
    conn: Option<Connection>,
    about: Option<hierro_api::About>,
    host: Option<InventoryObject>,
    updates: Option<HostUpdates>,
}

#[derive(Clone, Copy, Debug)]
pub enum AddStep {
    /// The host presents the confirmed thumbprint, no center here manages
    /// it yet, and a host may go under the parent.
    Check,
    /// Log in with the admin credentials; get a service token.
    Token,
    /// Give the host a certificate from the center's CA.
    Certificate,
    /// Lockdown mode, when asked.
    Lockdown,
    /// Record the host and its connection, both or neither.
    Record,
    /// Take in its VMs, datastores and networks, and follow it.
    Follow,
}

impl Step for AddStep {
    fn name(&self) -> String {
        match self {
            AddStep::Check => "check the host and where it goes",
            AddStep::Token => "get a service token",
            AddStep::Certificate => "issue the host's certificate",
            AddStep::Lockdown => "put the host in lockdown mode",
            AddStep::Record => "record the host",
            AddStep::Follow => "follow the host",
        }
        .to_string()
    }

    /// The host is the answer.
    fn inline(&self) -> bool {
        true
    }
}

impl Adding {
    fn conn(&self) -> OpResult<&Connection> {
        self.conn
            .as_ref()
            .ok_or_else(|| OpError::Internal("no service token yet".into()))
    }

    fn client(&self) -> OpResult<hierro_client::Client> {
        Ok(self.conn()?.client()?)
    }
}

impl Saga for Adding {
    type Step = AddStep;

    fn steps(&self) -> Vec<AddStep> {
        let lockdown = self.req.lockdown.then_some(AddStep::Lockdown);
        [AddStep::Check, AddStep::Token, AddStep::Certificate]
            .into_iter()
            .chain(lockdown)
            .chain([AddStep::Record, AddStep::Follow])
            .collect()
    }

    async fn run(&mut self, step: AddStep, _cx: &Cx) -> OpResult<()> {
        let db = &self.center.db;
        match step {
            AddStep::Check => {
                self.thumbprint = hosts::check_new(db, &self.req).await?;
                self.parent = Some(inventory::get(db, &self.req.parent).await?);
            }
            AddStep::Token => {
                let r = &self.req;
                let login = (r.username.as_str(), r.password.as_str());
                let (token, about) =
                    hosts::service_token(&r.address, &self.thumbprint, login, r.force).await?;
                self.conn = Some(Connection {
                    address: r.address.clone(),
                    thumbprint: self.thumbprint.clone(),
                    token,
                    version: 0,
                    enabled: true,
                });
                self.about = Some(about);
            }
            AddStep::Certificate => {
                let name = &self.about.as_ref().map(|a| a.host_name.clone());
                let name = name.as_deref().unwrap_or(&self.req.address);
                let issued = hosts::issue_certificate(self.conn()?, &self.center.pki, name).await?;
                if let Some(conn) = &mut self.conn {
                    conn.thumbprint = issued;
                }
            }
            AddStep::Lockdown => {
                self.client()?.set_lockdown(true).await?;
            }
            AddStep::Record => {
                let about = self
                    .about
                    .as_ref()
                    .ok_or_else(|| OpError::Internal("the host said nothing yet".into()))?;
                let parent = self
                    .parent
                    .as_ref()
                    .ok_or_else(|| OpError::Internal("the parent was not checked".into()))?;
                let host = hosts::new_object(self.conn()?, &parent.id, about).await?;
                self.updates = Some(self.client()?.updates(0, 0).await?);
                hosts::record(db, &host, parent, self.conn()?).await?;
                self.host = Some(host);
            }
            AddStep::Follow => {
                let (Some(host), Some(updates)) = (&self.host, &self.updates) else {
                    return Err(OpError::Internal("the host was not recorded".into()));
                };
                crate::host_sync::apply(db, &host.id, updates).await?;
                self.center.followers.start(db, &host.id);
            }
        }
        Ok(())
    }

    async fn undo(&mut self, step: AddStep, _cx: &Cx) -> OpResult<()> {
        match step {
            AddStep::Check => {}
            // Withdrawing the token also ends lockdown.
            AddStep::Token => self.client()?.revoke_service_token(SERVICE_TOKEN).await?,
            // The host keeps the certificate; its old one is gone.
            AddStep::Certificate => {}
            AddStep::Lockdown => {
                self.client()?.set_lockdown(false).await?;
            }
            AddStep::Record => {
                if let Some(host) = self.host.take() {
                    hosts::forget(&self.center.db, &host.id).await?;
                }
            }
            // The last step: nothing runs after it to fail.
            AddStep::Follow => {}
        }
        Ok(())
    }

    fn done(self) -> Done {
        Done {
            result: serde_json::to_value(&self.host).unwrap_or_default(),
            event: EventKind::HostConnected,
            message: format!("Added host {}", self.req.address),
        }
    }
}

/// Adds a host under `req.parent` as a task that ends before the answer:
/// the host's inventory object.
pub async fn add(
    c: &Arc<Center>,
    caller: &Caller,
    req: AddHost,
    fail_step: Option<usize>,
) -> OpResult<InventoryObject> {
    let task = TaskRun::begin(c, caller, Operation::HostAdd, (&req.parent, &req.address)).await?;
    let adding = Adding {
        center: c.clone(),
        req,
        parent: None,
        thumbprint: String::new(),
        conn: None,
        about: None,
        host: None,
        updates: None,
    };
    let run = saga::Run {
        task,
        cancelable: false,
        fail_step,
    };
    let done = saga::finish(adding, run).await?;
    serde_json::from_value(done).map_err(|e| OpError::Internal(format!("the host's object: {e}")))
}

/// Why adding (or reconnecting) a host failed, with the codes a client
/// acts on: a thumbprint to confirm, credentials, another center.
impl From<AddHostError> for OpError {
    fn from(e: AddHostError) -> Self {
        use AddHostError as E;
        let message = e.to_string();
        let (code, details) = match e {
            E::Store(e) => return e.into(),
            E::Unreachable(why) => return OpError::Unreachable(why),
            E::ThumbprintRequired(t) => (
                ErrorCode::ThumbprintRequired,
                serde_json::json!({ "thumbprint": t }),
            ),
            E::ThumbprintMismatch { .. } => (ErrorCode::ThumbprintMismatch, Default::default()),
            E::BadCredentials => (ErrorCode::BadCredentials, Default::default()),
            E::ManagedElsewhere => (ErrorCode::ManagedElsewhere, Default::default()),
        };
        OpError::Host(ErrorInfo {
            code,
            message,
            details,
        })
    }
}
