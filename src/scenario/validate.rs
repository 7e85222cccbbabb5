//! Turning raw scenario files into the validated model. Every check reports at the
//! position of the offending value and keeps going, so one run shows every problem.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use sha2::{Digest, Sha256};

use super::at::{At, Pos};
use super::diag::{FileProblem, closest, suggest};
use super::model::*;
use super::playbook;
use super::raw::*;
use super::{LoadContext, duration};
use crate::fault::tcp::{
    Bandwidth, Latency, LimitData, ResetPeer, Slicer, SlowClose, Stream, Timeout, Toxic, ToxicKind,
};
use crate::fault::{DnsAction, DnsFault, FaultWhen, HttpAction, HttpFault};
use crate::fixture::ModuleSet;
use crate::urlref;
use crate::vocab::{BasicAuth, Category, ExitExpectation, PathGlob};

/// The [`Schedule`] of a raw `when` of any fault kind (they share these five fields).
macro_rules! schedule_of {
    ($when:expr) => {
        Schedule {
            nth: $when.nth.as_ref(),
            first: $when.first.as_ref(),
            probability: $when.probability.as_ref(),
            after: $when.after.as_ref(),
            until: $when.until.as_ref(),
        }
    };
}

/// Default deadline of a go command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Variables the sandbox owns: letting a scenario set them would break hermeticity.
pub const MANAGED_ENV: &[&str] = &[
    "HOME",
    "PATH",
    "GOPATH",
    "GOMODCACHE",
    "GOCACHE",
    "GOENV",
    "GOTOOLCHAIN",
    "GOWORK",
    "TMPDIR",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_TERMINAL_PROMPT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// Variables that send go through a forward proxy.
const FORWARD_PROXY_VARS: &[&str] =
    &["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

/// Collects the problems of one file.
pub struct Checker {
    /// The file, as the user named it.
    pub file: PathBuf,
    /// Its text, shared with every problem for snippets.
    pub source: Arc<String>,
    /// Problems found so far.
    pub problems: Vec<FileProblem>,
}

impl Checker {
    /// A checker for `file` with text `source`.
    pub fn new(file: &Path, source: Arc<String>) -> Checker {
        Checker { file: file.to_path_buf(), source, problems: Vec::new() }
    }

    /// Records a problem at `pos`.
    pub fn problem(&mut self, pos: Pos, message: impl Into<String>, help: Option<String>) {
        self.problems.push(FileProblem::new(&self.file, &self.source, pos, message, help));
    }

    fn duration(&mut self, at: &At<String>) -> Option<Duration> {
        match duration::parse(at) {
            Ok(d) if d.is_zero() => {
                self.problem(at.pos, "a zero duration", Some(duration::HELP.into()));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(at.pos, e, Some(duration::HELP.into()));
                None
            }
        }
    }

    /// `at` in upper case, with a problem (and the closest of `known`) when it is not
    /// one of them: HTTP methods, DNS query types.
    fn upper_word(&mut self, at: &At<String>, known: &[&str], what: &str, plural: &str) -> String {
        let upper = at.to_ascii_uppercase();
        if !known.contains(&upper.as_str()) {
            self.problem(
                at.pos,
                format!("unknown {what} `{}`", at.value),
                Some(suggest(&upper, known.iter().copied(), plural)),
            );
        }
        upper
    }

    /// A toxic's time: a duration, or a bare number in toxiproxy's `unit`.
    fn toxi_time(&mut self, at: &At<ToxiTime>, unit: fn(u64) -> Duration) -> Option<Duration> {
        match &at.value {
            RawQuantity::Number(n) => Some(unit(*n)),
            RawQuantity::Text(text) => self.duration_or_zero(&At { value: text.clone(), pos: at.pos }),
        }
    }

    /// Like [`Checker::duration`], but `0s` is allowed (a window opening at the start).
    fn duration_or_zero(&mut self, at: &At<String>) -> Option<Duration> {
        match duration::parse(at) {
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(at.pos, e, Some(duration::HELP.into()));
                None
            }
        }
    }

    fn regex(&mut self, at: &At<String>) -> Option<Regex> {
        match Regex::new(at) {
            Ok(r) => Some(r),
            Err(e) => {
                let detail = e.to_string();
                let last = detail.lines().last().unwrap_or(&detail).trim().trim_start_matches("error: ").to_string();
                self.problem(
                    at.pos,
                    format!("regex does not compile: {last}"),
                    Some(
                        "patterns use Rust regex syntax; escape literal characters like ( [ . with a backslash".into(),
                    ),
                );
                None
            }
        }
    }

    fn glob(&mut self, at: &At<String>) -> Option<PathGlob> {
        match PathGlob::new(at) {
            Ok(g) => Some(g),
            Err(e) => {
                self.problem(
                    at.pos,
                    format!("invalid path glob `{}`: {e}", at.value),
                    Some("`*` matches within one path segment, `**` across segments".into()),
                );
                None
            }
        }
    }
}

/// Validates a parsed scenario. `None` when `checker` recorded problems.
pub fn scenario(raw: RawScenario, checker: &mut Checker, ctx: &LoadContext) -> Option<Scenario> {
    let dir = checker.file.parent().map(Path::to_path_buf).unwrap_or_default();
    if raw.name.trim().is_empty() {
        checker.problem(raw.name.pos, "the name is empty", Some("give the scenario a short unique name".into()));
    }
    let modules = modules(&raw.modules, &dir, checker, ctx);
    let mut hosts = hosts(&raw.hosts, &dir, ctx, checker);
    let host_names: Vec<String> = hosts.iter().map(|h| h.name.clone()).collect();
    let explicit_network = raw.network.as_ref().map(|n| n.value);
    let env = env(&raw.env, &hosts, explicit_network == Some(RawNetwork::Sealed), checker);
    let cache = cache(raw.cache.as_ref(), modules.as_ref(), checker);
    let files = files(&raw.files, checker);
    let run = run(&raw.run, modules.as_ref(), checker);
    let expect = expectation(&raw.expect, &host_names, checker, None);
    let e = &raw.expect;
    if e.exit.is_none()
        && e.diagnosis.is_none()
        && e.error.is_none()
        && e.stderr.is_none()
        && e.stdout.is_none()
        && e.requests.is_empty()
        && e.duration.is_none()
        && e.verified.is_none()
    {
        checker.problem(
            raw.name.pos,
            "the scenario expects nothing, so it cannot fail",
            Some("add an expectation, e.g. expect: {exit: failure, diagnosis: proxy.server_error}".into()),
        );
    }
    let recover = raw.recover.as_ref().and_then(|r| recovery(r, &host_names, &dir, checker, ctx));
    let resolver = resolver(raw.resolver.as_ref(), checker);
    let min_go = raw.min_go.as_ref().and_then(|v| {
        let release = crate::gobin::parse_release(v);
        if release.is_none() {
            checker.problem(v.pos, format!("`{}` is not a go release", v.value), Some("write it like \"1.21\"".into()));
        }
        release
    });
    if !checker.problems.is_empty() {
        return None;
    }
    assign_ports(&mut hosts, &env, recover.as_ref());
    let network = match explicit_network {
        Some(RawNetwork::Sealed) => NetworkNeed::Sealed("the scenario says `network: sealed`".into()),
        Some(RawNetwork::Open) => NetworkNeed::Open("the scenario says `network: open`".into()),
        None => match hosts.iter().find(|h| !h.dns.is_empty()) {
            Some(h) => {
                NetworkNeed::Sealed(format!("host `{}` has DNS faults, and only sealed worlds have a resolver", h.name))
            }
            // go-get pages and git remotes name git hosts: only a sealed world resolves them.
            None if hosts.iter().any(|h| matches!(h.kind, HostKind::Git(_))) => {
                NetworkNeed::Sealed("a git host is reached by its name".into())
            }
            // go never sends loopback addresses (open mode's) through a forward proxy.
            None if hosts.iter().any(|h| matches!(h.kind, HostKind::ForwardProxy(_)))
                || env.iter().any(|(k, _)| FORWARD_PROXY_VARS.contains(&k.as_str())) =>
            {
                NetworkNeed::Sealed(
                    "go uses a forward proxy only for host names, never for open mode's loopback addresses".into(),
                )
            }
            None => match cache
                .faults
                .iter()
                .find(|f| matches!(f, CacheFaultSpec::ReadOnly(_) | CacheFaultSpec::DiskFull(_)))
            {
                Some(f) => NetworkNeed::Sealed(format!(
                    "cache fault `{}` mounts a filesystem, which only the sealed namespaces allow",
                    f.name()
                )),
                None => NetworkNeed::Any,
            },
        },
    };
    if let (Some(RawNetwork::Open), Some(h)) = (explicit_network, hosts.iter().find(|h| !h.dns.is_empty())) {
        checker.problem(
            raw.network.as_ref().map(|n| n.pos).unwrap_or_default(),
            format!("host `{}` has DNS faults, which need `network: sealed`", h.name),
            Some("open mode has no resolver: go is given addresses".into()),
        );
        return None;
    }
    let seed = raw.seed.unwrap_or_else(|| {
        let digest = Sha256::digest(raw.name.as_bytes());
        u64::from_le_bytes(digest[..8].try_into().expect("sha256 has 8 bytes"))
    });
    let trust = raw
        .trust
        .as_ref()
        .map_or_else(|| vec![crate::pki::Authority::Scenario], |t| t.iter().map(|a| a.value).collect());
    Some(Scenario {
        name: raw.name.value.clone(),
        source: checker.source.clone(),
        playbook_dirs: ctx.playbook_dirs.clone(),
        network,
        resolver,
        min_go,
        trust,
        about: raw.about.clone(),
        file: checker.file.clone(),
        seed,
        modules: modules?,
        hosts,
        env,
        cache,
        files,
        run: run?,
        expect,
        recover,
    })
}

fn modules(list: &[At<RawModuleSource>], dir: &Path, checker: &mut Checker, ctx: &LoadContext) -> Option<ModuleSet> {
    let mut paths = Vec::new();
    let mut set = Vec::new();
    let mut ok = true;
    for entry in list {
        let text = match &entry.value {
            RawModuleSource::Fixtures(text) => text,
            RawModuleSource::Inline(inline) => {
                let Some((path, version)) =
                    inline.module.split_once('@').filter(|(p, v)| !p.is_empty() && !v.is_empty())
                else {
                    checker.problem(
                        inline.module.pos,
                        format!("`{}` is not path@version", inline.module.value),
                        Some("for example corp.example/lib@v1.0.0".into()),
                    );
                    ok = false;
                    continue;
                };
                let how = crate::fixture::synth::Synthesis {
                    declares: inline.declares.clone(),
                    variant: inline.variant.clone(),
                };
                match crate::fixture::synth::synthesize(path, version, &how) {
                    Ok(m) => set.push(std::sync::Arc::new(m)),
                    Err(e) => {
                        ok = false;
                        checker.problem(inline.module.pos, e.to_string(), None);
                    }
                }
                continue;
            }
        };
        let resolved = if let Some(rest) = text.strip_prefix("$GOROOT/") {
            match ctx.goroot() {
                Some(goroot) => goroot.join(rest),
                None => {
                    checker.problem(
                        entry.pos,
                        "`$GOROOT/` is used but no go toolchain was found to ask for GOROOT",
                        Some("install go, or pass --go / set MODCHAOS_GO".into()),
                    );
                    continue;
                }
            }
        } else {
            dir.join(text)
        };
        if !resolved.exists() {
            let help = nearby_name(&resolved).map(|n| format!("did you mean `{n}`?")).unwrap_or_else(|| "module fixtures are txtar files (Go's cmd/go/testdata/mod format), named like rsc.io_quote_v1.5.2.txt".into());
            checker.problem(entry.pos, format!("fixture file not found: {}", resolved.display()), Some(help));
            continue;
        }
        paths.push((entry.pos, resolved));
    }
    for (pos, path) in &paths {
        match ModuleSet::load(std::slice::from_ref(path)) {
            Ok(loaded) => set.extend(loaded.set.iter().cloned()),
            Err(e) => {
                ok = false;
                checker.problem(*pos, e.to_string(), None);
            }
        }
    }
    if !ok {
        return None;
    }
    match ModuleSet::from_modules(set) {
        Ok(s) => Some(s),
        Err(e) => {
            checker.problem(list.first().map(|m| m.pos).unwrap_or_default(), e.to_string(), None);
            None
        }
    }
}

/// The closest existing file name next to a missing path.
fn nearby_name(missing: &Path) -> Option<String> {
    let name = missing.file_name()?.to_str()?;
    let entries: Vec<String> =
        std::fs::read_dir(missing.parent()?).ok()?.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    closest(name, entries.iter().map(String::as_str)).map(str::to_string)
}

fn valid_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn hosts(raw: &super::keyed::Keyed<RawHost>, dir: &Path, ctx: &LoadContext, checker: &mut Checker) -> Vec<HostSpec> {
    let mut hosts = Vec::new();
    for (name, host) in raw.iter() {
        if !valid_host_name(name) {
            checker.problem(
                name.pos,
                format!("`{}` is not a host name", name.value),
                Some("hosts are keyed by lower-case DNS names like proxy.corp.example (no scheme, no port)".into()),
            );
        }
        let mut kinds: Vec<(Pos, HostKind)> = Vec::new();
        if let Some(g) = &host.goproxy {
            kinds.push((g.pos, HostKind::Goproxy(goproxy(g, dir, ctx, checker))));
        }
        if let Some(c) = &host.closed {
            kinds.push((c.pos, HostKind::Closed));
        }
        if let Some(db) = &host.sumdb {
            kinds.push((db.pos, HostKind::Sumdb(sumdb(name, db, checker))));
        }
        if let Some(p) = &host.forward_proxy {
            let spec = ForwardProxySpec {
                intercept: p.intercept.unwrap_or(false),
                auth: p.auth.as_ref().map(|a| BasicAuth { user: a.user.clone(), password: a.password.clone() }),
                connect: p.connect.unwrap_or_default(),
                block: module_globs(&p.block, checker),
            };
            kinds.push((p.pos, HostKind::ForwardProxy(spec)));
        }
        if let Some(g) = &host.git {
            let spec = GitSpec {
                modules: g.modules.as_ref().map(|m| module_globs(m, checker)),
                auth: g.auth.as_ref().map(|a| BasicAuth { user: a.user.clone(), password: a.password.clone() }),
                meta: g.meta.unwrap_or_default(),
                repos: g.repos.as_ref().map(|r| {
                    let declared: Vec<&str> = raw.iter().map(|(n, _)| n.as_str()).collect();
                    if !declared.contains(&r.as_str()) {
                        checker.problem(
                            r.pos,
                            format!("`{}` is not a declared host", r.value),
                            Some(suggest(r, declared.iter().copied(), "hosts")),
                        );
                    }
                    r.value.clone()
                }),
            };
            kinds.push((g.pos, HostKind::Git(spec)));
        }
        let kind = match kinds.len() {
            0 => {
                checker.problem(
                    name.pos,
                    format!("host `{}` has no kind", name.value),
                    Some("give it one of: goproxy: {}, sumdb: {}, git: {}, closed: {}".into()),
                );
                continue;
            }
            1 => kinds.remove(0).1,
            _ => {
                checker.problem(
                    kinds[1].0,
                    format!(
                        "host `{}` has more than one kind ({} and {})",
                        name.value,
                        kinds[0].1.name(),
                        kinds[1].1.name()
                    ),
                    Some("declare each server as its own host".into()),
                );
                continue;
            }
        };
        let faults: Vec<HttpFault> =
            host.faults.iter().enumerate().filter_map(|(i, f)| fault(i + 1, f, checker)).collect();
        if matches!(kind, HostKind::Closed)
            && let Some(first) = host.faults.first()
        {
            checker.problem(
                first.pos,
                "HTTP faults on a closed host never fire: nothing answers there",
                Some("remove the faults, or make the host a goproxy".into()),
            );
        }
        let cert = host.tls.as_ref().and_then(|t| t.certificate.as_ref()).map(|c| c.value).unwrap_or_default();
        let dns = dns_faults(name, &host.dns, checker);
        let toxics = toxics(&host.tcp, checker);
        if matches!(kind, HostKind::Closed)
            && let Some(first) = host.tcp.first()
        {
            checker.problem(
                first.pos,
                "TCP toxics on a closed host never act: nothing accepts connections there",
                Some("remove them, or give the host a kind that listens".into()),
            );
        }
        hosts.push(HostSpec { name: name.value.clone(), kind, cert, faults, dns, toxics, ports: Vec::new() });
    }
    hosts
}

fn module_globs(patterns: &[At<String>], checker: &mut Checker) -> Vec<globset::GlobMatcher> {
    let mut matchers = Vec::new();
    for p in patterns {
        match globset::Glob::new(p) {
            Ok(g) => matchers.push(g.compile_matcher()),
            Err(e) => checker.problem(p.pos, format!("invalid module glob `{}`: {}", p.value, e.kind()), None),
        }
    }
    matchers
}

fn goproxy(raw: &At<RawGoproxy>, dir: &Path, ctx: &LoadContext, checker: &mut Checker) -> GoproxySpec {
    let mut spec = GoproxySpec::default();
    if let Some(patterns) = &raw.modules {
        spec.modules = Some(module_globs(patterns, checker));
    }
    if let Some(prefix) = &raw.prefix {
        if !prefix.starts_with('/') || (prefix.len() > 1 && prefix.ends_with('/')) {
            checker.problem(
                prefix.pos,
                format!("prefix `{}` must start with `/` and not end with one", prefix.value),
                Some("for https://host/goproxy write prefix: /goproxy".into()),
            );
        }
        spec.prefix = prefix.trim_end_matches('/').to_string();
    }
    spec.auth = raw.auth.as_ref().map(|a| BasicAuth { user: a.user.clone(), password: a.password.clone() });
    spec.sumdb = raw.sumdb.unwrap_or(false);
    if let Some(fixtures) = &raw.fixtures {
        spec.overrides = modules(fixtures, dir, checker, ctx).unwrap_or_default();
    }
    spec
}

fn sumdb(host: &At<String>, raw: &At<RawSumdb>, checker: &mut Checker) -> SumdbSpec {
    let name = raw.name.as_ref().map_or(host.value.clone(), |n| n.value.clone());
    let valid =
        !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace) && !name.ends_with('/');
    if !valid {
        let pos = raw.name.as_ref().map_or(host.pos, |n| n.pos);
        checker.problem(
            pos,
            format!("`{name}` is not a checksum database name"),
            Some("names look like host[/path], e.g. sum.golang.org".into()),
        );
    }
    SumdbSpec {
        name,
        modules: raw.modules.as_ref().map(|m| module_globs(m, checker)),
        via_proxy: raw.via_proxy.unwrap_or(false),
    }
}

