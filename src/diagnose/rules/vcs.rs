//! Direct VCS mode (`GOPROXY=direct`, GOPRIVATE modules): git (or the `?go-get=1` page)
//! asking for credentials, GOVCS forbidding git, a repository or revision that does not
//! exist, and `?go-get=1` pages without (or with a wrong) go-import meta tag. go wraps git's failures as `invalid version: git … exit
//! status 128:` followed by git's own `fatal:` line, so these rules run before the
//! module-version ones.

use std::sync::LazyLock;

use regex::Regex;

use super::{PUBLIC_CODE_HOSTS, found, owner_of, subject, url_host};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis, EvidenceLine, Source};

/// git asked for a user name or password (which `GIT_TERMINAL_PROMPT=0` refuses), or
/// the server rejected the credentials.
pub fn auth(f: &Facts) -> Option<Diagnosis> {
    static AUTH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"fatal: could not read (?:Username|Password) for '([^']+)': (?:terminal prompts disabled|No such device or address)",
            r"|fatal: Authentication failed for '([^']+)'",
            r"|remote: HTTP Basic: Access denied|remote: Invalid username or password",
            r"|fatal: unable to access '([^']+)': The requested URL returned error: 40[13]",
            // git's smart-HTTP request refused (`error: RPC failed; HTTP 403 curl 22 …`).
            r"|RPC failed; HTTP 40[13] curl 22",
            r"|Permission denied \(publickey\)|Host key verification failed",
            r"|terminal prompts disabled",
            // Git Credential Manager's words for the same (Windows' git, as go runs it).
            r"|fatal: Cannot prompt because user interactivity has been disabled",
            // (Azure DevOps answers a request without credentials with its sign-in page, as
            // `203 Non-Authoritative Information`.)
            r"|reading (https?://[^\s?]+\?go-get=1):(?: 40[13] |\s+203 Non-Authoritative)",
            // The same with the page's URL cut out of the paste.
            r#"|unrecognized import path "([^"]*)": 40[13] "#,
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching_own(&AUTH).last()?;
    let page = caps.get(4).is_some() || caps.get(5).is_some();
    // The import path's first element names the page's host (when the paste kept it).
    let import_host = caps
        .get(5)
        .map(|m| m.as_str().split('/').next().unwrap_or_default())
        .filter(|h| h.contains('.') && h.chars().any(|c| c.is_ascii_alphanumeric()));
    let url = caps
        .get(1)
        .or(caps.get(2))
        .or(caps.get(3))
        .or(caps.get(4))
        .map(|m| m.as_str().to_string())
        .or(import_host.map(|h| format!("https://{h}/")));
    let host = url.as_deref().map_or_else(|| "the git host".to_string(), |u| url_host(u).to_string());
    let mut evidence = vec![error.line()];
    evidence.extend(f.notable_requests());
    evidence.extend(f.env_line("GOPRIVATE"));
    evidence.extend(f.env_line("GOPROXY"));
    let what = subject(&error.text).map(|s| format!(" for {s}")).unwrap_or_default();
    let summary = if page {
        format!(
            "the import path's ?go-get=1 page on {host} wants credentials{what}: go sends them only from ~/.netrc \
             (or GOAUTH) for https; the page is behind the same login as the repository"
        )
    } else if error.text.contains("Authentication failed") || error.text.contains("Access denied") {
        format!("{host} rejected the credentials git sent{what}: they are wrong or lack access")
    } else if error.text.contains("Host key verification failed") {
        format!(
            "ssh does not know {host}'s host key{what}: git runs ssh without a terminal, so it cannot ask to trust it; \
             add the host key to ~/.ssh/known_hosts (ssh-keyscan)"
        )
    } else if error.text.contains("publickey") {
        format!(
            "the SSH key was refused{what}: git is using ssh and no authorised key is loaded; load one with access \
             (ssh-agent, or IdentityFile in ~/.ssh/config), or drop the git insteadOf rule that sends go's https \
             fetch over ssh and give https credentials instead"
        )
    } else if error.text.contains("SAML SSO") {
        format!(
            "{host} refused the credentials git sent{what}: the organization enforces SAML single sign-on and the \
             token (or SSH key) is not authorised for it; authorise it for the organization (on GitHub: the \
             token's or key's Configure SSO)"
        )
    } else if error.text.contains("returned error: 403") || error.text.contains("HTTP 403") {
        format!(
            "{host} refused git's request (403){what}: the credentials git sent lack access to the repository (a \
             token without its scope, an account not in the organization), or the host refuses requests without \
             them; check what ~/.netrc or the credential helper gives git for {host}"
        )
    } else {
        format!(
            "git needed credentials for {host}{what} and had none (go disables git's prompts): add them to ~/.netrc \
             (git reads it itself) or a git credential helper"
        )
    };
    // A prompt from a public code host is a guess (it prompts for repositories that do not
    // exist, too): `calibrate` caps it. Two things tip that guess the other way: the
    // repository is one another module's published version requires (its authors could
    // fetch it then), or it is the very path the user asked go for by name while nothing
    // in view says it is private (a path copied with a typo, a repository gone since).
    let prompt = (error.text.contains("terminal prompts disabled")
        || error.text.contains("user interactivity has been disabled"))
        && !error.text.contains("Authentication failed");
    let public_host = url.as_deref().is_some_and(|u| PUBLIC_CODE_HOSTS.contains(&url_host(u)))
        || PUBLIC_CODE_HOSTS.iter().any(|h| error.text.contains(&format!("'https://{h}")));
    if prompt
        && public_host
        && let Some(why) = missing_rather_than_private(f, &error.text)
    {
        let summary = format!(
            "{host} asked for credentials{what}, as it does for a repository that does not exist; {why}: most \
             likely the path is wrong (a typo, a renamed or deleted repository); check it on {host}"
        );
        return Some(found(Category::VcsNotFound, Confidence::Low, summary, evidence, &[]).or(
            Category::VcsAuth,
            Confidence::Low,
            "the repository may be private, and git had no credentials for it",
        ));
    }
    // A page whose URL the paste cut: its 401 or 403 may come from a firewall or a block
    // page as well as a login (a 403 on a public vanity domain most often does).
    let confidence = if caps.get(5).is_some() { Confidence::Low } else { Confidence::High };
    // ~/.netrc is for https: over ssh the key, the agent and known_hosts are what to fix.
    let playbooks: &[&str] = if refused_over_ssh(&error.text) { &[] } else { &["git-credentials"] };
    Some(found(Category::VcsAuth, confidence, summary, evidence, playbooks))
}

