//! A scenario's world: its fake hosts started on loopback, the guard that catches any
//! attempt to leave, and the shared request log. Dropping the world stops every server
//! and ends every connection, hung ones included.

pub mod cache;
pub mod hostmap;
pub mod sandbox;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;

pub use hostmap::{HostMap, MappedHost, SumdbKey};

use crate::fake::RequestLog;
use crate::fake::dns::{self, DnsServer, Zone};
use crate::fake::forward::{ForwardProxy, Interception, Resolver};
use crate::fake::git::{GitHost, Meta, MetaPage, repo_dir};
use crate::fake::goproxy::Goproxy;
use crate::fake::http::{Backend, BackendHandler, HostServer, Reply, RequestInfo, serve};
use crate::fake::sumdb::SumdbServer;
use crate::fault::FaultSchedule;
use crate::fault::dns::FaultyDns;
use crate::fault::http::Faulty;
use crate::fault::tcp::{self as toxic, ToxicSet};
use crate::fault::toxiproxy::{ToxicBackend, ToxiproxyHosts};
use crate::fixture::{ModuleSet, gitrepo};
use crate::pki::{Pki, server_config};
use crate::scenario::{GitMeta, GitSpec, HostKind, Scenario};
use crate::sealed::RESOLVER;
use crate::sumdb::Database;
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
        let log = Arc::new(RequestLog::default());
        let pki = Arc::new(Pki::generate().map_err(std::io::Error::other)?);
        let databases = databases(scenario)?;
        // Forward proxies reach the other hosts through the world's table, filled once
        // every host listens.
        let table: Arc<OnceLock<HostMap>> = Arc::new(OnceLock::new());
        let mut tasks = JoinSet::new();
        let mut closed = Vec::new();
        let mut git_roots = Vec::new();
        let mut hosts = Vec::new();
        // Declared before the loop so that a failure in a later host drops (deletes)
        // the proxies of the earlier ones.
        let mut toxiproxy: Option<ToxiproxyHosts> = None;
        for (index, spec) in scenario.hosts.iter().enumerate() {
            let ip = match mode {
                NetworkMode::Open => Ipv4Addr::LOCALHOST,
                NetworkMode::Sealed => sealed_address(index),
            };
            let mapped = |addr: SocketAddr, sumdb: Option<SumdbKey>| MappedHost {
                name: spec.name.clone(),
                kind: spec.kind.name().into(),
                addr,
                ports: spec.ports.clone(),
                sumdb,
            };
            let backend: Box<dyn Backend> = match &spec.kind {
                HostKind::Goproxy(goproxy) => {
                    let served = match &goproxy.modules {
                        Some(globs) => scenario.modules.filter(|path| globs.iter().any(|g| g.is_match(path))),
                        None => scenario.modules.clone(),
                    };
                    let sumdbs =
                        if goproxy.sumdb { databases.iter().map(|(_, db)| db.clone()).collect() } else { Vec::new() };
                    Box::new(Goproxy {
                        modules: served.with_overrides(&goproxy.overrides),
                        prefix: goproxy.prefix.clone(),
                        auth: goproxy.auth.clone(),
                        sumdbs,
                    })
                }
                HostKind::Git(git) => {
                    let root = tempfile::Builder::new().prefix("modchaos-git-").tempdir_in(crate::fsutil::base_dir())?;
                    let host = git_host(&spec.name, git, &scenario.modules, root.path().to_path_buf()).await?;
                    git_roots.push(root);
                    Box::new(host)
                }
                HostKind::Sumdb(_) => {
                    let db = databases.iter().find(|(host, _)| *host == spec.name).map(|(_, db)| db.clone());
                    Box::new(SumdbServer { db: db.ok_or_else(|| std::io::Error::other("checksum database missing"))? })
                }
                HostKind::ForwardProxy(p) => {
                    let table = table.clone();
                    let resolve: Resolver = Arc::new(move |name: &str, port: u16| resolve(table.get()?, name, port));
                    let mut proxy = ForwardProxy::new(resolve);
                    proxy.auth = p.auth.clone();
                    proxy.connect = p.connect;
                    proxy.block = p.block.clone();
                    proxy.intercept = p.intercept.then(|| Arc::new(Interception::new(pki.clone())));
                    Box::new(proxy)
                }
                HostKind::Closed => {
                    let addr = match mode {
                        // Nothing listens on a sealed host's own address.
                        NetworkMode::Sealed => SocketAddr::from((ip, 443)),
                        NetworkMode::Open => {
                            let (socket, addr) = bound_not_listening()?;
                            closed.push(socket);
                            addr
                        }
                    };
                    hosts.push(mapped(addr, None));
                    continue;
                }
            };
            let cert = crate::fault::tls::certificate(&pki, &spec.name, &[IpAddr::V4(ip)], spec.cert)
                .map_err(std::io::Error::other)?;
            let handler = Faulty::wrap(
                BackendHandler(backend),
                FaultSchedule::starting_at(&spec.name, scenario.seed, spec.faults.clone(), log.started()),
                scenario.seed,
            );
            let server = Arc::new(HostServer {
                name: spec.name.clone(),
                handler,
                log: log.clone(),
                tls: Some(server_config(cert).map_err(std::io::Error::other)?),
            });
            // With toxics, the server listens on an internal port and the toxic proxy on
            // the host's public address(es): in process, or on a toxiproxy server
            // (which reaches the server through a recording relay).
            let front = match (&spec.toxics[..], toxic_backend) {
                ([], _) => Front::Direct,
                (toxics, ToxicBackend::InProcess) => {
                    let set = ToxicSet::new(&spec.name, scenario.seed, toxics.to_vec(), log.started())
                        .map_err(|e| std::io::Error::other(format!("{}: {e}", spec.name)))?;
                    let internal = TcpListener::bind((ip, 0)).await?;
                    let upstream = internal.local_addr()?;
                    tasks.spawn(serve(internal, server.clone()));
                    Front::InProcess(Arc::new(set), upstream)
                }
                (toxics, ToxicBackend::Toxiproxy(client)) => {
                    if mode == NetworkMode::Sealed {
                        return Err(std::io::Error::other(
                            "the toxiproxy backend works in open mode only: its server is outside the sealed namespaces",
                        ));
                    }
                    for toxic in toxics {
                        toxic::validate(toxic).map_err(|e| std::io::Error::other(format!("{}: {e}", spec.name)))?;
                    }
                    let internal = TcpListener::bind((ip, 0)).await?;
                    let upstream = internal.local_addr()?;
                    tasks.spawn(serve(internal, server.clone()));
                    let relay = TcpListener::bind((ip, 0)).await?;
                    let relay_addr = relay.local_addr()?;
                    let hosts = toxiproxy.get_or_insert_with(|| ToxiproxyHosts::new(client.clone()));
                    let (public, labels) = hosts
                        .add_host(&spec.name, toxics, relay_addr, log.started())
                        .await
                        .map_err(|e| std::io::Error::other(e.to_string()))?;
                    let set = Arc::new(ToxicSet::relay(&spec.name, labels, log.started()));
                    tasks.spawn(toxic::serve(relay, upstream, set, log.clone(), spec.name.clone()));
                    Front::Toxiproxy(public)
                }
            };
            let mut public = |listener: TcpListener| match &front {
                Front::InProcess(set, upstream) => {
                    tasks.spawn(toxic::serve(listener, *upstream, set.clone(), log.clone(), spec.name.clone()))
                }
                Front::Direct | Front::Toxiproxy(_) => tasks.spawn(serve(listener, server.clone())),
            };
            let addr = match (mode, &front) {
                (NetworkMode::Open, Front::Toxiproxy(public)) => *public,
                (NetworkMode::Open, _) => {
                    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
                    let addr = listener.local_addr()?;
                    public(listener);
                    addr
                }
                (NetworkMode::Sealed, _) => {
                    for port in [443, 80].into_iter().chain(spec.ports.iter().copied()) {
                        let listener = TcpListener::bind((ip, port)).await.map_err(|e| {
                            std::io::Error::new(e.kind(), format!("{}: cannot listen on {ip}:{port}: {e}", spec.name))
                        })?;
                        public(listener);
                    }
                    SocketAddr::from((ip, 443))
                }
            };
            let sumdb = match &spec.kind {
                HostKind::Sumdb(db_spec) => {
                    databases.iter().find(|(host, _)| *host == spec.name).map(|(_, db)| SumdbKey {
                        name: db.name().to_string(),
                        verifier_key: db.verifier_key(),
                        via_proxy: db_spec.via_proxy,
                    })
                }
                _ => None,
            };
            hosts.push(mapped(addr, sumdb));
        }
        if mode == NetworkMode::Sealed {
            tasks.spawn(resolver(scenario, log.clone()).await?);
        }
        let guard = match mode {
            NetworkMode::Sealed => None,
            NetworkMode::Open => {
                let guard_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
                let guard = guard_listener.local_addr()?;
                tasks.spawn(serve(guard_listener, Arc::new(guard_server(log.clone()))));
                Some(guard)
            }
        };
        let map = HostMap { hosts, guard, sealed: mode == NetworkMode::Sealed };
        let _ = table.set(map.clone());
        Ok(World { map, log, tasks, toxiproxy, _closed: closed, _git_roots: git_roots, pki })
    }

    /// Stops every server now (dropping the world does the same).
    pub fn shutdown(&mut self) {
        self.tasks.abort_all();
    }

    /// Stops every server and deletes the world's toxiproxy proxies, if any; returns the
    /// problems the toxiproxy backend met (API calls that failed while the world ran, or
    /// now). Dropping the world also deletes the proxies, without the report.
    pub async fn stop(&mut self) -> Vec<String> {
        let problems = match &mut self.toxiproxy {
            Some(hosts) => hosts.close().await,
            None => Vec::new(),
        };
        self.tasks.abort_all();
        problems
    }

    /// The world's proxies on a toxiproxy server, with the toxiproxy backend.
    pub fn toxiproxy(&self) -> Option<&ToxiproxyHosts> {
        self.toxiproxy.as_ref()
    }
}