fn fault(number: usize, raw: &At<RawFault>, checker: &mut Checker) -> Option<HttpFault> {
    let when = raw.when.as_ref().map(|w| fault_when(w, checker)).unwrap_or_default();
    let mut actions: Vec<(Pos, Option<HttpAction>)> = Vec::new();
    if let Some(r) = &raw.respond {
        if !(100..=599).contains(&r.status.value) {
            checker.problem(
                r.status.pos,
                format!("{} is not an HTTP status", r.status.value),
                Some("use a status between 100 and 599".into()),
            );
        }
        actions.push((
            r.pos,
            Some(HttpAction::Respond {
                status: r.status.value,
                body: r.body.clone().unwrap_or_default().into(),
                content_type: r.content_type.clone().unwrap_or_else(|| "text/plain; charset=utf-8".into()),
            }),
        ));
    }
    if let Some(d) = &raw.delay {
        actions.push((d.pos, checker.duration(d).map(HttpAction::Delay)));
    }
    if let Some(h) = &raw.hang {
        actions.push((h.pos, Some(HttpAction::Hang)));
    }
    if let Some(r) = &raw.reset {
        actions.push((r.pos, Some(HttpAction::Reset { after_bytes: r.after_bytes })));
    }
    if let Some(r) = &raw.stream_reset {
        actions.push((
            r.pos,
            Some(HttpAction::StreamReset {
                after_bytes: r.after_bytes.unwrap_or(0),
                goaway: r.goaway.unwrap_or(false),
            }),
        ));
    }
    if let Some(t) = &raw.truncate {
        actions.push((t.pos, Some(HttpAction::Truncate { after_bytes: t.after_bytes })));
    }
    if let Some(c) = &raw.corrupt {
        let bytes = c.bytes.as_ref().map_or(1, |b| b.value);
        if bytes == 0 {
            checker.problem(
                c.bytes.as_ref().map(|b| b.pos).unwrap_or(c.pos),
                "corrupting 0 bytes changes nothing",
                Some("use bytes: 1 or more".into()),
            );
        }
        actions.push((c.pos, Some(HttpAction::Corrupt { bytes })));
    }
    if let Some(r) = &raw.replace_body {
        actions.push((
            r.pos,
            Some(HttpAction::ReplaceBody { body: r.body.clone().into(), content_type: r.content_type.clone() }),
        ));
    }
    one_action(raw.pos, actions, FAULT_KEYS, checker).map(|action| HttpFault { number, when, action })
}

