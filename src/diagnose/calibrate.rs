//! Calibration: how sure a verdict may be, given what its evidence line is known to mean.
//!
//! Some lines go prints have several causes, and the log cannot tell them apart: a code
//! host asks for credentials for a repository that does not exist as for a private one; a
//! resolver inside a container says `no such host` for `proxy.golang.org`; a module proxy
//! whose own fetch failed answers `404 Not Found` as one that has no such module. A rule
//! still names the most likely cause, but a verdict resting on such a line is capped and
//! names the other causes as alternatives ("unknown beats wrong": a confident wrong
//! answer costs a user more than an honest "probably X, or Y").
//!
//! Each [`Ambiguity`] says which verdict it applies to, on what evidence, why that evidence
//! has several causes (go's or the server's behaviour, not a particular case), the most the
//! verdict may claim, and the other causes. [`calibrate`] applies every one that fits.

use std::sync::LazyLock;

use regex::Regex;

use super::facts::{Facts, matches_prefix_patterns};
use super::rules::module::REPLACE_PLACEHOLDER;
use super::rules::{PUBLIC_CODE_HOSTS, is_public_proxy, url_host, well_known};
use super::{Category, Confidence, Diagnosis};

/// Evidence with several known causes.
pub struct Ambiguity {
    /// The verdict it applies to.
    pub category: Category,
    /// Why the evidence has several causes.
    pub why: &'static str,
    /// Whether the verdict rests on such evidence (its first evidence line is the error it
    /// was read from).
    pub applies: fn(&Facts, &Diagnosis) -> bool,
    /// The most the verdict may claim.
    pub cap: Confidence,
    /// The other causes, most likely first, with why each fits.
    pub others: &'static [(Category, &'static str)],
}

