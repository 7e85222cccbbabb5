//! `slicer`: every chunk is cut into pieces of about `average_size` ± `size_variation`
//! bytes, each written on its own, `delay` apart: data arrives in small bits, as over a
//! slow or fragmented path. Sizes are drawn uniformly from the scenario seed (toxiproxy
//! halves chunks recursively; the spread of sizes is the same).

use std::time::Duration;

use super::Rng;
use super::link::{Link, Pacer, Stage};

/// toxiproxy's `slicer` toxic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slicer {
    /// Average piece size in bytes (toxiproxy: `average_size`).
    pub average_size: usize,
    /// Variation of the size either way, smaller than the average (toxiproxy: `size_variation`).
    pub size_variation: usize,
    /// Pause after each piece (toxiproxy: `delay`, in microseconds).
    pub delay: Duration,
}

impl Slicer {
    pub(super) fn label(&self) -> String {
        format!(
            "slicer {}±{} B every {}",
            self.average_size,
            self.size_variation,
            humantime::format_duration(self.delay)
        )
    }

    /// The size of the next piece.
    fn next_size(&self, rng: &mut Rng) -> usize {
        (self.average_size as i64 + rng.spread(self.size_variation as u64)).max(1) as usize
    }
}

impl Stage for Slicer {
    async fn pipe(&self, mut link: Link<'_>) {
        let mut pacer = Pacer::new();
        while let Some(mut chunk) = link.recv().await {
            if !link.gate.active() {
                pacer.reset();
                if !link.send(chunk).await {
                    return;
                }
                continue;
            }
            while !chunk.is_empty() {
                let size = self.next_size(&mut link.rng).min(chunk.len());
                if !link.send(chunk.split_to(size)).await {
                    return;
                }
                if !self.delay.is_zero() {
                    pacer.wait(self.delay).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_stay_within_the_variation() {
        let s = Slicer { average_size: 100, size_variation: 20, delay: Duration::ZERO };
        let mut rng = Rng(3);
        let sizes: Vec<usize> = (0..500).map(|_| s.next_size(&mut rng)).collect();
        assert!(sizes.iter().all(|n| (80..=120).contains(n)), "{sizes:?}");
        assert!(sizes.iter().any(|&n| n < 90) && sizes.iter().any(|&n| n > 110));
        let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
        assert!((95.0..105.0).contains(&mean), "mean {mean}");
        assert_eq!(s.label(), "slicer 100±20 B every 0s");
    }
}
