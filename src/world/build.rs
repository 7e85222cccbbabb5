//! Building a world host by host: each host's backend (module proxy, checksum database,
//! git host, forward proxy, or nothing for a closed one), its certificate and HTTP
//! faults, what stands in front of it (TCP toxics in process or on a toxiproxy server),
//! and its listeners; then the sealed resolver or the open mode's guard.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;

use super::{HostMap, MappedHost, OUTSIDE, SumdbKey, World, sealed_address};
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
use crate::scenario::{GitMeta, GitSpec, HostKind, HostSpec, Scenario, Unreachable};
use crate::sealed::RESOLVER;
use crate::sumdb::Database;
use crate::vocab::NetworkMode;

/// A world being built: what every host shares, and what the world will own.
pub(super) struct Builder<'a> {
    scenario: &'a Scenario,
    mode: NetworkMode,
    toxic_backend: &'a ToxicBackend,
    log: Arc<RequestLog>,
    pki: Arc<Pki>,
    /// The checksum databases, by host, for their own hosts and for proxies that forward
    /// them.
    databases: Vec<(String, Arc<Database>)>,
    /// Forward proxies reach the other hosts through the world's table, filled once
    /// every host listens.
    table: Arc<OnceLock<HostMap>>,
    tasks: JoinSet<()>,
    closed: Vec<socket2::Socket>,
    git_roots: Vec<tempfile::TempDir>,
    hosts: Vec<MappedHost>,
    /// Owned from the first host on, so that a failure in a later host drops (deletes)
    /// the proxies of the earlier ones.
    toxiproxy: Option<ToxiproxyHosts>,
}