fn fault_when(raw: &At<RawWhen>, checker: &mut Checker) -> FaultWhen {
    let mut when = FaultWhen::default();
    if let Some(p) = &raw.path {
        when.path = checker.glob(p);
    }
    if let Some(m) = &raw.method {
        const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "PATCH"];
        when.method = Some(checker.upper_word(m, METHODS, "HTTP method", "methods"));
    }
    let when_schedule = schedule_of!(raw);
    when_schedule.apply(&mut when, checker);
    when
}

/// The conditions every fault kind shares: which occurrence (`nth`, `first`), how likely
/// (`probability`), and when (`after`, `until`, from the world's start).
struct Schedule<'a> {
    nth: Option<&'a At<u64>>,
    first: Option<&'a At<u64>>,
    probability: Option<&'a At<f64>>,
    after: Option<&'a At<String>>,
    until: Option<&'a At<String>>,
}

impl Schedule<'_> {
    fn apply(&self, when: &mut FaultWhen, checker: &mut Checker) {
        for (field, name) in [(self.nth, "nth"), (self.first, "first")] {
            if let Some(n) = field
                && n.value == 0
            {
                checker.problem(
                    n.pos,
                    format!("`{name}` counts from 1"),
                    Some(format!("{name}: 1 is the first matching request")),
                );
            }
        }
        if let (Some(_), Some(first)) = (self.nth, self.first) {
            checker.problem(
                first.pos,
                "`nth` and `first` cannot be combined",
                Some("nth: N fires once on the Nth request; first: N fires on requests 1..N".into()),
            );
        }
        when.nth = self.nth.map(|n| n.value);
        when.first = self.first.map(|n| n.value);
        if let Some(p) = self.probability {
            if !(0.0..=1.0).contains(&p.value) {
                checker.problem(
                    p.pos,
                    format!("probability {} is outside 0..1", p.value),
                    Some("0.25 fires on about one request in four".into()),
                );
            }
            when.probability = Some(p.value);
        }
        when.after = self.after.and_then(|d| checker.duration_or_zero(d));
        when.until = self.until.and_then(|d| checker.duration(d));
        if let (Some(after), Some(until), Some(at)) = (when.after, when.until, self.until)
            && until <= after
        {
            checker.problem(
                at.pos,
                "`until` must come after `after`",
                Some("both count from the start of the world: after: 1s, until: 3s fires for two seconds".into()),
            );
        }
    }
}