/// Why a public code host's "no" (a credential prompt, `Repository not found`) more likely
/// means the repository is missing than private: it was there once ([`lost_since`]), or it
/// is the path go was asked for by name while nothing in view marks any module private (a
/// path copied with a typo, or a repository gone since).
fn missing_rather_than_private(f: &Facts, text: &str) -> Option<String> {
    let failing = failing_module(f, text);
    lost_since(text)
        .or_else(|| {
            // GOPATH-era `go get X` (its `package Y: exit status` or `# cd .; git clone`
            // lines show the mode) fetching what X imports, from another owner: X's authors
            // could fetch it when they wrote that. In module mode the failing module is as
            // often the work module's own private requirement.
            static GOPATH_GET: LazyLock<Regex> = LazyLock::new(|| {
                Regex::new(r"(?m)^(?:package \S+: exit status \d+$|# cd \S+; git clone )").expect("compiles")
            });
            let module = failing.as_deref()?;
            if !GOPATH_GET.is_match(&f.evidence.stderr) || configured_private(f) {
                return None;
            }
            let asked = asked_paths(f);
            if asked.iter().any(|a| a == module) {
                return None;
            }
            asked.iter().find(|a| owner_of(a) != owner_of(module)).map(|a| {
                format!("{module} is something {a} (what go was asked for) needs, and its authors could fetch it")
            })
        })
        .or_else(|| {
            failing
                .filter(|m| asked_for_by_name(f, m) && !configured_private(f))
                .map(|m| format!("{m} is the path go was asked for by name, and nothing in view says it is private"))
        })
}

/// The module paths `go get`, `go install` or `go mod download` was asked for on the
/// command line in view (without versions; not patterns like `./...`).
fn asked_paths(f: &Facts) -> Vec<String> {
    // Build flags whose value is the next word.
    const VALUED: [&str; 9] =
        ["-ldflags", "-gcflags", "-asmflags", "-tags", "-modfile", "-overlay", "-pgo", "-C", "-o"];
    let command = f.evidence.command.as_deref().unwrap_or_default();
    let words = shell_words::split(command).unwrap_or_default();
    let Some(at) = words.iter().position(|w| w == "get" || w == "install" || w == "download") else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    let mut skip = false;
    for word in &words[at + 1..] {
        if std::mem::take(&mut skip) {
            continue;
        }
        if word.starts_with('-') {
            skip = VALUED.contains(&word.as_str());
            continue;
        }
        let looks_like_a_path = !word.starts_with('.')
            && !word.contains(['=', '"', '\''])
            && word.split('/').next().is_some_and(|first| first.contains('.'));
        if looks_like_a_path {
            paths.push(word.split('@').next().unwrap_or(word).to_string());
        }
    }
    paths
}