impl<'a> Builder<'a> {
    /// A builder for `scenario`'s world, with its authorities and checksum databases.
    pub(super) fn new(
        scenario: &'a Scenario,
        mode: NetworkMode,
        toxic_backend: &'a ToxicBackend,
    ) -> std::io::Result<Builder<'a>> {
        Ok(Builder {
            scenario,
            mode,
            toxic_backend,
            log: Arc::new(RequestLog::for_scenario(&scenario.name)),
            pki: Arc::new(Pki::generate().map_err(std::io::Error::other)?),
            databases: databases(scenario)?,
            table: Arc::new(OnceLock::new()),
            tasks: JoinSet::new(),
            closed: Vec::new(),
            git_roots: Vec::new(),
            hosts: Vec::new(),
            toxiproxy: None,
        })
    }

    /// Starts the `index`th declared host.
    pub(super) async fn host(&mut self, index: usize, spec: &HostSpec) -> std::io::Result<()> {
        let ip = match (self.mode, &spec.kind) {
            (NetworkMode::Sealed, HostKind::Unreachable(_)) => unreachable_address(index),
            (NetworkMode::Open, _) => Ipv4Addr::LOCALHOST,
            (NetworkMode::Sealed, _) => sealed_address(index),
        };
        let Some(backend) = self.backend(spec).await? else {
            let addr = match &spec.kind {
                HostKind::Blackhole => self.blackhole_address(spec, ip)?,
                HostKind::Unreachable(how) => self.unreachable(ip, *how)?,
                _ => self.closed_address(ip)?,
            };
            self.hosts.push(mapped(spec, addr, None));
            return Ok(());
        };
        let cert =
            crate::fault::tls::certificate(&self.pki, &spec.name, &[IpAddr::V4(ip)], spec.cert, &spec.cert_names)
                .map_err(std::io::Error::other)?;
        // Open mode: a Location naming a declared host must lead to its loopback port,
        // known once every host listens.
        let rewrite: Option<crate::fault::http::HeaderRewrite> = (self.mode == NetworkMode::Open).then(|| {
            let table = self.table.clone();
            Arc::new(move |value: &str| match table.get() {
                Some(map) => map.to_go("Location", value),
                None => value.to_string(),
            }) as crate::fault::http::HeaderRewrite
        });
        let handler = Faulty::wrap(
            BackendHandler(backend),
            FaultSchedule::starting_at(&spec.name, self.scenario.seed, spec.faults.clone(), self.log.started()),
            self.scenario.seed,
            rewrite,
        );
        let tls = match http_only(spec) {
            true => None,
            false => Some(server_config(cert).map_err(std::io::Error::other)?),
        };
        let server = Arc::new(HostServer { name: spec.name.clone(), handler, log: self.log.clone(), tls });
        let front = self.front(spec, ip, &server).await?;
        let addr = self.listen(spec, ip, &front, &server).await?;
        let sumdb = self.sumdb_key(spec);
        self.hosts.push(mapped(spec, addr, sumdb));
        Ok(())
    }

    /// What answers `spec`'s requests; `None` for a closed host.
    async fn backend(&mut self, spec: &HostSpec) -> std::io::Result<Option<Box<dyn Backend>>> {
        let scenario = self.scenario;
        Ok(Some(match &spec.kind {
            HostKind::Goproxy(goproxy) => {
                let served = match &goproxy.modules {
                    Some(globs) => scenario.modules.filter(|path| globs.iter().any(|g| g.is_match(path))),
                    None => scenario.modules.clone(),
                };
                let sumdbs =
                    if goproxy.sumdb { self.databases.iter().map(|(_, db)| db.clone()).collect() } else { Vec::new() };
                Box::new(Goproxy {
                    modules: served.with_overrides(&goproxy.overrides),
                    prefix: goproxy.prefix.clone(),
                    auth: goproxy.auth.clone(),
                    sumdbs,
                })
            }
            HostKind::Git(git) => {
                let root = crate::cleanup::owned_tempdir(&crate::fsutil::base_dir(), "modchaos-git-")?;
                let host = git_host(&spec.name, git, &scenario.modules, root.path().to_path_buf()).await?;
                self.git_roots.push(root);
                Box::new(host)
            }
            HostKind::Sumdb(_) => {
                let db = self.databases.iter().find(|(host, _)| *host == spec.name).map(|(_, db)| db.clone());
                Box::new(SumdbServer { db: db.ok_or_else(|| std::io::Error::other("checksum database missing"))? })
            }
            HostKind::ForwardProxy(p) => {
                let table = self.table.clone();
                let resolve: Resolver = Arc::new(move |name: &str, port: u16| resolve(table.get()?, name, port));
                let mut proxy = ForwardProxy::new(resolve);
                proxy.auth = p.auth.clone();
                proxy.connect = p.connect;
                proxy.block = p.block.clone();
                proxy.intercept = p.intercept.then(|| Arc::new(Interception::new(self.pki.clone())));
                Box::new(proxy)
            }
            HostKind::Closed | HostKind::Blackhole | HostKind::Unreachable(_) => return Ok(None),
        }))
    }

    /// Where a closed host "listens": nothing does on a sealed host's own address; in
    /// open mode a port held bound but never listening.
    fn closed_address(&mut self, ip: Ipv4Addr) -> std::io::Result<SocketAddr> {
        Ok(match self.mode {
            NetworkMode::Sealed => SocketAddr::from((ip, 443)),
            NetworkMode::Open => {
                let (socket, addr) = bound_not_listening()?;
                self.closed.push(socket);
                addr
            }
        })
    }

    /// Where a black-holed host "listens": listeners whose one-connection queue is kept
    /// full and never drained, so further connection attempts are dropped unanswered.
    fn blackhole_address(&mut self, spec: &HostSpec, ip: Ipv4Addr) -> std::io::Result<SocketAddr> {
        match self.mode {
            NetworkMode::Open => {
                let (sockets, addr) = blackhole(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
                self.closed.extend(sockets);
                Ok(addr)
            }
            NetworkMode::Sealed => {
                for port in [443, 80].into_iter().chain(spec.ports.iter().copied()) {
                    let (sockets, _) = blackhole(SocketAddr::from((ip, port)))?;
                    self.closed.extend(sockets);
                }
                Ok(SocketAddr::from((ip, 443)))
            }
        }
    }

    /// Where an unreachable host's name points: an address outside loopback that has no
    /// route in the sealed namespace, or a reject route.
    fn unreachable(&mut self, ip: Ipv4Addr, how: Unreachable) -> std::io::Result<SocketAddr> {
        if self.mode != NetworkMode::Sealed {
            return Err(std::io::Error::other("an unreachable host needs a sealed world"));
        }
        if how == Unreachable::Host {
            crate::sealed::ns::reject_route(ip)?;
        }
        Ok(SocketAddr::from((ip, 443)))
    }

    /// What stands in front of `server`: with toxics, the server listens on an internal
    /// port and the toxic proxy on the host's public address(es), in process or on a
    /// toxiproxy server (which reaches the server through a recording relay).
    async fn front(&mut self, spec: &HostSpec, ip: Ipv4Addr, server: &Arc<HostServer>) -> std::io::Result<Front> {
        let (scenario, log) = (self.scenario, &self.log);
        match (&spec.toxics[..], self.toxic_backend) {
            ([], _) => Ok(Front::Direct),
            (toxics, ToxicBackend::InProcess) => {
                let set = ToxicSet::new(&spec.name, scenario.seed, toxics.to_vec(), log.started())
                    .map_err(|e| std::io::Error::other(format!("{}: {e}", spec.name)))?;
                let internal = TcpListener::bind((ip, 0)).await?;
                let upstream = internal.local_addr()?;
                self.tasks.spawn(serve(internal, server.clone()));
                Ok(Front::InProcess(Arc::new(set), upstream))
            }
            (toxics, ToxicBackend::Toxiproxy(client)) => {
                if self.mode == NetworkMode::Sealed {
                    return Err(std::io::Error::other(
                        "the toxiproxy backend works in open mode only: its server is outside the sealed namespaces",
                    ));
                }
                for toxic in toxics {
                    toxic::validate(toxic).map_err(|e| std::io::Error::other(format!("{}: {e}", spec.name)))?;
                }
                let internal = TcpListener::bind((ip, 0)).await?;
                let upstream = internal.local_addr()?;
                self.tasks.spawn(serve(internal, server.clone()));
                let relay = TcpListener::bind((ip, 0)).await?;
                let relay_addr = relay.local_addr()?;
                let hosts = self.toxiproxy.get_or_insert_with(|| ToxiproxyHosts::new(client.clone()));
                let (public, labels) = hosts
                    .add_host(&spec.name, toxics, relay_addr, log.started())
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                let set = Arc::new(ToxicSet::relay(&spec.name, labels, log.started()));
                self.tasks.spawn(toxic::serve(relay, upstream, set, log.clone(), spec.name.clone()));
                Ok(Front::Toxiproxy(public))
            }
        }
    }

    /// Opens the host's public listeners (open mode: one 127.0.0.1 port; sealed: 443, 80
    /// and the ports its URLs name on its own address) and returns its address.
    async fn listen(
        &mut self,
        spec: &HostSpec,
        ip: Ipv4Addr,
        front: &Front,
        server: &Arc<HostServer>,
    ) -> std::io::Result<SocketAddr> {
        let public = |tasks: &mut JoinSet<()>, listener: TcpListener| match front {
            Front::InProcess(set, upstream) => {
                tasks.spawn(toxic::serve(listener, *upstream, set.clone(), self.log.clone(), spec.name.clone()))
            }
            Front::Direct | Front::Toxiproxy(_) => tasks.spawn(serve(listener, server.clone())),
        };
        Ok(match (self.mode, front) {
            (NetworkMode::Open, Front::Toxiproxy(public)) => *public,
            (NetworkMode::Open, _) => {
                let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
                let addr = listener.local_addr()?;
                public(&mut self.tasks, listener);
                addr
            }
            (NetworkMode::Sealed, _) => {
                let https = if http_only(spec) { None } else { Some(443) };
                for port in https.into_iter().chain([80]).chain(spec.ports.iter().copied()) {
                    let listener = TcpListener::bind((ip, port)).await.map_err(|e| {
                        std::io::Error::new(e.kind(), format!("{}: cannot listen on {ip}:{port}: {e}", spec.name))
                    })?;
                    public(&mut self.tasks, listener);
                }
                SocketAddr::from((ip, if http_only(spec) { 80 } else { 443 }))
            }
        })
    }

    /// The name and verifier key go needs for a checksum database host.
    fn sumdb_key(&self, spec: &HostSpec) -> Option<SumdbKey> {
        let HostKind::Sumdb(db_spec) = &spec.kind else { return None };
        self.databases.iter().find(|(host, _)| *host == spec.name).map(|(_, db)| SumdbKey {
            name: db.name().to_string(),
            verifier_key: db.verifier_key(),
            via_proxy: db_spec.via_proxy,
        })
    }

    /// Starts the sealed resolver or the open mode's guard, and hands everything over to
    /// the world.
    pub(super) async fn finish(mut self) -> std::io::Result<World> {
        if self.mode == NetworkMode::Sealed {
            let addresses: Vec<(String, Vec<IpAddr>)> =
                self.hosts.iter().map(|h| (h.name.clone(), vec![h.addr.ip()])).collect();
            self.tasks.spawn(resolver(self.scenario, addresses, self.log.clone()).await?);
        }
        let guard = match self.mode {
            NetworkMode::Sealed => None,
            NetworkMode::Open => {
                let guard_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
                let guard = guard_listener.local_addr()?;
                self.tasks.spawn(serve(guard_listener, Arc::new(guard_server(self.log.clone()))));
                Some(guard)
            }
        };
        let map = HostMap { hosts: self.hosts, guard, sealed: self.mode == NetworkMode::Sealed };
        let _ = self.table.set(map.clone());
        Ok(World {
            map,
            log: self.log,
            tasks: self.tasks,
            toxiproxy: self.toxiproxy,
            _closed: self.closed,
            _git_roots: self.git_roots,
            pki: self.pki,
        })
    }
}