/// Every known ambiguity.
pub const AMBIGUITIES: &[Ambiguity] = &[
    Ambiguity {
        category: Category::VcsAuth,
        why: "public code hosts, and the forge software they run where it is self-hosted (GitLab, Gitea, Gogs, \
              Bitbucket), ask for credentials for a repository that does not exist, as for a private one (so as not \
              to tell them apart)",
        applies: prompt_from_public_code_host,
        cap: Confidence::Low,
        others: &[(
            Category::VcsNotFound,
            "the host asks for credentials for a repository that does not exist, too (a typo, a renamed or deleted \
             repository)",
        )],
    },
    Ambiguity {
        category: Category::VcsNotFound,
        why: "git hosts (GitHub, GitLab, Gitea, Bitbucket) answer `not found` for a private repository the request \
              cannot see, as for one that does not exist",
        applies: git_says_not_found,
        cap: Confidence::Low,
        others: &[(
            Category::VcsAuth,
            "the repository may be private and git sent no (or too weak) credentials: hosts answer 404 rather than 403",
        )],
    },
    Ambiguity {
        category: Category::VcsMeta,
        why: "a code host answers a ?go-get=1 request without credentials with its login page, which has no \
              go-import meta tag, or with 404 for a private project",
        applies: meta_page_of_private_host,
        cap: Confidence::Low,
        others: &[(
            Category::VcsAuth,
            "the page may be a login page: go sends credentials for it only from ~/.netrc (or GOAUTH)",
        )],
    },
    Ambiguity {
        category: Category::DnsNxdomain,
        why: "the name exists for everyone: a resolver that says `no such host` for it is broken, filtered or \
              unreachable-and-lying (a container's, a router's, a DNS sinkhole)",
        applies: nxdomain_for_well_known_name,
        cap: Confidence::Low,
        others: &[(
            Category::DnsFailure,
            "the resolver this machine (or container) uses fails for names that exist: fix its DNS configuration",
        )],
    },
    Ambiguity {
        category: Category::DnsFailure,
        why: "git (through glibc) says `Could not resolve host` for a name that does not exist and for a failing \
              resolver alike; without the resolver's log, only a name everyone knows settles it",
        applies: git_could_not_resolve_unknown_name,
        cap: Confidence::Low,
        others: &[(Category::DnsNxdomain, "the name may not exist (a typo, a retired host, an internal-only name)")],
    },
    Ambiguity {
        category: Category::DnsFailure,
        why: "a lookup whose resolver the machine has no route to (`dial udp R:53: connect: network is unreachable`) \
              is a resolver out of reach (an IPv6 resolver on an IPv4-only host, one outside a VPN), and as often a \
              machine with no network at all (a build sandbox, a container without one, a VPN down), which the \
              lookup meets first; the log does not say which",
        applies: resolver_without_route,
        cap: Confidence::Low,
        others: &[(
            Category::NetUnreachable,
            "the machine may have no network at all (a build sandbox without one: vendor the modules, or let the build \
             reach the network)",
        )],
    },
    Ambiguity {
        category: Category::NetUnreachable,
        why: "the address without a route is the resolver's (`…:53: connectex: A socket operation was attempted to an \
              unreachable network`): a machine with no network, or a resolver out of its reach; the log does not say \
              which",
        applies: resolver_without_route,
        cap: Confidence::Low,
        others: &[(
            Category::DnsFailure,
            "the resolver this machine uses may be out of its reach (an IPv6 resolver without IPv6, one behind a VPN \
             that is down)",
        )],
    },
    Ambiguity {
        category: Category::DnsFailure,
        why: "older go words a dial that timed out before it had an address as `dial tcp: i/o timeout`: a slow \
              resolver, but also a dial through a misconfigured network path",
        applies: bare_dial_timeout,
        cap: Confidence::Low,
        others: &[
            (Category::NetTimeout, "the connection itself may have timed out (a firewall dropping packets)"),
            (Category::HttpProxyFailure, "the machine's proxy settings may send go the wrong way"),
        ],
    },
    Ambiguity {
        category: Category::NetReset,
        why: "git's `the remote end hung up unexpectedly` alone says only that the server closed the connection: a \
              network drop, but also a host refusing the request (credentials, a missing repository) or failing itself",
        applies: git_hung_up_alone,
        cap: Confidence::Low,
        others: &[
            (Category::VcsAuth, "some git hosts hang up on a request they refuse (no or wrong credentials)"),
            (Category::VcsNotFound, "the repository may not exist where go was sent"),
        ],
    },
    Ambiguity {
        category: Category::ProxyNotFound,
        why: "a module proxy answers 404/410 for a module it does not have, for a version that does not exist, and \
              when its own fetch or storage failed; a bare status does not say which",
        applies: bare_not_found_from_proxy,
        cap: Confidence::Low,
        others: &[
            (Category::ModuleInvalidVersion, "the version may not exist anywhere (a tag not pushed, a typo)"),
            (Category::ProxyServerError, "the proxy may have failed itself and worded it as not found"),
        ],
    },
    Ambiguity {
        category: Category::ProxyNotFound,
        why: "a proxy that is not public reports its own git asking for credentials: the module may be private to \
              the proxy, or the proxy lacks the credentials it should have",
        applies: private_proxy_without_credentials,
        cap: Confidence::Low,
        others: &[(
            Category::VcsAuth,
            "the proxy's own git has no credentials for the repository: give the proxy them (its ~/.netrc, a git \
             credential helper)",
        )],
    },
    Ambiguity {
        category: Category::ProxyNotFound,
        why: "a public proxy's answer quoting a credential prompt from a public code host means the repository is \
              private or does not exist: those hosts prompt for both",
        applies: proxy_quotes_public_code_host_prompt,
        cap: Confidence::Low,
        others: &[(
            Category::VcsNotFound,
            "the repository may not exist (a typo in the path, a renamed or deleted repository)",
        )],
    },
    Ambiguity {
        category: Category::ProxyServerError,
        why: "a proxy that is not public failing with its own git's credential prompt in its answer: the proxy lacks \
              credentials for a private repository more than it is broken",
        applies: private_proxy_without_credentials,
        cap: Confidence::Low,
        others: &[(
            Category::VcsAuth,
            "the proxy's own git has no credentials for the repository: give the proxy them (its ~/.netrc, a git \
             credential helper)",
        )],
    },
    Ambiguity {
        category: Category::VcsNotFound,
        why: "`unknown revision` from the repository itself (direct mode) is both a revision git cannot find there \
              and a version that does not exist: the two categories describe the same answer",
        applies: unknown_revision,
        cap: Confidence::Low,
        others: &[(
            Category::ModuleInvalidVersion,
            "the version does not exist (a tag not pushed, a commit only in a fork or a pull request, a typo)",
        )],
    },
    Ambiguity {
        category: Category::ModuleInvalidVersion,
        why: "`unknown revision` read from the repository itself (no module proxy in the line) is what go says when \
              its clone of the repository in the module cache (cache/vcs) lacks the revision: one that does not exist \
              upstream, but also a broken clone there (go checks a tag or branch against the clone's remote, which a \
              broken clone can have wrong)",
        applies: unknown_revision_read_directly,
        cap: Confidence::Low,
        others: &[
            (Category::VcsNotFound, "the repository go reached has no such revision"),
            (
                Category::CacheCorrupt,
                "the module cache's clone of the repository may be broken (go clean -modcache, or remove its \
                 cache/vcs entry)",
            ),
        ],
    },
    Ambiguity {
        category: Category::ModuleInvalidVersion,
        why: "go words every failed git command as `invalid version: git …`: unless git's own words say the revision \
              is missing, the failure may be the repository, the network or the credentials",
        applies: git_failed_without_saying_revision_missing,
        cap: Confidence::Low,
        others: &[
            (Category::VcsNotFound, "the repository may be missing or unreachable where go was sent"),
            (Category::VcsAuth, "git may have been refused (credentials)"),
        ],
    },
    Ambiguity {
        category: Category::ModuleInvalidVersion,
        why: "a public module proxy or checksum database answers `unknown revision` for a tag it could not find when \
              it last looked: a tag that does not exist, but also one pushed after that (a fresh release), so the \
              answer changes on a later try",
        applies: public_mirror_misses_a_tag,
        cap: Confidence::Low,
        others: &[(
            Category::ProxyNotFound,
            "the tag may be newer than the mirror's answer: retry later, or ask the origin (GOPROXY=direct with \
             GONOSUMDB for the module)",
        )],
    },
    Ambiguity {
        category: Category::ProxyAuth,
        why: "public module proxies need no credentials: a 401/403 from one is the proxy refusing the module, or a \
              network filter answering in its name",
        applies: refusal_from_public_proxy,
        cap: Confidence::Low,
        others: &[
            (Category::HttpProxyFailure, "a filtering proxy or firewall between here and the proxy may have answered"),
            (Category::ProxyServerError, "the proxy may refuse the module itself (blocked, rate limited)"),
        ],
    },
    Ambiguity {
        category: Category::SumdbPrivateLeak,
        why: "the checksum database answers 404/410 both for a module it cannot fetch (private) and for a version \
              its fetch failed on; without its explanation, a path on a public code host can be either",
        applies: bare_lookup_refusal_on_public_code_host,
        cap: Confidence::Low,
        others: &[(
            Category::ModuleInvalidVersion,
            "the version may not exist (or not yet be visible) upstream: the database found nothing to record",
        )],
    },
    Ambiguity {
        category: Category::SumdbPrivateLeak,
        why: "the checksum database's answer quoting a credential prompt (or `Repository not found`) from a public \
              code host means the repository is private or does not exist: those hosts answer both alike",
        applies: proxy_quotes_public_code_host_prompt,
        cap: Confidence::Low,
        others: &[(
            Category::VcsNotFound,
            "the repository may not exist (a typo in the path, a renamed or deleted repository)",
        )],
    },
    Ambiguity {
        category: Category::ToolchainDownload,
        why: "with GOTOOLCHAIN=local go does not try to switch: the failure is the installed go being older than the \
              module's go line, which reads as much as a go.mod the installed go cannot use",
        applies: local_toolchain_too_old,
        cap: Confidence::Low,
        others: &[(
            Category::ModuleGoMod,
            "the module's go line asks for a newer go than the one installed: install it (or lower the go line)",
        )],
    },
    Ambiguity {
        category: Category::SumdbMismatch,
        why: "go compares go.sum with the hash the module cache recorded when it downloaded the module: when the \
              log shows no download of it in this run, that hash may be of an earlier download (before a re-tag, or \
              damaged) rather than of what the origin serves now",
        applies: go_sum_mismatch_without_download,
        cap: Confidence::Low,
        others: &[(
            Category::CacheCorrupt,
            "the module cache may hold an earlier or damaged download: clean it (go clean -modcache) and retry; if \
             the mismatch stays, the version was re-tagged upstream",
        )],
    },
    Ambiguity {
        category: Category::DnsNxdomain,
        why: "a name only an internal DNS knows (a single-label name, a private top-level domain) or a name asked of a \
              resolver that cannot know internal names (Docker's embedded resolver 127.0.0.11 forwards to the host's \
              upstreams, not its VPN's; a public resolver knows no split-horizon zone) gets `no such host` when the name \
              is wrong and when this machine asks the wrong resolver alike",
        applies: nxdomain_from_a_resolver_that_cannot_know_it,
        cap: Confidence::Low,
        others: &[(
            Category::DnsFailure,
            "the name may exist only in an internal DNS this machine (or container) is not using: a VPN that is down, a \
             docker build that does not see the host's resolver",
        )],
    },
    Ambiguity {
        category: Category::TlsHostname,
        why: "go's own services, the public proxies and code hosts serve certificates for their names: a certificate \
              for other names (or none) on one of them was presented by something in between (a resolver that sent go \
              elsewhere, a filtering or intercepting middlebox), not by a misconfigured server",
        applies: wrong_name_certificate_for_well_known_name,
        cap: Confidence::Low,
        others: &[
            (
                Category::DnsFailure,
                "a poisoned or hijacking resolver may have sent go to another server: compare the address with what a \
                 trusted resolver answers",
            ),
            (
                Category::TlsUnknownAuthority,
                "a TLS-intercepting proxy or filter may be answering in the server's name: trust its CA, or go around it",
            ),
        ],
    },
    Ambiguity {
        category: Category::DnsFailure,
        why: "go says `server misbehaving` when the resolver answers SERVFAIL (or REFUSED); a recursive resolver answers \
              SERVFAIL when it fails itself, and also when the name's own DNS is broken or gone (an expired domain, a \
              lame delegation, a DNSSEC failure), which no other resolver would answer better: only a name everyone's \
              resolver knows, or the resolver's own log, settles which",
        applies: servfail_for_a_name_not_known_to_exist,
        cap: Confidence::Low,
        others: &[(
            Category::DnsNxdomain,
            "the name's own DNS may be broken or the domain gone (expired, its name servers removed): every resolver \
             fails for it, and the host cannot be reached by that name",
        )],
    },
    Ambiguity {
        category: Category::ProxyServerError,
        why: "go's module proxy requests are well-formed, so a proxy answering them with a client error other than \
              401/403/404/407/410/429 either is failing itself (a bad deployment, a broken backend, a firewall rule) or \
              does not implement that part of the protocol; the status alone does not say which",
        applies: other_client_error_from_proxy,
        cap: Confidence::Low,
        others: &[(Category::ProxyBadResponse, "the proxy may not implement that request")],
    },
];