/// Why a repository a code host does not show was there once, when go's stack says so:
/// another module's published version requires it (`X@v requires`, modload's stackText;
/// not the work module's own requirements, whose pseudo-version is
/// `v0.0.0-00010101000000-000000000000`), or a package of another module than the one the
/// import stack starts in imports it (`A imports` … `dep/pkg imports` … `missing`). Either
/// way its authors could fetch it when they wrote that.
fn lost_since(text: &str) -> Option<String> {
    static REQUIRED_BY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(\S+?)@(\S+) requires\s*\n").expect("compiles"));
    static STACK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^\s*(?:go: )?(\S+) (?:imports|tested by)\s*$").expect("compiles"));
    if let Some(c) = REQUIRED_BY.captures_iter(text).last().filter(|c| &c[2] != "v0.0.0-00010101000000-000000000000") {
        return Some(format!(
            "{}@{} requires it, and its authors could fetch it when they published that version",
            &c[1], &c[2]
        ));
    }
    let stack: Vec<&str> = STACK.captures_iter(text).filter_map(|c| c.get(1)).map(|m| m.as_str()).collect();
    // A package on the stack head's host (and owner) is taken for the work module's own.
    match (stack.first(), stack.last()) {
        (Some(first), Some(importer)) if stack.len() >= 2 && owner_of(first) != owner_of(importer) => Some(format!(
            "{} (a dependency's package) imports it, and its authors could fetch it when they wrote that",
            importer.trim_end_matches(".test")
        )),
        _ => None,
    }
}

/// The module (or GOPATH-era package) a git failure was about: the error's subject, go's
/// `module X:`, or GOPATH-era `package X: exit status N` after git's lines.
fn failing_module(f: &Facts, text: &str) -> Option<String> {
    static MODULE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^(?:go: )?module ([A-Za-z0-9._~/!-]+):").expect("compiles"));
    // (`package Y: exit status N`, or an import stack's `\timports Y: exit status N`.)
    static PACKAGE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^(?:package|\s+imports) ([A-Za-z0-9._~/!-]+): exit status \d+").expect("compiles")
    });
    // A module path's first element has a dot; `go:` or `fatal:` before a colon is none.
    error_module(text)
        .filter(|m| m.split('/').next().is_some_and(|first| first.contains('.')))
        .or_else(|| MODULE.captures(text).map(|c| c[1].to_string()))
        .or_else(|| f.errors.iter().find_map(|e| PACKAGE.captures(&e.text).map(|c| c[1].to_string())))
}

/// Whether the user asked go for `module` by name: `go get`/`go install`/`go mod download`
/// of it on the command line, go's own `go get X:` or `module X:` words, GOPATH-era `X (download)`.
fn asked_for_by_name(f: &Facts, module: &str) -> bool {
    let named = |text: &str| {
        text.match_indices(module).any(|(at, _)| {
            let after = text[at + module.len()..].chars().next();
            let before = text[..at].chars().next_back();
            matches!(before, None | Some(' ' | '\n')) && matches!(after, None | Some('@' | ':' | ' ' | '\n'))
        })
    };
    asked_paths(f).iter().any(|asked| asked == module)
        || f.evidence.stderr.lines().any(|line| {
            (line.starts_with("go get ") || line.starts_with("go: module ") || line.starts_with("module "))
                && named(line)
                || line.trim_end() == format!("{module} (download)")
        })
}

/// Whether the configuration in view marks some modules private (GOPRIVATE, GONOPROXY,
/// GONOSUMDB, GOAUTH, GOINSECURE): then the user knows of private modules.
fn configured_private(f: &Facts) -> bool {
    ["GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOAUTH", "GOINSECURE"]
        .iter()
        .any(|v| f.env(v).is_some_and(|value| !value.trim().is_empty()))
}

/// git is not installed where go ran, and go had to fetch a module from its repository
/// (GOPROXY=direct, a private path, a proxy that fell through to `direct`): common in
/// slim images (alpine, distroless). No category is about a missing tool, so the verdict
/// is `unknown`, with the fix in its words. Runs after the network rules: a module that
/// failed on the way is that failure first.
pub fn git_missing(f: &Facts) -> Option<Diagnosis> {
    static NO_GIT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"exec: "git": executable file not found in (?:\$PATH|%PATH%)"#).expect("compiles")
    });
    let (error, _) = f.matching_own(&NO_GIT).next()?;
    let summary = format!(
        "go had to fetch {} from its repository with git (GOPROXY=direct, a private path, or a proxy that fell \
         through to direct), and git is not installed where go ran: install git in the image or runner, or let a \
         module proxy serve the module",
        subject(&error.text).unwrap_or_else(|| "a module".to_string())
    );
    Some(found(Category::Unknown, Confidence::Low, summary, vec![error.line()], &[]))
}

/// Whether git's failure is ssh's: a refused key (`Permission denied (publickey)`) or an
/// unknown host key. ~/.netrc does not reach it, and modchaos's git hosts (https) cannot
/// reproduce it: the rule and `repro` both ask this.
pub fn refused_over_ssh(text: &str) -> bool {
    ["Permission denied (publickey", "Host key verification failed"].iter().any(|w| text.contains(w))
}

