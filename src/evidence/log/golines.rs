//! Which lines of a cleaned log go itself printed: its messages in every wording users
//! paste (go 1.11's `go: finding`, `go get X:` prefixes, GOPATH-era `package X:` and
//! `can't load package:`, `go mod verify`'s `M V: dir has been modified`, go.mod parse
//! errors, `go test` results, import stacks `X imports` / `X tested by`), the `-x` trace, the `-json` records, the security-error
//! banner, and the tab-indented lines continuing any of them — also where another tool
//! embeds them: after `stderr: ` or `output: ` in its own error line (golangci-lint,
//! goreleaser, gopls), after `fetch_repo: ` (bazel), or escaped inside a JSON string
//! (Renovate, golangci-lint's `msg="…"`).

use std::sync::LazyLock;

use regex::Regex;

/// Where a go line starts: [`GO_START`], or a whole line of `go list -m`'s listing or of
/// what `go mod tidy -v` and `go mod vendor -v` print.
static GO_LINE_START: LazyLock<String> = LazyLock::new(|| {
    format!("(?:{GO_START}|{}$|{}$)", crate::evidence::LISTING_LINE, crate::evidence::TIDY_VENDOR_LINE)
});

/// A line go printed, by how it starts ([`GO_LINE_START`]).
static GO_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^{}", *GO_LINE_START)).expect("go line pattern compiles"));

/// Whether `text` starts the way a line go printed does ([`GO_LINE_START`]).
pub(super) fn starts_like_go(text: &str) -> bool {
    GO_LINE.is_match(text)
}

/// Where a go line starts, but for whole lines of `go list -m`'s listing and of `go mod
/// tidy -v` and `go mod vendor -v` ([`GO_LINE_START`]).
const GO_START: &str = concat!(
    r"(?:go: |go(?:\d+(?:\.\d+)*)?: |go get: |go get \S+: |go (?:install|run) \S+@\S+: ",
    r"|go (?:mod \w+|build|install|list|vet|run|test|work \w+)(?: -[\w=.,-]+)*: |go build [\w./-]+: ",
    r"|verifying \S+|SECURITY ERROR|This download does NOT match",
    r"|For more information, see 'go help module-auth'|# get |# cd |# lock \S|\d+\.\d+s # |go package net: ",
    r"|cd \S+; git |mkdir -p \S+ # git3 |mkdir -p \$WORK/b\d+/$|git (?:ls-remote|fetch|clone|init|remote|config|tag|cat-file|rev-parse|-c) ",
    r"|[A-Za-z0-9._~/!-]+@[A-Za-z0-9._+~!-]+: |module [A-Za-z0-9._~/!-]+: ",
    // go get's (go ≤ 1.17) package before the module it failed on: `P: M@V: …`.
    r"|[A-Za-z0-9._~/!-]+: [A-Za-z0-9._~/!-]+@[A-Za-z0-9._+~!-]+: ",
    r"|[A-Za-z0-9._~/!-]+ v\d\S*: (?:dir has been modified|zip has been modified|missing ziphash|zip: )",
    r"|all modules verified$|go version go\d|WORK=\S*go-build\d*$",
    // go's warnings that name no module: `go env -w` shadowed by the environment.
    r"|warning: (?:both GOPATH and GOROOT|GOPATH set to GOROOT \(|go env -w )",
    r"|\S*go\.(?:mod|work|sum|work\.sum):\d+(?::\d+)?: |malformed go\.sum:$",
    r"|\S+\.go:\d+:\d+: |pattern \S+: |build \S+: |package \S+ imports |cannot find module|note: module requires Go ",
    // go's flag parsing refusing a flag, and the usage line after it.
    r"|flag provided but not defined: -|usage: go \w+ ",
    // A package no module provides, said without go's prefix (go vet, go build).
    r"|no required module provides package \S+",
    // A package outside go.work's modules, said without go's prefix.
    r"|(?:directory \S+|current directory) is contained in a module that is not one of the workspace modules",
    r"|can't load package: |package \S+: |cannot find package |unknown import path |package \S+ is not a main package$",
    // cgo unable to run the C compiler (`# runtime/cgo` above it).
    r"|cgo: C compiler ",
    // `go run` failing to start what it built in its work directory.
    r"|fork/exec \S*go-build\S*: ",
    // GOPATH-era `go get`'s failed import (`import "9fans.net/go/acme": https fetch: …`).
    r#"|import "[^"\s]+": "#,
    // GOPATH-era `go get -v` logged a failed vanity-page fetch (cmd/go/internal/web, go ≤ 1.12)
    // and which page it parsed with what status (cmd/go/internal/get, go ≤ 1.12).
    r"|https? fetch failed: |Parsing meta tags from \S+ \(status code \d+\)",
    // vcs's error alone, where a tool that vendors with go's code (vndr, dep) printed it
    // without go's `package X:` prefix.
    r#"|unrecognized import path ""#,
    r"|failed to initialize build cache |build cache is |ok  \t|FAIL\t|--- FAIL: |PASS$|\?   \t",
    r"|\S+@\S+ \(replaced by |(?:[A-Za-z0-9._~/!-]+ )?imports$|\S+ (?:imports|requires|tested by)$",
    // The end of go mod tidy's import stack for its check of the previous go (go ≥ 1.17),
    // pasted without its indentation.
    r"|\S+ loaded from \S+@\S+,$|but go \d\S* would (?:select|fail to locate) ",
    // A module fetch's rejection, on a line of its own when a paste wrapped `M@v: M@v:`;
    // GOPROXY=off's refusal, as an editor's gopls shows it without go's prefix.
    r"|invalid version: |module lookup disabled by GOPROXY=",
    // modload's and modfetch's errors pasted without the `go: M@V: ` before them.
    r"|missing go\.sum entry |malformed module path |go\.mod has post-v\d+ module path ",
    // go ≤ 1.13's extraction failure (`-> unzip …zip: …`), and a path mismatch pasted
    // without the line that names the module.
    r"|-> unzip \S+: |module declares its path as: ",
    // A go.mod line's error pasted without its `go.mod:N:` position.
    r#"|(?:require|replace|exclude) \S+: version "[^"]*" invalid: "#,
    // A paste whose front the user cut with an ellipsis, resuming at a request go made
    // (`... Get https://…`) or inside its URL (`...@v/v0.14.0.zip": dial tcp …`).
    r#"|(?:\.\.\.|…) ?(?:Get |reading |\S*@v/\S+: |\S+\.(?:info|mod|zip)": ))"#,
);

