//! `bandwidth`: the data flows at most `rate` KB/s. As in toxiproxy, a KB is 1000 bytes
//! and a rate of 0 means no limit. Chunks are cut into pieces of 20 ms worth of data,
//! paced on an absolute schedule, so the rate holds over a long transfer.

use std::time::Duration;

use super::link::{Link, Pacer, Stage};

/// toxiproxy's `bandwidth` toxic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// KB (1000 bytes) per second (toxiproxy: `rate`); 0 = unlimited.
    pub rate: u64,
}

/// Time worth of data sent at once.
const PIECE: Duration = Duration::from_millis(20);

impl Bandwidth {
    pub(super) fn label(&self) -> String {
        if self.rate == 0 { "bandwidth unlimited".into() } else { format!("bandwidth {} KB/s", self.rate) }
    }

    fn bytes_per_second(&self) -> u64 {
        self.rate.saturating_mul(1000)
    }

    /// Largest piece sent at once.
    fn piece_bytes(&self) -> usize {
        ((self.bytes_per_second() as u128 * PIECE.as_millis() / 1000) as usize).max(1)
    }

    /// How long `bytes` take at this rate.
    fn duration_of(&self, bytes: usize) -> Duration {
        Duration::from_secs_f64(bytes as f64 / self.bytes_per_second() as f64)
    }
}

impl Stage for Bandwidth {
    async fn pipe(&self, mut link: Link<'_>) {
        let mut pacer = Pacer::new();
        while let Some(mut chunk) = link.recv().await {
            if self.rate == 0 || !link.gate.active() {
                pacer.reset();
                if !link.send(chunk).await {
                    return;
                }
                continue;
            }
            while !chunk.is_empty() {
                let piece = chunk.split_to(chunk.len().min(self.piece_bytes()));
                pacer.wait(self.duration_of(piece.len())).await;
                if !link.send(piece).await {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kilobytes_are_thousands_of_bytes() {
        let b = Bandwidth { rate: 100 };
        assert_eq!(b.piece_bytes(), 2000);
        assert_eq!(b.duration_of(100_000), Duration::from_secs(1));
        assert_eq!(Bandwidth { rate: 0 }.label(), "bandwidth unlimited");
        assert_eq!(b.label(), "bandwidth 100 KB/s");
    }
}
