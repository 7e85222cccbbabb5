//! TCP toxics: network faults below HTTP, with toxiproxy's names and meanings so that
//! users can move their toxiproxy configurations over. A host with toxics is served
//! through an in-process proxy ([`serve`]): the world binds the host's public address to
//! it and runs the real server behind it on an internal loopback address.
//!
//! Each connection carries bytes both ways through a chain of stages per direction
//! (`upstream` = client → server, `downstream` = server → client), one stage per toxic
//! that applies, in the order the toxics are listed; each toxic lives in its own file
//! behind the small interface in `link`. `down` is not a stage: it takes the whole
//! address away (connections are refused), as toxiproxy's `enabled: false` does.
//!
//! Which toxics apply is decided per connection by the fault schedule, connections
//! playing the role of requests (`nth`/`first` count connections, `toxicity` is the
//! probability, drawn from the scenario seed). Time windows (`after`/`until`) act on live
//! connections too, as adding and removing a toxic does in toxiproxy: HTTP clients keep
//! their connections open, so a window that only applied to new connections would never
//! open or heal for them.

mod bandwidth;
mod down;
mod latency;
mod limit_data;
mod link;
mod proxy;
mod reset_peer;
mod slicer;
mod slow_close;
mod timeout;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

pub use bandwidth::Bandwidth;
pub use latency::Latency;
pub use limit_data::LimitData;
pub use proxy::serve;
pub use reset_peer::ResetPeer;
pub use slicer::Slicer;
pub use slow_close::SlowClose;
pub use timeout::Timeout;

use crate::fault::{Fault, FaultAction, FaultSchedule, FaultWhen};

/// The direction of a connection a toxic acts on (toxiproxy's `stream`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Stream {
    /// Client → server: the requests.
    Upstream,
    /// Server → client: the responses (toxiproxy's default).
    #[default]
    Downstream,
}

impl Stream {
    /// The name toxiproxy uses.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Upstream => "upstream",
            Stream::Downstream => "downstream",
        }
    }

    fn index(self) -> usize {
        match self {
            Stream::Upstream => 0,
            Stream::Downstream => 1,
        }
    }
}

/// What a toxic does; each variant holds toxiproxy's attributes for that toxic.
#[derive(Debug, Clone, PartialEq)]
pub enum ToxicKind {
    /// Delays every chunk of data.
    Latency(Latency),
    /// Limits the rate.
    Bandwidth(Bandwidth),
    /// Delays the close.
    SlowClose(SlowClose),
    /// Stops all data, then closes (or never does).
    Timeout(Timeout),
    /// Resets the connection (RST).
    ResetPeer(ResetPeer),
    /// Cuts the data into small pieces.
    Slicer(Slicer),
    /// Closes the connection after some bytes.
    LimitData(LimitData),
    /// The address refuses connections (toxiproxy's `enabled: false`).
    Down,
}

impl ToxicKind {
    /// toxiproxy's name for the toxic (`type`).
    pub fn name(&self) -> &'static str {
        match self {
            ToxicKind::Latency(_) => "latency",
            ToxicKind::Bandwidth(_) => "bandwidth",
            ToxicKind::SlowClose(_) => "slow_close",
            ToxicKind::Timeout(_) => "timeout",
            ToxicKind::ResetPeer(_) => "reset_peer",
            ToxicKind::Slicer(_) => "slicer",
            ToxicKind::LimitData(_) => "limit_data",
            ToxicKind::Down => "down",
        }
    }

    /// Short description with the attributes ("latency 200ms±10ms").
    pub fn label(&self) -> String {
        match self {
            ToxicKind::Latency(t) => t.label(),
            ToxicKind::Bandwidth(t) => t.label(),
            ToxicKind::SlowClose(t) => t.label(),
            ToxicKind::Timeout(t) => t.label(),
            ToxicKind::ResetPeer(t) => t.label(),
            ToxicKind::Slicer(t) => t.label(),
            ToxicKind::LimitData(t) => t.label(),
            ToxicKind::Down => "down".into(),
        }
    }
}

impl FaultAction for ToxicKind {
    fn label(&self) -> String {
        ToxicKind::label(self)
    }

    fn as_delay(&self) -> Option<Duration> {
        None
    }
}

/// One toxic of a host, as the scenario declares it.
#[derive(Debug, Clone)]
pub struct Toxic {
    /// 1-based position in the host's list (reports say "#2").
    pub number: usize,
    /// What it does.
    pub kind: ToxicKind,
    /// Which direction it acts on (ignored by `down`).
    pub stream: Stream,
    /// Probability that it applies to a connection (toxiproxy's `toxicity`, 1.0 = all);
    /// multiplied with `when.probability` if both are given.
    pub toxicity: f64,
    /// Which connections (`nth`, `first`, `probability`) and when (`after`, `until`).
    /// `path` and `method` do not apply to connections.
    pub when: FaultWhen,
}

