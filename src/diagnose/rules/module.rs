//! Problems with the modules themselves rather than with getting them: the work module's
//! own go.mod or go.work broken, too new for this go, or out of date (`go mod tidy`), its
//! go.sum missing entries, a go.mod declaring another path than the one required, and
//! versions that do not exist or do not fit the module path (unknown revisions,
//! `+incompatible`, major-version suffixes).

use std::sync::LazyLock;

use regex::Regex;

use super::{found, is_major_suffix, is_public_proxy, subject};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis, ErrorText, EvidenceLine, Source};

/// The work module's go.mod or go.work: unparsable (`errors parsing go.mod`, `go.mod:5:
/// unknown directive`; its go.sum too: `malformed go.sum`), written for a newer go than
/// this one (`unknown directive: toolchain`, `invalid go version '1.21.0': must match
/// format 1.23`), missing, or out of date (`updates to go.mod needed`, inconsistent vendoring). A go.mod too new for a go
/// that may switch toolchains is the toolchain rule's. A go.mod line whose version go had
/// to look up (a branch, a commit hash, a version without its `v`) is another's when the
/// lookup failed on the way (`go.mod:13:2: require M: Get "…": dial tcp: …`, a proxy's
/// 5xx, or git failing with the reason on the lines under it: the network, proxy and vcs
/// rules') or when the version is one a repository could have — a commit hash or a
/// semantic version — and the lookup found no such revision (`replace M: version "1e9e…"
/// invalid: … unknown revision`: the commit was force-pushed away, the version rule's). A
/// string no revision could be named (`v1.x`) is the go.mod's own mistake.
pub fn go_mod(f: &Facts) -> Option<Diagnosis> {
    // A go.mod line go complains about, with the indented lines under it.
    static LOOKED_UP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^\s*\S*go\.(?:mod|work):\d+(?::\d+)?: [^\n]*(?:\n[ \t]+[^\n]*)*").expect("compiles")
    });
    // git failed under the line (`… exit status 128:` and git's words), for a reason other
    // than a missing revision.
    static GIT_FAILED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"exit status \d+:\s*\n").expect("compiles"));
    static REVISION_MISSING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"unknown revision|couldn't find remote ref|did not match any file|not our ref").expect("compiles")
    });
    static ON_THE_WAY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"\b(?:Get|reading) "?https?://[^\n]*?: "#,
            r"(?:dial tcp|lookup \S+ on |x509:|tls:|net/http:|read tcp|EOF|unexpected EOF|5\d\d )"
        ))
        .expect("compiles")
    });
    // The revision the lookup found missing (in go's words or the proxy's answer).
    static MISSING_REVISION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"unknown revision (?:[0-9a-f]{7,40}|v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)(?:\s|$)")
            .expect("compiles")
    });
    // The version's own major-version mistake (a v2 tag without `/v2` in its module path):
    // the version rule's, not the go.mod's.
    static MAJOR_VERSION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"invalid: (?:module contains a go\.mod file, so|go\.mod has (?:post|non)-|should be v\d|\+incompatible suffix not allowed)")
            .expect("compiles")
    });
    // Every go.mod line go complains about must be such a lookup: one that is not is the
    // file's own mistake, whatever else failed.
    let mut lines = f.errors.iter().flat_map(|e| LOOKED_UP.find_iter(&e.text).map(|line| line.as_str()));
    let mut any = false;
    let all_looked_up = lines.all(|line| {
        any = true;
        ON_THE_WAY.is_match(line)
            || GIT_FAILED.is_match(line) && !REVISION_MISSING.is_match(line)
            || line.contains("\" invalid: ")
                && (MISSING_REVISION.is_match(line)
                    // A retract line names the module's own versions: its wrong major is
                    // the file's own mistake.
                    || (MAJOR_VERSION.is_match(line) && !line.contains(": retract ")))
    });
    if any && all_looked_up {
        return None;
    }
    // The same refusal pasted without its `go.mod:N:` position.
    static VERSION_REFUSED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?m)^\s*(?:require|replace|exclude) \S+: version "[^"]*" invalid: "#).expect("compiles")
    });
    if !any
        && f.errors.iter().any(|e| {
            VERSION_REFUSED.is_match(&e.text) && (MAJOR_VERSION.is_match(&e.text) || MISSING_REVISION.is_match(&e.text))
        })
    {
        return None;
    }
    static GO_MOD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"(?m)(errors parsing go\.(?:mod|work):|error reading \S*go\.mod: missing module declaration|malformed tool path "[^"]*": [^\n]*)"#,
            r"|^(\S*go\.(?:mod|work):\d+(?::\d+)?: [^\n]*)",
            r"|(unknown directive: \S+|invalid go version '[^']*': must match format[^\n]*)",
            r"|(go\.mod file not found in current directory or any parent directory|cannot find main module[^\n]*",
            r"|directory prefix \S+ does not contain main module[^\n]*|no modules were found in the current workspace[^\n]*",
            // go.work lists modules, and the directory's is not one of them.
            r"|directory \S+ is contained in a module that is not one of the workspace modules listed in go\.work[^\n]*",
            r"|current directory is contained in a module that is not one of the workspace modules[^\n]*",
            r"|directory prefix \S+ does not contain modules listed in go\.work[^\n]*)",
            r"|(updates to go\.mod needed[^\n]*|inconsistent vendoring|go: writing go\.mod: [^\n]*",
            r"|no required module provides package \S+?;[^\n]*",
            r"|package \S+ provided by \S+ at latest version \S+ but not at required version \S+",
            // go mod tidy's check that the go line's previous version (module graph pruning,
            // go ≥ 1.17) would build the same: modload's words, across their line break.
            r"|(?:loaded from \S+,\s*)?but go \d\S* would (?:select \S+|fail to locate it[^\n]*)",
            // go ≤ 1.15's words for the same under -mod=readonly (go 1.13's `cannot load`).
            r"|(?:cannot find module providing package|cannot load) \S+: import lookup disabled by -mod=readonly",
            r"|go\.(?:mod|work) file indicates go \S+, but maximum (?:supported )?version[^\n]*",
            r"|cannot load module \S+ listed in go\.work file[^\n]*|listed in go\.work file requires go >= [^\n]*",
            r"|go: open \S*go\.(?:mod|work): no such file or directory",
            r"|module \S+ appears multiple times in workspace|note: module requires Go \S+",
            // go.work's and vendor/'s own inconsistencies (modload's words).
            r"|workspace module \S+ is replaced at all versions in the go\.work file|conflicting replacements (?:found )?for \S+",
            r"|vendored module \S+ should be required explicitly in go\.mod",
            r"|(?:import|module) lookup disabled by (?:GOFLAGS=)?-mod=vendor[^\n]*|\$GOPATH/go\.mod exists but should not",
            r"|'go get' is no longer supported outside a module[^\n]*|replacement directory \S+ does not exist",
            // go ≤ 1.15's words for the same.
            r"|\(replaced by \S+\): reading \S*go\.mod: open \S+: no such file or directory",
            // go ≥ 1.16 under -mod=vendor, for a package vendor/ lacks, and go ≤ 1.13's words.
            r#"|cannot find package "\." in:\s*\n\s*\S*/vendor/\S+"#,
            r"|cannot load \S+: open \S*/vendor/\S+: no such file or directory",
            // A module path that is none (an ssh or https URL where a path belongs), in go.mod
            // or a tool's module configuration (module.CheckPath).
            r#"|malformed module path "[^"]*": [^\n]*"#,
            r"|package (?:slices|maps|cmp|iter|unique|structs|weak|log/slog|crypto/ecdh|math/rand/v2|net/netip|io/fs|embed) is not in (?:GOROOT|std)[^\n]*)",
        ))
        .expect("compiles")
    });
    // A go.sum (or go.work.sum, which go words the same) that go cannot read, after a
    // merge's conflict markers or a hand edit: broken like an unparsable go.mod, and `go
    // mod tidy` reads it first, so only an edit fixes it.
    static MALFORMED_SUM: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^\S*(go\.(?:work\.)?sum):\d+: [^\n]*").expect("compiles"));
    if let Some((error, caps)) = f.matching(&MALFORMED_SUM).next() {
        let file = &caps[1];
        let summary = format!(
            "{file} has a line go cannot read ({}): a merge left its conflict markers, or a hand edit broke it; fix \
             or delete the broken lines (go mod tidy cannot: it reads {file} first), then run `go mod tidy` and \
             commit {file}",
            caps[0].trim()
        );
        return Some(found(Category::ModuleGoMod, Confidence::High, summary, vec![error.line()], &[]));
    }
    let (error, caps) = f.matching(&GO_MOD).next()?;
    let file = if error.text.contains("go.work") { "go.work" } else { "go.mod" };
    // `errors parsing go.mod:` announces the file's lines go could not read, on the lines
    // after it (each its own error, `/src/go.mod:3: …`): they say why.
    static FILE_LINE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*\S*go\.(?:mod|work):\d+(?::\d+)?: ").expect("compiles"));
    let announced: Vec<&ErrorText> = if caps.get(1).is_some_and(|m| m.as_str().starts_with("errors parsing")) {
        f.errors
            .iter()
            .skip_while(|e| !std::ptr::eq(*e, error))
            .skip(1)
            .take_while(|e| FILE_LINE.is_match(&e.text))
            .collect()
    } else {
        Vec::new()
    };
    let detail = announced
        .first()
        .map(|e| e.text.as_str())
        .or_else(|| error.text.lines().find(|l| FILE_LINE.is_match(l)))
        .unwrap_or(&error.text);
    // A require line's version that go read as a query (a prefix like `v0.1`: the newest
    // v0.1.x) and that no version matched (`go.mod:14:2: no matching versions for query
    // "v0.1"`): the version does not exist, as the versions rule says (low: a string no
    // tag has is the file's own mistake too).
    static NO_MATCH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"go\.mod:\d+(?::\d+)?: (?:[^\n]*?: )?no matching versions for query ").expect("compiles")
    });
    if file == "go.mod" && announced.first().is_some_and(|e| NO_MATCH.is_match(&e.text)) {
        return None;
    }
    let too_new = |text: &str| {
        text.contains("must match format")
            || text.contains("unknown directive: toolchain")
            || text.contains("unknown directive: godebug")
    };
    let mut evidence = vec![error.line()];
    evidence.extend(announced.iter().map(|e| e.line()));
    let (summary, confidence) = if caps.get(3).is_some()
        || too_new(&error.text)
        || announced.iter().any(|e| too_new(&e.text))
    {
        (
            format!(
                "this go cannot read {file}: it was written for a newer go (a toolchain directive, a go line with a \
                 patch version) than the one running ({}); install the go the module asks for",
                detail.trim()
            ),
            Confidence::High,
        )
    } else if caps.get(4).is_some() {
        (
            format!(
                "go is not inside a module it can use ({}): run it in the module's directory, or create the module \
                 (go mod init); GO111MODULE and go.work decide what go looks for",
                error.text.trim()
            ),
            Confidence::Medium,
        )
    } else if let Some(matched) = caps.get(5) {
        // The path came from an import (a stack, a source position, `cannot load`), not
        // from an argument (`go install gopls@latest` says the same of `gopls`).
        static IMPORTED: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"(?m)\simports$|^\s*\S+\.go:\d+:\d+: |cannot load \S+: ").expect("compiles"));
        // (On one line: `cannot find package "." in:` names the directory on the next.)
        let why = matched.as_str().split_whitespace().collect::<Vec<_>>().join(" ");
        let why = why.as_str();
        static NEWER_HAS_IT: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^package (\S+) provided by (\S+) at latest version (\S+) but not at required version (\S+)")
                .expect("compiles")
        });
        if let Some(newer) = NEWER_HAS_IT.captures(why) {
            let (package, module, latest, required) = (&newer[1], &newer[2], &newer[3], &newer[4]);
            (
                format!(
                    "go.mod requires {module} {required}, which does not have the package {package}: only its \
                     latest version, {latest}, has it; raise the requirement (`go get {module}@{latest}`) or import \
                     a package {required} has"
                ),
                Confidence::Medium,
            )
        } else if let Some(package) = why
            .strip_prefix("no required module provides package ")
            .or_else(|| why.strip_prefix("cannot find module providing package "))
            .or_else(|| why.strip_prefix("cannot load ").filter(|rest| rest.contains(": import lookup disabled")))
        {
            let package = package.split([';', ':']).next().unwrap_or(package);
            // A package under an `internal/` directory is importable only from within its
            // own module's tree: one that no module provides is the work module's own,
            // missing (a typo, a deleted or unwritten package), not a requirement.
            if package.contains("/internal/") || package.ends_with("/internal") {
                return None;
            }
            (
                format!(
                    "no module go.mod requires provides {package}: go.mod lacks the requirement (run `go get \
                     {package}` or `go mod tidy`), or the import path is wrong (a typo, a package that does not exist)"
                ),
                Confidence::Low,
            )
        } else if why.contains("malformed module path")
            && why.contains("missing dot in first path element")
            && IMPORTED.is_match(&error.text)
        {
            (
                format!(
                    "an import path without a dot in its first element ({why}) is one no module provides: a \
                     GOPATH-style import the main module does not own (its go.mod module line does not match the \
                     import paths, or a replace directive is missing)"
                ),
                Confidence::Medium,
            )
        } else if why.contains("malformed module path") {
            // Said at the top level, with no go.mod line and no import, the path came from the
            // command line or a tool's configuration, which the log may not show.
            let bare = error.text.trim_start().starts_with("go: malformed module path");
            (
                format!(
                    "a module path is not one ({why}): an ssh or https URL, or characters a module path cannot have, \
                     where a module path belongs (a require or replace line, an argument, a tool's module \
                     configuration); write the module's path itself (host/owner/repository)"
                ),
                if bare { Confidence::Low } else { Confidence::Medium },
            )
        } else if why.contains("is not in GOROOT") || why.contains("is not in std") {
            (
                format!(
                    "a package of a newer go's standard library is missing ({why}): the code (or a dependency) needs a \
                     newer go than this one; install it"
                ),
                Confidence::Low,
            )
        } else if let Some(dependency) = why.contains("requires Go").then(|| compiled_in_the_cache(f)).flatten() {
            // The note names the go line of the module whose package failed: a dependency,
            // whose source go downloaded whole. The work module's go.mod is not at fault.
            let summary = format!(
                "every module was downloaded; a dependency, {dependency}, does not compile with this go, and its \
                 go line asks for a newer one ({why}): install that go (or require an older version of it)"
            );
            return Some(found(Category::Unknown, Confidence::Low, summary, vec![error.line()], &[]));
        } else if why.contains("requires Go") {
            // go adds this note to any compile error when the go line is newer: the error
            // may be the code's own. A compile error is no download failure (`unknown`,
            // as the corpus's writers and readers label it); the go line is the lead.
            let summary = format!(
                "the code does not compile, and the module's go line asks for a newer go than this one ({why}): most \
                 likely it uses what only that go has; install it"
            );
            return Some(found(Category::Unknown, Confidence::Low, summary, vec![error.line()], &[]).or(
                Category::ModuleGoMod,
                Confidence::Low,
                "the module's go line asks for a newer go than this one",
            ));
        } else {
            (out_of_date(file, why), Confidence::High)
        }
    } else {
        (format!("{file} cannot be parsed: {}", detail.trim()), Confidence::High)
    };
    Some(found(Category::ModuleGoMod, confidence, summary, evidence, &[]))
}