/// The DNS faults of host `name`: each fires for queries of that name.
fn dns_faults(name: &str, raw: &[At<RawDnsFault>], checker: &mut Checker) -> Vec<DnsFault> {
    let mut faults = Vec::new();
    for (i, fault) in raw.iter().enumerate() {
        let mut when = FaultWhen { path: PathGlob::name(name).ok(), ..Default::default() };
        if let Some(w) = &fault.when {
            if let Some(t) = &w.qtype {
                const TYPES: &[&str] =
                    &["A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "HTTPS", "SVCB", "CAA", "ANY"];
                when.method = Some(checker.upper_word(t, TYPES, "DNS query type", "types"));
            }
            let schedule = schedule_of!(w);
            schedule.apply(&mut when, checker);
        }
        let mut actions: Vec<(Pos, Option<DnsAction>)> = Vec::new();
        let mut simple = |at: &Option<At<RawEmpty>>, action: DnsAction| {
            if let Some(a) = at {
                actions.push((a.pos, Some(action)));
            }
        };
        simple(&fault.nxdomain, DnsAction::Nxdomain);
        simple(&fault.servfail, DnsAction::Servfail);
        simple(&fault.refused, DnsAction::Refused);
        simple(&fault.timeout, DnsAction::Timeout);
        simple(&fault.truncate, DnsAction::Truncate);
        if let Some(list) = &fault.address {
            let mut addresses = Vec::new();
            for a in list.iter() {
                match a.parse::<std::net::IpAddr>() {
                    Ok(ip) => addresses.push(ip),
                    Err(_) => checker.problem(
                        a.pos,
                        format!("`{}` is not an IP address", a.value),
                        Some("write addresses like 127.0.0.99 or ::1".into()),
                    ),
                }
            }
            if list.is_empty() {
                checker.problem(list.pos, "`address` needs at least one address", None);
            }
            actions.push((list.pos, Some(DnsAction::Address(addresses))));
        }
        if let Some(d) = &fault.delay {
            actions.push((d.pos, checker.duration(d).map(DnsAction::Delay)));
        }
        if let Some(action) = one_action(fault.pos, actions, DNS_FAULT_KEYS, checker) {
            faults.push(DnsFault { number: i + 1, when, action });
        }
    }
    faults
}

/// The TCP toxics of a host.
fn toxics(raw: &[At<RawToxic>], checker: &mut Checker) -> Vec<Toxic> {
    let mut toxics = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        let number = i + 1;
        let mut when = FaultWhen::default();
        if let Some(w) = &t.when {
            let schedule = schedule_of!(w);
            schedule.apply(&mut when, checker);
        }
        let toxicity = t.toxicity.as_ref().map_or(1.0, |x| x.value);
        if let Some(x) = &t.toxicity
            && !(0.0..=1.0).contains(&x.value)
        {
            checker.problem(
                x.pos,
                format!("toxicity {} is outside 0..1", x.value),
                Some("toxicity is the probability that the toxic applies to a connection".into()),
            );
        }
        let stream = match t.stream.as_ref().map(|s| s.value) {
            Some(RawStream::Upstream) => Stream::Upstream,
            _ => Stream::Downstream,
        };
        let mut actions: Vec<(Pos, Option<ToxicKind>)> = Vec::new();
        let ms = std::time::Duration::from_millis;
        if let Some(l) = &t.latency {
            let latency = checker.toxi_time(&l.latency, ms);
            let jitter = l.jitter.as_ref().map_or(Some(Duration::ZERO), |j| checker.toxi_time(j, ms));
            actions.push((
                l.pos,
                latency.zip(jitter).map(|(latency, jitter)| ToxicKind::Latency(Latency { latency, jitter })),
            ));
        }
        if let Some(b) = &t.bandwidth {
            actions.push((b.pos, Some(ToxicKind::Bandwidth(Bandwidth { rate: b.rate.value }))));
        }
        if let Some(c) = &t.slow_close {
            actions
                .push((c.pos, checker.toxi_time(&c.delay, ms).map(|delay| ToxicKind::SlowClose(SlowClose { delay }))));
        }
        if let Some(x) = &t.timeout {
            actions.push((
                x.pos,
                checker.toxi_time(&x.timeout, ms).map(|timeout| ToxicKind::Timeout(Timeout { timeout })),
            ));
        }
        if let Some(r) = &t.reset_peer {
            let timeout = r.timeout.as_ref().map_or(Some(Duration::ZERO), |x| checker.toxi_time(x, ms));
            actions.push((r.pos, timeout.map(|timeout| ToxicKind::ResetPeer(ResetPeer { timeout }))));
        }
        if let Some(sl) = &t.slicer {
            let average_size = sl.average_size.value;
            let size_variation = sl.size_variation.as_ref().map_or(0, |v| v.value);
            if average_size == 0 || size_variation >= average_size {
                checker.problem(
                    sl.pos,
                    format!("slicer needs 0 ≤ size_variation < average_size, got {average_size} ± {size_variation}"),
                    Some("for example average_size: 64, size_variation: 32".into()),
                );
            }
            let delay = sl
                .delay
                .as_ref()
                .map_or(Some(Duration::ZERO), |d| checker.toxi_time(d, std::time::Duration::from_micros));
            actions
                .push((sl.pos, delay.map(|delay| ToxicKind::Slicer(Slicer { average_size, size_variation, delay }))));
        }
        if let Some(l) = &t.limit_data {
            actions.push((l.pos, Some(ToxicKind::LimitData(LimitData { bytes: l.bytes.value }))));
        }
        if let Some(d) = &t.down {
            if when.nth.is_some() || when.first.is_some() || when.probability.is_some() || toxicity < 1.0 {
                checker.problem(
                    d.pos,
                    "`down` takes the whole address away: it takes a time window (`after`, `until`) only",
                    Some("remove nth/first/probability/toxicity, or use reset_peer to refuse some connections".into()),
                );
            }
            actions.push((d.pos, Some(ToxicKind::Down)));
        }
        if let Some(kind) = one_action(t.pos, actions, TOXIC_KEYS, checker) {
            toxics.push(Toxic { number, kind, stream, toxicity, when });
        }
    }
    toxics
}