/// What stands in front of a host's server on its public address.
enum Front {
    /// Nothing: the server listens there itself.
    Direct,
    /// The in-process toxic proxy, forwarding to the server's internal address.
    InProcess(Arc<ToxicSet>, SocketAddr),
    /// A toxiproxy proxy, listening at this address.
    Toxiproxy(SocketAddr),
}

/// Where a forward proxy connects for `name:port`: in a sealed world the host's own
/// address at that port (where it listens if the scenario's URLs name the port), in open
/// mode the host's one port whatever was asked.
fn resolve(map: &HostMap, name: &str, port: u16) -> Option<SocketAddr> {
    let host = map.get(name)?;
    Some(if map.sealed { SocketAddr::new(host.addr.ip(), port) } else { host.addr })
}

/// The address of the `index`th declared host in a sealed world: 127.0.0.10 and up
/// (127.0.0.1 is the resolver's and localhost's).
pub fn sealed_address(index: usize) -> Ipv4Addr {
    let n = u8::try_from(index + 10).unwrap_or(u8::MAX - 1);
    Ipv4Addr::new(127, 0, 0, n)
}

/// Starts the sealed world's resolver on 127.0.0.1:53 (UDP and TCP): every declared
/// host's name resolves to its address, with the hosts' DNS faults; anything else is
/// NXDOMAIN. Returns the server future for the world's task set.
async fn resolver(
    scenario: &Scenario,
    log: Arc<RequestLog>,
) -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    let names = scenario.hosts.iter().enumerate().map(|(i, h)| (h.name.clone(), vec![IpAddr::V4(sealed_address(i))]));
    let faults = scenario.hosts.iter().flat_map(|h| h.dns.iter().cloned()).collect();
    let faults = FaultSchedule::starting_at("dns", scenario.seed, faults, log.started());
    let server = DnsServer::new(FaultyDns::new(Zone::new(names), faults), log);
    let bind_error =
        |e: std::io::Error| std::io::Error::new(e.kind(), format!("cannot start the resolver on {RESOLVER}:53: {e}"));
    let udp = UdpSocket::bind((RESOLVER, 53)).await.map_err(bind_error)?;
    let tcp = TcpListener::bind((RESOLVER, 53)).await.map_err(bind_error)?;
    Ok(dns::serve(udp, tcp, Arc::new(server)))
}

