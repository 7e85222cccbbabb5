//! The validated scenario: plain data the runner can trust. Built once from the raw
//! file types by [`super::validate`]; nothing downstream re-checks the file.

use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;

use crate::fault::HttpFault;
use crate::fixture::ModuleSet;
use crate::vocab::{BasicAuth, Category, ExitExpectation, PathGlob};

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Unique name.
    pub name: String,
    /// What it demonstrates.
    pub about: Option<String>,
    /// The file it came from.
    pub file: PathBuf,
    /// Its text: a sealed run re-loads the scenario from it in a child process.
    pub source: std::sync::Arc<String>,
    /// Directories searched for playbooks when it was loaded (the child searches them too).
    pub playbook_dirs: Vec<PathBuf>,
    /// Which network modes can run it.
    pub network: NetworkNeed,
    /// Settings of the sealed world's resolver.
    pub resolver: ResolverOptions,
    /// The oldest go release (major, minor) the scenario applies to.
    pub min_go: Option<(u32, u32)>,
    /// Seed for probabilistic faults.
    pub seed: u64,
    /// What validation found valid but probably not meant (a regex where a glob is
    /// expected): `validate` and `run` show them; the scenario runs as written.
    pub warnings: Vec<crate::scenario::FileProblem>,
    /// Modules the world's proxies serve.
    pub modules: ModuleSet,
    /// The fake hosts, in file order.
    pub hosts: Vec<HostSpec>,
    /// Certificate authorities go trusts.
    pub trust: Vec<crate::pki::Authority>,
    /// Environment for go in scenario terms (URLs name declared hosts), in file order.
    pub env: Vec<(String, String)>,
    /// The module cache before the run.
    pub cache: CacheSetup,
    /// Who go runs as.
    pub go_user: GoUser,
    /// Run the same command against the world without its faults first.
    pub steady_state: bool,
    /// The run's home and go's own directories before the first run.
    pub sandbox: SandboxSetup,
    /// Files for the work module directory (relative path, content).
    pub files: Vec<(String, String)>,
    /// The go commands.
    pub run: Vec<GoStep>,
    /// What must hold after the run.
    pub expect: Expectation,
    /// The recovery, if any.
    pub recover: Option<Recovery>,
}

/// Who go runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoUser {
    /// uid 1000 where the harness can choose (root, or a sealed namespace), else the
    /// user modchaos runs as: permission errors happen as on a customer's machine.
    #[default]
    Unprivileged,
    /// root (the namespace's root in a sealed run): no permission error ever happens.
    Root,
}

/// A directory of the sandbox that a scenario may give to root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxDir {
    /// HOME.
    Home,
    /// GOPATH.
    Gopath,
    /// GOCACHE.
    BuildCache,
}

impl SandboxDir {
    /// The name scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            SandboxDir::Home => "home",
            SandboxDir::Gopath => "gopath",
            SandboxDir::BuildCache => "build_cache",
        }
    }
}

/// The run's home and go's own directories before the first run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxSetup {
    /// Files written into HOME (path below HOME, content).
    pub home_files: Vec<(String, String)>,
    /// Directories that belong to root, not to go's user.
    pub root_owned: Vec<SandboxDir>,
    /// Sandbox variables go does not get.
    pub unset: Vec<String>,
}

impl SandboxSetup {
    /// Where `go env -w` writes, below HOME.
    pub const GO_ENV_FILE: &'static str = ".config/go/env";

    /// The variables the go env file in HOME sets (`go env -w` writes `KEY=value` lines):
    /// the sandbox leaves them to it, as the environment would override the file.
    pub fn go_env_file_vars(&self) -> Vec<String> {
        self.home_files
            .iter()
            .filter(|(path, _)| path == Self::GO_ENV_FILE)
            .flat_map(|(_, content)| content.lines())
            .filter_map(|line| line.split_once('=').map(|(k, _)| k.trim().to_string()))
            .filter(|k| !k.is_empty() && !k.starts_with('#'))
            .collect()
    }

    /// True when something belongs to another user than go's (which needs modchaos to
    /// run as root).
    pub fn needs_second_user(&self) -> bool {
        !self.root_owned.is_empty()
    }
}