/// `go mod tidy -diff` found go.mod or go.sum not tidy: it printed the unified diff that
/// tidying would apply (`--- current/go.mod`, `+++ tidy/go.mod`) and exited 1, as CI's
/// tidiness checks use it. Only go.sum's diff: entries are missing; otherwise go.mod is
/// out of date.
pub fn not_tidy(f: &Facts) -> Option<Diagnosis> {
    static DIFF: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^--- current/(go\.(?:mod|sum))\n\+\+\+ tidy/(go\.(?:mod|sum))\n((?:[-+ @\\][^\n]*\n?)*)")
            .expect("compiles")
    });
    let output = match &f.evidence.pasted {
        Some(pasted) => crate::evidence::log::clean(pasted),
        None => format!("{}\n{}", f.evidence.stderr, f.evidence.stdout),
    };
    // Each file's diff, and whether tidying adds lines to it.
    let diffs: Vec<(String, bool)> = DIFF
        .captures_iter(&output)
        .filter(|c| c[1] == c[2])
        .map(|c| (c[1].to_string(), c[3].lines().any(|l| l.starts_with('+'))))
        .collect();
    let (first, _) = diffs.first()?;
    let evidence = vec![EvidenceLine { source: Source::Stdout, text: format!("--- current/{first}") }];
    // go.sum's diff alone that adds lines: entries go needs are missing. Otherwise go.mod
    // is out of date, or go.sum holds entries nothing needs.
    let sum_missing = diffs.iter().all(|(file, adds)| file == "go.sum" && *adds);
    Some(if !sum_missing {
        found(
            Category::ModuleGoMod,
            Confidence::High,
            "go mod tidy -diff: go.mod (or go.sum) is not tidy (the diff shows what tidying changes); run `go mod \
             tidy` and commit go.mod and go.sum"
                .into(),
            evidence,
            &[],
        )
    } else {
        found(
            Category::ModuleGoSumMissing,
            Confidence::High,
            "go mod tidy -diff: go.sum lacks entries go needs (the diff adds them); run `go mod tidy` and commit \
             go.sum"
                .into(),
            evidence,
            &[],
        )
    })
}