/// The single action of a fault mapping, or a problem saying there is none or several.
fn one_action<A>(pos: Pos, mut actions: Vec<(Pos, Option<A>)>, keys: &[&str], checker: &mut Checker) -> Option<A> {
    match actions.len() {
        0 => {
            let names: Vec<&str> = keys.iter().copied().filter(|k| *k != "when").collect();
            checker.problem(pos, "a fault needs an action", Some(format!("add one of: {}", names.join(", "))));
            None
        }
        1 => actions.remove(0).1,
        _ => {
            checker.problem(
                actions[1].0,
                "a fault has exactly one action",
                Some("split it into two faults; a delay fault lets the next fault act too".into()),
            );
            None
        }
    }
}

fn valid_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn env(
    raw: &super::keyed::Keyed<At<String>>,
    hosts: &[HostSpec],
    sealed: bool,
    checker: &mut Checker,
) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for (name, value) in raw.iter() {
        if !valid_env_name(name) {
            checker.problem(name.pos, format!("`{}` is not an environment variable name", name.value), None);
            continue;
        }
        if MANAGED_ENV.contains(&name.as_str()) {
            checker.problem(
                name.pos,
                format!("{} is managed by the sandbox and cannot be set", name.value),
                Some(
                    "every run gets its own HOME, GOPATH, GOMODCACHE, GOCACHE and GOTOOLCHAIN=local, GOENV=off".into(),
                ),
            );
            continue;
        }
        if !sealed {
            check_host_refs(name, value, hosts, checker);
        }
        env.push((name.value.clone(), value.value.clone()));
    }
    let goproxy_hosts: Vec<&HostSpec> = hosts.iter().filter(|h| matches!(h.kind, HostKind::Goproxy(_))).collect();
    if !env.iter().any(|(k, _)| k == "GOPROXY") {
        match goproxy_hosts.as_slice() {
            [only] => env.insert(0, ("GOPROXY".into(), format!("https://{}", only.name))),
            [] => {}
            several => {
                let pos = raw.iter().next().map(|(k, _)| k.pos).unwrap_or_default();
                checker.problem(
                    pos,
                    format!("{} goproxy hosts are declared but GOPROXY is not set", several.len()),
                    Some(format!(
                        "say how go uses them, e.g. GOPROXY: https://{},https://{}",
                        several[0].name, several[1].name
                    )),
                );
            }
        }
    }
    let databases: Vec<&str> = hosts
        .iter()
        .filter_map(|h| match &h.kind {
            HostKind::Sumdb(db) => Some(db.name.as_str()),
            _ => None,
        })
        .collect();
    if !env.iter().any(|(k, _)| k == "GOSUMDB") {
        match databases.as_slice() {
            [only] => env.push(("GOSUMDB".into(), only.to_string())),
            [] => {}
            several => {
                let pos = raw.iter().next().map(|(k, _)| k.pos).unwrap_or_default();
                checker.problem(
                    pos,
                    format!("{} checksum databases are declared but GOSUMDB is not set", several.len()),
                    Some(format!("name the one go uses, e.g. GOSUMDB: {}", several[0])),
                );
            }
        }
    }
    env
}

/// Every URL in an env value must name a declared host (or loopback): anything else
/// would send go out of the sandbox.
pub fn check_host_refs(name: &At<String>, value: &At<String>, hosts: &[HostSpec], checker: &mut Checker) {
    for r in urlref::find(name, value) {
        let declared = |h: &HostSpec| h.name == r.host || matches!(&h.kind, HostKind::Sumdb(db) if db.name == r.host);
        if r.is_loopback() || hosts.iter().any(declared) {
            continue;
        }
        let names = hosts.iter().map(|h| h.name.as_str());
        let help = match closest(&r.host, names) {
            Some(best) => format!("did you mean `{best}`?"),
            None => "declare it under hosts: (go must not reach real hosts), or say `network: sealed`, where undeclared names do not resolve".to_string(),
        };
        let pos = inner_pos(&checker.source, value, r.authority.clone());
        checker.problem(
            pos,
            format!("{} refers to host `{}`, which this scenario does not declare", name.value, r.host),
            Some(help),
        );
    }
}

/// The position of `range` (a byte range of the parsed value) in the source, when the
/// value is written plainly or simply quoted there; else the whole value's position.
fn inner_pos(source: &str, value: &At<String>, range: std::ops::Range<usize>) -> Pos {
    let Some(offset) = value.pos.offset else {
        return value.pos;
    };
    let quoted = matches!(source.as_bytes().get(offset), Some(b'"' | b'\''));
    let start = offset + usize::from(quoted) + range.start;
    let end = start + range.len();
    if source.get(start..end) != value.get(range.clone()) {
        return value.pos;
    }
    let column = value.pos.column + usize::from(quoted) + value[..range.start].chars().count();
    Pos { line: value.pos.line, column, offset: Some(start), len: range.len() }
}

