//! One world's proxies on a toxiproxy server: one proxy per host with toxics, named
//! uniquely per world so that parallel scenarios (and other users of the same server)
//! never collide; the toxics that act from the start; a task per proxy that adds and
//! removes toxics (or takes the proxy down and up, for `down`) when their time windows
//! open and heal; and the deletion of every proxy when the world ends.
//!
//! Cleanup: [`ToxiproxyHosts::close`] deletes the proxies through the async client and
//! reports what went wrong. A world that is dropped without it (a scenario that failed
//! midway, a panic) still deletes them in `Drop`, which cannot await: it sends each
//! `DELETE` as a blocking request on a plain socket with short timeouts. A spawned
//! cleanup task would not do: the runtime that would run it is often being dropped in
//! the same breath (a test's `block_on` returning), and a task that never runs leaks
//! a listening proxy. The blocking call costs a loopback round trip per proxy.
//!
//! `reset_peer` needs care: toxiproxy sets SO_LINGER 0 on a connection's sockets (what
//! makes its close an RST) only when the connection starts with a `reset_peer` in its
//! chain. Added later to a live connection it closes with a FIN, which go reports as
//! `unexpected EOF`, not `connection reset by peer`. So a `reset_peer` is installed when
//! the proxy is created, at toxicity 0 outside its window (it passes data untouched,
//! but every connection gets SO_LINGER 0 as with any toxiproxy `reset_peer`), and its
//! window is applied by raising and lowering its toxicity, which toxiproxy redraws for
//! live connections.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::task::JoinHandle;

use super::blocking;
use super::client::{ApiToxic, Client, NewProxy, ToxiproxyError};
use super::spec::{self, Inexpressible};
use crate::fault::tcp::{Toxic, ToxicKind};

/// Worlds started by this process, for unique proxy names.
static WORLDS: AtomicU64 = AtomicU64::new(0);

/// Why a host could not be set up on toxiproxy.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The API failed.
    #[error("host `{host}`: {source}")]
    Api {
        /// The host.
        host: String,
        /// What failed.
        source: ToxiproxyError,
    },
    /// A toxic toxiproxy cannot express (scenarios with one are skipped before).
    #[error("host `{host}`: {source}")]
    Inexpressible {
        /// The host.
        host: String,
        /// Which toxic and why.
        source: Inexpressible,
    },
    /// toxiproxy answered a listen address that is not one.
    #[error("host `{host}`: toxiproxy listens on `{listen}`, which is not an IP address and port")]
    Listen {
        /// The host.
        host: String,
        /// What it answered.
        listen: String,
    },
}

/// The labels of the toxics toxiproxy applies to a host right now, for the request log.
pub type ActiveLabels = crate::fault::tcp::ExternalToxics;

/// A world's proxies on one toxiproxy server.
pub struct ToxiproxyHosts {
    client: Client,
    /// Prefix of this world's proxy names.
    prefix: String,
    /// Proxies created and not deleted yet.
    proxies: Vec<String>,
    /// The window tasks, stopped before the proxies are deleted.
    controllers: Vec<JoinHandle<()>>,
    /// API calls that failed while the world ran.
    problems: Arc<Mutex<Vec<String>>>,
}

impl ToxiproxyHosts {
    /// Nothing created yet; proxy names start with a prefix unique to this world.
    pub fn new(client: Client) -> ToxiproxyHosts {
        let world = WORLDS.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let prefix = format!("modchaos-{}-{nanos:09}-{world}", std::process::id());
        ToxiproxyHosts { client, prefix, proxies: Vec::new(), controllers: Vec::new(), problems: Arc::default() }
    }

    /// The API this world uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Names of the proxies this world has on the server.
    pub fn proxy_names(&self) -> &[String] {
        &self.proxies
    }