/// A git host serving plain http only (nothing on 443).
fn http_only(spec: &HostSpec) -> bool {
    matches!(&spec.kind, HostKind::Git(git) if git.http_only)
}

/// `spec` listening at `addr`, as the host map records it.
fn mapped(spec: &HostSpec, addr: SocketAddr, sumdb: Option<SumdbKey>) -> MappedHost {
    MappedHost { name: spec.name.clone(), kind: spec.kind.name().into(), addr, ports: spec.ports.clone(), sumdb }
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

/// Starts the sealed world's resolver on 127.0.0.1:53 (UDP and TCP): every declared
/// host's name resolves to its address, with the hosts' DNS faults; anything else is
/// NXDOMAIN. Returns the server future for the world's task set.
async fn resolver(
    scenario: &Scenario,
    names: Vec<(String, Vec<IpAddr>)>,
    log: Arc<RequestLog>,
) -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    let faults = scenario.hosts.iter().flat_map(|h| h.dns.iter().cloned()).collect();
    let faults = FaultSchedule::starting_at("dns", scenario.seed, faults, log.started());
    let server = DnsServer::new(FaultyDns::new(Zone::new(names), faults), log);
    let bind_error =
        |e: std::io::Error| std::io::Error::new(e.kind(), format!("cannot start the resolver on {RESOLVER}:53: {e}"));
    let udp = UdpSocket::bind((RESOLVER, 53)).await.map_err(bind_error)?;
    let tcp = TcpListener::bind((RESOLVER, 53)).await.map_err(bind_error)?;
    Ok(dns::serve(udp, tcp, Arc::new(server)))
}