/// A socket bound to a 127.0.0.1 port that never listens: connections to it are refused,
/// and no other program can take the port while the world lives.
fn bound_not_listening() -> std::io::Result<(socket2::Socket, SocketAddr)> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
    let addr =
        socket.local_addr()?.as_socket().ok_or_else(|| std::io::Error::other("closed host has no IPv4 address"))?;
    Ok((socket, addr))
}

/// The checksum databases of a scenario, by host: each over the genuine fixtures it is
/// told to know (never a proxy's tampered copies).
fn databases(scenario: &Scenario) -> std::io::Result<Vec<(String, Arc<Database>)>> {
    let mut databases = Vec::new();
    for spec in &scenario.hosts {
        if let HostKind::Sumdb(db) = &spec.kind {
            let known = match &db.modules {
                Some(globs) => scenario.modules.filter(|path| globs.iter().any(|g| g.is_match(path))),
                None => scenario.modules.clone(),
            };
            let database = Database::new(&db.name, &known).map_err(std::io::Error::other)?;
            databases.push((spec.name.clone(), Arc::new(database)));
        }
    }
    Ok(databases)
}

/// A git host named `host` serving, each from a repository of its own, the modules under
/// its name (`<host>/lib` → page `/lib`, repository `/lib.git`), built under `root`.
async fn git_host(host: &str, spec: &GitSpec, modules: &ModuleSet, root: PathBuf) -> std::io::Result<GitHost> {
    let served = modules.filter(|path| match &spec.modules {
        Some(globs) => globs.iter().any(|g| g.is_match(path)),
        None => path.starts_with(&format!("{host}/")),
    });
    let mut pages = Vec::new();
    let mut builds = Vec::new();
    let mut paths: Vec<&str> = served.iter().map(|m| m.path.as_str()).collect();
    paths.dedup();
    let repos = spec.repos.as_deref().unwrap_or(host);
    for path in paths {
        // The repository (and page) path is the module path below its first element, so
        // that a vanity host and the git host it points at agree.
        let Some((_, rest)) = path.split_once('/') else { continue };
        let repo = format!("https://{repos}/{rest}.git");
        let meta = match spec.meta {
            GitMeta::Ok => Meta::GoImport { prefix: path.into(), vcs: "git".into(), repo },
            GitMeta::NoTag => Meta::NoTag,
            GitMeta::WrongPrefix => Meta::GoImport { prefix: format!("{host}/legacy/{rest}"), vcs: "git".into(), repo },
            GitMeta::MissingRepo => Meta::GoImport {
                prefix: path.into(),
                vcs: "git".into(),
                repo: format!("https://{host}/{rest}-archived.git"),
            },
        };
        pages.push(MetaPage { path: format!("/{rest}"), meta });
        builds.push((served.versions(path).to_vec(), repo_dir(&root, &format!("/{rest}.git"))));
    }
    tokio::task::spawn_blocking(move || {
        for (versions, dir) in builds {
            gitrepo::build(&versions, &dir).map_err(std::io::Error::other)?;
        }
        Ok::<(), std::io::Error>(())
    })
    .await
    .map_err(std::io::Error::other)??;
    Ok(GitHost { project_root: root, pages, auth: spec.auth.clone(), auth_pages: false })
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
    HostServer::new(OUTSIDE, refuse, log)
}
