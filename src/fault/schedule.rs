//! Deciding which faults fire for a request (or DNS query, or connection). Counting is
//! per fault (the `nth` / `first` numbers count requests that fault's other conditions
//! match); probabilities are drawn from a hash of the seed, the fault and the request's
//! subject and occurrence, so the outcome does not depend on how go interleaves parallel
//! requests; time windows count from the world's start.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::{Fault, FaultAction};

/// What happens to one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<A> {
    /// Total delay before answering.
    pub delay: Duration,
    /// The action that decides the outcome, with its fault number; `None` lets the
    /// request through.
    pub action: Option<(usize, A)>,
    /// Labels of every fault that fired ("#1 delay 2s"), for the request log.
    pub fired: Vec<String>,
}

impl<A> Default for Decision<A> {
    fn default() -> Self {
        Decision { delay: Duration::ZERO, action: None, fired: Vec::new() }
    }
}

/// A list of faults and their counters.
#[derive(Debug)]
pub struct FaultSchedule<A> {
    faults: Vec<Fault<A>>,
    seed: u64,
    host: String,
    started: Instant,
    counters: Mutex<Vec<Counter>>,
}

#[derive(Debug, Default, Clone)]
struct Counter {
    matched: u64,
    per_path: HashMap<String, u64>,
}

impl<A: FaultAction> FaultSchedule<A> {
    /// Faults of `host`, drawing probabilities from `seed`, windows counted from now.
    pub fn new(host: &str, seed: u64, faults: Vec<Fault<A>>) -> FaultSchedule<A> {
        Self::starting_at(host, seed, faults, Instant::now())
    }

    /// Like [`FaultSchedule::new`], with time windows counted from `started`.
    pub fn starting_at(host: &str, seed: u64, faults: Vec<Fault<A>>, started: Instant) -> FaultSchedule<A> {
        let counters = Mutex::new(vec![Counter::default(); faults.len()]);
        FaultSchedule { faults, seed, host: host.to_string(), started, counters }
    }

    /// True when no fault is configured.
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }

    /// Decides the fate of a `method` request for `path` (for DNS: the query type and
    /// the name), advancing the counters.
    pub fn decide(&self, method: &str, path: &str) -> Decision<A> {
        let mut decision = Decision::default();
        for index in self.firing(method, path) {
            let fault = &self.faults[index];
            decision.fired.push(format!("#{} {}", fault.number, fault.action.label()));
            match fault.action.as_delay() {
                Some(d) => decision.delay += d,
                None => {
                    decision.action = Some((fault.number, fault.action.clone()));
                    break;
                }
            }
        }
        decision
    }

    /// Positions (in the list given to [`FaultSchedule::new`]) of every fault that fires
    /// for this request, advancing the counters. For actions that all apply together,
    /// like the TCP toxics of a connection, where [`FaultSchedule::decide`] would stop at
    /// the first terminal action.
    pub fn firing(&self, method: &str, path: &str) -> Vec<usize> {
        let elapsed = self.started.elapsed();
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let mut fired = Vec::new();
        for (index, (fault, counter)) in self.faults.iter().zip(counters.iter_mut()).enumerate() {
            let when = &fault.when;
            if when.path.as_ref().is_some_and(|g| !g.matches(path))
                || when.method.as_ref().is_some_and(|m| m != method)
                || when.after.is_some_and(|t| elapsed < t)
                || when.until.is_some_and(|t| elapsed >= t)
            {
                continue;
            }
            counter.matched += 1;
            let occurrence = counter.per_path.entry(format!("{method} {path}")).or_insert(0);
            *occurrence += 1;
            let n = counter.matched;
            let fires = when.nth.is_none_or(|k| n == k)
                && when.first.is_none_or(|k| n <= k)
                && when
                    .probability
                    .is_none_or(|p| draw(self.seed, &self.host, fault.number, method, path, *occurrence) < p);
            if fires {
                fired.push(index);
            }
        }
        fired
    }
}