/// git's closing words for a remote it could not read, with nothing before them saying
/// why (`fatal: Could not read from remote repository.` / `Please make sure you have the
/// correct access rights and the repository exists.`): git says this after an ssh failure
/// of any kind, so alone it is a refused key or a missing repository alike. Runs after the
/// network rules, which read the ssh line when there is one.
pub fn unreadable_remote(f: &Facts) -> Option<Diagnosis> {
    static UNREADABLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"fatal: Could not read from remote repository").expect("compiles"));
    let (error, _) = f.matching_own(&UNREADABLE).last()?;
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOPRIVATE"));
    let what = subject(&error.text).map(|s| format!(" for {s}")).unwrap_or_default();
    let summary = format!(
        "git could not read the remote repository over ssh{what} and did not say why: most often the ssh key is \
         missing or has no access (git runs ssh without a terminal), or the repository does not exist"
    );
    // Over ssh, ~/.netrc (the git-credentials playbook) changes nothing.
    let diagnosis = found(Category::VcsAuth, Confidence::Low, summary, evidence, &[]);
    Some(diagnosis.or(Category::VcsNotFound, Confidence::Low, "the repository may not exist at that path"))
}

/// GOVCS forbids the version control tool the module's repository needs.
pub fn disallowed(f: &Facts) -> Option<Diagnosis> {
    // go 1.16's betas ended the refusal at the path; from go 1.16rc1 on (golang/go#43596)
    // it goes on with "; see 'go help vcs'" (cmd/go/internal/vcs/vcs.go).
    static GOVCS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?m)GOVCS disallows using (\S+) for (public|private) (\S+?)(?:;|$)|malformed entry in GOVCS[^\n]*|invalid GOVCS[^\n]*",
        )
        .expect("compiles")
    });
    let (error, caps) = f.matching(&GOVCS).last()?;
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOVCS"));
    evidence.extend(f.env_line("GOPRIVATE"));
    evidence.extend(f.env_line("GOPROXY"));
    let summary = match (caps.get(1), caps.get(2), caps.get(3)) {
        (Some(tool), Some(kind), Some(path)) => format!(
            "GOVCS forbids {} for {} modules, and {} needs it: allow it for that path (GOVCS={}:{},…) or fetch the \
             module through a module proxy instead",
            tool.as_str(),
            kind.as_str(),
            path.as_str(),
            super::sumdb::private_pattern(path.as_str()),
            tool.as_str()
        ),
        _ => format!("GOVCS cannot be parsed ({}): fix its syntax (pattern:vcs|vcs,…)", caps[0].trim()),
    };
    Some(found(Category::VcsDisallowed, Confidence::High, summary, evidence, &["use-mirror"]))
}

/// A go-import page naming a version control tool other than git (svn, hg, bzr, fossil)
/// that did not run: go's `-x` trace shows the tool's command ending at once (`0.000s #
/// cd …; svn log …`) with nothing of the tool's own, and go then calls the revision
/// unknown — the tool is missing from the machine, which go does not say.
pub fn other_tool_silent(f: &Facts) -> Option<Diagnosis> {
    static SILENT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^0\.000s # cd .+?; (svn|hg|bzr|fossil) (\S+)").expect("compiles"));
    static UNKNOWN_REVISION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"unknown revision|invalid version").expect("compiles"));
    let caps = SILENT.captures(&f.evidence.stderr)?;
    let (error, _) = f.matching(&UNKNOWN_REVISION).last()?;
    let tool = &caps[1];
    // The tool's own words, had it run (`svn: E170013: …`, Mercurial's `abort: …`).
    let own_words = [format!("{tool}: "), "abort: ".to_string()];
    let said_anything = f.evidence.stderr.lines().any(|l| own_words.iter().any(|w| l.trim_start().starts_with(w)));
    if said_anything {
        return None;
    }
    let summary = format!(
        "the module's go-import page names {tool}, and go's `{tool} {}` ended at once without a word: {tool} is most \
         likely not installed here (go then calls the revision unknown); install {tool}, or serve the module \
         from a module proxy or a git repository",
        &caps[2]
    );
    let evidence = vec![error.line(), EvidenceLine { source: Source::Trace, text: caps[0].to_string() }];
    Some(found(Category::VcsMeta, Confidence::Low, summary, evidence, &[]).or(
        Category::VcsNotFound,
        Confidence::Low,
        "the revision may really be missing from the repository",
    ))
}