/// A verdict on an error that quotes another failure inside it: two categories describe
/// the same event, the step that failed and what it failed on. Unlike an [`Ambiguity`],
/// the other cause is not fixed: it is what the later rules read in the quoted failure
/// ([`super::diagnose`] adds their verdicts as alternatives).
pub struct Wrapper {
    /// The verdict it applies to.
    pub category: Category,
    /// Why the quoted failure is a cause of its own.
    pub why: &'static str,
    /// Whether the verdict's error quotes such a failure.
    pub applies: fn(&Facts, &Diagnosis) -> bool,
    /// The most the verdict may claim.
    pub cap: Confidence,
}

/// Every known wrapper.
pub const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        category: Category::ToolchainDownload,
        why: "go downloads a toolchain as the module golang.org/toolchain through GOPROXY, so a switch that failed on the \
          network (a refused, reset or timed-out connection, a name that did not resolve, a certificate) or on a \
          proxy's error status failed because of that: the failed switch and the failure it quotes are the same event, \
          and the quoted one is what needs fixing",
        applies: toolchain_switch_failed_on_the_way,
        cap: Confidence::Low,
    },
    Wrapper {
        category: Category::SumdbUnreachable,
        why: "go reaches the checksum database through the same forward proxy as everything else, so a lookup that \
          failed on that proxy (proxyconnect, or a CONNECT answered with a bare status text) failed because of it: \
          the unreachable database and the broken proxy are the same event, and the proxy is what needs fixing",
        applies: sumdb_lookup_failed_on_the_forward_proxy,
        cap: Confidence::Low,
    },
];

