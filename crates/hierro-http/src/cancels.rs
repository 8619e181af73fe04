//! Which running tasks can be cancelled, and the signal to them. A task
//! that can stop cleanly registers; a user's cancel fires its token, and the
//! task ends in error `cancelled` once it has undone what it started.

use parking_lot::Mutex;
use std::collections::HashMap;

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Default)]
pub struct Cancels {
    running: Mutex<HashMap<Uuid, Entry>>,
}

struct Entry {
    token: CancellationToken,
    /// Who asked first.
    by: Option<String>,
}

impl Cancels {
    /// Makes task `id` cancelable until `settle`.
    pub fn register(&self, id: Uuid) -> CancellationToken {
        let token = CancellationToken::new();
        self.running.lock().insert(
            id,
            Entry {
                token: token.clone(),
                by: None,
            },
        );
        token
    }

    /// The task ended: nothing to cancel any more.
    pub fn settle(&self, id: Uuid) {
        self.running.lock().remove(&id);
    }

    pub fn cancelable(&self, id: Uuid) -> bool {
        self.running.lock().contains_key(&id)
    }

    /// Fires task `id`'s token; false if it cannot be cancelled.
    pub fn cancel(&self, id: Uuid, user: &str) -> bool {
        let mut running = self.running.lock();
        let Some(e) = running.get_mut(&id) else {
            return false;
        };
        e.by.get_or_insert_with(|| user.to_string());
        e.token.cancel();
        true
    }

    /// Who cancelled task `id` first.
    pub fn by(&self, id: Uuid) -> String {
        self.running
            .lock()
            .get(&id)
            .and_then(|e| e.by.clone())
            .unwrap_or_else(|| "a user".into())
    }
}