fn resolver(raw: Option<&RawResolver>, checker: &mut Checker) -> ResolverOptions {
    let Some(raw) = raw else { return ResolverOptions::default() };
    let timeout = raw.timeout.as_ref().and_then(|t| checker.duration(t));
    if let (Some(d), Some(at)) = (timeout, &raw.timeout)
        && d.subsec_nanos() != 0
    {
        checker.problem(
            at.pos,
            "the resolver timeout is in whole seconds",
            Some("resolv.conf's `options timeout:N` counts seconds: write 1s, 2s…".into()),
        );
    }
    if let Some(a) = &raw.attempts
        && !(1..=5).contains(&a.value)
    {
        checker.problem(a.pos, format!("{} attempts: resolv.conf allows 1 to 5", a.value), None);
    }
    ResolverOptions { timeout, attempts: raw.attempts.as_ref().map(|a| a.value) }
}

/// Gives every host the ports the scenario's URLs name for it (the environment, and
/// the values recovery steps write), so that a sealed world listens there too.
fn assign_ports(hosts: &mut [HostSpec], env: &[(String, String)], recovery: Option<&Recovery>) {
    let mut values: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for step in recovery.map_or(&[][..], |r| &r.steps[..]) {
        match step {
            RecoveryStep::Set(vars) => values.extend(vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            RecoveryStep::Replace { var, to, .. } => values.push((var, to)),
            RecoveryStep::Append { var, value } | RecoveryStep::Prepend { var, value } => values.push((var, value)),
            _ => {}
        }
    }
    for (var, value) in values {
        for r in urlref::find(var, value) {
            if let (Some(port), Some(host)) = (r.port, hosts.iter_mut().find(|h| h.name == r.host))
                && !matches!(port, 80 | 443)
                && !host.ports.contains(&port)
            {
                host.ports.push(port);
            }
        }
    }
}

/// `path@version` in a cache setting; `known` says whether the fixtures must have it.
fn version_ref(at: &At<String>, modules: Option<&ModuleSet>, checker: &mut Checker) -> Option<(String, String)> {
    let Some((path, version)) = at.split_once('@').filter(|(p, v)| !p.is_empty() && !v.is_empty()) else {
        checker.problem(
            at.pos,
            format!("`{}` is not path@version", at.value),
            Some("for example corp.example/lib@v1.0.0".into()),
        );
        return None;
    };
    if let Some(set) = modules
        && set.get(path, version).is_none()
    {
        let ids: Vec<String> = set.iter().map(|m| m.id()).collect();
        checker.problem(
            at.pos,
            format!("`{}` is not one of the scenario's modules", at.value),
            Some(suggest(&at.value, ids.iter().map(String::as_str), "modules")),
        );
        return None;
    }
    Some((path.to_string(), version.to_string()))
}

/// A size in bytes: a number, or with KiB/MiB/KB/MB.
fn size(at: &At<RawSize>, checker: &mut Checker) -> Option<u64> {
    let text = match &at.value {
        RawQuantity::Number(n) => return Some(*n),
        RawQuantity::Text(t) => t.trim(),
    };
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let factor = match unit.trim() {
        "" | "B" => Some(1),
        "KiB" => Some(1 << 10),
        "MiB" => Some(1 << 20),
        "KB" | "kB" => Some(1000),
        "MB" => Some(1_000_000),
        _ => None,
    };
    match (number.parse::<u64>(), factor) {
        (Ok(n), Some(f)) => Some(n * f),
        _ => {
            checker.problem(
                at.pos,
                format!("`{text}` is not a size"),
                Some("write 8KiB, 1MiB, or a number of bytes".into()),
            );
            None
        }
    }
}

fn cache(raw: Option<&RawCache>, modules: Option<&ModuleSet>, checker: &mut Checker) -> CacheSetup {
    use crate::fault::cache::{CacheFault, Corruption, PartialStage, ReadOnlyScope};
    let Some(raw) = raw else { return CacheSetup::default() };
    let mut setup = CacheSetup::default();
    for entry in &raw.seed {
        if let Some(v) = version_ref(entry, modules, checker) {
            setup.seed.push(v);
        }
    }
    let seeded = setup.seed.clone();
    let needs_seed = |at: &At<String>, fault: &str, checker: &mut Checker| -> Option<(String, String)> {
        let v = version_ref(at, modules, checker)?;
        if !seeded.contains(&v) {
            checker.problem(
                at.pos,
                format!("`{fault}` damages a cached version, but `{}` is not seeded", at.value),
                Some(format!("add it to the cache: seed: [{}]", at.value)),
            );
            return None;
        }
        Some(v)
    };
    for fault in &raw.faults {
        let spec = match &fault.value {
            RawCacheFault::LockHeld(l) => {
                let hold = l.hold.as_ref().map_or(Some(std::time::Duration::from_secs(600)), |h| checker.duration(h));
                let Some(((module, version), hold)) = version_ref(&l.module, None, checker).zip(hold) else { continue };
                CacheFaultSpec::Files(CacheFault::LockHeld { module, version, hold })
            }
            RawCacheFault::ReadOnly(r) => CacheFaultSpec::ReadOnly(r.scope.unwrap_or(ReadOnlyScope::Cache)),
            RawCacheFault::CorruptZip(c) => {
                let Some((module, version)) = needs_seed(&c.module, "corrupt_zip", checker) else { continue };
                CacheFaultSpec::Files(CacheFault::CorruptZip {
                    module,
                    version,
                    how: c.how.unwrap_or(Corruption::Truncate),
                })
            }
            RawCacheFault::Partial(p) => {
                let Some((module, version)) = needs_seed(&p.module, "partial", checker) else { continue };
                CacheFaultSpec::Files(CacheFault::Partial {
                    module,
                    version,
                    stage: p.stage.unwrap_or(PartialStage::Extraction),
                })
            }
            RawCacheFault::EmptyZiphash(v) => {
                let Some((module, version)) = needs_seed(&v.module, "empty_ziphash", checker) else { continue };
                CacheFaultSpec::Files(CacheFault::EmptyZiphash { module, version })
            }
            RawCacheFault::MissingZiphash(v) => {
                let Some((module, version)) = needs_seed(&v.module, "missing_ziphash", checker) else { continue };
                CacheFaultSpec::Files(CacheFault::MissingZiphash { module, version })
            }
            RawCacheFault::DiskFull(d) => {
                let Some(bytes) = size(&d.size, checker) else { continue };
                if bytes == 0 {
                    checker.problem(
                        d.size.pos,
                        "a filesystem of size 0 has no limit at all",
                        Some("use a small size like 8KiB".into()),
                    );
                    continue;
                }
                CacheFaultSpec::DiskFull(bytes)
            }
        };
        setup.faults.push(spec);
    }
    setup
}

fn files(raw: &super::keyed::Keyed<String>, checker: &mut Checker) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (name, content) in raw.iter() {
        let path = Path::new(name.as_str());
        let escapes = path.is_absolute() || path.components().any(|c| !matches!(c, std::path::Component::Normal(_)));
        if escapes || name.is_empty() {
            checker.problem(
                name.pos,
                format!("`{}` must be a relative path inside the work module", name.value),
                Some("write go.mod, go.sum or sub/dir/file.go".into()),
            );
            continue;
        }
        files.push((name.value.clone(), content.clone()));
    }
    files
}

