//! `reset_peer`: as in toxiproxy, the first data to cross the stream while the toxic is
//! active is thrown away, and `timeout` later the connection is reset: both sockets are
//! closed with SO_LINGER 0, so the client gets an RST ("connection reset by peer").
//! Nothing crosses the stream in between.

use std::time::Duration;

use super::link::{Close, Link, Stage};

/// toxiproxy's `reset_peer` toxic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetPeer {
    /// Wait between the first data and the reset (toxiproxy: `timeout`, in ms); 0 = at once.
    pub timeout: Duration,
}

impl ResetPeer {
    pub(super) fn label(&self) -> String {
        if self.timeout.is_zero() {
            "reset_peer".into()
        } else {
            format!("reset_peer after {}", humantime::format_duration(self.timeout))
        }
    }
}

impl Stage for ResetPeer {
    async fn pipe(&self, mut link: Link<'_>) {
        while let Some(chunk) = link.recv().await {
            if !link.gate.active() {
                if !link.send(chunk).await {
                    return;
                }
                continue;
            }
            link.discard(chunk.len());
            tokio::time::sleep(self.timeout).await;
            let note = format!(
                "reset_peer: connection reset (RST) {} after the first {} data",
                humantime::format_duration(self.timeout),
                link.stream.name()
            );
            return link.end(Close::Reset, note).await;
        }
    }
}