impl Toxic {
    /// A toxic acting on every downstream connection, always.
    pub fn new(number: usize, kind: ToxicKind) -> Toxic {
        Toxic { number, kind, stream: Stream::Downstream, toxicity: 1.0, when: FaultWhen::default() }
    }

    /// How the request log names it: `#2 latency 200ms±10ms`, `#3 limit_data 20000 B upstream`.
    pub fn label(&self) -> String {
        let stream = match (&self.kind, self.stream) {
            (ToxicKind::Down, _) | (_, Stream::Downstream) => "",
            (_, Stream::Upstream) => " upstream",
        };
        format!("#{} {}{stream}", self.number, self.kind.label())
    }
}

/// A toxic list that cannot work as written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToxicError {
    /// `toxicity` or `probability` outside [0, 1].
    #[error("toxic #{number}: toxicity must be between 0 and 1, not {value}")]
    Toxicity {
        /// The toxic.
        number: usize,
        /// The value given.
        value: f64,
    },
    /// A request condition on a toxic.
    #[error("toxic #{number}: `{field}` selects HTTP requests; TCP toxics act on whole connections")]
    RequestCondition {
        /// The toxic.
        number: usize,
        /// The condition.
        field: &'static str,
    },
    /// A connection condition on `down`, which acts on the address, not on connections.
    #[error("toxic #{number}: `down` takes the whole address away and only takes a time window, not `{field}`")]
    DownCondition {
        /// The toxic.
        number: usize,
        /// The condition.
        field: &'static str,
    },
    /// A window that never opens.
    #[error("toxic #{number}: `until` must come after `after`")]
    EmptyWindow {
        /// The toxic.
        number: usize,
    },
    /// Slicer sizes that cannot work.
    #[error("toxic #{number}: slicer needs 0 ≤ size_variation < average_size, got {average_size} ± {size_variation}")]
    SlicerSizes {
        /// The toxic.
        number: usize,
        /// `average_size`.
        average_size: usize,
        /// `size_variation`.
        size_variation: usize,
    },
}

/// Labels of toxics applied outside this proxy (by a toxiproxy server in front of it),
/// as they stand at any moment: each new connection's record lists them.
pub type ExternalToxics = Arc<Mutex<Vec<String>>>;

/// A host's toxics, validated, with the schedule that picks which apply to each
/// connection. One per proxied host; shared by its connections.
#[derive(Debug)]
pub struct ToxicSet {
    host: String,
    seed: u64,
    /// Stage toxics (all but `down`), in declaration order.
    toxics: Vec<Toxic>,
    /// Their windows, as instants.
    windows: Vec<Window>,
    /// Picks toxics per connection; built without `after` so that connections opened
    /// before a window count and get the toxic when the window opens.
    schedule: FaultSchedule<ToxicKind>,
    /// Windows of the `down` toxics: the address refuses connections inside any of them.
    down: Vec<Window>,
    /// Connections accepted so far.
    connections: AtomicU64,
    /// Toxics acting elsewhere on this host's connections, for the records.
    external: Option<ExternalToxics>,
}

impl ToxicSet {
    /// The toxics of `host`, drawing toxicity and jitter from `seed`, with time windows
    /// counted from `started` (the world's start).
    pub fn new(host: &str, seed: u64, toxics: Vec<Toxic>, started: Instant) -> Result<ToxicSet, ToxicError> {
        let mut stages = Vec::new();
        let mut down = Vec::new();
        for toxic in toxics {
            validate(&toxic)?;
            let window = Window::new(started, toxic.when.after, toxic.when.until);
            if toxic.kind == ToxicKind::Down {
                down.push(window);
            } else {
                stages.push(toxic);
            }
        }
        let faults = stages
            .iter()
            .map(|t| {
                let probability = t.toxicity * t.when.probability.unwrap_or(1.0);
                let when = FaultWhen {
                    after: None,
                    probability: (probability < 1.0).then_some(probability),
                    ..t.when.clone()
                };
                Fault { number: t.number, when, action: t.kind.clone() }
            })
            .collect();
        let windows = stages.iter().map(|t| Window::new(started, t.when.after, t.when.until)).collect();
        Ok(ToxicSet {
            host: host.to_string(),
            seed,
            schedule: FaultSchedule::starting_at(host, seed, faults, started),
            toxics: stages,
            windows,
            down,
            connections: AtomicU64::new(0),
            external: None,
        })
    }

    /// A set without toxics whose connections' records list `external`: the recording
    /// relay behind a toxiproxy proxy, which applies the toxics itself.
    pub fn relay(host: &str, external: ExternalToxics, started: Instant) -> ToxicSet {
        ToxicSet {
            host: host.to_string(),
            seed: 0,
            schedule: FaultSchedule::starting_at(host, 0, Vec::new(), started),
            toxics: Vec::new(),
            windows: Vec::new(),
            down: Vec::new(),
            connections: AtomicU64::new(0),
            external: Some(external),
        }
    }