/// The module (`M@V`) a compile error's source file is in, when every compile error go
/// printed is in a file in the module cache (`…/pkg/mod/M@V/…`): code go downloaded. Read
/// from go's whole output, where a path a terminal broke can be joined again.
fn compiled_in_the_cache(f: &Facts) -> Option<String> {
    static COMPILE_ERROR: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^\s*(\S+\.go):\d+:\d+: ").expect("compiles"));
    static CACHED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"/pkg/mod/(\S+?@[^/\s]+)/").expect("compiles"));
    // A long path a terminal broke: a row that is only a path into the module cache, and
    // the rest of it starting the next row.
    static BROKEN_PATH: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^(\s*\S*/pkg/mod/\S+)\n(\S*\.go:\d+:\d+: )").expect("compiles"));
    // (The log as pasted: go's lines alone leave out a broken path's first row.)
    let output = match &f.evidence.pasted {
        Some(pasted) => crate::evidence::log::clean(pasted),
        None => format!("{}\n{}", f.evidence.stderr, f.evidence.stdout),
    };
    let output = BROKEN_PATH.replace_all(&output, "$1$2");
    let mut modules = COMPILE_ERROR
        .captures_iter(&output)
        .map(|c| CACHED.captures(&c[1].replace('\\', "/")).map(|m| m[1].to_string()));
    let first = modules.next()??;
    modules.all(|m| m.is_some()).then_some(first)
}

