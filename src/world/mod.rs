//! A scenario's world: its fake hosts started on loopback, the guard that catches any
//! attempt to leave, and the shared request log. Dropping the world stops every server
//! and ends every connection, hung ones included.

mod build;
pub mod cache;
pub mod hostmap;
pub mod sandbox;

use std::net::Ipv4Addr;
use std::sync::Arc;

use tokio::task::JoinSet;

pub use hostmap::{HostMap, MappedHost, SumdbKey};

use crate::fake::RequestLog;
use crate::fault::toxiproxy::{ToxicBackend, ToxiproxyHosts};
use crate::pki::Pki;
use crate::scenario::Scenario;
use crate::vocab::NetworkMode;

/// Name under which the guard records attempts to reach undeclared hosts.
pub const OUTSIDE: &str = "<outside>";

/// The running fakes of one scenario.
pub struct World {
    /// Where each host listens, and the rewriting between names and addresses.
    pub map: HostMap,
    /// Every request every fake saw.
    pub log: Arc<RequestLog>,
    /// Server tasks; dropping the set aborts them.
    tasks: JoinSet<()>,
    /// The hosts' proxies on a toxiproxy server (toxiproxy backend); dropping deletes them.
    toxiproxy: Option<ToxiproxyHosts>,
    /// Bound-but-not-listening sockets that keep closed hosts' ports refused.
    _closed: Vec<socket2::Socket>,
    /// The git hosts' repositories, removed with the world.
    _git_roots: Vec<tempfile::TempDir>,
    /// The certificate authorities of this world (shared with a TLS-inspecting proxy,
    /// which forges certificates with the corporate CA).
    pub pki: Arc<Pki>,
}

impl World {
    /// Starts every host of `scenario` with TCP toxics in process. Open mode: each on its
    /// own 127.0.0.1 port, plus the guard. Sealed mode (inside the run's namespaces):
    /// each on its own address ([`sealed_address`]) at ports 443, 80 and the ports its
    /// URLs name.
    pub async fn start(scenario: &Scenario, mode: NetworkMode) -> std::io::Result<World> {
        World::start_with(scenario, mode, &ToxicBackend::InProcess).await
    }

    /// [`World::start`], with the TCP toxics applied by `toxic_backend`; a toxiproxy backend
    /// works in open mode only, and its proxies are deleted when the world stops or
    /// drops.
    pub async fn start_with(
        scenario: &Scenario,
        mode: NetworkMode,
        toxic_backend: &ToxicBackend,
    ) -> std::io::Result<World> {
        let started = std::time::Instant::now();
        let mut builder = build::Builder::new(scenario, mode, toxic_backend)?;
        for (index, spec) in scenario.hosts.iter().enumerate() {
            builder.host(index, spec).await?;
        }
        let world = builder.finish().await?;
        tracing::info!(
            target: "modchaos::world",
            scenario = %scenario.name,
            mode = mode.name(),
            hosts = scenario.hosts.len(),
            ms = started.elapsed().as_millis() as u64,
            "world started"
        );
        for line in world.map.describe() {
            tracing::debug!(target: "modchaos::world", "{line}");
        }
        Ok(world)
    }

    /// Stops every server now (dropping the world does the same).
    pub fn shutdown(&mut self) {
        self.tasks.abort_all();
    }

    /// Stops every server (its listeners closed when this returns) and deletes the
    /// world's toxiproxy proxies, if any; returns the
    /// problems the toxiproxy backend met (API calls that failed while the world ran, or
    /// now). Dropping the world also deletes the proxies, without the report.
    pub async fn stop(&mut self) -> Vec<String> {
        let problems = match &mut self.toxiproxy {
            Some(hosts) => hosts.close().await,
            None => Vec::new(),
        };
        self.tasks.abort_all();
        // Wait until every server task is gone, so that its listeners are closed and
        // another world may take the same addresses at once.
        while self.tasks.join_next().await.is_some() {}
        let scenario = self.log.scenario();
        for problem in &problems {
            tracing::warn!(target: "modchaos::world", scenario, problem = %problem, "toxiproxy backend");
        }
        tracing::info!(target: "modchaos::world", scenario, "world stopped");
        problems
    }

    /// The world's proxies on a toxiproxy server, with the toxiproxy backend.
    pub fn toxiproxy(&self) -> Option<&ToxiproxyHosts> {
        self.toxiproxy.as_ref()
    }
}

/// The address of the `index`th declared host in a sealed world: 127.0.0.10 and up
/// (127.0.0.1 is the resolver's and localhost's), skipping 127.0.0.53, where a resolver
/// that is down is named.
pub fn sealed_address(index: usize) -> Ipv4Addr {
    // 127.0.0.53 is where a resolver that is down is named (`ResolverDown::Refused`).
    let n = if index + 10 >= 53 { index + 11 } else { index + 10 };
    Ipv4Addr::new(127, 0, 0, u8::try_from(n).unwrap_or(u8::MAX - 1))
}

#[cfg(test)]
mod tests {
    use super::sealed_address;

    #[test]
    fn sealed_addresses_are_distinct_and_leave_the_down_resolvers_free() {
        use crate::scenario::model::ResolverDown;
        let addresses: Vec<_> = (0..200).map(sealed_address).collect();
        assert_eq!(addresses[0], std::net::Ipv4Addr::new(127, 0, 0, 10));
        assert!(!addresses.contains(&ResolverDown::Refused.nameserver()));
        let distinct: std::collections::BTreeSet<_> = addresses.iter().collect();
        assert_eq!(distinct.len(), addresses.len());
    }
}