/// The diagnosis with every ambiguity that fits applied: its confidence capped, the other
/// causes added as alternatives (after those it has), never more sure than the verdict.
pub fn calibrate(f: &Facts, mut diagnosis: Diagnosis) -> Diagnosis {
    let category = diagnosis.category;
    for ambiguity in AMBIGUITIES.iter().filter(|a| a.category == category) {
        if !(ambiguity.applies)(f, &diagnosis) {
            continue;
        }
        diagnosis.confidence = diagnosis.confidence.min(ambiguity.cap);
        for (category, why) in ambiguity.others {
            diagnosis = diagnosis.or(*category, ambiguity.cap, *why);
        }
    }
    for wrapper in WRAPPERS.iter().filter(|w| w.category == category) {
        if (wrapper.applies)(f, &diagnosis) {
            diagnosis.confidence = diagnosis.confidence.min(wrapper.cap);
        }
    }
    let cap = diagnosis.confidence;
    for alternative in &mut diagnosis.alternatives {
        alternative.confidence = alternative.confidence.min(cap);
    }
    fit_fixes_to_the_checksum_database(&mut diagnosis);
    diagnosis
}

/// A failed request to the checksum database itself (a lookup or a tile) is not helped by
/// another GOPROXY: go asks the database GOSUMDB names, wherever the modules come from.
/// Where a rule's fixes name a mirror, the database's own route (`set-gosumdb`) takes its
/// place. (Through a proxy's `/sumdb/`, the first GOPROXY entry is that route: a mirror
/// stays a fix there.)
fn fit_fixes_to_the_checksum_database(d: &mut Diagnosis) {
    static DATABASE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"https?://(?:sum\.golang\.(?:org|google\.cn)\b|\S+?/(?:lookup|tile)/)\S*").expect("compiles")
    });
    let direct = DATABASE.find(error_line(d)).is_some_and(|url| !url.as_str().contains("/sumdb/"));
    if !direct || d.category == Category::SumdbMismatch {
        return;
    }
    let mut fixes = Vec::with_capacity(d.playbooks.len());
    for playbook in std::mem::take(&mut d.playbooks) {
        let playbook =
            if matches!(playbook.as_str(), "use-mirror" | "add-mirror") { "set-gosumdb".into() } else { playbook };
        if !fixes.contains(&playbook) {
            fixes.push(playbook);
        }
    }
    d.playbooks = fixes;
}