/// The address of the `index`th declared host when it is unreachable: 10.254.0.10 and
/// up, outside the loopback network the sealed namespace has a route for.
fn unreachable_address(index: usize) -> Ipv4Addr {
    let n = u8::try_from(index + 10).unwrap_or(u8::MAX - 1);
    Ipv4Addr::new(10, 254, 0, n)
}

/// A listener on `addr` (port 0: any) with room for one pending connection, and that
/// connection made: the queue stays full, nobody accepts, and the kernel drops every
/// further SYN — a connection attempt then waits until the client gives up.
fn blackhole(addr: SocketAddr) -> std::io::Result<(Vec<socket2::Socket>, SocketAddr)> {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    listener.set_reuse_address(true)?;
    listener.bind(&addr.into())?;
    listener.listen(0)?;
    let bound = listener.local_addr()?.as_socket().ok_or_else(|| std::io::Error::other("no IPv4 address"))?;
    let filler = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    filler.connect_timeout(&bound.into(), std::time::Duration::from_secs(2))?;
    Ok((vec![listener, filler], bound))
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
    let served = modules
        .filter(|path| match &spec.modules {
            Some(globs) => globs.iter().any(|g| g.is_match(path)),
            None => path.starts_with(&format!("{host}/")),
        })
        .with_overrides(&spec.overrides);
    let mut pages = Vec::new();
    let mut builds = Vec::new();
    let mut paths: Vec<&str> = served.iter().map(|m| m.path.as_str()).collect();
    paths.dedup();
    let repos = spec.repos.as_deref().unwrap_or(host);
    for path in paths {
        // The repository (and page) path is the module path below its first element, so
        // that a vanity host and the git host it points at agree.
        let Some((_, rest)) = path.split_once('/') else { continue };
        // A module path ending in `.git` names its repository itself (go asks git for it
        // without the suffix, which git http-backend finds all the same).
        let repo_path = rest.strip_suffix(".git").unwrap_or(rest);
        let scheme = if spec.http_only { "http" } else { "https" };
        let repo = format!("{scheme}://{repos}/{repo_path}.git");
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
        let tagged: Vec<_> = served
            .versions(path)
            .iter()
            .filter(|m| !spec.untagged.iter().any(|(p, v)| *p == m.path && *v == m.version))
            .cloned()
            .collect();
        builds.push((tagged, repo_dir(&root, &format!("/{repo_path}.git"))));
    }
    tokio::task::spawn_blocking(move || {
        for (versions, dir) in builds {
            gitrepo::build(&versions, &dir).map_err(std::io::Error::other)?;
        }
        Ok::<(), std::io::Error>(())
    })
    .await
    .map_err(std::io::Error::other)??;
    Ok(GitHost {
        project_root: root,
        pages,
        auth: spec.auth.clone(),
        auth_pages: spec.auth_pages,
        missing_words: GitHost::missing_words_of(host),
    })
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