/// The version go writes into go.mod for a module only a replace directive provides:
/// no revision anywhere has it.
pub const REPLACE_PLACEHOLDER: &str = "v0.0.0-00010101000000-000000000000";

/// What to do about a go.mod, go.work or vendor directory out of step with the build
/// (`why`, go's words), as go itself says it: vendor/ is synced by `go mod vendor`, go.work
/// by its `use` lines, a go line newer than this go by another go, the rest by `go mod
/// tidy`.
fn out_of_date(file: &str, why: &str) -> String {
    if why.contains("replacement directory") || why.starts_with("(replaced by ") {
        format!(
            "go.mod replaces a module with a local directory that is not there ({why}): check it out where the \
             replace points (a CI checkout of one repository lacks its neighbours), or drop the replace"
        )
    } else if why.contains("/vendor/")
        || why.contains("inconsistent vendoring")
        || why.contains("vendored module")
        || why.contains("disabled by -mod=vendor")
        || why.contains("disabled by GOFLAGS=-mod=vendor")
    {
        format!(
            "the vendor directory is out of step with go.mod ({why}): run `go mod vendor` (after `go mod tidy` if \
             go.mod changed) and commit vendor/, or build with -mod=mod"
        )
    } else if why.contains("but maximum") {
        format!(
            "{file} asks for a newer go than this one ({why}): install the go the module asks for (or let \
             GOTOOLCHAIN switch to it)"
        )
    } else if why.contains("is replaced at all versions in the go.work file")
        || why.contains("conflicting replacements")
    {
        format!(
            "the replace directives of go.work and its modules disagree ({why}): replace the module once, in go.work \
             (go work edit -replace), or give the replacement a version"
        )
    } else if why.contains("appears multiple times in workspace") {
        format!(
            "go.work uses two directories whose go.mod declare the same module path ({why}): drop one of the `use` \
             lines (go work edit -dropuse=DIR), or fix the module line of the copy"
        )
    } else if why.contains("listed in go.work file requires go") {
        format!("go.work's go line is older than a module it uses needs ({why}): run `go work use` (go's own advice)")
    } else if why.contains("listed in go.work file") {
        format!(
            "a `use` line of go.work names a directory without a module go can load ({why}): check out what it \
             names, or drop the line (go work edit -dropuse=DIR)"
        )
    } else if why.contains("'go get' is no longer supported outside a module") {
        format!("go get installs nothing outside a module ({why}): use `go install PACKAGE@VERSION`")
    } else if why.contains("$GOPATH/go.mod exists") {
        format!("a go.mod in GOPATH's root confuses go ({why}): remove $GOPATH/go.mod")
    } else if why.contains("but go ") && why.contains(" would ") {
        format!(
            "go mod tidy checked that the go before the go line's would build the same and found it would not \
             ({why}): run the two commands go printed (`go mod tidy -go=OLD && go mod tidy -go=NEW`), or `go mod tidy \
             -compat=NEW` when that older go need not build the module"
        )
    } else if why.starts_with("go: open ") {
        format!("{file} is missing where go looked ({why}): run go in the module's directory, or restore the file")
    } else {
        format!("{file} is out of date with what the build needs ({why}): run `go mod tidy` and commit the result")
    }
}