/// The error line a verdict was read from.
fn error_line(d: &Diagnosis) -> &str {
    d.evidence.first().map_or("", |l| l.text.as_str())
}

/// git's credential prompt for a repository on a public code host.
fn prompt_from_public_code_host(_: &Facts, d: &Diagnosis) -> bool {
    static PROMPT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"could not read (?:Username|Password) for '([^']+)'|terminal prompts disabled").expect("compiles")
    });
    let line = error_line(d);
    let Some(caps) = PROMPT.captures(line) else {
        return false;
    };
    match caps.get(1) {
        Some(url) => PUBLIC_CODE_HOSTS.contains(&url_host(url.as_str())) || forge_named(url_host(url.as_str())),
        // go names the repository in the git command it ran.
        None => PUBLIC_CODE_HOSTS.iter().any(|h| line.contains(&format!("https://{h}/"))),
    }
}

/// A host named like a self-hosted forge (GitLab, Gitea, Gogs, Bitbucket Server): those
/// run the same software as the public hosts, which asks for credentials for a repository
/// that does not exist as for a private one.
fn forge_named(host: &str) -> bool {
    ["gitlab", "gitea", "gogs", "bitbucket", "stash"].iter().any(|w| host.contains(w))
}

/// git (or the host) saying the repository does not exist.
fn git_says_not_found(_: &Facts, d: &Diagnosis) -> bool {
    let line = error_line(d);
    (line.contains("not found") && (line.contains("fatal: repository") || line.contains("remote:")))
        || line.contains("does not appear to be a git repository")
        || line.contains("fatal: remote error:")
        || line.contains("ERROR: Repository not found")
        || line.contains("The project you were looking for could not be found")
        || line.contains("remote: TF401019")
        || line.contains("The requested URL returned error: 404")
}

/// A `?go-get=1` page without a go-import tag (or a 404 for it), for a path that is
/// private (GOPRIVATE, GONOPROXY) or on a host named like a code host.
fn meta_page_of_private_host(f: &Facts, d: &Diagnosis) -> bool {
    static PATH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"unrecognized import path "([^"]+)":? \(?(?:parse \S+: no go-import meta tags|reading \S+: 404)"#)
            .expect("compiles")
    });
    let Some(caps) = PATH.captures(error_line(d)) else {
        return false;
    };
    let path = &caps[1];
    let host = path.split('/').next().unwrap_or_default();
    let private = ["GOPRIVATE", "GONOPROXY"]
        .iter()
        .filter_map(|v| f.env(v))
        .any(|patterns| patterns.trim() != "*" && matches_prefix_patterns(patterns, path));
    let code_host = host.starts_with("git.")
        || ["gitlab", "gitea", "gogs", "bitbucket", "stash", "gerrit"].iter().any(|w| host.contains(w));
    private || code_host
}

/// git's `Could not resolve host` for a name that is not known to exist, with no resolver
/// log to say which failure it was.
fn git_could_not_resolve_unknown_name(f: &Facts, d: &Diagnosis) -> bool {
    static NAME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"Could not resolve host: ([^\s'\x22]+)").expect("compiles"));
    NAME.captures(error_line(d)).is_some_and(|c| f.evidence.dns.is_empty() && !well_known(&c[1]))
}

