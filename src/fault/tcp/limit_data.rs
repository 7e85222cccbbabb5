//! `limit_data`: once `bytes` bytes have crossed the stream, the connection closes
//! normally (FIN to both sides) after those bytes were delivered. As in toxiproxy, the
//! count is per connection and the close happens when data reaches the limit (with
//! `bytes: 0`, at the first data).

use super::link::{Link, Stage};

/// toxiproxy's `limit_data` toxic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitData {
    /// Bytes let through before the close (toxiproxy: `bytes`).
    pub bytes: u64,
}

impl LimitData {
    pub(super) fn label(&self) -> String {
        format!("limit_data {} B", self.bytes)
    }
}

impl Stage for LimitData {
    async fn pipe(&self, mut link: Link<'_>) {
        let mut passed = 0u64;
        while let Some(mut chunk) = link.recv().await {
            if !link.gate.active() {
                if !link.send(chunk).await {
                    return;
                }
                continue;
            }
            let remaining = self.bytes - passed;
            if chunk.len() as u64 >= remaining {
                link.discard(chunk.len() - remaining as usize);
                chunk.truncate(remaining as usize);
                link.send(chunk).await;
                let note = format!("limit_data: closed after {} bytes {}", self.bytes, link.stream.name());
                // Returning closes this stage's output: the writer delivers what was
                // passed, sends the FIN, and then the connection closes.
                return link.end_after_drain(note);
            }
            passed += chunk.len() as u64;
            if !link.send(chunk).await {
                return;
            }
        }
    }
}