/// Where go's text starts inside another tool's line: at a go line start that follows a
/// separator (`stderr: go: …`, `output: go: …`, `fetch_repo: m@v1: …`, `msg="go: …`), not
/// a mere space (`Using go: 1.22` is not go's).
const EMBEDDED_START: &str = concat!(
    r#"(?:^|: +|[="'(])("#,
    r"go: |go get: |go get \S+: |verifying \S+@\S+: |can't load package: |# get |failed to initialize build cache |pattern \S+: ",
    r"|go (?:install|run) \S+@\S+: |go (?:list|mod \w+)(?: -[\w=.,-]+)+: |package \S+: ",
    // go's words after the subcommand's name, as a tool quotes them (goreleaser's hook:
    // `output: go mod tidy: go.mod file indicates …`); its own `go mod tidy: exit status
    // 1` is not go's.
    r"|go mod \w+: (?:go\.(?:mod|work|sum)\b|go: )",
    r"|[A-Za-z0-9._~/!-]+@v\d[A-Za-z0-9._+~!-]*: |module [A-Za-z0-9._~/!-]+: ",
    // The first line of an import stack (`M@v requires`, modload's stackText).
    r"|[A-Za-z0-9._~/!-]+@v\d[A-Za-z0-9._+~!-]* (?:requires|imports)$",
    r"|[A-Za-z0-9._~/!-]+ v\d\S*: (?:dir has been modified|zip has been modified|missing ziphash|zip: )",
    r"|[A-Za-z0-9._/-]+\.go:\d+:\d+: |\S*go\.(?:mod|work):\d+(?::\d+)?: ",
    r")",
);

