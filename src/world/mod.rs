//! A scenario's world: its fake hosts started on loopback, the guard that catches any
//! attempt to leave, and the shared request log. Dropping the world stops every server
//! and ends every connection, hung ones included.

pub mod hostmap;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub use hostmap::{HostMap, MappedHost};

use crate::fake::RequestLog;
use crate::fake::goproxy::Goproxy;
use crate::fake::http::{HostServer, Reply, RequestInfo, serve};
use crate::fault::FaultSchedule;
use crate::pki::{Pki, server_config};
use crate::scenario::{HostKind, Scenario};

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
    /// Bound-but-not-listening sockets that keep closed hosts' ports refused.
    _closed: Vec<socket2::Socket>,
    /// The certificate authorities of this world.
    pub pki: Pki,
}

impl World {
    /// Starts every host of `scenario` on its own 127.0.0.1 port, plus the guard.
    pub async fn start(scenario: &Scenario) -> std::io::Result<World> {
        let log = Arc::new(RequestLog::default());
        let pki = Pki::generate().map_err(std::io::Error::other)?;
        let mut tasks = JoinSet::new();
        let mut closed = Vec::new();
        let mut hosts = Vec::new();
        for spec in &scenario.hosts {
            let addr = match &spec.kind {
                HostKind::Goproxy(goproxy) => {
                    let modules = match &goproxy.modules {
                        Some(globs) => scenario.modules.filter(|path| globs.iter().any(|g| g.is_match(path))),
                        None => scenario.modules.clone(),
                    };
                    let backend = Goproxy { modules, prefix: goproxy.prefix.clone(), auth: goproxy.auth.clone() };
                    let cert = pki
                        .leaf(&spec.name, &[IpAddr::V4(Ipv4Addr::LOCALHOST)], spec.cert)
                        .map_err(std::io::Error::other)?;
                    let server = HostServer {
                        tls: Some(server_config(cert).map_err(std::io::Error::other)?),
                        name: spec.name.clone(),
                        backend: Box::new(backend),
                        faults: FaultSchedule::new(&spec.name, scenario.seed, spec.faults.clone()),
                        log: log.clone(),
                        seed: scenario.seed,
                    };
                    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
                    let addr = listener.local_addr()?;
                    tasks.spawn(serve(listener, Arc::new(server)));
                    addr
                }
                HostKind::Closed => {
                    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
                    socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
                    let addr = socket
                        .local_addr()?
                        .as_socket()
                        .ok_or_else(|| std::io::Error::other("closed host has no IPv4 address"))?;
                    closed.push(socket);
                    addr
                }
            };
            hosts.push(MappedHost { name: spec.name.clone(), kind: spec.kind.name().into(), addr });
        }
        let guard_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let guard = guard_listener.local_addr()?;
        tasks.spawn(serve(guard_listener, Arc::new(guard_server(log.clone()))));
        Ok(World { map: HostMap { hosts, guard: Some(guard) }, log, tasks, _closed: closed, pki })
    }

    /// Stops every server now (dropping the world does the same).
    pub fn shutdown(&mut self) {
        self.tasks.abort_all();
    }
}

/// A forward proxy that refuses everything: go is pointed at it for every host that is
/// not declared, so an escape attempt fails fast, visibly, and is recorded.
fn guard_server(log: Arc<RequestLog>) -> HostServer {
    let refuse = |request: &RequestInfo| {
        Reply::text(
            403,
            format!("modchaos: {} is outside the sandbox: declare the host in the scenario\n", request.path),
        )
    };
    HostServer {
        name: OUTSIDE.into(),
        backend: Box::new(refuse),
        faults: FaultSchedule::new(OUTSIDE, 0, Vec::new()),
        log,
        seed: 0,
        tls: None,
    }
}
