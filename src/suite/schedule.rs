//! Which scenario starts when. A suite's wall time is set by its longest scenario when
//! everything else fits beside it, and most long scenarios only wait (a hang until the
//! deadline, a black-holed dial, a slow link): they must not hold a CPU while they do.
//!
//! So each scenario gets an [`Estimate`] — how long it runs and how much of a CPU it
//! uses meanwhile — from earlier runs ([`super::history`]) or, the first time, from what
//! it declares (a scenario expected to last seconds, to hit its deadline, or to be
//! diagnosed as timing out, waits);
//! the longest start first, and under [`Parallelism::Adaptive`] a scenario starts when
//! the CPU it needs is free, so waiting ones run beside the busy ones.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::history::Observed;
use crate::scenario::{Expectation, GoStep, Scenario};
use crate::vocab::ExitExpectation;

/// Share of a CPU a scenario that mostly waits is assumed to use before it was measured.
/// Measured ones use less: a black-holed dial 0.001 over its 30 s, a TLS handshake
/// timeout 0.005, a hang killed at its deadline 0.016. A larger guess reserved CPU
/// nobody used: 23 such scenarios (repro_corpus's) at 0.1 held both CPUs of this machine idle while
/// they waited, and the busy ones queued behind them.
pub const WAITING_SHARE: f64 = 0.02;
/// Least share of a CPU a running scenario holds (starting go, the sealed child, …).
pub const MIN_SHARE: f64 = 0.01;
/// A scenario declared to last at least this long is assumed to mostly wait: shipped
/// scenarios do seconds of work only by waiting for a deadline or a slow peer.
pub const WAITS_FROM: Duration = Duration::from_secs(1);
/// CPU budget units per CPU (shares are held as whole units of a semaphore).
const UNITS_PER_CPU: f64 = 1000.0;

/// How many scenarios may run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parallelism {
    /// At most this many at once, whatever they need (`--jobs N`).
    Fixed(usize),
    /// As many as `cpus` CPUs can serve, each running scenario holding the share of a CPU
    /// it uses, and never more than `max` at once (sandboxes, processes and memory).
    Adaptive {
        /// CPUs to share out.
        cpus: usize,
        /// Most scenarios at once.
        max: usize,
    },
}

impl Parallelism {
    /// The default: this machine's CPUs shared out, up to four scenarios per CPU
    /// (at least 4, at most 32) at once.
    pub fn for_this_machine() -> Parallelism {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Parallelism::Adaptive { cpus, max: (4 * cpus).clamp(4, 32) }
    }

    /// Most scenarios that can run at once.
    pub fn most(&self) -> usize {
        match *self {
            Parallelism::Fixed(n) => n.max(1),
            Parallelism::Adaptive { max, .. } => max.max(1),
        }
    }

    /// One line for the terminal.
    pub fn describe(&self) -> String {
        match *self {
            Parallelism::Fixed(n) => format!("{} at a time", n.max(1)),
            Parallelism::Adaptive { cpus, max } => {
                format!("up to {max} at a time on {cpus} CPU(s), longest first; scenarios that mostly wait hold no CPU")
            }
        }
    }
}

/// What the suite expects of a scenario before it runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// How long it runs.
    pub wall: Duration,
    /// How much of a CPU it uses meanwhile, on average (above 1 when go uses several).
    pub cpu_share: f64,
    /// True when it comes from earlier runs, false when from the scenario's declarations.
    pub measured: bool,
}

/// The estimate for `scenario` from what an earlier run showed, if any, else from what
/// it declares.
pub fn estimate(scenario: &Scenario, observed: Option<Observed>) -> Estimate {
    let declared = declared_wall(scenario);
    let waits = declared >= WAITS_FROM || expects_a_wait(scenario);
    let guessed_share = if waits { WAITING_SHARE } else { 1.0 };
    match observed {
        Some(seen) => Estimate {
            wall: Duration::from_secs_f64(seen.wall_ms.max(0.0) / 1000.0),
            cpu_share: seen.cpu_ms.map_or(guessed_share, |cpu| (cpu / seen.wall_ms.max(1.0)).max(MIN_SHARE)),
            measured: true,
        },
        // A scenario that waits lasts seconds: it starts before the unknown ones.
        None if waits => Estimate { wall: declared.max(WAITS_FROM), cpu_share: guessed_share, measured: false },
        None => Estimate { wall: declared, cpu_share: guessed_share, measured: false },
    }
}

/// The least wall time a scenario declares: the duration its expectations demand, or
/// the deadlines of the commands expected to be killed at them (run and recovery).
pub fn declared_wall(scenario: &Scenario) -> Duration {
    let phase = |expect: &Expectation, steps: &[GoStep]| {
        let deadlines = match expect.exit {
            Some(ExitExpectation::Timeout) => steps.iter().map(|s| s.timeout).sum(),
            _ => Duration::ZERO,
        };
        deadlines.max(expect.duration_at_least.unwrap_or_default())
    };
    let run = phase(&scenario.expect, &scenario.run);
    let recovery = scenario
        .recover
        .as_ref()
        .map(|r| phase(&r.expect, r.run.as_deref().unwrap_or(&scenario.run)))
        .unwrap_or_default();
    run + recovery
}