    /// The labels of the toxics acting elsewhere right now.
    fn external_labels(&self) -> Vec<String> {
        self.external.as_ref().map(|e| e.lock().unwrap_or_else(|p| p.into_inner()).clone()).unwrap_or_default()
    }

    /// True when there is nothing to do: the world can serve the host directly.
    pub fn is_empty(&self) -> bool {
        self.toxics.is_empty() && self.down.is_empty()
    }

    /// True when a `down` toxic holds the address at `at`.
    pub fn is_down_at(&self, at: Instant) -> bool {
        self.down.iter().any(|w| w.contains(at))
    }

    /// The next instant after `at` when the address goes down or comes back.
    fn next_down_change(&self, at: Instant) -> Option<Instant> {
        self.down.iter().filter_map(|w| w.next_change(at)).min()
    }

    /// Numbers the next connection and picks the toxics that apply to it (with their
    /// windows).
    fn accept(&self) -> (u64, Vec<(&Toxic, Window)>) {
        let number = self.connections.fetch_add(1, Ordering::SeqCst) + 1;
        let picked = self.schedule.firing("TCP", &connection_path(number));
        (number, picked.into_iter().map(|i| (&self.toxics[i], self.windows[i])).collect())
    }

    /// Randomness for one toxic on one connection, fixed by the seed.
    fn rng(&self, toxic: usize, connection: u64) -> Rng {
        let digest = Sha256::new()
            .chain_update(self.seed.to_le_bytes())
            .chain_update((self.host.len() as u64).to_le_bytes())
            .chain_update(self.host.as_bytes())
            .chain_update((toxic as u64).to_le_bytes())
            .chain_update(connection.to_le_bytes())
            .finalize();
        Rng(u64::from_le_bytes(digest[..8].try_into().expect("8 bytes")))
    }
}

/// What the request log shows as the path of connection `number`.
fn connection_path(number: u64) -> String {
    format!("(connection {number})")
}

/// Checks that `toxic` can work as written (whatever applies it).
pub fn validate(toxic: &Toxic) -> Result<(), ToxicError> {
    let number = toxic.number;
    let when = &toxic.when;
    for value in [Some(toxic.toxicity), when.probability].into_iter().flatten() {
        if !(0.0..=1.0).contains(&value) {
            return Err(ToxicError::Toxicity { number, value });
        }
    }
    if when.path.is_some() {
        return Err(ToxicError::RequestCondition { number, field: "path" });
    }
    if when.method.is_some() {
        return Err(ToxicError::RequestCondition { number, field: "method" });
    }
    if let (Some(after), Some(until)) = (when.after, when.until)
        && until <= after
    {
        return Err(ToxicError::EmptyWindow { number });
    }
    match &toxic.kind {
        ToxicKind::Down => {
            let conditions = [
                ("nth", when.nth.is_some()),
                ("first", when.first.is_some()),
                ("probability", when.probability.is_some()),
                ("toxicity", toxic.toxicity < 1.0),
            ];
            if let Some((field, _)) = conditions.into_iter().find(|(_, set)| *set) {
                return Err(ToxicError::DownCondition { number, field });
            }
        }
        ToxicKind::Slicer(s) if s.average_size == 0 || s.size_variation >= s.average_size => {
            return Err(ToxicError::SlicerSizes {
                number,
                average_size: s.average_size,
                size_variation: s.size_variation,
            });
        }
        _ => {}
    }
    Ok(())
}

/// When a toxic acts, as instants: from `after` (inclusive) to `until` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    from: Option<Instant>,
    to: Option<Instant>,
}

impl Window {
    fn new(started: Instant, after: Option<Duration>, until: Option<Duration>) -> Window {
        Window { from: after.map(|d| started + d), to: until.map(|d| started + d) }
    }

    fn contains(&self, at: Instant) -> bool {
        self.from.is_none_or(|f| at >= f) && self.to.is_none_or(|t| at < t)
    }

    /// The next boundary strictly after `at`.
    fn next_change(&self, at: Instant) -> Option<Instant> {
        [self.from, self.to].into_iter().flatten().filter(|&t| t > at).min()
    }
}

/// A small deterministic generator (splitmix64): jitter and slice sizes must come out
/// the same for the same seed.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[-spread, spread]`.
    fn spread(&mut self, spread: u64) -> i64 {
        if spread == 0 {
            return 0;
        }
        let width = spread.saturating_mul(2).saturating_add(1);
        (self.next_u64() % width) as i64 - spread as i64
    }
}

#[cfg(test)]
mod tests;
