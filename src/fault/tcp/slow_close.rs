//! `slow_close`: when the sending side closes its half of the connection, the FIN
//! reaches the other side only `delay` later; data flows normally until then.

use std::time::Duration;

use super::link::{Link, Stage};

/// toxiproxy's `slow_close` toxic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowClose {
    /// How long the close is held back (toxiproxy: `delay`, in ms).
    pub delay: Duration,
}

impl SlowClose {
    pub(super) fn label(&self) -> String {
        format!("slow_close {}", humantime::format_duration(self.delay))
    }
}

impl Stage for SlowClose {
    async fn pipe(&self, mut link: Link<'_>) {
        while let Some(chunk) = link.recv().await {
            if !link.send(chunk).await {
                return;
            }
        }
        if link.gate.active() {
            tokio::time::sleep(self.delay).await;
            link.remark(format!(
                "slow_close held the {} close {}",
                link.stream.name(),
                humantime::format_duration(self.delay)
            ));
        }
    }
}