/// The shares of a CPU that scenarios guessed to be busy (unmeasured, declaring no
/// wait) turned out to use in this run. A whole CPU is a safe first guess, but a sealed
/// scenario of a few hundred milliseconds uses a fifth of one: once a few of them have
/// finished, the others are admitted at the median those used (never above a whole CPU),
/// so that a suite run without remembered durations is not held to one scenario per
/// CPU throughout.
#[derive(Debug, Default)]
pub struct RunShares(std::sync::Mutex<Vec<f64>>);

impl RunShares {
    /// How many busy guesses must have finished before their median is used.
    const FEW: usize = 4;

    /// Whether `estimate` is the busy guess this refines (and learns from).
    pub fn is_busy_guess(estimate: &Estimate) -> bool {
        !estimate.measured && estimate.cpu_share >= 1.0
    }

    /// A busy guess that ran `wall_ms` and used `cpu_ms` of CPU.
    pub fn learn(&self, wall_ms: f64, cpu_ms: f64) {
        let share = (cpu_ms / wall_ms.max(1.0)).max(MIN_SHARE);
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(share);
    }

    /// `estimate`, a busy guess's share replaced by the median of those learnt so far.
    pub fn refine(&self, estimate: Estimate) -> Estimate {
        if !Self::is_busy_guess(&estimate) {
            return estimate;
        }
        let mut shares = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if shares.len() < Self::FEW {
            return estimate;
        }
        shares.sort_by(f64::total_cmp);
        Estimate { cpu_share: shares[shares.len() / 2].min(estimate.cpu_share), ..estimate }
    }
}

/// Whether `scenario` expects go to be diagnosed as having waited for a deadline (a
/// dial or handshake that timed out, a hang): such a run mostly waits even when it
/// declares no duration (go's own timeouts are 10–30 s).
fn expects_a_wait(scenario: &Scenario) -> bool {
    use crate::diagnose::Category;
    matches!(scenario.expect.diagnosis, Some(Category::NetTimeout | Category::Hang))
}

/// The order to start scenarios in: longest first; equal ones (the unknown ones,
/// estimated at zero) in their given order.
pub fn order(estimates: &[Estimate]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..estimates.len()).collect();
    order.sort_by(|&a, &b| estimates[b].wall.cmp(&estimates[a].wall));
    order
}

/// Lets scenarios start as [`Parallelism`] allows.
pub struct Limiter {
    /// One permit per scenario that may run at once.
    slots: Arc<Semaphore>,
    /// CPU budget in units (adaptive only).
    cpu: Option<(Arc<Semaphore>, u32)>,
}

/// Held while a scenario runs; dropping it frees its slot and its CPU share.
#[derive(Debug)]
pub struct Admission {
    _slot: OwnedSemaphorePermit,
    _cpu: Option<OwnedSemaphorePermit>,
}

impl Limiter {
    /// A limiter for `parallelism`.
    pub fn new(parallelism: Parallelism) -> Limiter {
        let slots = Arc::new(Semaphore::new(parallelism.most()));
        let cpu = match parallelism {
            Parallelism::Fixed(_) => None,
            Parallelism::Adaptive { cpus, .. } => {
                let units = (cpus.max(1) as f64 * UNITS_PER_CPU) as u32;
                Some((Arc::new(Semaphore::new(units as usize)), units))
            }
        };
        Limiter { slots, cpu }
    }

    /// CPU units a scenario with `estimate` holds: its share, at least [`MIN_SHARE`],
    /// at most the whole budget (so that a scenario using every CPU still runs).
    pub fn units(&self, estimate: &Estimate) -> u32 {
        match &self.cpu {
            None => 0,
            Some((_, total)) => {
                let wanted = (estimate.cpu_share.max(MIN_SHARE) * UNITS_PER_CPU).round() as u32;
                wanted.clamp(1, *total)
            }
        }
    }

