//! `latency`: every chunk of data arrives `latency` ± `jitter` later than it was sent.
//! Chunks are delayed side by side, not one after the other (a 1 MB transfer takes
//! about `latency` longer, not `latency` per chunk), and never overtake each other: a
//! chunk whose draw is shorter than its predecessor's waits for it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::Rng;
use super::link::{Link, Stage, sleep_until};

/// toxiproxy's `latency` toxic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latency {
    /// Added delay (toxiproxy: `latency`, in ms).
    pub latency: Duration,
    /// Random variation either way, uniform (toxiproxy: `jitter`, in ms).
    pub jitter: Duration,
}

/// Bytes held back at most; beyond it the stage stops reading and the sender waits.
const MAX_HELD: usize = 8 * 1024 * 1024;

impl Latency {
    pub(super) fn label(&self) -> String {
        let base = format!("latency {}", humantime::format_duration(self.latency));
        if self.jitter.is_zero() { base } else { format!("{base}±{}", humantime::format_duration(self.jitter)) }
    }

    /// One draw of `latency` ± `jitter`, never negative.
    fn delay(&self, rng: &mut Rng) -> Duration {
        let spread = rng.spread(self.jitter.as_micros().min(u64::MAX as u128) as u64);
        let micros = self.latency.as_micros() as i128 + spread as i128;
        Duration::from_micros(micros.max(0) as u64)
    }
}

impl Stage for Latency {
    async fn pipe(&self, mut link: Link<'_>) {
        let mut held: VecDeque<(Instant, Bytes)> = VecDeque::new();
        let mut held_bytes = 0;
        let mut last_release = Instant::now();
        let mut ended = false;
        loop {
            let due = held.front().map(|(at, _)| *at);
            if ended && due.is_none() {
                return;
            }
            tokio::select! {
                biased;
                _ = sleep_until(due), if due.is_some() => {
                    if let Some((_, chunk)) = held.pop_front() {
                        held_bytes -= chunk.len();
                        if !link.send(chunk).await {
                            return;
                        }
                    }
                }
                chunk = link.input.recv(), if !ended && held_bytes < MAX_HELD => match chunk {
                    None => ended = true,
                    Some(chunk) => {
                        let now = Instant::now();
                        let delay = if link.gate.active() { self.delay(&mut link.rng) } else { Duration::ZERO };
                        last_release = (now + delay).max(last_release);
                        held_bytes += chunk.len();
                        held.push_back((last_release, chunk));
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_within_the_jitter_and_vary() {
        let toxic = Latency { latency: Duration::from_millis(100), jitter: Duration::from_millis(20) };
        let mut rng = Rng(7);
        let draws: Vec<Duration> = (0..200).map(|_| toxic.delay(&mut rng)).collect();
        assert!(draws.iter().all(|d| (Duration::from_millis(80)..=Duration::from_millis(120)).contains(d)));
        assert!(draws.iter().any(|d| *d < Duration::from_millis(95)));
        assert!(draws.iter().any(|d| *d > Duration::from_millis(105)));
        let wide = Latency { latency: Duration::from_millis(5), jitter: Duration::from_millis(50) };
        assert!((0..100).map(|_| wide.delay(&mut rng)).all(|d| d <= Duration::from_millis(55)));
    }

    #[test]
    fn labels() {
        let l = Latency { latency: Duration::from_millis(200), jitter: Duration::from_millis(10) };
        assert_eq!(l.label(), "latency 200ms±10ms");
        assert_eq!(Latency { jitter: Duration::ZERO, ..l }.label(), "latency 200ms");
    }
}