impl Scenario {
    /// What in this scenario needs files owned by another user than go's (root, while go
    /// runs unprivileged), if anything: only a modchaos running as root can make them.
    pub fn needs_second_user(&self) -> Option<&'static str> {
        if self.sandbox.needs_second_user() {
            return Some("sandbox.root_owned");
        }
        let root_owned =
            |f: &CacheFaultSpec| matches!(f, CacheFaultSpec::Files(crate::fault::cache::CacheFault::RootOwned { .. }));
        self.cache.faults.iter().any(root_owned).then_some("the cache fault root_owned")
    }

    /// The same scenario with none of its faults (HTTP, DNS, TCP toxics, certificates,
    /// module cache damage): its steady state.
    pub fn without_faults(&self) -> Scenario {
        let mut calm = self.clone();
        for host in &mut calm.hosts {
            host.faults.clear();
            host.dns.clear();
            host.toxics.clear();
            host.cert = Default::default();
        }
        calm.cache.faults.clear();
        calm.sandbox.root_owned.clear();
        calm.steady_state = false;
        calm
    }
}

/// Which network modes a scenario can run in, and why.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NetworkNeed {
    /// Either: sealed where available, open elsewhere.
    #[default]
    Any,
    /// Sealed only, for this reason (DNS faults, a forward proxy, undeclared names…).
    Sealed(String),
    /// Open only, for this reason (it is about the open mode's guard, say).
    Open(String),
}

/// Options of the sealed resolver, written to its `/etc/resolv.conf` (go's defaults
/// when unset: 5 s timeout, 2 attempts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResolverOptions {
    /// Seconds go waits for an answer (`options timeout:N`).
    pub timeout: Option<Duration>,
    /// Tries per name and server (`options attempts:N`).
    pub attempts: Option<u32>,
    /// How the resolver resolv.conf names is down, if it is.
    pub down: Option<ResolverDown>,
}

/// How the machine's resolver is down: every lookup fails before any name is asked
/// about, the way a sandbox without network or a stopped local resolver fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResolverDown {
    /// Nothing listens at its loopback address (a stopped systemd-resolved or dnsmasq, a
    /// container's 127.0.0.11 without its engine's DNS): `read: connection refused`.
    Refused,
    /// Its address has no route (a build sandbox without network, an IPv6 resolver on an
    /// IPv4-only host): `connect: network is unreachable`.
    Unreachable,
}

impl ResolverDown {
    /// The address resolv.conf names: 127.0.0.53 (systemd-resolved's), which no declared
    /// host takes, or one outside loopback, where the sealed namespace has no route.
    pub fn nameserver(self) -> std::net::Ipv4Addr {
        match self {
            ResolverDown::Refused => std::net::Ipv4Addr::new(127, 0, 0, 53),
            ResolverDown::Unreachable => std::net::Ipv4Addr::new(10, 254, 255, 53),
        }
    }
}

/// What the module cache holds, and what is broken in it, before the run.
#[derive(Debug, Clone, Default)]
pub struct CacheSetup {
    /// Versions written into the cache as go leaves them (path, version).
    pub seed: Vec<(String, String)>,
    /// Faults, applied in order after seeding.
    pub faults: Vec<CacheFaultSpec>,
}

impl CacheSetup {
    /// True when the cache starts empty and sound.
    pub fn is_empty(&self) -> bool {
        self.seed.is_empty() && self.faults.is_empty()
    }
}

/// One cache fault, by how it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheFaultSpec {
    /// Damage to files, or a process holding a lock.
    Files(crate::fault::cache::CacheFault),
    /// A read-only bind mount (so that even root cannot write).
    ReadOnly(crate::fault::cache::ReadOnlyScope),
    /// A tmpfs of this many bytes over the module cache.
    DiskFull(u64),
}

impl CacheFaultSpec {
    /// The name scenario files use.
    pub fn name(&self) -> &'static str {
        match self {
            CacheFaultSpec::Files(f) => f.name(),
            CacheFaultSpec::ReadOnly(_) => "read_only",
            CacheFaultSpec::DiskFull(_) => "disk_full",
        }
    }
}

/// One declared host.
#[derive(Debug, Clone)]
pub struct HostSpec {
    /// Host name as the scenario writes it.
    pub name: String,
    /// What the host is.
    pub kind: HostKind,
    /// Its certificate, when clients use https.
    pub cert: crate::fault::tls::CertFault,
    /// The names a `wrong_host` certificate is valid for (empty: a made-up other name).
    pub cert_names: Vec<String>,
    /// Ports it listens on in a sealed world besides 80 and 443: every port the
    /// scenario's URLs name for it (`http://proxy.corp.example:3128`).
    pub ports: Vec<u16>,
    /// HTTP faults, in order.
    pub faults: Vec<HttpFault>,
    /// DNS faults for its name, in order.
    pub dns: Vec<crate::fault::DnsFault>,
    /// TCP toxics on its connections, in order.
    pub toxics: Vec<crate::fault::tcp::Toxic>,
}