/// What go itself printed, among the lines of a cleaned log (see the module comment).
/// Everything else (other tools, the shell) is left out.
pub fn go_output(cleaned: &str) -> String {
    let unwrapped = join_hard_wraps(cleaned);
    let cleaned = &*unwrapped;
    static GIT_ECHO: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^#? ?cd \S+; git ").expect("git echo pattern compiles"));
    static GIT_SAYS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:Cloning into |fatal: |remote: |error: |warning: )").expect("git output pattern compiles")
    });
    // `package X: exit status 128`, or as the last line of an import stack under `package
    // X` (`\timports Y: exit status 128`), whose head does not end the held lines.
    static GIT_FAILED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:package \S+|\s+imports \S+): exit status \d+$").expect("git failure pattern compiles")
    });
    // git's and the hosts' words, as they follow go's `exit status 128:` (below).
    static GIT_TAIL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?:fatal: |remote: |error: |GitLab: |ERROR: |Please make sure you have the correct access rights",
            r"|and the repository exists|Permission denied \(|Host key verification failed|ssh: |kex_exchange_identification: ",
            r"|Connection (?:closed|reset) by |Warning: Permanently added )",
        ))
        .expect("git tail pattern compiles")
    });
    // go's line for a git command that failed, which git's lines follow.
    static EXIT_STATUS_ENDS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"exit status \d+:$").expect("exit status pattern compiles"));
    // GOPATH-era go's import stack: `package X` on a line of its own, then `\timports Y…`.
    static STACK_HEAD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^package \S+$").expect("stack head pattern compiles"));
    static STACK_NEXT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s+imports \S+").expect("stack pattern compiles"));
    let mut out = String::new();
    let mut in_json = false;
    let mut continuing = false;
    // git's own lines after go echoed the git command it runs (GOPATH-era `go get`
    // shows them untouched).
    let mut in_git = false;
    // Without `-v`, GOPATH-era `go get` shows git's lines before its own `package X: exit
    // status 128`, with no echo: they are held until that line says they were git's.
    let mut held = String::new();
    // The indentation of go's lines where something indented them as a block (below).
    let mut indent = "";
    // A `package X` line, go's only if an import stack's next line follows it.
    let mut pending_head: Option<&str> = None;
    // The last line kept is go's `exit status N:` after a git command, or git's lines
    // under it.
    let mut after_exit = false;
    let mut quoted_in_json = String::new();
    for line in cleaned.lines() {
        let line = match line.strip_prefix(indent) {
            Some(rest) if !indent.is_empty() => rest,
            _ => {
                indent = "";
                line
            }
        };
        if in_git && GIT_SAYS.is_match(line) {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        // go's `…: exit status 128:` promises git's lines, tab-indented; a paste that lost
        // the tabs still shows them in git's and the hosts' words.
        if after_exit && GIT_TAIL.is_match(line) {
            out.push('\t');
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if let Some(head) = pending_head.take()
            && STACK_NEXT.is_match(line)
        {
            // The stack is go's: git's held lines first when its last line says git failed.
            if GIT_FAILED.is_match(line) {
                out.push_str(&held);
            }
            held.clear();
            out.push_str(head);
            out.push('\n');
            out.push_str(line);
            out.push('\n');
            continuing = true;
            after_exit = false;
            continue;
        }
        if !in_json && STACK_HEAD.is_match(line) {
            pending_head = Some(line);
            continue;
        }
        // git's lines, and (once some are held) the ssh and host words among them
        // (`Permission denied (publickey).`, `Please make sure you have …`, a blank line).
        let git_tail = !held.is_empty() && (GIT_TAIL.is_match(line) || line.trim().is_empty());
        if (GIT_SAYS.is_match(line) || git_tail) && !GO_LINE.is_match(line) && embedded(line).is_none() {
            held.push_str(line);
            held.push('\n');
            continuing = false;
            continue;
        }
        if GIT_FAILED.is_match(line) {
            out.push_str(&held);
        }
        held.clear();
        in_git = GIT_ECHO.is_match(line);
        let keep = if in_json {
            // A JSON object that is no go record (a tool's: VS Code's `"stderr": "go: …\n"`)
            // carries go's text in a string: read after the object, as go's lines. (go's
            // own records' keys are capitalised: `"Error": "…"` is read as the record's.)
            let tools_key =
                line.trim_start().strip_prefix('"').is_some_and(|key| key.starts_with(|c: char| c.is_lowercase()));
            if let Some(text) = json_strings(line).find(|text| tools_key && text.lines().any(|l| GO_LINE.is_match(l))) {
                quoted_in_json.push_str(&go_output(&text));
            }
            if line.starts_with('}') {
                in_json = false;
                out.push_str(line);
                out.push('\n');
                out.push_str(&std::mem::take(&mut quoted_in_json));
                continuing = false;
                continue;
            }
            true
        } else if line == "{" {
            in_json = true;
            true
        } else if (continuing && (line.starts_with('\t') || line.starts_with("    ")))
            || (continuing && line.starts_with("  ") && out.trim_end().ends_with(':'))
            || GO_LINE.is_match(line)
        {
            // go indents continuations with a tab; a paste often turns the tab into four
            // spaces (or eight), or into two after a line that ends in a colon (which
            // promises what follows): `stderr_errors` joins them alike.
            true
        } else if GO_LINE.is_match(line.trim_start_matches([' ', '\t'])) {
            // go's lines indented as a block by whatever ran it (a make recipe, a tool
            // quoting go's output under its own words), or a paste that starts inside an
            // import stack (its tab-indented lines): read where go started them, this
            // line and those that follow with the same indentation.
            let trimmed = line.trim_start_matches([' ', '\t']);
            indent = &line[..line.len() - trimmed.len()];
            out.push_str(trimmed);
            out.push('\n');
            continuing = !trimmed.starts_with("# ");
            after_exit = EXIT_STATUS_ENDS.is_match(trimmed);
            continue;
        } else if let Some((embedded, quoted)) = embedded(line)
            .filter(|(text, _)| text.len() < line.len())
            // (A server's answer quoting its own go, pasted without go's line above it, is
            // the server's: its git failing is not this machine's.)
            .filter(|_| !line.trim_start().starts_with("server response:"))
        {
            // The tool's line carries go's: keep go's part only, as lines of its own. What
            // follows continues it, unless go's text was a quoted string that ended here.
            let inner = go_output(&embedded);
            out.push_str(&inner);
            continuing = !inner.is_empty() && !quoted && !inner.lines().last().is_some_and(|l| l.starts_with("# "));
            // go's text ending in a git command's `exit status 128:` promises git's lines.
            after_exit = !quoted && inner.lines().last().is_some_and(|l| EXIT_STATUS_ENDS.is_match(l));
            continue;
        } else {
            false
        };
        // A `-x` trace line (`# get …`) has no continuation: indented lines after it are
        // go's lines indented as a block (above), not its continuation.
        continuing = keep && !line.starts_with("# ");
        after_exit = keep && (EXIT_STATUS_ENDS.is_match(line) || after_exit && line.starts_with('\t'));
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A paste whose long lines were broken at a fixed width (a Windows console's 80 columns,
/// a terminal or an editor that wraps), mid-word where the width fell, with go's lines
/// joined again: a broken line would hide the words the rules read (`wsarecv: An exist` /
/// `ing connection was forcibly closed`). A line continues the go line above it only when
/// everything says the break was the paste's: the line above is go's (or continues it) and
/// as long as the paste's longest line (or one shorter, a space at the break trimmed), at
/// least 79 characters; the line is no line of its own (go's, git's, another tool's `name:
/// …`, a shell's `exit status 1`, a separator, indented, or starting with a capital
/// letter); and the paste breaks so at least twice — a wrapping console breaks every long
/// line, while one long go error followed by another tool's words is a single such place.
fn join_hard_wraps(cleaned: &str) -> std::borrow::Cow<'_, str> {
    // What starts a line of its own rather than the rest of a broken one.
    static OWN_LINE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?:[a-z][a-z0-9_-]*(?:\[\d+\])?: |fatal: |remote: |error|warning|exit (?:status|code)|failed |executor ",
            r"|script returned |make(?:\[\d+\])?: |npm |/bin/|\./|\d+ errors? occurred|real\s|user\s|sys\s",
            r"|[^a-z0-9 /.:_)\x22'@]|  |\t)",
        ))
        .expect("own line pattern compiles")
    });
    let lines: Vec<&str> = cleaned.lines().collect();
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    if width < TERMINAL_WIDTH {
        return std::borrow::Cow::Borrowed(cleaned);
    }
    // Which lines continue the one above, reading go's lines through the joins.
    let mut continues = vec![false; lines.len()];
    let mut in_go = false;
    for (i, line) in lines.iter().enumerate() {
        let above = i.checked_sub(1).map_or(0, |j| lines[j].chars().count());
        if in_go && above + 1 >= width && !line.is_empty() && !OWN_LINE.is_match(line) && !GO_LINE.is_match(line) {
            continues[i] = true;
        } else {
            in_go = GO_LINE.is_match(line);
        }
    }
    if continues.iter().filter(|&&c| c).count() < 2 {
        return std::borrow::Cow::Borrowed(cleaned);
    }
    let mut out = String::with_capacity(cleaned.len());
    for (i, line) in lines.iter().enumerate() {
        if continues[i] {
            out.pop();
            // One short of the width: the break fell on a space, which the paste trimmed.
            if lines[i - 1].chars().count() < width && !line.starts_with(' ') {
                out.push(' ');
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    if !cleaned.ends_with('\n') {
        out.pop();
    }
    std::borrow::Cow::Owned(out)
}

/// Bare Go error values where a log shows none of go's own lines: what a paste keeps
/// when it was cut down to the error (`Get "https://…": x509: certificate has expired…`,
/// `dial tcp 142.251.46.81:443: connect: connection refused`, `open /root/go/pkg/mod/…:
/// read-only file system`), or what go ≤ 1.12 printed without its `go:` prefix. Every Go
/// program words its errors so, so the evidence they give is weak: a verdict read from
/// them says so ([`crate::evidence::Evidence::fragmentary`]). Each line comes with the
/// indented lines that continue it. The output of the other commands a log echoes after
/// a go command is left out ([`without_other_commands`]): its values are
/// theirs.
pub fn go_fragments(cleaned: &str) -> String {
    fragments_in(&without_other_commands(cleaned))
}

/// The command a log line echoes, if it echoes one ([`last_command`]'s forms).
fn echoed(line: &str) -> Option<String> {
    last_command(std::iter::once(line))
}

/// Whether an echoed command runs go.
fn runs_go(command: &str) -> bool {
    command.split_whitespace().any(|w| w == "go" || w.ends_with("/go"))
}

/// A cleaned log without the output of the other commands it echoes after a go command
/// (`+ docker push …` and what followed it, until go's next command): bare error values
/// there are theirs. (Before any go command is echoed, a command may be one that runs go:
/// `make`, `nix build`, a script.)
fn without_other_commands(cleaned: &str) -> String {
    let (mut go_seen, mut others) = (false, false);
    let mut out = String::with_capacity(cleaned.len());
    for line in cleaned.lines() {
        if let Some(command) = echoed(line) {
            go_seen |= runs_go(&command);
            others = go_seen && !runs_go(&command);
        }
        if !others {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The last command `lines` echo: after a prompt (`$ `, `user@host:~# `; a bare `# ` is
/// go's own trace), `set -x`'s `+ `, or in a Dockerfile step.
pub(super) fn last_command<'a>(lines: impl DoubleEndedIterator<Item = &'a str>) -> Option<String> {
    static ECHO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:\S+[$#>] |[$>] |\+ |Step \d+/\d+ : RUN |RUN )(.*)$").expect("echo pattern compiles")
    });
    lines.rev().find_map(|l| ECHO.captures(l.trim_end())).map(|c| c[1].to_string())
}

/// The last command a cleaned log echoes, when it is not a go command: what ran after go
/// (`docker push`, `rm -rf …`), whose failure is its own.
pub fn last_command_not_go(cleaned: &str) -> Option<String> {
    last_command(cleaned.lines()).filter(|command| !runs_go(command))
}

/// The bare error values of [`go_fragments`], in a text whose other commands' output is
/// already left out (and in the strings and tails read inside its lines).
fn fragments_in(cleaned: &str) -> String {
    // Inside another tool's line (`fetch_repo: Get "…": …`, `msg="…stderr: x509: …"`),
    // after a separator as go's embedded text is.
    static EMBEDDED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(&format!(r#"(?:: +|[="'(])({VALUE})"#)).expect("fragment pattern compiles"));
    // Other Go programs' errors, in their own words around the value: kubectl's, docker's.
    static OTHER_TOOLS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:Unable to connect to the server: |Error from server|Error response from daemon: )")
            .expect("compiles")
    });
    static HEADLESS_LOOKUP: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[A-Za-z0-9.-]+ on \[?[0-9a-fA-F.:]+\]?:53: ").expect("lookup pattern compiles"));
    // A git command the log shows run by hand (`+ git clone …`, `$ git fetch`): git's
    // words are that command's, not go's.
    static GIT_RUN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)^(?:\+ |\S*[$#>] )git ").expect("compiles"));
    let fragment: &Regex = if GIT_RUN.is_match(cleaned) { &GO_FRAGMENT } else { &FRAGMENT };
    let mut out = String::new();
    let mut continuing = false;
    // Inside a server's answer (`server response: …` and the lines indented deeper under
    // it): its values are the server's experience (a proxy's own git, prompting), not
    // this machine's.
    let mut response_indent: Option<usize> = None;
    for line in cleaned.lines() {
        let depth = line.len() - line.trim_start_matches(['\t', ' ']).len();
        if line.trim_start().starts_with("server response:") {
            response_indent = Some(depth);
            continuing = false;
            continue;
        }
        match response_indent {
            Some(indent) if depth > indent => continue,
            _ => response_indent = None,
        }
        let indented = line.starts_with('\t') || line.starts_with("  ");
        if continuing && indented {
            out.push_str(line);
            out.push('\n');
        } else if !requested_by_go(line) {
            continuing = false;
        } else if fragment.is_match(line.trim_start()) {
            let line = line.trim_start();
            // The tail of a lookup's error (`H on S:53: …`, net.DNSError) cut from its
            // head: read whole.
            if HEADLESS_LOOKUP.is_match(line) {
                out.push_str("lookup ");
            }
            out.push_str(line);
            out.push('\n');
            continuing = true;
        } else {
            // A JSON string with escaped line ends (Renovate's, golangci-lint's `msg`),
            // decoded; else the rest of the line from an embedded value on.
            let decoded: String = json_strings(line).map(|text| fragments_in(&text)).collect();
            if !decoded.is_empty() {
                out.push_str(&decoded);
            } else if let Some(unescaped) = escaped_tail(line) {
                out.push_str(&fragments_in(&unescaped));
            } else if let Some(value) =
                EMBEDDED.captures(line).and_then(|c| c.get(1)).filter(|_| !OTHER_TOOLS.is_match(line))
            {
                out.push_str(&fragments_in(&line[value.start()..]));
            }
            continuing = false;
        }
    }
    out
}

/// Whether a line's request (`Get "URL": …`, `"URL": …`), if it names one, is one go makes while
/// fetching modules: a proxy's `@v/` files and `@latest`, a `?go-get=1` page, a checksum
/// database's lookups, tiles and `latest` (directly or through a proxy's `/sumdb/`),
/// Bitbucket's API (go ≤ 1.12), a toolchain. Any other URL is a Go program's own request
/// (`go run`'s program, a test), whatever error it met. A value naming no URL may be go's.
fn requested_by_go(line: &str) -> bool {
    static REQUEST: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?:\b(?:Get|Head|Post) "?|^["'(]?")(https?://[^"\s]+)"#).expect("compiles"));
    let Some(url) = REQUEST.captures(line.trim_start()).map(|c| c[1].trim_end_matches([':', '"']).to_string()) else {
        return true;
    };
    let path = url.split_once("://").map_or("", |(_, rest)| rest);
    let (host, path) = path.split_once('/').unwrap_or((path, ""));
    path.contains("@v/")
        || path.contains("@latest")
        || url.contains("?go-get=1")
        || path.starts_with("lookup/")
        || path.contains("/lookup/")
        || path.starts_with("tile/")
        || path.contains("/tile/")
        || path.contains("sumdb/")
        || path == "latest"
        || path.ends_with("/latest")
        || [".zip", ".mod", ".info"].iter().any(|ext| path.split('?').next().unwrap_or(path).ends_with(ext))
        || path.contains("golang.org/toolchain")
        || ["api.bitbucket.org", "dl.google.com"].contains(&host)
}

/// The tail of an escaped string a paste cut from its head (`exit status
/// 128:\n\tfatal: could not read Password for '…': terminal prompts disabled\n"`: a tool's
/// JSON log of go's error, whose opening quote is gone), unescaped: go's lines under
/// `exit status 128:` are indented with a tab, so `\n\t` marks one.
fn escaped_tail(line: &str) -> Option<String> {
    line.contains(r"\n\t").then(|| {
        let body = line.trim_end().trim_end_matches('"');
        body.replace(r"\n", "\n").replace(r"\t", "\t").replace(r#"\""#, "\"")
    })
}

/// Whether a cleaned log is nothing but bare error values ([`go_fragments`]) and the lines
/// indented under them: a paste cut down to go's error, brought to a diagnosis of go's,
/// where nothing else is there to say whose it is.
pub fn only_error_values(cleaned: &str) -> bool {
    let mut lines = cleaned.lines().filter(|l| !l.trim().is_empty()).peekable();
    lines.peek().is_some_and(|first| GO_FRAGMENT.is_match(first.trim_start()))
        && lines.all(|l| GO_FRAGMENT.is_match(l.trim_start()) || l.starts_with(['\t', ' ']))
}

/// How a bare error value starts ([`go_fragments`]).
const VALUE: &str = concat!(
    r#"(?:(?:Get|Head|Post) "?https?://|"https?://[^"\s]+": |reading https?://\S+: \d{3} "#,
    r"|(?:dial|read|write) (?:tcp|udp)[46]? |lookup \S+(?: on \S+)?: |\S+ on \[?[0-9a-fA-F.:]+\]?:53: ",
    r"|(?:tls: )?failed to verify certificate: |x509: |net/http: |stream error: |http2: ",
    r"|(?:open|mkdir|rename|remove|unlinkat|fork/exec|unzip|chmod|write) (?:/|[A-Za-z]:\\)\S*: ",
    // git run by go, which turns its prompts off (a user's own git would prompt).
    r"|fatal: could not read (?:Username|Password) for '[^']*': terminal prompts disabled)",
);

/// How git's and ssh's account of a repository they could not reach starts, pasted without
/// go's line above it: read where the log shows go at work, as go's are ([`go_fragments`]).
const GIT_VALUE: &str = concat!(
    r"(?:fatal: repository '[^']*' not found|fatal: unable to access '[^']*': |ERROR: Repository not found",
    r"|ERROR: The project you were looking for could not be found|Host key verification failed",
    r"|ssh: Could not resolve hostname |kex_exchange_identification: ",
    // git refusing or unable to ask for credentials (Git Credential Manager's words for
    // go's GIT_TERMINAL_PROMPT=0 on Windows).
    r"|fatal: Authentication failed for '|fatal: Cannot prompt because user interactivity has been disabled)",
);

/// A line that is a bare error value, Go's or git's ([`go_fragments`]).
static FRAGMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r#"^["'(]?(?:{VALUE}|{GIT_VALUE})"#)).expect("fragment pattern compiles"));

/// A line that is a bare Go error value ([`only_error_values`]: git alone is any git's).
static GO_FRAGMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r#"^["'(]?{VALUE}"#)).expect("fragment pattern compiles"));

/// How the halves of a line a paste broke are joined: a terminal breaks at its width,
/// mostly inside a word (`un` / `known revision`), and at a space now and then, which a
/// copy may trim from the end of the row (`invalid` / `version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glue {
    /// The halves joined as they are: a break inside a word, or at a space kept.
    Nothing,
    /// A space between the halves: a break at a space the copy trimmed.
    Space,
}

/// A cleaned log read more liberally than [`go_output`] does, for a second reading when
/// go's own lines gave no verdict, or only a low one: a go line the paste broke into rows
/// (a terminal's or an editor's width) is read joined again, by `glue`, and a line that
/// starts as go's lines about a module do (`module@version: `, `module@version requires
/// go >= `, `reading module/go.mod at revision `, `module m@v found (…), but does not
/// contain package`) but lost go's prefix is read as go's; bare error values
/// ([`go_fragments`]) are read beside go's lines too, where the log shows go at work.
/// Other tools' lines stay out. What is read from it is a guess, and the diagnosis says so.
pub fn liberal(cleaned: &str, glue: Glue) -> String {
    let text: String = outdented(rejoined(cleaned, glue)).into_iter().map(|line| line + "\n").collect();
    let mut out = go_output(&text);
    // Bare error values beside go's error (a paste broken before `Get "https://…`), where
    // the log shows go at work, go's own lines say it failed (not only `go: downloading`
    // before a program of its own ran: `go run`, a later command) and no test's output
    // is in view (its log lines are the test's).
    static TEST_OUTPUT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^(?:=== RUN |--- FAIL: |FAIL\t)").expect("compiles"));
    let go_failed = crate::evidence::stderr_errors(&out).iter().any(|e| !crate::evidence::is_warning(&e.text));
    // (Or none of go's lines at all, as the first reading had none: bare values alone.)
    let at_work = shows_go_at_work(cleaned) || only_error_values(&text);
    if (go_failed || out.trim().is_empty()) && at_work && !TEST_OUTPUT.is_match(cleaned) {
        // From the lines go's reading left out: a value inside go's own line (a server's
        // response quoting its lookup), or inside go's line another tool's quotes, is read
        // there, in its place, not again as go's.
        let kept: std::collections::HashSet<&str> = out.lines().collect();
        let read_in_place = |line: &str| {
            kept.contains(line)
                || embedded(line).is_some_and(|(go, _)| {
                    let mut lines = go.lines().map(str::trim_end).filter(|l| !l.is_empty()).peekable();
                    lines.peek().is_some() && lines.all(|l| kept.contains(l))
                })
        };
        let left_out: String = text.lines().filter(|l| !read_in_place(l)).flat_map(|l| [l, "\n"]).collect();
        out.push_str(&go_fragments(&left_out));
    }
    out
}

/// Lines with go's output that a tool indented as a block (wire's and other generators'
/// errors quote a go command's stderr so: `\tgo: …` and the lines under it) without the
/// tool's indentation: the first go line's indentation, taken from it and from each line
/// after it that starts with it, until a blank line or a line that does not. (After rows
/// a paste broke were joined: a terminal breaks a line at its width, indentation included.)
fn outdented(lines: Vec<String>) -> Vec<String> {
    static INDENTED_GO: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^([ \t]+)go: ").expect("compiles"));
    let mut indent: Option<String> = None;
    lines
        .into_iter()
        .map(|line| {
            if let Some(rest) = indent.as_deref().and_then(|i| line.strip_prefix(i)).filter(|r| !r.trim().is_empty()) {
                return rest.to_string();
            }
            indent = INDENTED_GO.captures(&line).map(|c| c[1].to_string());
            match &indent {
                Some(i) => line[i.len()..].to_string(),
                None => line,
            }
        })
        .collect()
}

/// The lines of a cleaned log with go's lines a paste broke joined again, by `glue` (and
/// go's lines a paste disguised restored: [`liberal_lines`]).
fn rejoined(cleaned: &str, glue: Glue) -> Vec<String> {
    let lines = liberal_lines(cleaned);
    let glue = if glue == Glue::Space { " " } else { "" };
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        // Read joined, in the place of the pieces: what go printed under the line (git's
        // lines after `exit status 128:`) then continues the whole line.
        let rows = 1 + rows_continuing(&lines, i);
        out.push(lines[i..i + rows].join(glue));
        i += rows;
    }
    out
}

/// How many of the lines after `lines[i]` are the rest of it, a go line a paste broke:
/// the next one goes on with its text, and each full row (as wide as the first) goes on
/// in the one after it.
fn rows_continuing(lines: &[String], i: usize) -> usize {
    match lines.get(i + 1) {
        Some(next) if continues_a_broken_go_line(&lines[i], next) => {
            let (columns_wide, chars_wide) = (columns(&lines[i]), lines[i].chars().count());
            let mut rows = 1;
            // (As wide in columns, as a terminal breaks, or in characters, as a viewer
            // that counts a tab as one does.)
            while (columns(&lines[i + rows]) == columns_wide || lines[i + rows].chars().count() == chars_wide)
                && let Some(following) = lines.get(i + 1 + rows)
                && continues_a_row(&lines[i + rows], following)
            {
                rows += 1;
            }
            rows
        }
        _ => 0,
    }
}

/// The go lines of a cleaned log that a terminal broke, each as the rows copied from it:
/// its first row as long as the paste's longest line (or one shorter, a space at the
/// break trimmed), at least a narrow terminal's width, and continued on the next rows
/// ([`rejoined`] joins them). A verdict read from one of the rows read part of a line.
pub fn broken_go_lines(cleaned: &str) -> Vec<Vec<String>> {
    // Most pastes have no line a terminal could have broken: they need no second look
    // (`liberal_lines` lengthens a line by at most go's `go: `).
    if !cleaned.lines().any(|l| columns(l) + "go: ".len() >= TERMINAL_WIDTH) {
        return Vec::new();
    }
    let lines = liberal_lines(cleaned);
    // As wide as the widest line in columns (a terminal's break), or in characters (a
    // viewer's that counts a tab as one).
    let longest_columns = lines.iter().map(|l| columns(l)).max().unwrap_or(0);
    let longest_chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut broken = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (columns_wide, chars_wide) = (columns(&lines[i]), lines[i].chars().count());
        let full = (columns_wide >= TERMINAL_WIDTH && columns_wide + 1 >= longest_columns)
            || (chars_wide >= TERMINAL_WIDTH && chars_wide + 1 >= longest_chars);
        let rows = if full { rows_continuing(&lines, i) } else { 0 };
        if rows > 0 {
            broken.push(lines[i..=i + rows].to_vec());
        }
        i += 1 + rows;
    }
    broken
}

/// How many columns `line` takes on a terminal: a tab moves to the next multiple of 8.
fn columns(line: &str) -> usize {
    line.chars().fold(0, |column, c| if c == '\t' { column / 8 * 8 + 8 } else { column + 1 })
}

/// A URL at the very end of go's line: go always writes something after one (`: 404 Not
/// Found`, `": dial tcp …`), so a line as wide as a terminal was broken inside it, and
/// what follows is its rest even when that reads like a line of go's own (`okup/m@v1.0.0:
/// 404 …`, `golang.org/lookup/m@v1.0.0: dial tcp …` after `https://sum.`).
static URL_CUT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"https?://[^\s"']*$"#).expect("compiles"));

/// Whether a terminal broke `line` inside the URL it ends with ([`URL_CUT`]).
fn cut_in_a_url(line: &str) -> bool {
    columns(line) >= TERMINAL_WIDTH && URL_CUT.is_match(line)
}

/// The narrowest terminal a paste is commonly broken at.
pub(super) const TERMINAL_WIDTH: usize = 79;

/// The cleaned log's lines, with go's lines a paste disguised restored: a paste commented
/// out line by line (`# go: …`, then `#    invalid version: …`), go's `module@version: `
/// error without go's prefix, and an error quoted in a sentence between backticks (after
/// the sentence, as a line of its own).
fn liberal_lines(cleaned: &str) -> Vec<String> {
    // `corp.example/lib@v1.0.0: …`: go's error for a module, without go's `go: ` — or
    // go's refusal of a module too new for it (`[module ]m@v1.2.0 requires go >= 1.24
    // (running go 1.23.7; …)`), its account of a go.mod it could not read from the repository
    // (`reading m/go.mod at revision v1.0.0: git ls-remote …`), or of a version that lacks
    // the package imported (`module m@latest found (v3.6.0+incompatible), but does not
    // contain package …`), each in words of go's alone.
    static MODULE_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
        // A module path (a dot in its first element) and a version.
        const MODULE: &str = r"[a-z0-9][A-Za-z0-9._~-]*\.[A-Za-z0-9._~/!-]*";
        const VERSION: &str = r"v[0-9][A-Za-z0-9.+-]*";
        Regex::new(&format!(
            concat!(
                r"^(?:{m}@{v}: |(?:module )?{m}@{v} requires go >= \S+ \(running go ",
                r"|reading {m}/go\.mod at revision \S+: |module {m}@\S+ found \(v\S+\), but does not contain package )",
            ),
            m = MODULE,
            v = VERSION
        ))
        .expect("compiles")
    });
    static COMMENTED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^# +(go: .*)$|^# {2,}(\S.*)$").expect("compiles"));
    // An error quoted in a sentence (`I get `x509: …` when I run go mod tidy`).
    static QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"`([^`\n]{12,})`").expect("compiles"));
    let mut out = Vec::new();
    let mut above = "";
    for l in cleaned.lines() {
        out.push(match COMMENTED.captures(l) {
            Some(c) => c.get(1).map_or_else(|| format!("\t{}", &c[2]), |go| go.as_str().to_string()),
            // (Not the rest of a URL the line above was broken in: `golang.org/lookup/m@v1.0.0: …`.)
            None if MODULE_SUBJECT.is_match(l) && !cut_in_a_url(above) => format!("go: {l}"),
            None => l.to_string(),
        });
        above = l;
        if !l.starts_with("```") {
            out.extend(QUOTED.captures_iter(l).map(|c| c[1].to_string()));
        }
    }
    out
}