/// A lookup that could not reach its resolver for want of a route.
fn resolver_without_route(_: &Facts, d: &Diagnosis) -> bool {
    static NO_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r":53: connect: (?:network is unreachable|no route to host)",
            r"|:53: connectex: A socket operation was attempted to an unreachable",
        ))
        .expect("compiles")
    });
    NO_ROUTE.is_match(error_line(d))
}

/// `dial tcp: i/o timeout`, without a name or an address.
fn bare_dial_timeout(_: &Facts, d: &Diagnosis) -> bool {
    error_line(d).contains("dial tcp: i/o timeout")
}

/// `no such host` for a name everyone's resolver knows.
fn nxdomain_for_well_known_name(_: &Facts, d: &Diagnosis) -> bool {
    static NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"lookup (\S+?)(?: on \S+?)?: ").expect("compiles"));
    NAME.captures(error_line(d)).is_some_and(|c| well_known(&c[1]))
}

/// git's `the remote end hung up unexpectedly` with no word of what broke.
fn git_hung_up_alone(f: &Facts, _: &Diagnosis) -> bool {
    static BROKE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"connection reset|early EOF|RPC failed; curl|SSL_read|SSL_ERROR|gnutls|unexpected EOF|stream error|broken pipe",
        )
        .expect("compiles")
    });
    let texts = || f.errors.iter().map(|e| e.text.as_str());
    texts().any(|t| t.contains("the remote end hung up unexpectedly")) && !texts().any(|t| BROKE.is_match(t))
}

/// A 404/410 from a module proxy that says nothing more than the status (or only `not
/// found`, `gone`).
fn bare_not_found_from_proxy(_: &Facts, d: &Diagnosis) -> bool {
    let line = error_line(d);
    if !(line.contains(": 404") || line.contains(": 410")) {
        return false;
    }
    match super::rules::proxy::server_response(line) {
        None => true,
        Some(response) => {
            let r = response.trim().trim_end_matches('.').to_ascii_lowercase();
            r == "not found" || r == "gone" || r == "404 page not found" || r.is_empty()
        }
    }
}

/// A non-public proxy's error status whose answer says its own git needed credentials.
fn private_proxy_without_credentials(_: &Facts, d: &Diagnosis) -> bool {
    static URL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?:reading |unexpected status \()(https?://[^\s)]+)").expect("compiles"));
    let line = error_line(d);
    let Some(url) = URL.captures(line).map(|c| c[1].to_string()) else {
        return false;
    };
    let response = super::rules::proxy::server_response(line).unwrap_or_default();
    !is_public_proxy(&url)
        && ["terminal prompts disabled", "could not read Username", "Authentication failed"]
            .iter()
            .any(|w| response.contains(w))
}

/// A server's answer (`server response: …`) quoting a public code host's credential prompt
/// or its `Repository not found`.
fn proxy_quotes_public_code_host_prompt(_: &Facts, d: &Diagnosis) -> bool {
    static HOST: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?:for|repository) '(https?://[^']+)'").expect("compiles"));
    let Some(response) = super::rules::proxy::server_response(error_line(d)) else {
        return false;
    };
    let prompt = ["terminal prompts disabled", "could not read Username", "Repository not found"]
        .iter()
        .any(|w| response.contains(w));
    prompt
        && (HOST.captures(&response).is_some_and(|c| PUBLIC_CODE_HOSTS.contains(&url_host(&c[1])))
            || PUBLIC_CODE_HOSTS.iter().any(|h| response.contains(&format!("https://{h}/"))))
}

/// `requires go >= X (running go Y; GOTOOLCHAIN=local)`.
fn local_toolchain_too_old(_: &Facts, d: &Diagnosis) -> bool {
    error_line(d).contains("; GOTOOLCHAIN=local)")
}

/// `unknown revision` in the verdict's line, with no module proxy's URL or answer in it
/// — and not of the placeholder version go writes for a module only a replace provides
/// (`v0.0.0-00010101000000-000000000000`), which no clone, broken or whole, has.
fn unknown_revision_read_directly(_: &Facts, d: &Diagnosis) -> bool {
    let line = error_line(d);
    line.contains("unknown revision")
        && !line.contains("://")
        && !line.contains("server response")
        && !line
            .match_indices(REPLACE_PLACEHOLDER)
            .any(|(at, version)| line[..at].ends_with('@') && line[at + version.len()..].starts_with(':'))
}