/// The work module's go.sum lacks the checksum of a module go needs (`missing go.sum
/// entry`, `updates to go.sum needed`), or go could not write the entries it needed.
pub fn go_sum_missing(f: &Facts) -> Option<Diagnosis> {
    static MISSING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"missing go\.sum entry[^\n]*|updates to go\.sum needed[^\n]*|go: writing go\.sum: [^\n]*")
            .expect("compiles")
    });
    let (error, caps) = f.matching(&MISSING).next()?;
    // go could not fetch a module in the same run (`go mod tidy` met a 401, a dead host):
    // the checksums it then lacks follow from that failure, which the other rules read.
    static FETCH_FAILED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?m): [45]\d\d [A-Z][A-Za-z ]+$|unrecognized import path|terminal prompts disabled",
            r"|dial tcp|no such host|i/o timeout|connection refused|x509: |TLS handshake timeout",
        ))
        .expect("compiles")
    });
    // Only a failure of the same run: it names the module the entry is missing for, or
    // go printed it just before (an earlier command's failure that a retry fixed is not).
    // (In the log as pasted, where another program's lines between them show; in go's
    // output when the paste holds go's text only embedded, as Renovate's JSON does.)
    let pasted: Vec<&str> = f.evidence.pasted.as_deref().unwrap_or_default().lines().collect();
    let stderr: Vec<&str> = f.evidence.stderr.lines().collect();
    // Whether the failure comes before the go.sum error with only go's lines between
    // (`None`: one of them is not in `lines`).
    let adjacent = |lines: &[&str], failed: &str, missing: &str| -> Option<bool> {
        let position = |text: &str| text.lines().next().and_then(|first| lines.iter().rposition(|l| l.contains(first)));
        let (at, end) = (position(failed)?, position(missing)?);
        Some(at < end && lines[at + 1..end].iter().all(|l| l.starts_with("go: ") || l.starts_with([' ', '\t'])))
    };
    let missing_for = subject(&error.text);
    let same_run = |e: &ErrorText| {
        missing_for.as_deref().is_some_and(|m| e.text.contains(m.split('@').next().unwrap_or(m)))
            || adjacent(&pasted, &e.text, &error.text).or_else(|| adjacent(&stderr, &e.text, &error.text)) == Some(true)
    };
    if f.errors.iter().any(|e| e.text != error.text && FETCH_FAILED.is_match(&e.text) && same_run(e)) {
        return None;
    }
    // `go install pkg@version` and `go run pkg@version` build outside any module (modload's
    // NoRoot mode: load.PackagesAndErrorsOutsideModule) and check checksums against the
    // checksum database, never against a go.sum (modload's mustHaveSums needs a module
    // root): there is no go.sum of the user's to fix. Only go 1.16's development versions
    // said so there (golang/go#43278), so the log does not say what went wrong.
    // (go names the command in its error, or the log shows the command: a prompt's echo,
    // a CI step.)
    static OUTSIDE_MODULE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?:go: )?go (?:install|run) (\S+@\S+): ").expect("compiles"));
    static COMMAND_OUTSIDE_MODULE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?:^|[\s;&|(])go (?:install|run)(?: -\S+)* ([^\s@-]\S*@\S+)").expect("compiles"));
    let outside = OUTSIDE_MODULE
        .captures(error.text.trim_start())
        .or_else(|| f.evidence.command.as_deref().and_then(|command| COMMAND_OUTSIDE_MODULE.captures(command)));
    if let Some(outside) = outside {
        let summary = format!(
            "go reported a missing go.sum entry while building {} outside any module, where go checks checksums \
             against the checksum database and reads no go.sum: not a go.sum to fix (a go that did this had a bug, \
             golang/go#43278); retry with a released go",
            &outside[1]
        );
        return Some(found(Category::Unknown, Confidence::Low, summary, vec![error.line()], &[]).or(
            Category::ModuleGoSumMissing,
            Confidence::Low,
            "the installed module's own requirements may lack checksums go wanted",
        ));
    }
    let what = subject(&error.text).map(|s| format!(" ({s})")).unwrap_or_default();
    let summary = if caps[0].starts_with("go: writing go.sum") {
        format!(
            "go.sum lacked entries go needed{what}, and go could not add them ({}): run `go mod tidy` where go.sum \
             is writable and commit go.sum",
            caps[0].trim()
        )
    } else {
        format!(
            "go.sum lacks the checksum of a module go needs{what}: go.sum was not committed or not updated after a \
             go.mod change; run `go mod tidy` (or `go mod download` for the module) and commit go.sum"
        )
    };
    Some(found(Category::ModuleGoSumMissing, Confidence::High, summary, vec![error.line()], &[]))
}