/// Whether `next` is the rest of `line`, a go line (or a line indented under one) that a
/// paste broke: `line` is long enough to be broken by a width, and `next` goes on with
/// text rather than starting a line of its own (go's, another tool's).
fn continues_a_broken_go_line(line: &str, next: &str) -> bool {
    // git's own lines, which GOPATH-era `go get` shows unindented.
    static GIT_LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(?:fatal|error|remote): ").expect("compiles"));
    // go's line, or the indented line of git's or the server's that continues it.
    let gos = GO_LINE.is_match(line) || line.starts_with(['\t', ' ']);
    // Lines go's text is in without starting as go's do — git's under GOPATH-era `go get`,
    // a bare error value, go's line inside another tool's or escaped in its JSON — as
    // wide as a terminal.
    let shown = || {
        columns(line) >= TERMINAL_WIDTH
            && (GIT_LINE.is_match(line)
                || FRAGMENT.is_match(line)
                || embedded(line).is_some()
                || escaped_tail(line).is_some())
    };
    (gos || shown()) && continues_a_row(line, next)
}

/// A line a CI system or a build tool prints around the step that ran go — how it ended,
/// what it does next — which starts with a capital as the rest of a line a terminal broke
/// may (`Get "https://…`), but never continues go's line: GitHub's `Process completed
/// with exit code 1.`, Azure's `Bash exited with code '1'.`, Docker's classic `The command
/// '/bin/sh -c go mod download' returned a non-zero code: 1`, GitLab's `Cleaning up
/// project directory and file based variables`.
static CI_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:(?:Error: )?Process completed with exit code |(?:Bash|PowerShell|Script|cmd(?:\.exe)?) exited with code ",
        r"|The command '.*' returned a non-zero code|The process '.*' failed with exit code |Exited with code ",
        r"|Cleaning up (?:project directory|file based variables)|Uploading artifacts|Saving cache|Post job cleanup",
        r"|ERROR: Job failed|Job succeeded|Finished: |Build step '.*' marked build as |Removing intermediate container ",
        r"|Running in [0-9a-f]{6,}|Step \d+/\d+ : )",
    ))
    .expect("ci line pattern compiles")
});