fn go_args(line: &At<String>, checker: &mut Checker) -> Option<Vec<String>> {
    let mut args = match shell_words::split(line) {
        Ok(a) => a,
        Err(e) => {
            checker.problem(
                line.pos,
                format!("cannot split the command line: {e}"),
                Some("quote arguments like a shell would".into()),
            );
            return None;
        }
    };
    if args.first().is_some_and(|a| a == "go") {
        args.remove(0);
    }
    if args.is_empty() {
        checker.problem(
            line.pos,
            "the go command line is empty",
            Some("for example: mod download -json rsc.io/quote@v1.5.2".into()),
        );
        return None;
    }
    Some(args)
}

fn run(raw: &RawRun, modules: Option<&ModuleSet>, checker: &mut Checker) -> Option<Vec<GoStep>> {
    let timeout = raw.timeout.as_ref().map_or(Some(DEFAULT_TIMEOUT), |t| checker.duration(t));
    if let Some(list) = &raw.modules {
        for m in list {
            if m.split_once('@').is_none_or(|(p, v)| p.is_empty() || v.is_empty()) {
                checker.problem(
                    m.pos,
                    format!("`{}` is not path@version", m.value),
                    Some("for example rsc.io/quote@v1.5.2 (or @latest)".into()),
                );
            }
        }
    }
    let steps = match (&raw.go, &raw.steps) {
        (Some(go), Some(_)) => {
            checker.problem(
                go.pos,
                "`go` and `steps` cannot both be given",
                Some("put every command under steps:".into()),
            );
            return None;
        }
        (Some(go), None) => vec![GoStep { args: go_args(go, checker)?, timeout: timeout? }],
        (None, Some(steps)) => {
            let mut out = Vec::new();
            for step in steps {
                let args = go_args(&step.go, checker);
                let t = step.timeout.as_ref().map_or(timeout, |t| checker.duration(t));
                if let (Some(args), Some(timeout)) = (args, t) {
                    out.push(GoStep { args, timeout });
                }
            }
            if steps.is_empty() {
                checker.problem(Pos::default(), "`steps` is empty", None);
            }
            out
        }
        (None, None) => {
            let mut args: Vec<String> = ["mod", "download", "-json", "-x"].map(String::from).to_vec();
            match &raw.modules {
                Some(list) => args.extend(list.iter().map(|m| m.value.clone())),
                None => args.extend(modules?.iter().map(|m| m.id())),
            }
            vec![GoStep { args, timeout: timeout? }]
        }
    };
    Some(steps)
}

fn expectation(raw: &RawExpect, hosts: &[String], checker: &mut Checker, recovery: Option<()>) -> Expectation {
    let mut e = Expectation {
        exit: raw.exit.as_ref().map(|x| match x.value {
            RawExit::Success => ExitExpectation::Success,
            RawExit::Failure => ExitExpectation::Failure,
            RawExit::Timeout => ExitExpectation::Timeout,
        }),
        ..Default::default()
    };
    if recovery.is_some() && e.exit.is_none() {
        e.exit = Some(ExitExpectation::Success);
    }
    if let Some(d) = &raw.diagnosis {
        match Category::from_id(d) {
            Some(c) => e.diagnosis = Some(c),
            None => checker.problem(
                d.pos,
                format!("unknown diagnosis category `{}`", d.value),
                Some(suggest(d, Category::ALL.iter().map(|c| c.id()), "categories")),
            ),
        }
    }
    e.error = raw.error.as_ref().and_then(|r| checker.regex(r));
    e.stderr = raw.stderr.as_ref().and_then(|r| checker.regex(r));
    e.stdout = raw.stdout.as_ref().and_then(|r| checker.regex(r));
    for r in &raw.requests {
        if !hosts.iter().any(|h| *h == r.host.value) {
            checker.problem(
                r.host.pos,
                format!("host `{}` is not declared", r.host.value),
                Some(suggest(&r.host, hosts.iter().map(String::as_str), "hosts")),
            );
        }
        let path = r.path.as_ref().and_then(|p| checker.glob(p));
        let (at_least, at_most) = count_bounds(r.pos, r.count, r.at_least, r.at_most, checker);
        e.requests.push(RequestExpectation {
            host: r.host.value.clone(),
            path,
            method: r.method.as_ref().map(|m| m.to_ascii_uppercase()),
            status: r.status,
            at_least,
            at_most,
        });
    }
    for q in &raw.dns {
        let (at_least, at_most) = count_bounds(q.pos, q.count, q.at_least, q.at_most, checker);
        let rcode = q.rcode.as_ref().map(|r| {
            const RCODES: &[&str] = &["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR", "NOTIMP", "none"];
            let value = if r.eq_ignore_ascii_case("none") { "none".to_string() } else { r.to_ascii_uppercase() };
            if !RCODES.contains(&value.as_str()) {
                checker.problem(
                    r.pos,
                    format!("unknown DNS answer code `{}`", r.value),
                    Some(suggest(&value, RCODES.iter().copied(), "codes")),
                );
            }
            value
        });
        match PathGlob::name(&q.name) {
            Ok(name) => e.dns.push(DnsExpectation {
                name,
                qtype: q.qtype.as_ref().map(|t| t.to_ascii_uppercase()),
                rcode,
                at_least,
                at_most,
            }),
            Err(why) => checker.problem(q.name.pos, why, None),
        }
    }
    if let Some(bounds) = &raw.duration {
        e.duration_at_least = bounds.at_least.as_ref().and_then(|d| checker.duration(d));
        e.duration_at_most = bounds.at_most.as_ref().and_then(|d| checker.duration(d));
    }
    e.verified = raw.verified.unwrap_or(recovery.is_some() && e.exit == Some(ExitExpectation::Success));
    if raw.verified == Some(true) && e.exit != Some(ExitExpectation::Success) {
        checker.problem(
            raw.exit.as_ref().map(|x| x.pos).unwrap_or_default(),
            "`verified: true` needs `exit: success`",
            Some("verification checks what a successful download left in the module cache".into()),
        );
    }
    e
}

/// `count` / `at_least` / `at_most` as inclusive bounds (default: at least one).
fn count_bounds(
    pos: Pos,
    count: Option<u64>,
    at_least: Option<u64>,
    at_most: Option<u64>,
    checker: &mut Checker,
) -> (u64, Option<u64>) {
    let (least, most) = match (count, at_least, at_most) {
        (Some(c), None, None) => (c, Some(c)),
        (Some(_), _, _) => {
            checker.problem(pos, "`count` cannot be combined with `at_least` / `at_most`", None);
            (0, None)
        }
        (None, least, most) => (least.unwrap_or(if most.is_some() { 0 } else { 1 }), most),
    };
    if let Some(m) = most
        && m < least
    {
        checker.problem(pos, format!("at_most {m} is less than at_least {least}"), None);
    }
    (least, most)
}