/// `module declares its path as: X but was required as: Y`.
pub fn path_mismatch(f: &Facts) -> Option<Diagnosis> {
    // go 1.12/1.13 said `parsing go.mod: unexpected module path "X"`; a module required
    // under two spellings of its path says so too.
    static MISMATCH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"module declares its path as: (\S+)\s+but was required as: (\S+)",
            r#"|(\S+?)@\S+: parsing go\.mod:\s+unexpected module path "([^"]+)""#,
            r#"|used for two different module paths \((\S+) and (\S+)\)|case-insensitive import collision: "([^"]+)" and "([^"]+)""#,
            // GOPATH mode's check of a package's import comment (`package x // import "y"`),
            // go's path check before modules.
            r#"|package (\S+): code in directory [^\n]+? expects import "([^"]+)""#,
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&MISMATCH).last()?;
    if let Some((used, canonical)) = caps.get(9).zip(caps.get(10)) {
        let summary = format!(
            "the package's import comment says its path is {}, but it was fetched as {} (GOPATH mode checks it): \
             import it by that path (the project moved, or this is its mirror)",
            canonical.as_str(),
            used.as_str()
        );
        return Some(found(Category::ModulePathMismatch, Confidence::High, summary, vec![error.line()], &[]));
    }
    if let Some((a, b)) = caps.get(5).zip(caps.get(6)).or(caps.get(7).zip(caps.get(8))) {
        let summary = format!(
            "one module is required under two paths, {} and {} (a renamed or re-cased module, e.g. Sirupsen → \
             sirupsen): require it under one path everywhere (a replace directive for the old one)",
            a.as_str(),
            b.as_str()
        );
        return Some(found(Category::ModulePathMismatch, Confidence::High, summary, vec![error.line()], &[]));
    }
    let (declared, required) = match (caps.get(1), caps.get(2)) {
        (Some(d), Some(r)) => (d.as_str().to_string(), r.as_str().to_string()),
        _ => (caps[4].to_string(), caps[3].trim_start_matches("go: ").to_string()),
    };
    let summary = format!(
        "the module's go.mod says it is {declared}, but it was required as {required}: require it by its declared \
         path (or add a replace directive), or fix the go.mod upstream — a fork or a renamed module"
    );
    Some(found(Category::ModulePathMismatch, Confidence::High, summary, vec![error.line()], &[]))
}

/// go.mod requiring a v2+ version of a module path without its /vN (and without
/// `+incompatible`), which go ≤ 1.15 reported as the proxy's 404 for the version, under
/// `errors parsing go.mod` (`go.mod:6: require M: reading https://…/M/@v/v2.0.2.info: 404
/// Not Found`): no such version can exist for that path (semantic import versioning), so
/// the requirement is wrong, not go.mod's syntax or the proxy. (Later go says it itself:
/// `should be v0 or v1, not v2`.)
pub fn required_major_without_suffix(f: &Facts) -> Option<Diagnosis> {
    static REQUIRED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"go\.mod:\d+: require (\S+): reading \S+/@v/(v(\d+)\.\d+\.\d+[^\s:]*)\.(?:info|mod|zip): (?:404 Not Found|410 Gone)",
        )
        .expect("compiles")
    });
    let (error, caps) = f.matching(&REQUIRED).find(|(_, caps)| {
        let (module, version) = (&caps[1], &caps[2]);
        let major: u64 = caps[3].parse().unwrap_or(0);
        let suffixed = module.rsplit('/').next().is_some_and(|last| last == format!("v{major}"));
        major >= 2 && !suffixed && !module.starts_with("gopkg.in/") && !version.contains("+incompatible")
    })?;
    let (module, version, major) = (&caps[1], &caps[2], &caps[3]);
    let summary = format!(
        "go.mod requires {module} {version}, a v{major} version of a path without /v{major}: no such version can \
         exist (from v2 on, a module's path ends in its major version, /v{major}; a module without go.mod at that \
         major has only {version}+incompatible), so the proxy has none: require {module}/v{major} (and import it so), \
         or {version}+incompatible"
    );
    Some(found(Category::ModuleInvalidVersion, Confidence::High, summary, vec![error.line()], &[]))
}