/// Whether `next` is the rest of `line`, a row of a paste (go's line, or a row of one a
/// paste broke twice): `line` is long enough to be broken by a width, and `next` goes on
/// with text rather than starting a line of its own (go's, another tool's).
fn continues_a_row(line: &str, next: &str) -> bool {
    /// Shorter lines are rarely broken by a width.
    const BROKEN_AT_LEAST: usize = 40;
    // A tool's label before its line (`ERROR: `, `Error: `, `Step 4/7 : `).
    static LABEL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[A-Z][A-Za-z0-9 /]{0,20} ?: ").expect("compiles"));
    // What continues a broken line: text going on (lower case, a digit, punctuation, the
    // rest of a URL broken before its `@v/`, `%21`, `?go-get=1` or `&`), not another
    // tool's line (`make: ***`, `error: …`, BuildKit's `------`, a shell's `+ cmd` trace,
    // a prompt's `~/src $`).
    static CONTINUES: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"^(?:[a-z0-9./"':)\]>,;=_@%?&-])"#).expect("compiles"));
    static TOOL_LINE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:make(?:\[\d+\])?: |error: |warning: |fatal: |hint: |remote: |curl: |npm |-{3,}|/bin/sh: |exit status \d+$)")
            .expect("compiles")
    });
    // A line go ended there: `-x`'s `# get …: 200 OK (0.003s)`, an error value or status
    // that ends go's line (nothing follows it; the next line is another's: `retrying…`).
    static COMPLETE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"\(\d+\.\d+s\)$|(?:connection reset by peer|i/o timeout|no such host|connection refused",
            r"|network is unreachable|no route to host|terminal prompts disabled|server misbehaving",
            r"|\d{3} (?:Not Found|Gone|Bad Gateway|Service Unavailable|Internal Server Error|Forbidden|Unauthorized",
            r"|Bad Request|Gateway Timeout|Too Many Requests)|connection timed out|unexpected EOF",
            r"|certificate signed by unknown authority|certificate has expired or is not yet valid",
            r"|is (?:before|after) \d{4}-\d\d-\d\dT[\d:.]+Z|no go-import meta tags \(\))$",
        ))
        .expect("compiles")
    });
    if COMPLETE.is_match(line) || CI_LINE.is_match(next) {
        return false;
    }
    let width = columns(line);
    // (A go line that ends with a URL of its own — `deprecated: see https://…` — is
    // followed by go's next line, which starts as go starts its lines.)
    if cut_in_a_url(line)
        && next.starts_with(|c: char| !c.is_whitespace())
        && !next.starts_with("go: ")
        && !next.starts_with("# ")
    {
        return !TOOL_LINE.is_match(next);
    }
    // A break at a terminal's width (80 columns or more) falls anywhere, before a capital
    // too (`Get "…`) or a space the terminal kept, but not before another tool's `ERROR: `.
    let continues = CONTINUES.is_match(next)
        || (width >= TERMINAL_WIDTH
            && (next.starts_with(char::is_alphabetic) && !LABEL.is_match(next)
                || next.starts_with(' ') && next[1..].starts_with(|c: char| !c.is_whitespace())));
    width >= BROKEN_AT_LEAST && !GO_LINE.is_match(next) && continues && !TOOL_LINE.is_match(next)
}

