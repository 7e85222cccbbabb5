//! `timeout`: while active, no data crosses the stream (it is thrown away), and
//! `timeout` after the toxic began to act the connection closes (FIN to both sides).
//! With `timeout: 0` it never closes: the connection stays open, silent, even when the
//! sending side closes its half, which toxiproxy's README promises ("the connection
//! won't close"). When the toxic's window heals, data flows again (what was thrown
//! away stays lost), as when a toxiproxy toxic is removed.

use std::time::{Duration, Instant};

use super::link::{Close, Link, Stage, sleep_until};

/// toxiproxy's `timeout` toxic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeout {
    /// Time until the close (toxiproxy: `timeout`, in ms); 0 = never close.
    pub timeout: Duration,
}

impl Timeout {
    pub(super) fn label(&self) -> String {
        if self.timeout.is_zero() {
            "timeout (never closes)".into()
        } else {
            format!("timeout {}", humantime::format_duration(self.timeout))
        }
    }
}

impl Stage for Timeout {
    async fn pipe(&self, mut link: Link<'_>) {
        let mut closes_at: Option<Instant> = None;
        let mut ended = false;
        loop {
            let active = link.gate.active();
            if active && closes_at.is_none() && !self.timeout.is_zero() {
                closes_at = Some(Instant::now() + self.timeout);
            }
            if !active {
                closes_at = None;
                if ended {
                    return;
                }
            }
            if closes_at.is_some_and(|at| Instant::now() >= at) {
                let note = format!(
                    "timeout: {} data stopped, connection closed {} later",
                    link.stream.name(),
                    humantime::format_duration(self.timeout)
                );
                return link.end(Close::Fin, note).await;
            }
            let wake = [link.gate.next_change(), closes_at].into_iter().flatten().min();
            tokio::select! {
                _ = sleep_until(wake) => {}
                chunk = link.input.recv(), if !ended => match chunk {
                    None => ended = true,
                    Some(chunk) if link.gate.active() => link.discard(chunk.len()),
                    Some(chunk) => {
                        if !link.send(chunk).await {
                            return;
                        }
                    }
                },
            }
        }
    }
}