    /// Waits until a scenario with `estimate` may start. Waiters are served in the order
    /// they asked (so the order of [`order`] holds).
    pub async fn admit(&self, estimate: &Estimate) -> Admission {
        let cpu = match &self.cpu {
            None => None,
            Some((budget, _)) => {
                Some(budget.clone().acquire_many_owned(self.units(estimate)).await.expect("never closed"))
            }
        };
        let slot = self.slots.clone().acquire_owned().await.expect("never closed");
        Admission { _slot: slot, _cpu: cpu }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(wall_s: f64, share: f64) -> Estimate {
        Estimate { wall: Duration::from_secs_f64(wall_s), cpu_share: share, measured: true }
    }

    #[test]
    fn longest_first_and_ties_keep_their_order() {
        let estimates = [est(0.0, 1.0), est(30.0, 0.1), est(0.0, 1.0), est(3.0, 0.1), est(10.0, 0.1)];
        assert_eq!(order(&estimates), [1, 4, 3, 0, 2]);
    }

    #[test]
    fn measured_shares_come_from_cpu_over_wall() {
        let seen = |wall_ms, cpu_ms| Observed { wall_ms, cpu_ms };
        let scenario = crate::scenario::parse(
            std::path::Path::new("t.yaml"),
            "name: t\nhosts: {h.example: {closed: {}}}\nrun: {go: version}\nexpect: {exit: success}\n".into(),
            &crate::scenario::LoadContext::new(None),
        )
        .unwrap();
        assert_eq!(estimate(&scenario, None), Estimate { wall: Duration::ZERO, cpu_share: 1.0, measured: false });
        let waiting = estimate(&scenario, Some(seen(30_000.0, Some(300.0))));
        assert_eq!((waiting.wall, waiting.cpu_share), (Duration::from_secs(30), 0.01_f64.max(MIN_SHARE)));
        let busy = estimate(&scenario, Some(seen(1000.0, Some(1800.0))));
        assert!((busy.cpu_share - 1.8).abs() < 1e-9, "go on two CPUs: {busy:?}");
        let open = estimate(&scenario, Some(seen(500.0, None)));
        assert_eq!(open.cpu_share, 1.0, "open mode measures no CPU: the declaration decides");
    }

    #[tokio::test]
    async fn waiting_scenarios_run_beside_busy_ones_within_the_budget() {
        let limiter = Limiter::new(Parallelism::Adaptive { cpus: 2, max: 8 });
        let busy = est(1.0, 1.0);
        let waiting = est(30.0, 0.05);
        let mut held = Vec::new();
        for e in [waiting, waiting, waiting, busy] {
            held.push(limiter.admit(&e).await);
        }
        // 3 × 0.05 + 1 = 1.15 CPUs held: one more busy scenario does not fit in 2.
        let more = tokio::time::timeout(Duration::from_millis(50), limiter.admit(&busy)).await;
        assert!(more.is_err(), "a second busy scenario would need 2.15 CPUs");
        held.pop();
        let now = tokio::time::timeout(Duration::from_millis(50), limiter.admit(&busy)).await;
        assert!(now.is_ok(), "room again once the busy one ended");
        assert_eq!(limiter.units(&est(0.0, 7.0)), 2000, "a scenario wanting more than all CPUs gets them all");
    }

    #[test]
    fn busy_guesses_take_the_median_share_of_those_finished() {
        let guess = Estimate { wall: Duration::ZERO, cpu_share: 1.0, measured: false };
        let shares = RunShares::default();
        for cpu_ms in [20.0, 40.0, 60.0] {
            shares.learn(200.0, cpu_ms);
        }
        assert_eq!(shares.refine(guess), guess, "three are too few");
        shares.learn(200.0, 900.0);
        assert!((shares.refine(guess).cpu_share - 0.3).abs() < 1e-9, "{:?}", shares.refine(guess));
        let measured = est(0.2, 1.5);
        assert_eq!(shares.refine(measured), measured, "a measured share stays");
        let waiting = Estimate { wall: WAITS_FROM, cpu_share: WAITING_SHARE, measured: false };
        assert_eq!(shares.refine(waiting), waiting, "a waiting guess stays");
        for _ in 0..9 {
            shares.learn(100.0, 300.0);
        }
        assert_eq!(shares.refine(guess).cpu_share, 1.0, "never above a whole CPU");
    }

    #[tokio::test]
    async fn fixed_parallelism_counts_scenarios_only() {
        let limiter = Limiter::new(Parallelism::Fixed(2));
        let busy = est(1.0, 1.0);
        let _a = limiter.admit(&busy).await;
        let _b = limiter.admit(&busy).await;
        assert!(tokio::time::timeout(Duration::from_millis(50), limiter.admit(&est(0.0, 0.05))).await.is_err());
    }

    #[test]
    fn declared_wall_reads_deadlines_and_durations() {
        let ctx = crate::scenario::LoadContext::new(None);
        let parse = |text: &str| crate::scenario::parse(std::path::Path::new("t.yaml"), text.into(), &ctx).unwrap();
        let hang = parse(
            "name: t\nhosts: {h.example: {closed: {}}}\nrun: {go: version, timeout: 3s}\nexpect: {exit: timeout}\n",
        );
        assert_eq!(declared_wall(&hang), Duration::from_secs(3));
        let slow = parse(
            "name: t\nhosts: {h.example: {closed: {}}}\nrun: {go: version}\nexpect: {exit: failure, duration: {at_least: 29s}}\n",
        );
        assert_eq!(declared_wall(&slow), Duration::from_secs(29));
        assert_eq!(estimate(&slow, None).cpu_share, WAITING_SHARE);
        let timing_out = parse(
            "name: t\nhosts: {h.example: {closed: {}}}\nrun: {go: version}\nexpect: {exit: failure, diagnosis: net.timeout}\n",
        );
        assert_eq!(declared_wall(&timing_out), Duration::ZERO);
        assert_eq!(estimate(&timing_out, None).cpu_share, WAITING_SHARE, "go's own timeout is a wait");
        assert_eq!(estimate(&timing_out, None).wall, WAITS_FROM, "and starts before the unknown ones");
    }
}