/// Whether a log shows go at work — a go command, a module proxy's path, the module
/// cache, go's hints, git with go's prompts off: only then are bare error values (`dial tcp …:
/// i/o timeout`), which every Go program prints (kubectl, docker, terraform), taken for go's.
pub fn shows_go_at_work(cleaned: &str) -> bool {
    static GO_AT_WORK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"\bgo (?:mod|get|build|install|list|test|run|work|vet|generate|env|version|tool|clean)\b",
            r"|[/\\]@v[/\\]|\?go-get=1|sum\.golang\.org|[/\\]pkg[/\\]mod[/\\]|\bgo-build|proxy\.golang\.org|goproxy",
            r"|\bGO(?:PROXY|FLAGS|PRIVATE|SUMDB|NOSUMDB|NOPROXY|MODCACHE|CACHE|TOOLCHAIN)\b",
            r"|Confirm the import path was entered correctly|golang\.org/doc/faq",
            // git with its prompts turned off, as go runs it (GIT_TERMINAL_PROMPT=0).
            r"|terminal prompts disabled|Cannot prompt because user interactivity has been disabled",
        ))
        .expect("go at work pattern compiles")
    });
    GO_AT_WORK.is_match(cleaned)
}

/// The part of a cleaned log line that is not go's: all of it when go's text is not in
/// it, the tool's words before go's text, or nothing when the line is go's own.
pub fn tool_part(line: &str) -> &str {
    static START: LazyLock<Regex> = LazyLock::new(|| Regex::new(EMBEDDED_START).expect("embedded pattern compiles"));
    // go's line, or the tab-indented continuation of one.
    if GO_LINE.is_match(line) || line.starts_with('\t') {
        return "";
    }
    match START.captures(line).and_then(|c| c.get(1)) {
        Some(m) => &line[..m.start()],
        None => line,
    }
}

