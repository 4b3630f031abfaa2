//! Failover's gate on the target: what a node checks before every HTTP
//! request it sends for a connector, and how it ends an operation once its
//! lease of the channel is gone.
//!
//! A node runs a channel under a lease (the binary's failover node), whose **local
//! deadline** (on this process's monotonic clock) passes at least half the
//! grace period before another node may take the channel over. A
//! [`LeaseGate`] is that lease as the connection sees it:
//!
//! - [`LeaseGate::pass`], called by the host's HTTP service
//!   (`crate::services::Services::http`) right before each request goes out,
//!   refuses the request once the deadline has passed or the lease was lost,
//!   and otherwise stamps it with the fencing token
//!   ([`FENCING_TOKEN_HEADER`]). The gate sits in the host, so every
//!   connector, third-party ones included, is fenced request by request,
//!   not only operation by operation (a SCIM update is a GET, a PUT and, on
//!   a 412, another GET and PUT).
//! - [`LeaseGate::closed`] resolves when the deadline passes:
//!   `Connection::call` races each operation against it and cancels an
//!   operation still running then.
//! - [`LeaseGate::judge`] turns a 412 (Precondition Failed) into a failed
//!   operation: under failover a 412 means another writer changed the
//!   resource since it was read, so the connector must not re-read and
//!   write again on its own. The operation fails, the user stays dirty, and
//!   the lease holder's next cycle decides from fresh state.
//!
//! What a gate cannot do: recall a request already handed to the socket
//! when the process was paused (docs/failover.md, "What is left").

use provisio_core::error::{ConnectorError, ErrorKind};
use std::sync::Arc;
use std::time::Instant;

/// The request header that carries the channel's fencing token on every
/// request a failover node sends for a connector. The token grows by one at
/// every take-over of the channel, so a target (or a gateway in front of
/// it) that remembers the highest token seen can refuse a stale holder's
/// request outright.
pub const FENCING_TOKEN_HEADER: &str = "Provisio-Fencing-Token";

/// The current deadline of a lease: `None` once the lease is lost.
pub type Deadline = Arc<dyn Fn() -> Option<Instant> + Send + Sync>;

/// One channel's lease, as the connection and its HTTP service see it.
#[derive(Clone)]
pub struct LeaseGate {
    /// `connection/channel`, for messages.
    channel: String,
    token: i64,
    deadline: Deadline,
}

impl std::fmt::Debug for LeaseGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseGate").field("channel", &self.channel).field("token", &self.token).finish()
    }
}

impl LeaseGate {
    /// The gate of `channel`'s lease with fencing token `token`; `deadline`
    /// answers the lease's current local deadline (renewals move it on).
    pub fn new(channel: String, token: i64, deadline: Deadline) -> LeaseGate {
        LeaseGate { channel, token, deadline }
    }

    /// Whether the node may still send: the lease is held and its deadline
    /// has not passed.
    pub fn is_open(&self) -> bool {
        (self.deadline)().is_some_and(|d| Instant::now() < d)
    }

    /// The fencing token sent with every request.
    pub fn token(&self) -> i64 {
        self.token
    }

    /// The error of something not sent (or cut short) because the lease is gone.
    pub fn refused(&self, what: &str) -> ConnectorError {
        ConnectorError::new(
            ErrorKind::Internal,
            format!(
                "{what} not sent: this node's lease of {} has expired (another node may run it now; that node's cycle takes the user on)",
                self.channel
            ),
        )
        .retryable(false)
    }

    /// Before a request goes out: refuse it once the lease is gone.
    pub fn admit(&self, what: &str) -> Result<(), ConnectorError> {
        if self.is_open() { Ok(()) } else { Err(self.refused(what)) }
    }

    /// A request about to go out: refused once the lease is gone, else
    /// stamped with the fencing token.
    pub fn pass(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<reqwest::RequestBuilder, ConnectorError> {
        self.admit(what)?;
        Ok(request.header(FENCING_TOKEN_HEADER, self.token))
    }

    /// After an answer came back: a 412 under failover fails the operation
    /// instead of reaching the connector, which would read again and retry.
    pub fn judge(&self, what: &str, status: u16) -> Result<(), ConnectorError> {
        if status != 412 {
            return Ok(());
        }
        // No `status`: a connector that retries on a 412 status must not
        // recognise this as one.
        Err(ConnectorError::new(
            ErrorKind::Conflict,
            format!(
                "{what} answered 412 (Precondition Failed): another writer changed the resource since it was read; \
                 with failover this is not retried within the operation, the user stays dirty and the next cycle of \
                 the lease holder ({}) decides",
                self.channel
            ),
        )
        .retryable(false))
    }

    /// Resolves once the lease's deadline has passed or the lease was lost
    /// (renewals meanwhile move the deadline on).
    pub async fn closed(&self) {
        while let Some(deadline) = (self.deadline)() {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            // Re-read after a while even if the deadline stays put, so a
            // lease dropped at a heartbeat is noticed too.
            let wait = (deadline - now).min(std::time::Duration::from_millis(500));
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    fn gate(deadline: Option<Instant>) -> (LeaseGate, Arc<Mutex<Option<Instant>>>) {
        let slot = Arc::new(Mutex::new(deadline));
        let read = slot.clone();
        (LeaseGate::new("target/people".into(), 7, Arc::new(move || *read.lock().unwrap())), slot)
    }

    #[test]
    fn admits_until_the_deadline_and_refuses_after_it_or_once_lost() {
        let (g, slot) = gate(Some(Instant::now() + Duration::from_secs(60)));
        assert!(g.admit("GET /Users/1").is_ok());
        *slot.lock().unwrap() = Some(Instant::now() - Duration::from_millis(1));
        let e = g.admit("PUT /Users/1").unwrap_err();
        assert!(!e.retryable);
        assert!(e.detail.contains("PUT /Users/1 not sent") && e.detail.contains("target/people"), "{e}");
        *slot.lock().unwrap() = None;
        assert!(g.admit("GET /Users/1").is_err());
    }

    #[test]
    fn a_412_fails_the_operation_without_a_status_a_connector_would_retry_on() {
        let (g, _) = gate(Some(Instant::now() + Duration::from_secs(60)));
        assert!(g.judge("PUT /Users/1", 200).is_ok());
        assert!(g.judge("PUT /Users/1", 409).is_ok());
        let e = g.judge("PUT /Users/1", 412).unwrap_err();
        assert_eq!((e.kind, e.status, e.retryable), (ErrorKind::Conflict, None, false));
        assert!(e.detail.contains("412") && e.detail.contains("another writer"), "{e}");
    }

    #[tokio::test]
    async fn closed_resolves_at_the_deadline_following_renewals() {
        let (g, slot) = gate(Some(Instant::now() + Duration::from_millis(100)));
        // A renewal moves the deadline on before it passes.
        *slot.lock().unwrap() = Some(Instant::now() + Duration::from_millis(300));
        let started = Instant::now();
        g.closed().await;
        assert!(started.elapsed() >= Duration::from_millis(290), "{:?}", started.elapsed());
        assert!(!g.is_open());
        // A lost lease closes at once.
        let (g, _) = gate(None);
        tokio::time::timeout(Duration::from_millis(50), g.closed()).await.expect("closed at once");
    }
}