    /// Creates `host`'s proxy: listening on a port of 127.0.0.1 that toxiproxy picks,
    /// forwarding to `upstream`, with the toxics whose windows (counted from `started`)
    /// are open now, and a task for the windows to come. Returns the public address and
    /// the labels of the toxics acting at any moment.
    pub async fn add_host(
        &mut self,
        host: &str,
        toxics: &[Toxic],
        upstream: SocketAddr,
        started: Instant,
    ) -> Result<(SocketAddr, ActiveLabels), HostError> {
        let plan = Plan::new(toxics).map_err(|source| HostError::Inexpressible { host: host.into(), source })?;
        let api = |source| HostError::Api { host: host.into(), source };
        let name = format!("{}-{}", self.prefix, sanitize(host));
        let proxy = NewProxy {
            name: name.clone(),
            listen: "127.0.0.1:0".into(),
            upstream: upstream.to_string(),
            enabled: true,
        };
        let created = self.client.create_proxy(&proxy).await.map_err(api)?;
        self.proxies.push(name.clone());
        let listen: SocketAddr = created
            .listen
            .parse()
            .map_err(|_| HostError::Listen { host: host.into(), listen: created.listen.clone() })?;
        let mut control = Control {
            client: self.client.clone(),
            proxy: name,
            plan,
            state: Vec::new(),
            enabled: true,
            labels: ActiveLabels::default(),
            problems: self.problems.clone(),
        };
        control.install(started.elapsed()).await.map_err(api)?;
        let labels = control.labels.clone();
        if control.plan.next_change(started.elapsed()).is_some() {
            self.controllers.push(tokio::spawn(control.run(started)));
        }
        Ok((listen, labels))
    }

    /// API calls that failed while the world ran (a window that could not open or heal).
    pub fn problems(&self) -> Vec<String> {
        lock(&self.problems).clone()
    }

    /// Stops the window tasks and deletes every proxy; returns every problem met, while
    /// running and now.
    pub async fn close(&mut self) -> Vec<String> {
        for task in self.controllers.drain(..) {
            task.abort();
            let _ = task.await;
        }
        for name in std::mem::take(&mut self.proxies) {
            match self.client.delete_proxy(&name).await {
                Ok(()) => {}
                Err(e) if e.status() == Some(404) => {}
                Err(e) => lock(&self.problems).push(format!("cannot delete proxy {name}: {e}")),
            }
        }
        self.problems()
    }
}