/// A JSON string with escaped line ends or tabs in it (Renovate's `stderr`, golangci-lint's
/// `msg`): the text of a command's output another tool quotes.
static JSON_STRING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""((?:[^"\\]|\\.)*\\[nt](?:[^"\\]|\\.)*)""#).expect("string pattern compiles"));

/// The [`JSON_STRING`]s of a line, decoded (those that do not decode are left out).
fn json_strings(line: &str) -> impl Iterator<Item = String> + '_ {
    JSON_STRING.captures_iter(line).filter_map(|c| serde_json::from_str::<String>(&format!("\"{}\"", &c[1])).ok())
}

/// go's text inside another tool's line: a JSON string with escaped line ends that holds
/// go lines (decoded; `true`), or the rest of the line from where go's text starts.
fn embedded(line: &str) -> Option<(String, bool)> {
    static START: LazyLock<Regex> = LazyLock::new(|| Regex::new(EMBEDDED_START).expect("embedded pattern compiles"));
    if let Some(text) = json_strings(line).find(|text| !go_output(text).is_empty()) {
        return Some((text, true));
    }
    let start = START.captures(line)?.get(1)?.start();
    Some((line[start..].to_string(), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_go_ended_is_not_continued_by_the_next() {
        // An error value that ends go's line: the next line is another's.
        let log = "go: github.com/grpc-ecosystem/grpc-gateway/v2@v2.19.1: read tcp 10.0.0.4:40022->142.250.72.17:443: read: connection reset by peer\nretrying in 5s\n";
        assert!(broken_go_lines(log).is_empty());
        // Cut inside the status, it is.
        let log = "go: corp.example/lib@v1.0.0: reading https://goproxy.corp.example.com/corp.example/lib/@v/v1.0.0.mod: 502 Bad Gatew\nay\n";
        assert_eq!(broken_go_lines(log).len(), 1);
        // A row of three a terminal broke, tab-indented, is one line.
        let log = "\tnot found: github.com/acme-corp/secret-sdk@v1.0.0: invalid version: git \nls-remote -q origin in /tmp/gopath/pkg/mod/cache/vcs/91a9d4c2e7f5b8a3c6d0e1f2a3b\n4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2: exit status 128:\n";
        assert_eq!(broken_go_lines(log).iter().map(Vec::len).collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn only_go_lines_survive() {
        let log = "npm ERR! network read ECONNRESET\n\
                   curl: (56) Recv failure: Connection reset by peer\n\
                   go: corp.example/lib@v1.0.0: Get \"https://p/x\": read: connection reset by peer\n\
                   \tmore detail\n\
                   Error: Process completed with exit code 1.\n\
                   {\n\t\"Path\": \"m\",\n\t\"Error\": \"boom\"\n}\n\
                   main.go:3:8: example.com/m@v1.2.3: missing go.sum entry\n\
                   verifying m@v1: checksum mismatch\n\
                   \tdownloaded: h1:a\n\
                   SECURITY ERROR\n";
        let kept = go_output(log);
        assert!(!kept.contains("npm") && !kept.contains("curl") && !kept.contains("Process completed"), "{kept}");
        for line in
            ["go: corp.example", "\tmore detail", "\"Error\": \"boom\"", "main.go:3:8", "\tdownloaded", "SECURITY"]
        {
            assert!(kept.contains(line), "{line} missing from {kept}");
        }
    }

    #[test]
    fn older_wordings_and_other_commands_are_go_lines() {
        for line in [
            "go get golang.org/x/crypto: unexpected status (https://p/golang.org/x/crypto/@v/list): 410 Gone",
            "go get: github.com/x/y@v1.0.0: verifying module: checksum mismatch",
            "package golang.org/x/net/html: unrecognized import path \"golang.org/x/net/html\" (https fetch: boom)",
            "can't load package: package m: cannot find module providing package m",
            "corp.example/lib v1.0.0: dir has been modified (/home/u/go/pkg/mod/corp.example/lib@v1.0.0)",
            "/src/app/go.mod:5: unknown directive: toolchain",
            "go.mod:3: invalid go version '1.21.0': must match format 1.23",
            "failed to initialize build cache at /root/.cache/go-build: mkdir /root/.cache: permission denied",
            "ok  \tcorp.example/app\t0.012s",
            "all modules verified",
            "pkgcritic tested by",
            "invalid version: go.mod has post-v2 module path \"x.io/a/v2\" at revision v2.0.0-beta1",
        ] {
            assert_eq!(go_output(line).trim_end(), line, "{line}");
        }
    }

    #[test]
    fn git_lines_before_a_gopath_exit_status_are_gits() {
        let log = "Cloning into '/go/src/x.io/a'...\n\
                   fatal: unable to access 'https://x.io/a/': Could not resolve host: x.io\n\
                   package x.io/a/cmd: exit status 128\n\
                   fatal: not go's\n\
                   Step 3/4 : RUN make\n";
        assert_eq!(
            go_output(log),
            "Cloning into '/go/src/x.io/a'...\nfatal: unable to access 'https://x.io/a/': Could not resolve host: \
             x.io\npackage x.io/a/cmd: exit status 128\n"
        );
        let install =
            "go install golang.org/x/tools/cmd/goimports@latest: Lock /nfs/go/pkg/mod/x.lock: no locks available";
        assert_eq!(go_output(install).trim_end(), install);
        let list =
            "go list -m: unrecognized import path \"x.io/a\": parse https://x.io/a?go-get=1: no go-import meta tags ()";
        assert_eq!(go_output(list).trim_end(), list, "a subcommand's flags are part of go's prefix");
    }

    #[test]
    fn go_lines_indented_as_a_block_and_space_indented_continuations_are_go_lines() {
        // A paste that turned go's tab into four spaces.
        let spaces = "go: m@v1 requires\n    n@v2: missing go.sum entry; to add it:\n    go mod download n\nnot go\n";
        assert_eq!(
            go_output(spaces),
            "go: m@v1 requires\n    n@v2: missing go.sum entry; to add it:\n    go mod download n\n"
        );
        // go's output indented by what ran it: read where go started it, to the block's end.
        let block = "Step 3/4 : RUN make\n   # get https://p/m/@v/list\n   go: m@v1: boom\n   \tserver response: x\n   still go's block\nnot indented\n";
        assert_eq!(go_output(block), "# get https://p/m/@v/list\ngo: m@v1: boom\n\tserver response: x\n");
        // Other tools' indented words are not go's.
        assert_eq!(go_output("npm ERR!\n    at Object.<anonymous> (x.js:1:1)\n"), "");
        assert_eq!(
            go_output("https fetch failed: Get https://x.io/a?go-get=1: EOF\n"),
            "https fetch failed: Get https://x.io/a?go-get=1: EOF\n"
        );
    }

    #[test]
    fn lines_a_paste_broke_at_its_width_are_joined_and_others_are_not() {
        // A Windows console's 80 columns: mid-word, and on a space the paste trimmed.
        let console = concat!(
            "go: finding example.com/m develop\n",
            "go get example.com/m@develop: Get https://proxy.example.cn/example.com/m/@v/deve\n",
            "lop.info: dial tcp 203.0.113.77:443: connectex: A connection attempt failed beca\n",
            "use the connected party did not properly respond after a period of time, and so\n",
            "then gave up.\n",
        );
        assert_eq!(
            go_output(console),
            concat!(
                "go: finding example.com/m develop\n",
                "go get example.com/m@develop: Get https://proxy.example.cn/example.com/m/@v/develop.info: dial tcp \
                 203.0.113.77:443: connectex: A connection attempt failed because the connected party did not properly \
                 respond after a period of time, and so then gave up.\n",
            )
        );
        // A long go line followed by another tool's words, a shell's or a new sentence.
        let go = "go: example.com/m@v1.0.0: Get \"https://proxy.example.com/example.com/m/@v/v1.0.0.zip\": EOF";
        for after in
            ["make: *** [Makefile:3: deps] Error 1", "exit status 1", "The command returned 1", "failed to solve: x"]
        {
            let log = format!("{go}\n{after}\n");
            assert_eq!(go_output(&log), format!("{go}\n"), "{after}");
        }
        // One long go error followed by other lines is no wrapped paste, whatever they are.
        let go = "go: example.com/private/lib@v1.2.3: reading https://proxy.golang.org/example.com/private/lib/@v/v1.2.3.info: 404 Not Found";
        for after in [
            "------",
            "/bin/sh: 1: cannot create /x: Permission denied",
            "1 error occurred:",
            "npm ERR! code 1",
            "lookup of x failed",
        ] {
            let log = format!("#9 [4/6] RUN go mod download\n{go}\n{after}\n");
            assert_eq!(go_output(&log), format!("{go}\n"), "{after}");
        }
        // Shorter than the paste's longest line: a line of its own, whatever follows.
        let log = format!("{go}\ntail of a word\n{go} and more\n");
        assert_eq!(go_output(&log), format!("{go}\n{go} and more\n"));
    }

    #[test]
    fn go_text_embedded_in_other_tools_lines_is_found() {
        let goreleaser = "   ⨯ release failed after 0s   error=hook failed: go mod download: exit status 1; output: go: m@v1: reading https://p/m/@v/v1.zip: 410 Gone\n\tserver response: gone\n";
        assert_eq!(
            go_output(goreleaser),
            "go: m@v1: reading https://p/m/@v/v1.zip: 410 Gone\n\tserver response: gone\n"
        );
        let golangci = r#"  level=error msg="Running error: context loading failed: err: exit status 1: stderr: go: downloading go1.22 (linux/amd64)\ngo: download go1.22 for linux/amd64: toolchain not available\n""#;
        assert_eq!(
            go_output(golangci),
            "go: downloading go1.22 (linux/amd64)\ngo: download go1.22 for linux/amd64: toolchain not available\n"
        );
        let bazel = "Error in fail: failed to fetch com_x: fetch_repo: github.com/x/y@v0.1.7: Get \"https://p/x\": dial tcp 1.2.3.4:443: i/o timeout";
        assert!(go_output(bazel).starts_with("github.com/x/y@v0.1.7: Get"), "{}", go_output(bazel));
        let renovate = r#"           "stderr": "go: m@v1: reading https://p/x: 404 Not Found\n\tserver response: \"not found\"\n""#;
        assert_eq!(
            go_output(renovate),
            "go: m@v1: reading https://p/x: 404 Not Found\n\tserver response: \"not found\"\n"
        );
        // More than one space after the tool's colon; an import stack's first line.
        let spaced = "error=hook failed: make deps: exit status 1; output:   go: m@v1 requires\n      n@v2: missing go.sum entry\n";
        assert_eq!(go_output(spaced), "go: m@v1 requires\n      n@v2: missing go.sum entry\n");
        let stack = "Error in fail: failed to fetch com_x: fetch_repo: github.com/x/y@v1.4.2 requires\n\tgithub.com/z/q@v1.0.2: boom\n";
        assert_eq!(go_output(stack), "github.com/x/y@v1.4.2 requires\n\tgithub.com/z/q@v1.0.2: boom\n");
        for other in [
            "npm WARN deprecated inflight@1.0.6: This module is not supported",
            "cargo: error: could not download",
            "Using go: 1.22",
        ] {
            assert_eq!(go_output(other), "", "{other}");
        }
    }
}