/// A number in [0, 1) fixed by its inputs.
fn draw(seed: u64, host: &str, fault: usize, method: &str, path: &str, occurrence: u64) -> f64 {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    for part in [host, method, path] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.update((fault as u64).to_le_bytes());
    hasher.update(occurrence.to_le_bytes());
    let digest = hasher.finalize();
    let mut word = [0u8; 8];
    word.copy_from_slice(&digest[..8]);
    (u64::from_le_bytes(word) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::{FaultWhen, HttpAction, HttpFault, PathGlob};

    fn fault(number: usize, when: FaultWhen, action: HttpAction) -> HttpFault {
        HttpFault { number, when, action }
    }

    fn status(code: u16) -> HttpAction {
        HttpAction::Respond {
            status: code,
            body: Default::default(),
            content_type: "text/plain".into(),
            headers: Vec::new(),
        }
    }

    #[test]
    fn first_n_then_heal() {
        let s =
            FaultSchedule::new("h", 0, vec![fault(1, FaultWhen { first: Some(2), ..Default::default() }, status(503))]);
        let fired: Vec<bool> = (0..4).map(|_| s.decide("GET", "/x").action.is_some()).collect();
        assert_eq!(fired, [true, true, false, false]);
    }

    #[test]
    fn nth_counts_only_matching_requests() {
        let when = FaultWhen { path: Some(PathGlob::new("*.zip").unwrap()), nth: Some(2), ..Default::default() };
        let s = FaultSchedule::new("h", 0, vec![fault(1, when, status(500))]);
        assert!(s.decide("GET", "/m/@v/v1.info").action.is_none());
        assert!(s.decide("GET", "/m/@v/v1.zip").action.is_none());
        assert!(s.decide("GET", "/m/@v/v1.info").action.is_none());
        assert!(s.decide("GET", "/m/@v/v2.zip").action.is_some());
        assert!(s.decide("GET", "/m/@v/v3.zip").action.is_none());
    }

    #[test]
    fn delays_accumulate_and_first_terminal_action_wins() {
        let s = FaultSchedule::new(
            "h",
            0,
            vec![
                fault(1, FaultWhen::default(), HttpAction::Delay(Duration::from_millis(100))),
                fault(2, FaultWhen::default(), status(500)),
                fault(3, FaultWhen::default(), HttpAction::Delay(Duration::from_millis(50))),
                fault(4, FaultWhen::default(), HttpAction::Hang),
            ],
        );
        let d = s.decide("GET", "/");
        assert_eq!(d.delay, Duration::from_millis(100));
        assert_eq!(d.action.unwrap().0, 2);
        assert_eq!(d.fired, ["#1 delay 100ms", "#2 respond 500"]);
    }

    #[test]
    fn firing_lists_every_fault_that_fires() {
        let s = FaultSchedule::new(
            "h",
            0,
            vec![
                fault(1, FaultWhen::default(), status(500)),
                fault(2, FaultWhen { nth: Some(2), ..Default::default() }, HttpAction::Hang),
                fault(3, FaultWhen::default(), HttpAction::Delay(Duration::from_millis(5))),
            ],
        );
        assert_eq!(s.firing("TCP", "(connection 1)"), [0, 2]);
        assert_eq!(s.firing("TCP", "(connection 2)"), [0, 1, 2]);
    }

    #[test]
    fn time_windows_open_and_heal() {
        let when = FaultWhen {
            after: Some(Duration::from_millis(50)),
            until: Some(Duration::from_millis(150)),
            ..Default::default()
        };
        let s = FaultSchedule::new("h", 0, vec![fault(1, when, status(500))]);
        assert!(s.decide("GET", "/").action.is_none(), "not yet");
        std::thread::sleep(Duration::from_millis(80));
        assert!(s.decide("GET", "/").action.is_some(), "inside the window");
        std::thread::sleep(Duration::from_millis(100));
        assert!(s.decide("GET", "/").action.is_none(), "healed");
    }

    #[test]
    fn probability_is_reproducible_and_roughly_right() {
        let run = |seed| {
            let when = FaultWhen { probability: Some(0.3), ..Default::default() };
            let s = FaultSchedule::new("h", seed, vec![fault(1, when, status(500))]);
            (0..1000).map(|i| s.decide("GET", &format!("/p{}", i % 50)).action.is_some()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).iter().filter(|&&f| f).count();
        assert!((220..380).contains(&hits), "{hits} of 1000 fired at p=0.3");
    }
}