/// `unknown revision`, as the verdict's own line says.
fn unknown_revision(_: &Facts, d: &Diagnosis) -> bool {
    error_line(d).contains("unknown revision")
}

/// A public proxy's or the checksum database's answer that a semantic-version tag is an
/// unknown revision.
fn public_mirror_misses_a_tag(_: &Facts, d: &Diagnosis) -> bool {
    static TAG: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?s)(?:reading |unexpected status \()https?://([^/\s]+)/.*?unknown revision v\d+\.\d+\.\d+")
            .expect("compiles")
    });
    d.evidence.iter().any(|line| {
        TAG.captures(&line.text).is_some_and(|c| is_public_proxy(&c[1]) || c[1].starts_with("sum.golang.org"))
    })
}

/// `invalid version: git …` (a git command failed: go names it as the reason, with its
/// exit status, or cut short by a paste) whose git lines do not say the revision is
/// missing.
fn git_failed_without_saying_revision_missing(_: &Facts, d: &Diagnosis) -> bool {
    static GIT_FAILED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"invalid version: git (?:ls-remote|fetch|clone|init|remote|-c|tag|log|cat-file|rev-parse)\b")
            .expect("compiles")
    });
    let line = error_line(d);
    GIT_FAILED.is_match(line)
        && !["unknown revision", "couldn't find remote ref", "did not match any", "not our ref", "no such"]
            .iter()
            .any(|w| line.contains(w))
}

/// A 401/403 from a public module proxy.
fn refusal_from_public_proxy(_: &Facts, d: &Diagnosis) -> bool {
    static REFUSAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:reading |unexpected status \()(https?://[^\s)]+)\)?: 40[13]\b").expect("compiles")
    });
    REFUSAL.captures(error_line(d)).is_some_and(|c| is_public_proxy(&c[1]))
}

/// A 4xx from a module proxy that go's protocol gives no meaning to (not 401/403, which
/// ask for credentials, nor 404/410, which say "not here").
fn other_client_error_from_proxy(_: &Facts, d: &Diagnosis) -> bool {
    static CLIENT_ERROR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:reading |unexpected status \()https?://[^\s)]+\)?: (4\d\d)\b").expect("compiles")
    });
    CLIENT_ERROR
        .captures(error_line(d))
        .is_some_and(|c| !matches!(&c[1], "401" | "403" | "404" | "407" | "410" | "429"))
}

/// A checksum database lookup refused without an explanation, for a module on a public
/// code host.
fn bare_lookup_refusal_on_public_code_host(_: &Facts, d: &Diagnosis) -> bool {
    static LOOKUP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"/lookup/([^/\s@]+)/").expect("compiles"));
    let line = error_line(d);
    super::rules::proxy::server_response(line).is_none()
        && LOOKUP.captures(line).is_some_and(|c| PUBLIC_CODE_HOSTS.contains(&&c[1]))
}

/// A mismatch with go.sum for a module the log does not show being downloaded in this run.
fn go_sum_mismatch_without_download(f: &Facts, d: &Diagnosis) -> bool {
    static SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:verifying (\S+?)@(\S+?): checksum mismatch|(\S+?)@(\S+?): verifying (?:module|go\.mod): checksum mismatch)")
            .expect("compiles")
    });
    let line = error_line(d);
    if !line.contains("go.sum:") {
        return false;
    }
    let Some(caps) = SUBJECT.captures(line) else {
        return false;
    };
    let module = caps.get(1).or(caps.get(3)).map_or("", |m| m.as_str());
    let version = caps.get(2).or(caps.get(4)).map_or("", |m| m.as_str()).trim_end_matches("/go.mod");
    let downloading = format!("go: downloading {module} {version}");
    let fetched_zip = f.evidence.trace.iter().any(|g| g.url.contains(&format!("/@v/{version}.")));
    !(f.evidence.stderr.contains(&downloading) || fetched_zip)
}

/// Docker's embedded resolver and the public resolvers: none of them knows a name that only
/// a company's (or a VPN's) DNS serves.
const RESOLVERS_WITHOUT_INTERNAL_NAMES: [&str; 12] = [
    "127.0.0.11",
    "8.8.8.8",
    "8.8.4.4",
    "1.1.1.1",
    "1.0.0.1",
    "9.9.9.9",
    "208.67.222.222",
    "208.67.220.220",
    "114.114.114.114",
    "223.5.5.5",
    "223.6.6.6",
    "119.29.29.29",
];