fn recovery(
    raw: &RawRecover,
    hosts: &[String],
    dir: &Path,
    checker: &mut Checker,
    ctx: &LoadContext,
) -> Option<Recovery> {
    let mut steps = Vec::new();
    let mut playbook_name = None;
    if let Some(name) = &raw.playbook {
        playbook_name = Some(name.value.clone());
        match playbook::resolve(name, dir, &ctx.playbook_dirs) {
            Ok(source) => match playbook::load(&source) {
                Ok(book) => {
                    let mut book_checker = Checker::new(&book.path, book.source.clone());
                    let params: Vec<(String, String)> =
                        raw.with.iter().map(|(k, v)| (k.value.clone(), v.clone())).collect();
                    for (k, _) in raw.with.iter() {
                        if !book.params.iter().any(|p| p == &k.value) {
                            checker.problem(
                                k.pos,
                                format!("playbook `{}` has no parameter `{}`", name.value, k.value),
                                Some(suggest(k, book.params.iter().map(String::as_str), "parameters")),
                            );
                        }
                    }
                    for p in &book.params {
                        if !raw.with.iter().any(|(k, _)| &k.value == p) {
                            checker.problem(
                                name.pos,
                                format!("playbook `{}` needs parameter `{p}`", name.value),
                                Some(format!("add with: {{{p}: ...}}")),
                            );
                        }
                    }
                    for step in &book.raw.steps {
                        if let Some(s) = recovery_step(step, &params, hosts, &mut book_checker) {
                            steps.push(s);
                        }
                    }
                    checker.problems.extend(book_checker.problems);
                }
                Err(problems) => checker.problems.extend(problems),
            },
            Err(help) => checker.problem(name.pos, format!("no playbook named `{}`", name.value), Some(help)),
        }
    } else if !raw.with.0.is_empty() {
        checker.problem(raw.with.0[0].0.pos, "`with` gives playbook parameters, but no playbook is named", None);
    }
    for step in &raw.steps {
        if let Some(s) = recovery_step(step, &[], hosts, checker) {
            steps.push(s);
        }
    }
    let default_expect = RawExpect::default();
    let expect = expectation(raw.expect.as_ref().unwrap_or(&default_expect), hosts, checker, Some(()));
    Some(Recovery { playbook: playbook_name, steps, expect })
}

/// Converts one step, substituting `${param}`s.
pub fn recovery_step(
    raw: &At<RawRecoveryStep>,
    params: &[(String, String)],
    hosts: &[String],
    checker: &mut Checker,
) -> Option<RecoveryStep> {
    let mut bad_param = None;
    let mut s = |text: &str| {
        substitute(text, params).unwrap_or_else(|unknown| {
            bad_param.get_or_insert(unknown);
            text.to_string()
        })
    };
    let var_ok = |var: &At<String>, checker: &mut Checker| {
        if !valid_env_name(var) || MANAGED_ENV.contains(&var.as_str()) {
            checker.problem(
                var.pos,
                format!("`{}` cannot be changed by a recovery step", var.value),
                Some("name an environment variable the scenario may set".into()),
            );
        }
    };
    let step = match &raw.value {
        RawRecoveryStep::Set(vars) => {
            for (k, _) in vars.iter() {
                var_ok(k, checker);
            }
            RecoveryStep::Set(vars.iter().map(|(k, v)| (k.value.clone(), s(v))).collect())
        }
        RawRecoveryStep::Unset(vars) => {
            for k in vars {
                var_ok(k, checker);
            }
            RecoveryStep::Unset(vars.iter().map(|k| k.value.clone()).collect())
        }
        RawRecoveryStep::Replace { var, from, to } => {
            var_ok(var, checker);
            if from.is_empty() {
                checker.problem(raw.pos, "`from` is empty", None);
            }
            RecoveryStep::Replace { var: var.value.clone(), from: s(from), to: s(to) }
        }
        RawRecoveryStep::Append { var, value } => {
            var_ok(var, checker);
            RecoveryStep::Append { var: var.value.clone(), value: s(value) }
        }
        RawRecoveryStep::Prepend { var, value } => {
            var_ok(var, checker);
            RecoveryStep::Prepend { var: var.value.clone(), value: s(value) }
        }
        RawRecoveryStep::Netrc { host, login, password } => {
            let host_name = s(host);
            if !hosts.contains(&host_name) {
                checker.problem(
                    host.pos,
                    format!("host `{host_name}` is not declared"),
                    Some(suggest(&host_name, hosts.iter().map(String::as_str), "hosts")),
                );
            }
            RecoveryStep::Netrc { host: host_name, login: s(login), password: s(password) }
        }
        RawRecoveryStep::CleanCache(_) => RecoveryStep::CleanCache,
        RawRecoveryStep::ReleaseLocks(_) => RecoveryStep::ReleaseLocks,
        RawRecoveryStep::MoveCache(_) => RecoveryStep::MoveCache,
        RawRecoveryStep::Trust(cas) => {
            let mut authorities = Vec::new();
            for ca in cas {
                let name = s(ca);
                match crate::pki::Authority::ALL.iter().find(|a| a.name() == name) {
                    Some(a) => authorities.push(*a),
                    None => checker.problem(
                        ca.pos,
                        format!("unknown certificate authority `{name}`"),
                        Some(suggest(&name, crate::pki::Authority::ALL.iter().map(|a| a.name()), "authorities")),
                    ),
                }
            }
            RecoveryStep::Trust(authorities)
        }
    };
    if let Some(unknown) = bad_param {
        checker.problem(
            raw.pos,
            format!("`${{{unknown}}}` is not a parameter of this playbook"),
            Some("declare it under params: and pass it with with:".into()),
        );
        return None;
    }
    Some(step)
}

/// Replaces `${name}` by its value; the error names the first unknown parameter.
fn substitute(text: &str, params: &[(String, String)]) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        match params.iter().find(|(k, _)| k == name) {
            Some((_, v)) => out.push_str(v),
            None => return Err(name.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_replaces_known_and_reports_unknown() {
        let params = [("mirror".to_string(), "https://m.example".to_string())];
        assert_eq!(substitute("a|${mirror}", &params).unwrap(), "a|https://m.example");
        assert_eq!(substitute("${nope}", &params).unwrap_err(), "nope");
        assert_eq!(substitute("no params", &params).unwrap(), "no params");
    }

    #[test]
    fn host_names() {
        assert!(valid_host_name("proxy.corp.example"));
        assert!(valid_host_name("localhost"));
        assert!(!valid_host_name("https://proxy"));
        assert!(!valid_host_name("Proxy.example"));
        assert!(!valid_host_name("a..b"));
        assert!(!valid_host_name("proxy:8080"));
    }
}