/// What a host does.
#[derive(Debug, Clone)]
pub enum HostKind {
    /// A GOPROXY-protocol server.
    Goproxy(GoproxySpec),
    /// Nothing listens: connections are refused.
    Closed,
    /// Connections are never taken: go's dial times out.
    Blackhole,
    /// The address has no route.
    Unreachable(Unreachable),
    /// A checksum database.
    Sumdb(SumdbSpec),
    /// A forward proxy (HTTPS_PROXY / HTTP_PROXY).
    ForwardProxy(ForwardProxySpec),
    /// A git host (go's direct mode).
    Git(GitSpec),
}

impl HostKind {
    /// The kind's name as written in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            HostKind::Goproxy(_) => "goproxy",
            HostKind::Closed => "closed",
            HostKind::Blackhole => "blackhole",
            HostKind::Unreachable(_) => "unreachable",
            HostKind::Sumdb(_) => "sumdb",
            HostKind::ForwardProxy(_) => "forward_proxy",
            HostKind::Git(_) => "git",
        }
    }
}

/// Why a host's address cannot be reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unreachable {
    /// No route at all: `connect: network is unreachable`.
    #[default]
    Network,
    /// A reject route: `connect: no route to host`.
    Host,
}

impl HostKind {
    /// True for kinds where nothing answers (faults and toxics never act there).
    pub fn is_silent(&self) -> bool {
        matches!(self, HostKind::Closed | HostKind::Blackhole | HostKind::Unreachable(_))
    }
}

/// Settings of a module proxy host.
#[derive(Debug, Clone, Default)]
pub struct GoproxySpec {
    /// Module path globs this proxy serves (`None`: all).
    pub modules: Option<Vec<globset::GlobMatcher>>,
    /// URL path prefix, without trailing slash (`""` or `/goproxy`).
    pub prefix: String,
    /// Required Basic credentials.
    pub auth: Option<BasicAuth>,
    /// Forwards the checksum databases under `/sumdb/`.
    pub sumdb: bool,
    /// Module versions this proxy serves differently from the scenario's fixtures.
    pub overrides: ModuleSet,
}

/// Settings of a forward proxy host.
#[derive(Debug, Clone, Default)]
pub struct ForwardProxySpec {
    /// Re-signs TLS with the corporate CA.
    pub intercept: bool,
    /// Required Basic credentials.
    pub auth: Option<BasicAuth>,
    /// What CONNECT gets.
    pub connect: crate::vocab::ConnectMode,
    /// Blocked target host globs.
    pub block: Vec<globset::GlobMatcher>,
}

/// Settings of a checksum database host.
#[derive(Debug, Clone)]
pub struct SumdbSpec {
    /// Database name.
    pub name: String,
    /// Module path globs it knows (`None`: all).
    pub modules: Option<Vec<globset::GlobMatcher>>,
    /// GOSUMDB gets only the key, so go asks the proxies first.
    pub via_proxy: bool,
}

/// Settings of a git host.
#[derive(Debug, Clone, Default)]
pub struct GitSpec {
    /// Module path globs it serves (`None`: every module under the host's name).
    pub modules: Option<Vec<globset::GlobMatcher>>,
    /// Required Basic credentials on git requests.
    pub auth: Option<BasicAuth>,
    /// With `auth`: the `?go-get=1` pages need the credentials too.
    pub auth_pages: bool,
    /// What its `?go-get=1` pages say.
    pub meta: GitMeta,
    /// The declared host holding the repositories its pages point at (itself by default).
    pub repos: Option<String>,
    /// Versions whose tags point at other content (moved tags).
    pub overrides: ModuleSet,
    /// Versions whose tags are gone (path, version).
    pub untagged: Vec<(String, String)>,
    /// Plain http only: nothing listens on 443.
    pub http_only: bool,
}

/// What a git host's `?go-get=1` pages say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GitMeta {
    /// The module's path, git, and the repository this host serves.
    #[default]
    Ok,
    /// A page without any go-import meta tag.
    NoTag,
    /// A tag for another prefix (`<host>/legacy/<rest>`), as after a move.
    WrongPrefix,
    /// A tag pointing at a repository that does not exist (`<rest>-archived.git`).
    MissingRepo,
}