/// Versions that do not exist or do not fit the module path.
pub fn invalid_version(f: &Facts) -> Option<Diagnosis> {
    static INVALID: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"invalid version: (unknown revision \S+)",
            r"|invalid version: (module contains a go\.mod file,\s+so (?:module path must match major version|major version must be compatible)[^\n]*)",
            r"|invalid version: (should be v\d+(?:\.\d+)*(?: or v\d+)?, not v\d+[^\n]*)",
            r"|invalid (?:version|module): (go\.mod has (?:post|non)-v\d+ module path [^\n]*)",
            r"|(\+incompatible suffix not allowed[^\n]*|go\.mod has (?:post|non)-\S* ?module path [^\n]*)",
            // modfetch's other checks of a version's go.mod against the path it was asked for.
            r"|(go\.mod (?:has malformed module path|is missing module path)[^\n]*",
            // coderepo's: the major version's subdirectory has no go.mod at that revision.
            r"|missing \S+/go\.mod (?:and \S+/go\.mod )?at revision \S+)",
            // A go.mod line's version that the major-version rules refuse (`require M: version
            // "v2.1.1" invalid: module contains a go.mod file, so major version must be …`).
            r#"|version "[^"]*" invalid: ((?:module contains a go\.mod file|go\.mod has (?:post|non)-|should be v\d|\+incompatible suffix not allowed)[^\n]*)"#,
            r"|invalid (?:pseudo-)?version[^:\n]*: ([^\n]*)",
            r"|(no matching versions for query \S+)",
            r"|(unknown revision \S+)",
            // Files whose names differ only in case: no module zip may hold them (modzip).
            // (a module's zip or a version's: a package of one's own with such files is not)
            r"|(?:zip|@v[^\s:]*)[^\n]*?: (case-insensitive file name collision: [^\n]*)",
            // A /vN import whose version resolved to +incompatible: the tag's commit has no
            // go.mod declaring /vN (modload's `found (…+incompatible), but does not contain`).
            // Also a /vN import where the module has no such major version at all; and an
            // import without /vN that go resolved to a +incompatible version lacking it (the
            // package is in a later major version, under its /vN path).
            r"|(found \(v[^)\s]+\), but does not contain package \S+/v\d+(?:/\S+)?|found \(v[^)\s]+\+incompatible\), but does not contain package \S+)(?:\s|$)",
            // A file path no module zip may hold (module.CheckFilePath), met while go made
            // the zip from the repository itself (`create zip:`).
            r#"|create zip: (?:[^\n]*?: )?(malformed file path "[^"]*": [^\n]*)"#,
            // A module path whose major-version suffix no version can have (`…/v1`, `…/v2.0`).
            r#"|invalid module path "[^"]*": (major version suffixes must be [^\n]*)"#,
        ))
        .expect("compiles")
    });
    // An empty version list is often the echo of a reason go gave first (a v4 tag without
    // `/v4`, then `no matching versions for query "v4"`): the reason wins.
    const EMPTY_LIST: usize = 9;
    let (error, caps) = f
        .matching(&INVALID)
        .filter(|(_, caps)| caps.get(EMPTY_LIST).is_none())
        .last()
        .or_else(|| f.matching(&INVALID).last())?;
    // (git's failure ends in `exit status 128:`, its own lines below it.)
    let detail = (1..INVALID.captures_len())
        .find_map(|i| caps.get(i))
        .map_or("", |m| m.as_str())
        .trim()
        .trim_end_matches(':')
        .to_string();
    static VERSIONED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(\S+@v[^\s:]+): invalid|module (\S+@\S+) found \(|(?:^|\s)(\S+): create zip: ").expect("compiles")
    });
    let what = VERSIONED
        .captures(&error.text)
        .and_then(|c| c.get(1).or(c.get(2)).or(c.get(3)).map(|m| m.as_str().to_string()))
        .or_else(|| subject(&error.text))
        .unwrap_or_else(|| "the requested version".into());
    // An import without /vN (N ≥ 2, anywhere in its path) resolved to a +incompatible
    // version that lacks the package.
    let package = detail.rsplit_once("package ").map_or("", |(_, p)| p);
    let incompatible_lacks_package = detail.starts_with("found (") && !package.split('/').any(is_major_suffix);
    // Which of two things happened, the log does not say: the package moved to a later
    // major version, whose module path ends in /vN (pgx's pgxpool, in github.com/jackc/pgx/v4),
    // or out of the module altogether (docker's pkg/term, now github.com/moby/term).
    if incompatible_lacks_package {
        let summary = format!(
            "{what}: {detail}: go resolved the import to a +incompatible version (a v2+ tag of a module without a \
             go.mod at that major), which lacks the package: it moved — to another module, or to a later major \
             version of this one, whose path ends in /vN"
        );
        return Some(found(Category::Unknown, Confidence::Low, summary, vec![error.line()], &[]).or(
            Category::ModuleInvalidVersion,
            Confidence::Low,
            "the package may be in a later major version of the module: import it with the /vN suffix (e.g. \
             example.com/m/v4/pkg)",
        ));
    }
    let hint = if detail.starts_with("unknown revision") || detail.starts_with("no matching versions") {
        "the tag or commit does not exist where go looked (not pushed, deleted, or a typo)"
    } else if detail.starts_with("case-insensitive file name collision") {
        "the version holds files whose names differ only in case, which go refuses in a module (they would clash \
         on macOS and Windows): use another version, or the maintainer must rename one and tag again"
    } else if detail.starts_with("malformed file path") {
        "the version holds a file whose path go refuses in a module (a character like `:` or `*`, or a name Windows \
         reserves): use another version, or the maintainer must rename it and tag again"
    } else if detail.starts_with("found (") {
        "the import path names a major version (/vN) that the module does not have at that version: no go.mod \
         there declares the /vN path (a v2+ tag without /vN in its module path, or no such major version at all); \
         use the import path without /vN, or a version whose go.mod declares it"
    } else if detail.contains("major version v0 is compatible") || detail.contains("major version v1 is compatible") {
        "+incompatible marks only a v2+ version of a module without a go.mod at that major; a v0 or v1 version is \
         compatible as it is: drop +incompatible from the version"
    } else if what.starts_with("gopkg.in/") && (detail.contains("major version") || detail.contains("should be v")) {
        "a gopkg.in path carries its major version after a dot (gopkg.in/yaml.v3), and the version must be of that \
         major: import the path whose .vN matches the version, or require a version of the path's major"
    } else if detail.contains("major version") || detail.contains("should be v") || detail.contains("module path") {
        "from v2 on, the module path must end in the major version (/v2) — or the version must carry +incompatible for a module without go.mod"
    } else if detail.starts_with("git ") || detail.contains("exit status") {
        "go could not read the version from the repository: git failed, and its own lines say why (credentials, \
         the network, a missing repository or revision)"
    } else {
        "the version string is not one go accepts for this module"
    };
    // `v0.0.0-00010101000000-000000000000` is the placeholder go writes into go.mod for a
    // module only a replace directive provides: no revision has it anywhere, and failing
    // on it means no such replace is in effect where go ran (a dependency's replace
    // directives do not apply to the modules that require it).
    if what.strip_suffix(REPLACE_PLACEHOLDER).is_some_and(|m| m.ends_with('@')) {
        let module = what.split('@').next().unwrap_or_default();
        let summary = format!(
            "{what}: {detail}: that version is the placeholder go writes for a module only a replace directive \
             provides, and no replace for {module} is in effect here (a dependency's replace directives do not apply \
             to modules that require it): add the replace to the main module's go.mod (or go.work), or require a real \
             version"
        );
        return Some(found(Category::ModuleInvalidVersion, Confidence::High, summary, vec![error.line()], &[]).or(
            Category::ModuleGoMod,
            Confidence::Low,
            "the fix is a replace directive in the main module's go.mod",
        ));
    }
    // A path whose major-version suffix no version can have, given to `go mod init` or
    // written in go.mod's module line: the path is the user's to fix, and a reader may well
    // call a bad argument no version problem at all.
    if detail.starts_with("major version suffixes must be") {
        let summary = format!(
            "{}: a major-version suffix is /vN with N ≥ 2 (example.com/m/v2), or gopkg.in's .vN: drop the suffix or \
             write it so",
            error.text.trim().trim_start_matches("go: ")
        );
        return Some(found(Category::ModuleInvalidVersion, Confidence::Low, summary, vec![error.line()], &[]).or(
            Category::Unknown,
            Confidence::Low,
            "a module path given to go mod init that go refused",
        ));
    }
    // The revision is missing from the repository go asked itself (GOPROXY=direct,
    // GOPRIVATE): the git host's side of the story.
    let module = what.split('@').next().unwrap_or_default();
    if detail.starts_with("unknown revision") && f.fetched_directly(module) {
        let mut evidence = vec![error.line()];
        evidence.extend(f.env_line("GOPRIVATE"));
        evidence.extend(f.env_line("GONOPROXY"));
        evidence.extend(f.env_line("GOPROXY"));
        let summary = format!(
            "{what}: {detail}: go asked the git host itself (direct mode) and the repository has no such tag or \
             commit (not pushed, deleted, or a typo)"
        );
        let diagnosis = found(Category::VcsNotFound, Confidence::High, summary, evidence, &[]);
        return Some(diagnosis.or(Category::ModuleInvalidVersion, Confidence::Medium, "the version does not exist"));
    }
    // An empty version list reads the same whatever emptied it: a module without tags (a
    // proxy lists tags only), a proxy that lists nothing, a query no version matches, a
    // pattern go could not resolve. Behind a proxy of one's own, the proxy's list first.
    if detail.starts_with("no matching versions") {
        let own_proxy = f
            .env("GOPROXY")
            .and_then(|p| crate::urlref::goproxy_entries(p).into_iter().next().map(|(url, _)| url))
            .filter(|url| {
                url.to_ascii_lowercase().starts_with("http")
                    && !is_public_proxy(url)
                    && !f.fetched_directly(what.split('@').next().unwrap_or_default())
            });
        let mut evidence = vec![error.line()];
        evidence.extend(f.env_line("GOPROXY"));
        return Some(match own_proxy {
            Some(proxy) => found(
                Category::ProxyNotFound,
                Confidence::Low,
                format!(
                    "{what}: {detail}: the proxy {} lists no version that matches: a module without tags (proxies \
                     list tags only), or a proxy that does not list this module",
                    super::url_host(&proxy)
                ),
                evidence,
                &[],
            )
            .or(Category::ModuleInvalidVersion, Confidence::Low, "no such version exists upstream"),
            None => found(
                Category::ModuleInvalidVersion,
                Confidence::Low,
                format!("{what}: {detail}: {hint} (or the module has no tags, or a proxy lists none)"),
                evidence,
                &[],
            )
            .or(Category::ProxyNotFound, Confidence::Low, "the proxy lists no versions of the module"),
        });
    }
    // A /vN package below a subdirectory of the module go found (`m/cmd/tool/v2`, m found
    // at v1) is a module of its own, nested in m's repository, that go found nowhere: it
    // does not exist, or a proxy in GOPROXY lacks it (one that mirrors only some modules)
    // and go fell back to the path's parent. The log does not say which.
    let found_module = what.split('@').next().unwrap_or_default();
    let nested_major_module = detail.starts_with("found (")
        && package
            .strip_prefix(found_module)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| rest.contains('/') && !rest.split('/').next().is_some_and(is_major_suffix));
    if nested_major_module {
        let summary = format!(
            "{what}: {detail}: {package} is a module of its own (a /vN path below a subdirectory of {found_module}), \
             which go found nowhere, so it fell back to {found_module}: the module does not exist at that path, or a \
             proxy in GOPROXY lacks it (a company proxy mirroring only some modules)"
        );
        return Some(found(Category::ModuleInvalidVersion, Confidence::Low, summary, vec![error.line()], &[]).or(
            Category::ProxyNotFound,
            Confidence::Low,
            "a proxy in GOPROXY may lack the nested module (it fell back to the parent path's older version)",
        ));
    }
    let summary = format!("{what}: {detail}: {hint}");
    let confidence = if detail.starts_with("case-insensitive file name collision") {
        Confidence::Medium
    } else if detail.starts_with("malformed file path") {
        // No version of one's own choosing is wrong: the module itself breaks go's rules.
        Confidence::Low
    } else {
        Confidence::High
    };
    Some(found(Category::ModuleInvalidVersion, confidence, summary, vec![error.line()], &[]))
}