/// The repository, or the revision asked for, does not exist on the git host.
pub fn not_found(f: &Facts) -> Option<Diagnosis> {
    // go found the repository only over plain http (or ssh/git without a secure
    // transport) and will not use it: no https answered.
    static INSECURE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"no (secure )?protocol found for repository").expect("compiles"));
    if let Some((error, caps)) = f.matching_own(&INSECURE).last() {
        let module = error_module(&error.text).unwrap_or_else(|| "the module".into());
        let mut evidence = vec![error.line()];
        evidence.extend(f.notable_requests());
        evidence.extend(f.env_line("GOINSECURE"));
        // With GOINSECURE naming the host, go pinged every scheme git speaks (git ls-remote
        // over https, http, git://, ssh) and none answered with the repository
        // (cmd/go/internal/vcs: "no %sprotocol found for repository").
        let summary = if caps.get(1).is_some() {
            format!(
                "go found no secure way to the repository of {module}: nothing answered https, and go does not use \
                 plain http for it unless GOINSECURE (or GOPRIVATE with GOINSECURE) names the host; serve the \
                 repository over https, or list the host in GOINSECURE where plain http is acceptable"
            )
        } else {
            format!(
                "go found the repository of {module} over no protocol: git answered for none of https, http, git:// \
                 and ssh (GOINSECURE allows the plain ones), so the repository is not there (a wrong path, a \
                 repository not exported) or the host serves none of them"
            )
        };
        let diagnosis = found(Category::VcsNotFound, Confidence::Medium, summary, evidence, &[]);
        return Some(diagnosis.or(
            Category::NetRefused,
            Confidence::Low,
            "https on the git host refused the connection",
        ));
    }
    static REPO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"fatal: repository '([^']+)' not found",
            r"|remote: (?:Repository|Project) not found",
            r"|fatal: '([^']+)' does not appear to be a git repository",
            r"|fatal: remote error: [^\n]*(?:not found|does not exist)",
            // git daemon's words for a repository it does not have or does not export
            // (daemon.c); git:// has no credentials to refuse.
            r"|fatal: remote error: access denied or repository not exported",
            // GitHub's and GitLab's words over ssh, Azure DevOps' over https, and curl's for
            // a 404 from any git host.
            r"|ERROR: Repository not found|(?:ERROR|GitLab): The project you were looking for could not be found",
            r"|remote: TF401019: The Git repository with name or identifier \S+ does not exist",
            r"|fatal: unable to access '([^']+)': The requested URL returned error: 404",
        ))
        .expect("compiles")
    });
    // The repository git was sent to: in git's words, or else in the git command go ran.
    static GIT_URL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"git (?:ls-remote|fetch|clone)[^\n]*? (https?://[^\s']+|ssh://[^\s']+)").expect("compiles")
    });
    let (error, caps) = f.matching_own(&REPO).last()?;
    let url = caps
        .get(1)
        .or(caps.get(2))
        .or(caps.get(3))
        .map(|m| m.as_str().to_string())
        .or_else(|| GIT_URL.captures(&error.text).map(|c| c[1].to_string()));
    let mut evidence = vec![error.line()];
    evidence.extend(f.notable_requests());
    // The repository go was sent to is a parent of the import path: the go-import meta
    // tag named the wrong repository root (GitLab answers with the first two path
    // elements to a client that is not logged in, so subgroups resolve wrongly).
    let module = error_module(&error.text);
    let repo_path = url.as_deref().map(|u| {
        let rest = u.split_once("://").map_or(u, |(_, r)| r);
        rest.trim_end_matches('/').trim_end_matches(".git").to_string()
    });
    // Only where repositories live in groups of groups (not github.com or bitbucket.org,
    // whose repositories are always host/owner/name, so a deeper import path is normal).
    // (A repository right under the host, `host/name`, is no GitLab project at all.)
    if let (Some(module), Some(repo)) = (module.as_deref(), repo_path.as_deref())
        && (module.split('/').count() >= 4 && repo.split('/').count() == 3 || repo.split('/').count() == 2)
        && !["github.com", "bitbucket.org"].contains(&repo.split('/').next().unwrap_or_default())
        && module.starts_with(&format!("{repo}/"))
    {
        let summary = format!(
            "go was sent to the repository {repo}, a parent of {module}, which does not exist: the ?go-get=1 page's \
             go-import meta tag names the wrong repository root (GitLab does this for subgroups when the request \
             carries no credentials); add .git at the repository's end of the import path, or give go credentials \
             for the page"
        );
        let diagnosis = found(Category::VcsMeta, Confidence::Low, summary, evidence, &[]);
        return Some(diagnosis.or(Category::VcsAuth, Confidence::Low, "the page answers correctly with credentials"));
    }
    // Code hosts answer "not found" for a private repository the credentials cannot see.
    let hosted = url.as_deref().is_some_and(|u| PUBLIC_CODE_HOSTS.contains(&url_host(u)))
        || error.text.contains("remote: Repository not found")
        || error.text.contains("could not be found or you don't have permission");
    // A repository another module's published version requires was one its authors could
    // fetch when they published it: a host that now says it does not exist more likely
    // lost it (deleted, renamed, made private since) than hides it from credentials this
    // machine lacks.
    if let (true, Some(why)) = (hosted, missing_rather_than_private(f, &error.text)) {
        let summary = format!(
            "the code host says the repository {} does not exist{}, and {why}: so the path is most likely wrong, or \
             the repository was deleted, renamed or made private since; check the path, require a version of the \
             module that needs it that does not, or replace it (a replace directive to a fork)",
            url.as_deref().unwrap_or("asked for"),
            subject(&error.text).map(|s| format!(" ({s})")).unwrap_or_default()
        );
        return Some(found(Category::VcsNotFound, Confidence::Low, summary, evidence, &["use-mirror"]).or(
            Category::VcsAuth,
            Confidence::Low,
            "the repository may be private to people this machine's credentials are not",
        ));
    }
    // A module the configuration says is private (GOPRIVATE, GONOSUMDB, …) was fetchable
    // by someone: the credentials git sent cannot see it. Otherwise the host's words are
    // read as they stand (the repository is not there), the credentials named.
    if hosted {
        let (first, second, why, reading, playbooks): (_, _, _, _, &[&str]) = if configured_private(f) {
            (
                Category::VcsAuth,
                Category::VcsNotFound,
                "the repository may really not exist (moved, deleted, a typo)",
                "the configuration says the module is private, and hosts answer so for a private repository the \
                 credentials git sent cannot see; check the token's access (or the path)",
                &["git-credentials"],
            )
        } else {
            (
                Category::VcsNotFound,
                Category::VcsAuth,
                "the repository may be private to people this machine's credentials are not",
                "the path is wrong or the repository is gone (deleted, renamed) — or it is private and the \
                 credentials git sent cannot see it, which hosts answer the same way; check the path, then the \
                 token's access",
                &["use-mirror"],
            )
        };
        let summary = format!(
            "the code host says the repository {} does not exist{}: {reading}",
            url.as_deref().unwrap_or("asked for"),
            subject(&error.text).map(|s| format!(" ({s})")).unwrap_or_default(),
        );
        return Some(found(first, Confidence::Low, summary, evidence, playbooks).or(second, Confidence::Low, why));
    }
    let what = subject(&error.text).map(|s| format!(" ({s})")).unwrap_or_default();
    let summary = match url {
        Some(url) => format!(
            "the repository {url} does not exist{what}: the go-import meta tag points at a moved or deleted \
             repository, or the token cannot see it (some hosts answer 404 rather than 403)"
        ),
        None => format!("the git host says the repository does not exist{what}"),
    };
    Some(found(Category::VcsNotFound, Confidence::High, summary, evidence, &["use-mirror"]))
}