/// One go invocation.
#[derive(Debug, Clone)]
pub struct GoStep {
    /// Arguments after `go`.
    pub args: Vec<String>,
    /// Deadline.
    pub timeout: Duration,
}

impl GoStep {
    /// The command line as a person would type it.
    pub fn command_line(&self) -> String {
        format!("go {}", shell_words::join(&self.args))
    }
}

/// Expectations checked against one run (the last go command and the requests of the run).
#[derive(Debug, Clone, Default)]
pub struct Expectation {
    /// Exit.
    pub exit: Option<ExitExpectation>,
    /// Diagnosis category.
    pub diagnosis: Option<Category>,
    /// Regex over go's error messages.
    pub error: Option<Regex>,
    /// Regex over stderr.
    pub stderr: Option<Regex>,
    /// Regex over stdout.
    pub stdout: Option<Regex>,
    /// Request counts.
    pub requests: Vec<RequestExpectation>,
    /// DNS query counts.
    pub dns: Vec<DnsExpectation>,
    /// Minimum duration of the last go command.
    pub duration_at_least: Option<Duration>,
    /// Maximum duration of the last go command.
    pub duration_at_most: Option<Duration>,
    /// Integrity check after success.
    pub verified: bool,
}

/// How many requests matching a filter a host must have seen.
#[derive(Debug, Clone)]
pub struct RequestExpectation {
    /// Declared host.
    pub host: String,
    /// Path glob.
    pub path: Option<PathGlob>,
    /// Method.
    pub method: Option<String>,
    /// Status.
    pub status: Option<u16>,
    /// Lower bound (inclusive).
    pub at_least: u64,
    /// Upper bound (inclusive).
    pub at_most: Option<u64>,
}

impl RequestExpectation {
    /// "host GET /path status 500" — how reports name this filter.
    pub fn describe(&self) -> String {
        let mut text = self.host.clone();
        if let Some(m) = &self.method {
            text += &format!(" {m}");
        }
        text += &match &self.path {
            Some(p) => format!(" {}", p.pattern()),
            None => " (any path)".to_string(),
        };
        if let Some(s) = self.status {
            text += &format!(" status {s}");
        }
        text
    }

    /// "exactly 2", "at least 1", "between 1 and 3".
    pub fn describe_count(&self) -> String {
        match self.at_most {
            Some(max) if max == self.at_least => format!("exactly {max}"),
            Some(max) if self.at_least == 0 => format!("at most {max}"),
            Some(max) => format!("between {} and {max}", self.at_least),
            None => format!("at least {}", self.at_least),
        }
    }
}

/// How many queries matching a filter the sealed resolver must have seen.
#[derive(Debug, Clone)]
pub struct DnsExpectation {
    /// Name glob.
    pub name: PathGlob,
    /// Query type, upper case.
    pub qtype: Option<String>,
    /// Answer code (`NXDOMAIN`, …; `none` for dropped).
    pub rcode: Option<String>,
    /// Lower bound (inclusive).
    pub at_least: u64,
    /// Upper bound (inclusive).
    pub at_most: Option<u64>,
}

impl DnsExpectation {
    /// "A proxy.golang.org NXDOMAIN" — how reports name this filter.
    pub fn describe(&self) -> String {
        let mut text = String::from("dns queries");
        if let Some(t) = &self.qtype {
            text += &format!(" {t}");
        }
        text += &format!(" {}", self.name.pattern());
        if let Some(r) = &self.rcode {
            text += &format!(" answered {r}");
        }
        text
    }
}

/// A recovery: steps to apply, then a rerun with its own expectations.
#[derive(Debug, Clone)]
pub struct Recovery {
    /// The playbook used, if any.
    pub playbook: Option<String>,
    /// Steps, playbook's first.
    pub steps: Vec<RecoveryStep>,
    /// The rerun's go commands, when not the scenario's own.
    pub run: Option<Vec<GoStep>>,
    /// What must hold after the rerun.
    pub expect: Expectation,
}