/// Top-level domains no public DNS serves (RFC 6762, RFC 8375, and the customary
/// internal ones).
const PRIVATE_TLDS: [&str; 8] = ["local", "internal", "corp", "lan", "intranet", "home", "localdomain", "private"];

/// `no such host` for a name that is not known to exist, when the name is one only an
/// internal DNS can serve or the resolver asked is one that cannot know internal names.
fn nxdomain_from_a_resolver_that_cannot_know_it(_: &Facts, d: &Diagnosis) -> bool {
    static LOOKUP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"lookup (\S+?)(?: on (\S+?))?: ").expect("compiles"));
    let Some(caps) = LOOKUP.captures(error_line(d)) else {
        return false;
    };
    let name = caps[1].trim_end_matches('.');
    if well_known(name) {
        return false;
    }
    let internal_name = !name.contains('.') || name.rsplit('.').next().is_some_and(|tld| PRIVATE_TLDS.contains(&tld));
    let resolver = caps.get(2).map_or("", |s| s.as_str());
    let resolver = resolver.rsplit_once(':').map_or(resolver, |(address, _)| address).trim_matches(['[', ']']);
    internal_name || RESOLVERS_WITHOUT_INTERNAL_NAMES.contains(&resolver)
}

/// `server misbehaving` (SERVFAIL or REFUSED) for a name that is not known to exist, with
/// no resolver log to say what the resolver met.
fn servfail_for_a_name_not_known_to_exist(f: &Facts, d: &Diagnosis) -> bool {
    static SERVFAIL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"lookup (\S+?)(?: on \S+?)?: server misbehaving").expect("compiles"));
    SERVFAIL.captures(error_line(d)).is_some_and(|c| f.evidence.dns.is_empty() && !well_known(&c[1]))
}

/// A certificate for other names (or none) presented for one of the names everyone's
/// resolver knows.
fn wrong_name_certificate_for_well_known_name(_: &Facts, d: &Diagnosis) -> bool {
    static TARGET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"x509: certificate is valid for .+?, not ([^\s,;)]+)|wanted to match ([^\s,;)]+)")
            .expect("compiles")
    });
    static URL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"https?://[^\s\x22)]+").expect("compiles"));
    let line = error_line(d);
    let target = match TARGET.captures(line) {
        Some(c) => c.get(1).or(c.get(2)).map(|m| m.as_str().to_string()),
        None => URL.find(line).map(|m| url_host(m.as_str()).to_string()),
    };
    target.is_some_and(|t| well_known(t.split(':').next().unwrap_or_default()))
}

/// A checksum database request whose quoted failure is the forward proxy's (net/http's
/// `proxyconnect tcp: …`, or the bare status text it keeps of a failed CONNECT).
fn sumdb_lookup_failed_on_the_forward_proxy(_: &Facts, d: &Diagnosis) -> bool {
    static ON_THE_PROXY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"proxyconnect tcp|: (?:Proxy Authentication Required|Forbidden|Bad Gateway)\s*$").expect("compiles")
    });
    ON_THE_PROXY.is_match(error_line(d))
}

/// `go: download goX: …` (or `golang.org/toolchain@…: …`) quoting a network failure or a
/// proxy's error status, rather than saying that no such toolchain exists.
fn toolchain_switch_failed_on_the_way(_: &Facts, d: &Diagnosis) -> bool {
    static ON_THE_WAY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"dial tcp|lookup \S+|proxyconnect|x509: |tls: |connection reset|connection refused|unexpected EOF",
            r"|i/o timeout|TLS handshake timeout|timed out|stream error|network is unreachable|no route to host",
            r"|: (?:5\d\d|429|401|403|407) [A-Z]",
        ))
        .expect("compiles")
    });
    let line = error_line(d);
    (line.contains("golang.org/toolchain@") || line.contains("go: download go"))
        && !line.contains("toolchain not available")
        && ON_THE_WAY.is_match(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ambiguity_names_other_causes_and_lowers_the_verdict() {
        for a in AMBIGUITIES {
            assert!(!a.others.is_empty(), "{}: no other cause named", a.category);
            assert!(a.others.iter().all(|(c, _)| *c != a.category), "{}: names itself", a.category);
            assert!(a.cap < Confidence::High, "{}: a cap of high caps nothing", a.category);
            assert!(!a.why.is_empty());
        }
        for w in WRAPPERS {
            assert!(w.cap < Confidence::High && !w.why.is_empty(), "{}", w.category);
        }
    }
}