/// `?go-get=1` pages: no go-import meta tag, one for another prefix, or no page at all;
/// or a version control tool the page names that is not installed.
pub fn meta(f: &Facts) -> Option<Diagnosis> {
    // The page (or the path) says the repository is another version control system's, and
    // its tool is not installed: a repository that really is Mercurial's or Subversion's,
    // or a page still naming the tool it moved away from.
    static NO_TOOL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"exec: "(hg|svn|bzr|fossil)": executable file not found in (?:\$PATH|%PATH%)"#,
            // GOPATH-era go's words for the same.
            r"|missing (Mercurial|Subversion|Bazaar|Fossil) command",
        ))
        .expect("compiles")
    });
    if let Some((error, caps)) = f.matching_own(&NO_TOOL).last() {
        let tool = match caps.get(1).or(caps.get(2)).map_or("", |m| m.as_str()) {
            "Mercurial" => "hg",
            "Subversion" => "svn",
            "Bazaar" => "bzr",
            "Fossil" => "fossil",
            tool => tool,
        };
        let summary = format!(
            "go was told the repository is a {tool} one{}, and {tool} is not installed: install {tool}, or, if the \
             repository has moved to git, fix the go-import page (or the import path) that still names {tool}",
            subject(&error.text).map(|s| format!(" ({s})")).unwrap_or_default()
        );
        return Some(found(Category::VcsMeta, Confidence::Low, summary, vec![error.line()], &[]));
    }
    static META: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"unrecognized import path "([^"]+)":? \(?(?:"#,
            // go ≥ 1.13 adds `(…)` after the words (empty, or the mismatching tag); older go
            // ends its own parenthesis there.
            r"parse \S+: no go-import meta tags(?: \((?:meta tag (\S+) did not match import path \S+)?\))?",
            r"|reading (\S+\?go-get=1): (\d{3}[^\n]*)",
            r"|https fetch: [^\n]*",
            r")",
        ))
        .expect("compiles")
    });
    // modfetch's and vcs's other words for a go-import page that does not say where the
    // repository is: none found, several that match, a page that disagrees with its
    // parent's.
    static OTHER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"no go-import meta tag found in \S+|multiple meta tags match import path[^\n]*",
            r"|\S+ and \S+ disagree about go-import for \S+",
            // A page that is not even HTML go can read (cmd/go/internal/vcs's `parsing %s: %v`).
            r"|parsing \S+: XML syntax error[^\n]*",
        ))
        .expect("compiles")
    });
    // A tag whose repository root is no URL (an scp-style `git@host:owner/repo.git`).
    static ROOT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"invalid repo root "[^"]*": [^\n]*"#).expect("compiles"));
    if let Some((error, caps)) = f.matching_own(&ROOT).last() {
        let summary = format!(
            "the ?go-get=1 page's go-import tag names a repository root go cannot use ({}): it must be a URL with a \
             scheme (https://host/owner/repo.git), not an ssh address; fix the tag (git's insteadOf can still send \
             go's https clone over ssh)",
            caps[0].trim()
        );
        return Some(found(Category::VcsMeta, Confidence::High, summary, vec![error.line()], &[]));
    }
    if f.matching_own(&META).next().is_none()
        && let Some((error, caps)) = f.matching_own(&OTHER).last()
    {
        let mut evidence = vec![error.line()];
        evidence.extend(f.env_line("GOPROXY"));
        let summary = format!(
            "the ?go-get=1 page does not say where the repository is ({}): the vanity server's go-import tags are \
             missing, duplicated or inconsistent; fix them, or require the module by its repository path",
            caps[0].trim()
        );
        return Some(found(Category::VcsMeta, Confidence::Medium, summary, evidence, &["use-mirror"]));
    }
    let (error, caps) = f.matching_own(&META).last()?;
    let path = caps[1].to_string();
    // A failed https fetch is a network problem whose own rule (DNS, TLS, refused, …)
    // says more; this rule only speaks about the page's content.
    if caps.get(3).is_none() && !error.text.contains("go-import meta tags") {
        return None;
    }
    let mut evidence = vec![error.line()];
    evidence.extend(f.notable_requests());
    evidence.extend(f.env_line("GOPROXY"));
    // GitLab, Gitea and Gogs answer `?go-get=1` with a go-import tag for every repository
    // the request may see, and go ≥ 1.13 reports a non-200 status rather than parsing the
    // page (cmd/go/internal/vcs, repoRootForImportDynamic): a page without any tag from
    // such a forge is another page — most often its sign-in page, where an instance that
    // requires signing in (or a private repository) redirects a request without credentials.
    let host = path.split('/').next().unwrap_or_default();
    let forge = host.starts_with("git.") || ["gitlab", "gitea", "gogs"].iter().any(|w| host.contains(w));
    if forge && caps.get(2).is_none() && caps.get(3).is_none() && error.text.contains("no go-import meta tags") {
        let summary = format!(
            "https://{path}?go-get=1 has no go-import meta tag, and {host} looks like a self-hosted forge (which \
             serves one for every repository a request may see): most likely its sign-in page answered, because the \
             instance or the repository needs credentials; go sends them only from ~/.netrc (or GOAUTH)"
        );
        return Some(
            found(Category::VcsAuth, Confidence::Low, summary, evidence, &["git-credentials"])
                .or(Category::VcsMeta, Confidence::Low, "the host may not serve go-import tags at all (not a forge)")
                .or(
                    Category::VcsNotFound,
                    Confidence::Low,
                    "older go parsed a not-found page too: the repository may not exist",
                ),
        );
    }
    let summary = match (caps.get(2), caps.get(3), caps.get(4)) {
        (Some(prefix), _, _) => format!(
            "https://{path}?go-get=1 declares the module root {} (a go-import meta tag for another prefix), not one \
             covering {path}: the vanity page is out of date or the import path is wrong",
            prefix.as_str()
        ),
        (_, Some(url), Some(status)) => format!(
            "{} answered {}: the host serves no go-import page for {path} (wrong import path, or a vanity \
             server that does not know the module)",
            url.as_str(),
            status.as_str().trim()
        ),
        _ => format!("https://{path}?go-get=1 has no go-import meta tag: it is not a Go vanity page"),
    };
    // GOPATH mode (go ≤ 1.10, GO111MODULE=off) knows no major-version suffixes: it asks
    // for `…/v3/pkg` as a directory of the repository, which a module at v3 does not have,
    // and the page for that path is missing. The error is go's mode, not the page.
    static MAJOR_ELEMENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"/v[2-9]\d*(?:/|$)").expect("compiles"));
    // GOPATH go get's own start (`package X: unrecognized import path …`, or the bare
    // words), and nothing in the log of module mode's.
    static MODULE_MODE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"go: |go\.mod|cannot load |go get \S+: |go mod |@v").expect("compiles"));
    let head = error.text.trim_start();
    let gopath_mode = (head.starts_with("package ") || head.starts_with("unrecognized import path"))
        && !MODULE_MODE.is_match(&f.evidence.stderr);
    if gopath_mode && MAJOR_ELEMENT.is_match(&path) {
        let summary = format!(
            "{path} has a major-version element, and go fetched it the GOPATH way (no module prefix in its words: \
             go ≤ 1.10 or GO111MODULE=off), which takes /vN for a directory the repository does not have: build \
             in module mode (GO111MODULE=on, a go.mod)"
        );
        return Some(found(Category::Unknown, Confidence::Low, summary, evidence, &[]).or(
            Category::VcsMeta,
            Confidence::Low,
            "the host may serve no go-import page for the path",
        ));
    }
    // A 5xx for the page is the server failing, not a page without a tag: read, not trusted.
    if caps.get(4).is_some_and(|status| status.as_str().starts_with('5')) {
        return Some(found(Category::VcsMeta, Confidence::Low, summary, evidence, &["retry"]).or(
            Category::Unknown,
            Confidence::Low,
            "the vanity or code host failed itself; retry later",
        ));
    }
    Some(found(Category::VcsMeta, Confidence::High, summary, evidence, &["use-mirror"]))
}