/// One recovery action, with playbook parameters already substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryStep {
    /// Set variables.
    Set(Vec<(String, String)>),
    /// Remove variables.
    Unset(Vec<String>),
    /// Replace text in a variable.
    Replace {
        /// Variable.
        var: String,
        /// Old text.
        from: String,
        /// New text.
        to: String,
    },
    /// Append to a variable.
    Append {
        /// Variable.
        var: String,
        /// Text.
        value: String,
    },
    /// Prepend to a variable.
    Prepend {
        /// Variable.
        var: String,
        /// Text.
        value: String,
    },
    /// Add `.netrc` credentials for a declared host.
    Netrc {
        /// Declared host.
        host: String,
        /// User.
        login: String,
        /// Password.
        password: String,
    },
    /// Empty the module cache.
    CleanCache,
    /// Stop the processes holding locks in the module cache.
    ReleaseLocks,
    /// Point GOMODCACHE at a new empty directory.
    MoveCache,
    /// Trust more certificate authorities.
    Trust(Vec<crate::pki::Authority>),
    /// Run a go command (arguments after `go`) in the work module; it must succeed.
    Go(Vec<String>),
    /// Write a work module file (or a file in HOME).
    WriteFile {
        /// Path below the work module (or HOME).
        file: String,
        /// Content.
        content: String,
        /// The file is in HOME rather than in the work module.
        home: bool,
    },
    /// Delete matching lines of a work module file.
    DeleteLines {
        /// Path below the work module.
        file: String,
        /// Regex over each line (checked when the scenario was loaded).
        matching: String,
    },
    /// Give these directories back to go's user.
    FixOwnership(Vec<OwnedDir>),
    /// Point GOCACHE at a new, empty directory.
    MoveBuildCache,
    /// Put go release `goX.Y.Z` on PATH under that name.
    InstallToolchain(String),
}

/// A directory whose owner a recovery can fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnedDir {
    /// GOMODCACHE.
    ModuleCache,
    /// A directory of the sandbox.
    Sandbox(SandboxDir),
}

impl OwnedDir {
    /// Every name scenario files may use.
    pub const NAMES: &'static [&'static str] = &["module_cache", "home", "gopath", "build_cache"];

    /// The directory named `name`.
    pub fn from_name(name: &str) -> Option<OwnedDir> {
        Some(match name {
            "module_cache" => OwnedDir::ModuleCache,
            "home" => OwnedDir::Sandbox(SandboxDir::Home),
            "gopath" => OwnedDir::Sandbox(SandboxDir::Gopath),
            "build_cache" => OwnedDir::Sandbox(SandboxDir::BuildCache),
            _ => return None,
        })
    }

    /// The name scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            OwnedDir::ModuleCache => "module_cache",
            OwnedDir::Sandbox(dir) => dir.name(),
        }
    }
}

impl RecoveryStep {
    /// One line for reports ("set GOPROXY=…").
    pub fn describe(&self) -> String {
        match self {
            RecoveryStep::Set(vars) => {
                format!("set {}", vars.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "))
            }
            RecoveryStep::Unset(vars) => format!("unset {}", vars.join(" ")),
            RecoveryStep::Replace { var, from, to } => {
                format!("replace {from:?} by {to:?} in {var}")
            }
            RecoveryStep::Append { var, value } => format!("append {value:?} to {var}"),
            RecoveryStep::Prepend { var, value } => format!("prepend {value:?} to {var}"),
            RecoveryStep::Netrc { host, login, .. } => {
                format!("add .netrc credentials for {host} (login {login})")
            }
            RecoveryStep::CleanCache => "empty the module cache".to_string(),
            RecoveryStep::ReleaseLocks => "stop the processes holding module cache locks".to_string(),
            RecoveryStep::MoveCache => "move the module cache to a new, writable, roomy directory".to_string(),
            RecoveryStep::Trust(cas) => {
                format!("trust the {} CA", cas.iter().map(|c| c.name()).collect::<Vec<_>>().join(" and "))
            }
            RecoveryStep::Go(args) => format!("go {}", shell_words::join(args)),
            RecoveryStep::WriteFile { file, home: false, .. } => format!("write {file}"),
            RecoveryStep::WriteFile { file, home: true, .. } => format!("write ~/{file}"),
            RecoveryStep::DeleteLines { file, matching } => {
                format!("delete the lines of {file} matching /{matching}/")
            }
            RecoveryStep::FixOwnership(dirs) => {
                format!("give {} back to go's user", dirs.iter().map(|d| d.name()).collect::<Vec<_>>().join(", "))
            }
            RecoveryStep::MoveBuildCache => "move GOCACHE to a new, writable directory".to_string(),
            RecoveryStep::InstallToolchain(go) => format!("install {go} on PATH"),
        }
    }
}