impl Drop for ToxiproxyHosts {
    fn drop(&mut self) {
        for task in &self.controllers {
            task.abort();
        }
        for name in &self.proxies {
            match blocking::delete_proxy(self.client.authority(), name) {
                Ok(status) if (200..300).contains(&status) || status == 404 => {}
                Ok(status) => eprintln!(
                    "modchaos: toxiproxy at {} answered {status} to deleting proxy {name}: delete it by hand",
                    self.client.url()
                ),
                Err(e) => eprintln!(
                    "modchaos: cannot delete proxy {name} on toxiproxy at {}: {e}; delete it by hand",
                    self.client.url()
                ),
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A host name as part of a proxy name (toxiproxy takes any string; this keeps URLs and
/// listings plain).
fn sanitize(host: &str) -> String {
    host.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect()
}

/// When something acts, as offsets from the world's start: from `after` (inclusive) to
/// `until` (exclusive), as in-process windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    from: Option<Duration>,
    to: Option<Duration>,
}

impl Span {
    fn of(toxic: &Toxic) -> Span {
        Span { from: toxic.when.after, to: toxic.when.until }
    }

    fn contains(&self, at: Duration) -> bool {
        self.from.is_none_or(|f| at >= f) && self.to.is_none_or(|t| at < t)
    }

    fn next_change(&self, at: Duration) -> Option<Duration> {
        [self.from, self.to].into_iter().flatten().filter(|&t| t > at).min()
    }
}

/// How a toxic's window is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// Added when the window opens, removed when it heals.
    AddRemove,
    /// Installed from the start; the window raises its toxicity from 0 (`reset_peer`).
    Toxicity,
}

/// A host's toxics in toxiproxy's terms.
#[derive(Debug, Clone)]
struct Plan {
    /// Stage toxics: the API form (with the toxicity it acts with), window, method, label.
    toxics: Vec<(ApiToxic, Span, Method, String)>,
    /// Windows of `down`: the proxy is disabled inside any of them.
    down: Vec<Span>,
}

impl Plan {
    fn new(toxics: &[Toxic]) -> Result<Plan, Inexpressible> {
        let mut plan = Plan { toxics: Vec::new(), down: Vec::new() };
        for toxic in toxics {
            spec::check(toxic)?;
            if toxic.kind == ToxicKind::Down {
                plan.down.push(Span::of(toxic));
                continue;
            }
            let method =
                if matches!(toxic.kind, ToxicKind::ResetPeer(_)) { Method::Toxicity } else { Method::AddRemove };
            let api = spec::api_toxic(toxic, spec::toxicity(toxic))?;
            plan.toxics.push((api, Span::of(toxic), method, format!("toxiproxy {}", toxic.label())));
        }
        Ok(plan)
    }

    fn is_down(&self, at: Duration) -> bool {
        self.down.iter().any(|s| s.contains(at))
    }

    fn next_change(&self, at: Duration) -> Option<Duration> {
        self.toxics.iter().map(|t| t.1).chain(self.down.iter().copied()).filter_map(|s| s.next_change(at)).min()
    }
}

/// What toxiproxy has of a toxic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Installed {
    /// Nothing.
    Absent,
    /// Acting (with its toxicity).
    Armed,
    /// Installed at toxicity 0.
    Dormant,
}

/// Keeps one proxy in line with its plan.
struct Control {
    client: Client,
    proxy: String,
    plan: Plan,
    /// Per toxic of the plan.
    state: Vec<Installed>,
    enabled: bool,
    labels: ActiveLabels,
    problems: Arc<Mutex<Vec<String>>>,
}

impl Control {
    /// The state at `at`, set up on a fresh proxy: any failure is the host's.
    async fn install(&mut self, at: Duration) -> Result<(), ToxiproxyError> {
        self.state = vec![Installed::Absent; self.plan.toxics.len()];
        for (index, (api, span, method, _)) in self.plan.toxics.iter().enumerate() {
            let (toxicity, installed) = match (method, span.contains(at)) {
                (_, true) => (api.toxicity, Installed::Armed),
                (Method::Toxicity, false) => (0.0, Installed::Dormant),
                (Method::AddRemove, false) => continue,
            };
            self.client.add_toxic(&self.proxy, &ApiToxic { toxicity, ..api.clone() }).await?;
            self.state[index] = installed;
        }
        if self.plan.is_down(at) {
            self.client.set_enabled(&self.proxy, false).await?;
            self.enabled = false;
        }
        self.publish();
        Ok(())
    }

    /// Applies each window change when it comes, until aborted.
    async fn run(mut self, started: Instant) {
        while let Some(next) = self.plan.next_change(started.elapsed()) {
            tokio::time::sleep_until((started + next).into()).await;
            let at = started.elapsed();
            if let Err(problems) = self.reconcile(at).await {
                lock(&self.problems).extend(problems.into_iter().map(|p| format!("at {:.2}s: {p}", at.as_secs_f64())));
            }
        }
    }

    /// Brings the proxy in line with the plan at `at`: taken down before toxics change,
    /// brought back up after.
    async fn reconcile(&mut self, at: Duration) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let down = self.plan.is_down(at);
        if down && self.enabled {
            self.set_enabled(false, &mut problems).await;
        }
        for index in 0..self.plan.toxics.len() {
            let (api, span, method, label) = &self.plan.toxics[index];
            let result = match (method, span.contains(at), self.state[index]) {
                (Method::AddRemove, true, Installed::Absent) => {
                    self.client.add_toxic(&self.proxy, api).await.map(|_| Installed::Armed)
                }
                (Method::AddRemove, false, Installed::Armed) => {
                    self.client.remove_toxic(&self.proxy, &api.name).await.map(|_| Installed::Absent)
                }
                (Method::Toxicity, true, Installed::Dormant) => {
                    self.client.set_toxicity(&self.proxy, &api.name, api.toxicity).await.map(|_| Installed::Armed)
                }
                (Method::Toxicity, false, Installed::Armed) => {
                    self.client.set_toxicity(&self.proxy, &api.name, 0.0).await.map(|_| Installed::Dormant)
                }
                _ => continue,
            };
            match result {
                Ok(state) => self.state[index] = state,
                Err(e) => problems.push(format!("{label} on proxy {}: {e}", self.proxy)),
            }
        }
        if !down && !self.enabled {
            self.set_enabled(true, &mut problems).await;
        }
        self.publish();
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }

    async fn set_enabled(&mut self, enabled: bool, problems: &mut Vec<String>) {
        match self.client.set_enabled(&self.proxy, enabled).await {
            Ok(_) => self.enabled = enabled,
            Err(e) => {
                problems.push(format!("{} proxy {}: {e}", if enabled { "enabling" } else { "disabling" }, self.proxy))
            }
        }
    }

    /// Updates the labels the request log shows on new connections.
    fn publish(&self) {
        let active = self
            .plan
            .toxics
            .iter()
            .zip(&self.state)
            .filter(|(_, s)| **s == Installed::Armed)
            .map(|((_, _, _, label), _)| label.clone())
            .collect();
        *lock(&self.labels) = active;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::FaultWhen;
    use crate::fault::tcp::{Latency, ResetPeer};

    fn windowed(number: usize, kind: ToxicKind, after: Option<u64>, until: Option<u64>) -> Toxic {
        let mut t = Toxic::new(number, kind);
        t.when =
            FaultWhen { after: after.map(Duration::from_millis), until: until.map(Duration::from_millis), ..t.when };
        t
    }

    #[test]
    fn the_plan_knows_windows_down_and_methods() {
        let latency = ToxicKind::Latency(Latency { latency: Duration::from_millis(5), jitter: Duration::ZERO });
        let reset = ToxicKind::ResetPeer(ResetPeer { timeout: Duration::ZERO });
        let plan = Plan::new(&[
            windowed(1, latency, None, Some(300)),
            windowed(2, reset, Some(700), None),
            windowed(3, ToxicKind::Down, Some(100), Some(200)),
        ])
        .unwrap();
        let methods: Vec<Method> = plan.toxics.iter().map(|t| t.2).collect();
        assert_eq!(methods, [Method::AddRemove, Method::Toxicity]);
        assert_eq!(plan.toxics[0].3, "toxiproxy #1 latency 5ms");
        let ms = Duration::from_millis;
        assert!(!plan.is_down(ms(99)) && plan.is_down(ms(100)) && !plan.is_down(ms(200)));
        let changes: Vec<Duration> =
            std::iter::successors(plan.next_change(Duration::ZERO), |&t| plan.next_change(t)).collect();
        assert_eq!(changes, [ms(100), ms(200), ms(300), ms(700)]);
    }

    #[test]
    fn counting_is_refused_when_planning() {
        let mut t = windowed(4, ToxicKind::ResetPeer(ResetPeer { timeout: Duration::ZERO }), None, None);
        t.when.first = Some(1);
        assert!(matches!(Plan::new(&[t]), Err(Inexpressible::Counting { number: 4, field: "first" })));
    }

    #[test]
    fn proxy_names_are_unique_and_plain() {
        let a = ToxiproxyHosts::new(Client::new("http://127.0.0.1:1").unwrap());
        let b = ToxiproxyHosts::new(Client::new("http://127.0.0.1:1").unwrap());
        assert_ne!(a.prefix, b.prefix);
        assert!(a.prefix.starts_with(&format!("modchaos-{}-", std::process::id())));
        assert_eq!(sanitize("proxy.corp.example:8443/x"), "proxy.corp.example_8443_x");
    }
}