/// go ≤ 1.12 asked Bitbucket's API which version control tool a bitbucket.org path uses
/// (`reading https://api.bitbucket.org/2.0/repositories/O/R?fields=scm: 403 Forbidden`, and
/// GOPATH mode's `package P: https://api.bitbucket.org/…: 403 Forbidden`):
/// no module proxy's answer, but the code host's about the repository — 401 or 403 for
/// one the request may not see (credentials), 404 for one that does not exist (or is
/// hidden the same way), and 403 with `Repository currently not available` for one it
/// removed.
pub fn host_api(f: &Facts) -> Option<Diagnosis> {
    static API: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?:reading |package \S+: )(https://api\.bitbucket\.org/[12]\.0/repositories/([^\s?]+)\S*): (\d{3})",
        )
        .expect("compiles")
    });
    let (error, caps) = f.matching_own(&API).last()?;
    let (repo, status) = (&caps[2], &caps[3]);
    // Bitbucket's words for a repository it removed (its Mercurial ones, in 2020): gone
    // for everyone, credentials or not.
    let removed = error.text.contains("Repository currently not available");
    let (first, second, cause) = match status {
        "403" if removed => (
            Category::VcsNotFound,
            Category::VcsAuth,
            "Bitbucket says the repository is not available (what it answers for the Mercurial repositories it \
             removed): nothing can fetch it from there; replace the dependency (a fork, a replace directive, a newer \
             version of the module that needs it)",
        ),
        "401" | "403" => (
            Category::VcsAuth,
            Category::VcsNotFound,
            "it may not be seen without credentials (a private repository): give go credentials for bitbucket.org \
             (~/.netrc)",
        ),
        "404" => (
            Category::VcsNotFound,
            Category::VcsAuth,
            "it does not exist (a typo, a renamed or deleted repository), or is private and hidden the same way",
        ),
        _ => return None,
    };
    let summary = format!("Bitbucket's API answered {status} about the repository bitbucket.org/{repo}: {cause}");
    let playbooks: &[&str] = if first == Category::VcsAuth { &["git-credentials"] } else { &[] };
    Some(found(first, Confidence::Low, summary, vec![error.line()], playbooks).or(
        second,
        Confidence::Low,
        "Bitbucket answers so for a private repository and a missing one alike",
    ))
}

