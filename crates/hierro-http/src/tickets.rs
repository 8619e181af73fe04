//! One-time tickets for a VM's graphical console (vSphere's WebMKS
//! tickets): a browser's WebSocket cannot carry the session header, and a
//! session token in a URL would outlive the console. A ticket opens one
//! console once, within `TICKET_LIFE`, for the session that asked for it
//! while that session lasts.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use parking_lot::Mutex;

/// How long a ticket waits to be used.
pub const TICKET_LIFE: Duration = Duration::from_secs(60);

struct Ticket<K> {
    target: K,
    session: String,
    expires: Instant,
}

/// The tickets issued and not yet used, by ticket.
pub struct Tickets<K> {
    issued: Mutex<HashMap<String, Ticket<K>>>,
}

impl<K> Default for Tickets<K> {
    fn default() -> Self {
        Self {
            issued: Mutex::default(),
        }
    }
}

impl<K: PartialEq + std::fmt::Display> Tickets<K> {
    /// A ticket to VM `vm`'s graphical console for `session`, with the
    /// WebSocket path that opens it.
    pub fn console(&self, vm: K, session: &str) -> hierro_api::ConsoleTicket {
        let path = format!("/api/vms/{vm}/vnc?ticket=");
        let ticket = self.issue(vm, session);
        hierro_api::ConsoleTicket {
            path: format!("{path}{ticket}"),
            ticket,
            expires_in_secs: TICKET_LIFE.as_secs(),
        }
    }

    /// Uses up a console ticket for `vm`: the session it was issued to, or
    /// the API's refusal.
    pub fn open_console(&self, ticket: &str, vm: &K) -> Result<String, crate::ApiError> {
        self.redeem(ticket, vm).ok_or_else(|| {
            crate::ApiError::unauthorized(
                "the console ticket is unknown, used or expired: ask for another",
            )
        })
    }
}

impl<K: PartialEq> Tickets<K> {
    /// A new ticket for `target`, tied to `session`.
    pub fn issue(&self, target: K, session: &str) -> String {
        let ticket = crate::new_secret();
        let now = Instant::now();
        let mut issued = self.issued.lock();
        issued.retain(|_, t| t.expires > now);
        issued.insert(
            ticket.clone(),
            Ticket {
                target,
                session: session.to_string(),
                expires: now + TICKET_LIFE,
            },
        );
        ticket
    }

    /// Uses a ticket up: the session it was issued to, if it was issued
    /// for `target` and has not expired. (The caller checks that the
    /// session is still valid.)
    pub fn redeem(&self, ticket: &str, target: &K) -> Option<String> {
        let t = self.issued.lock().remove(ticket)?;
        (t.target == *target && t.expires > Instant::now()).then_some(t.session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_its_target_once() {
        let tickets = Tickets::default();
        let t = tickets.issue("vm1", "s1");
        assert_eq!(tickets.redeem(&t, &"vm1").as_deref(), Some("s1"));
        assert_eq!(tickets.redeem(&t, &"vm1"), None, "used up");
        let t = tickets.issue("vm1", "s1");
        assert_eq!(tickets.redeem(&t, &"vm2"), None, "another VM");
        assert_eq!(tickets.redeem(&t, &"vm1"), None, "spent by the wrong try");
        assert_eq!(tickets.redeem("made-up", &"vm1"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_ticket_expires() {
        let tickets = Tickets::default();
        let t = tickets.issue("vm1", "s1");
        tokio::time::advance(TICKET_LIFE - Duration::from_secs(1)).await;
        let fresh = tickets.issue("vm1", "s1");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(tickets.redeem(&t, &"vm1"), None, "expired");
        assert_eq!(tickets.redeem(&fresh, &"vm1").as_deref(), Some("s1"));
    }
}