/// go ≤ 1.12 with `-v` says which `?go-get=1` page it parsed and the status it came with
/// (`Parsing meta tags from URL (status code N)`), then fails on that import path without
/// saying why (`unrecognized import path "X"` and nothing more). A page that did not
/// answer 200 is the likely cause, read at low confidence: the host failed, or does not
/// know the path. Runs after the network rules, whose failures say more.
pub fn old_meta_status(f: &Facts) -> Option<Diagnosis> {
    static STATUS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"Parsing meta tags from https?://([^\s?]+)\?go-get=1 \(status code ([1-9]\d\d)\)")
            .expect("compiles")
    });
    static BARE_FAILURE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"unrecognized import path "([^"]+)"\s*$"#).expect("compiles"));
    let failed: Vec<String> = f.matching_own(&BARE_FAILURE).map(|(_, caps)| caps[1].to_string()).collect();
    let (error, caps) = f
        .matching_own(&STATUS)
        .filter(|(_, caps)| &caps[2] != "200")
        .filter(|(_, caps)| {
            let page = &caps[1];
            failed
                .iter()
                .any(|path| path.strip_prefix(page).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
        })
        .last()?;
    let summary = format!(
        "https://{}?go-get=1 answered {} and go could not find the repository behind it: the vanity or code host \
         failed, or does not know the import path",
        &caps[1], &caps[2]
    );
    Some(found(Category::VcsMeta, Confidence::Low, summary, vec![error.line()], &["retry"]).or(
        Category::Unknown,
        Confidence::Low,
        "the host may have failed itself; retry later",
    ))
}

/// The module path an error is about: `M@V:` at its start, `go get M:` or `package M:`
/// (older wordings).
fn error_module(text: &str) -> Option<String> {
    static MODULE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:go: )?(?:go get:? |package )?([A-Za-z0-9._~/!-]+?)(?:@\S+)?:").expect("compiles")
    });
    MODULE.captures(text.trim_start()).map(|c| c[1].to_string())
}
