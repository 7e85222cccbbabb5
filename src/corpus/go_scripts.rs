//! Go's own script tests (`$GOROOT/src/cmd/go/testdata/script/*.txt`) as evidence from
//! outside modchaos: they run the real go against go's own test servers (a module proxy
//! serving `testdata/mod`, a checksum database, a server replaying `testdata/vcstest`
//! repositories) and make go fail on purpose. `tests/diagnosis_go_scripts.rs` runs them
//! with the installed go, reads what every go command printed from `go tool test2json`'s
//! events, and measures the diagnosis on the failures that two labellers named a cause
//! for (`tests/go_scripts/labels.tsv`) and on the successes (`none`).
//!
//! Nothing of go's is copied into this repository: the scripts, their files and go's
//! output are read from GOROOT and the run at test time.

use std::collections::{BTreeMap, BTreeSet};

use crate::corpus::fnv1a;

/// One go command a script ran, and what it printed.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptCommand {
    /// The script's name (`mod_proxy_errors`).
    pub script: String,
    /// The command as the script writes it (`go mod download -x example.com/m@v1.0.0`),
    /// with the script's variables unexpanded.
    pub command: String,
    /// Which run of that same command text in the script this is, from 1: what keys a
    /// label, so that editing other lines of a script moves no label.
    pub occurrence: usize,
    /// The comment of the script section the command sits in.
    pub comment: String,
    /// go's configuration for the command: the harness's (GOPROXY, GOSUMDB, …) with the
    /// script's own `env` lines over it.
    pub env: Vec<(String, String)>,
    /// go's exit status: 0 for a command that succeeded.
    pub exit: i32,
    /// go's standard error.
    pub stderr: String,
    /// go's standard output.
    pub stdout: String,
}

/// The variables of go's configuration a user would show (`go env` prints them): the
/// harness's paths and build settings are left out.
const CONFIGURATION: &[&str] = &[
    "GO111MODULE",
    "GOAUTH",
    "GOFLAGS",
    "GOINSECURE",
    "GONOPROXY",
    "GONOSUMDB",
    "GOPRIVATE",
    "GOPROXY",
    "GOSUMDB",
    "GOTOOLCHAIN",
    "GOVCS",
    "GOWORK",
];

/// Whether a script is held out: never read while writing rules, measured in aggregate
/// only. Half of the scripts by the FNV-1a hash of `go-script:` and the name, decided
/// before any was diagnosed; a script's commands stay together, so that a script's
/// near-identical failures never sit on both sides.
pub fn held_out(script: &str) -> bool {
    !fnv1a(format!("go-script:{script}").as_bytes()).is_multiple_of(2)
}

/// The go commands of every script that passed or skipped in a `go tool test2json` stream
/// of `cmd/go`'s `TestScript` run with `-test.v=test2json` (`-test.v` before go 1.20), in
/// the order the scripts ran. A failed script's output depends on the machine, so it is
/// left out; a skipped one ran its commands before the `skip` as a passing one does.
/// `source` gives a script's text by name (`$GOROOT/src/cmd/go/testdata/script/NAME.txt`):
/// its comment lines tell the engine's section comments from go's own output lines that
/// start with `# ` (`# pkg` before compile errors, `-x`'s `# get …`). Lines that are not
/// JSON events (a build's output) are skipped.
pub fn parse_test2json(events: &str, source: impl Fn(&str) -> Option<String>) -> Vec<ScriptCommand> {
    #[derive(serde::Deserialize)]
    struct Event {
        #[serde(rename = "Action")]
        action: String,
        #[serde(rename = "Test", default)]
        test: String,
        #[serde(rename = "Output", default)]
        output: String,
    }
    let mut output: BTreeMap<String, String> = BTreeMap::new();
    let mut order = Vec::new();
    let mut kept = BTreeSet::new();
    for event in events.lines().filter_map(|l| serde_json::from_str::<Event>(l).ok()) {
        let Some(script) = event.test.strip_prefix("TestScript/") else { continue };
        match event.action.as_str() {
            "output" => {
                if !output.contains_key(script) {
                    order.push(script.to_string());
                }
                output.entry(script.to_string()).or_default().push_str(&event.output);
            }
            "pass" | "skip" => {
                kept.insert(script.to_string());
            }
            _ => {}
        }
    }
    order
        .iter()
        .filter(|s| kept.contains(*s))
        .flat_map(|s| parse_script_log(s, &output[s], &comments_of(&source(s).unwrap_or_default())))
        .collect()
}

/// A script's comment lines (before its first `-- file --`), without the `#` and the
/// spaces around them: what the engine prints as section comments.
fn comments_of(source: &str) -> BTreeSet<String> {
    source
        .lines()
        .take_while(|l| !l.starts_with("-- "))
        .filter_map(|l| l.trim().strip_prefix('#'))
        .map(|c| c.trim().to_string())
        .collect()
}

/// The go commands of one script's log as the script engine prints it: the harness's
/// environment, then `> command` lines, `# comment` lines (the last of a section's with
/// its time), and `[stderr]`, `[stdout]` and `[exit status N]` blocks, all indented by
/// eight spaces. `comments` are the script's own comment lines. go 1.19's engine (before
/// `cmd/go/internal/script`) prints the same, with the time before the environment,
/// `PASS` at the end, and nothing where a command's condition is not met: a conditional
/// `env` line counts as run there (`tests/diagnosis_go_scripts.rs` checks that no scored
/// script has one that sets go's configuration).
fn parse_script_log(script: &str, log: &str, comments: &BTreeSet<String>) -> Vec<ScriptCommand> {
    let mut commands: Vec<ScriptCommand> = Vec::new();
    // Every variable the script sees: the harness's, then the script's `env` lines.
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut pending_env: Vec<(String, String)> = Vec::new();
    let mut comment: Vec<String> = Vec::new();
    let mut in_comment = false;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut current: Option<ScriptCommand> = None;
    let mut block: Option<bool> = None; // Some(true): stderr, Some(false): stdout
    let mut harness = true;
    let lines: Vec<&str> = log.lines().filter_map(|l| l.strip_prefix("        ")).collect();
    // go 1.19's engine starts the log with the time, before the environment, and ends a
    // script that passed with `PASS`: the engine's words, not the last command's output.
    let old_engine = lines.first().is_some_and(|l| l.starts_with("# (") && l.ends_with(')'));
    let end = match lines.iter().rposition(|l| !l.trim().is_empty()) {
        Some(last) if old_engine && lines[last] == "PASS" => last,
        _ => lines.len(),
    };
    for (at, &line) in lines[..end].iter().enumerate() {
        if harness {
            if old_engine && at == 0 {
                continue;
            }
            if line.starts_with("> ") || line.starts_with('#') {
                harness = false;
            } else {
                if let Some((key, value)) = line.split_once('=') {
                    vars.insert(key.to_string(), value.to_string());
                }
                continue;
            }
        }
        // An `env` line takes effect unless its condition was not met.
        if line == "[condition not met]" {
            pending_env.clear();
            current = None;
            continue;
        }
        vars.extend(pending_env.drain(..));
        if let Some(text) = section_comment(line, comments) {
            if !in_comment {
                comment.clear();
            }
            in_comment = true;
            comment.push(text.to_string());
            commands.extend(current.take());
            block = None;
            continue;
        }
        in_comment = false;
        if let Some(cmd) = line.strip_prefix("> ") {
            commands.extend(current.take());
            block = None;
            let cmd = strip_conditions(cmd);
            if let Some(assignments) = cmd.strip_prefix("env ") {
                pending_env = words(assignments, &vars)
                    .iter()
                    .filter_map(|w| w.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
                    .collect();
            }
            let go = cmd.strip_prefix("! ").or_else(|| cmd.strip_prefix("? ")).unwrap_or(cmd);
            if go.starts_with("go ") {
                let occurrence = seen.entry(go.to_string()).and_modify(|n| *n += 1).or_insert(1);
                current = Some(ScriptCommand {
                    script: script.to_string(),
                    command: go.to_string(),
                    occurrence: *occurrence,
                    comment: comment.join(" "),
                    env: configuration(&vars),
                    exit: 0,
                    stderr: String::new(),
                    stdout: String::new(),
                });
            }
            continue;
        }
        let Some(command) = current.as_mut() else { continue };
        match line {
            "[stderr]" => block = Some(true),
            "[stdout]" => block = Some(false),
            _ => {
                if let Some(code) = line.strip_prefix("[exit status ").and_then(|r| r.strip_suffix(']')) {
                    command.exit = code.parse().unwrap_or(1);
                    block = None;
                } else if let Some(stderr) = block {
                    let text = if stderr { &mut command.stderr } else { &mut command.stdout };
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    commands.extend(current);
    commands
}

/// Whether a script sets go's configuration on an `env` line with a condition
/// (`[!short] env GOFLAGS=-mod=mod`): go 1.19's engine does not print whether a condition
/// held, so such a script's configuration cannot be read from its log there.
pub fn sets_configuration_conditionally(source: &str) -> bool {
    source.lines().take_while(|l| !l.starts_with("-- ")).any(|line| {
        let line = line.trim();
        let Some(assignments) = strip_conditions(line).strip_prefix("env ") else { return false };
        line.starts_with('[')
            && assignments
                .split_whitespace()
                .any(|w| w.split_once('=').is_some_and(|(k, _)| CONFIGURATION.contains(&k)))
    })
}

/// The comment's text when `line` is one of the script's section comments as the engine
/// prints it (`# text`, the section's last line with its time: `# text (0.012s)`); `None`
/// for go's own output that starts with `#`.
fn section_comment<'l>(line: &'l str, comments: &BTreeSet<String>) -> Option<&'l str> {
    let text = line.strip_prefix('#')?.trim();
    let bare = strip_timing(text);
    [bare, text].into_iter().find(|t| comments.contains(*t)).map(|_| bare)
}

/// go's configuration among the script's variables, as `go env` would show it.
fn configuration(vars: &BTreeMap<String, String>) -> Vec<(String, String)> {
    CONFIGURATION.iter().filter_map(|k| vars.get(*k).map(|v| (k.to_string(), v.clone()))).collect()
}

/// The words of a script line as the engine splits them: on unquoted spaces and tabs,
/// `'…'` quoting (`''` is a quote inside it), and `$VAR`, `${VAR}` expanded outside quotes
/// (`${/}` and `${:}` are the path and list separators).
fn words(line: &str, vars: &BTreeMap<String, String>) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    word.get_or_insert_default().push('\'');
                } else {
                    quoted = false;
                }
            } else {
                word.get_or_insert_default().push(c);
            }
            continue;
        }
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '\'' => {
                quoted = true;
                word.get_or_insert_default();
            }
            '$' => {
                let name: String = if chars.peek() == Some(&'{') {
                    chars.next();
                    chars.by_ref().take_while(|c| *c != '}').collect()
                } else {
                    let mut name = String::new();
                    while let Some(c) = chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_') {
                        name.push(c);
                    }
                    name
                };
                let value = match name.as_str() {
                    "/" => "/",
                    ":" => ":",
                    _ => vars.get(&name).map_or("", String::as_str),
                };
                word.get_or_insert_default().push_str(value);
            }
            _ => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

/// A comment line without the engine's ` (0.012s)` timing suffix.
fn strip_timing(text: &str) -> &str {
    let Some(inner) = text.strip_suffix("s)") else { return text };
    match inner.rfind(" (") {
        Some(at)
            if inner[at + 2..].split_once('.').is_some_and(|(whole, frac)| {
                !whole.is_empty()
                    && !frac.is_empty()
                    && whole.bytes().all(|b| b.is_ascii_digit())
                    && frac.bytes().all(|b| b.is_ascii_digit())
            }) =>
        {
            &text[..at]
        }
        _ => text,
    }
}

/// A command without its leading `[condition]` guards (`[!short] go build`).
fn strip_conditions(mut cmd: &str) -> &str {
    while let Some(rest) = cmd.strip_prefix('[') {
        match rest.split_once("] ") {
            Some((_, after)) => cmd = after,
            None => break,
        }
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: &str, test: &str, output: &str) -> String {
        serde_json::json!({"Action": action, "Package": "cmd/go", "Test": test, "Output": output}).to_string()
    }

    const SOURCE: &str = "env GO111MODULE=on\n# A version the proxy lacks\n# fails.\n! go mod download example.com/m@v9.0.0\n\n-- go.mod --\n# not a comment\n";

    fn parse(log: &[&str]) -> Vec<ScriptCommand> {
        let mut events: Vec<String> = log.iter().map(|l| event("output", "TestScript/mod_x", l)).collect();
        events.push(event("pass", "TestScript/mod_x", ""));
        events.push(event("output", "TestScript/mod_failed", "        > ! go build\n"));
        events.push(event("fail", "TestScript/mod_failed", ""));
        parse_test2json(&(events.join("\n") + "\nnot json\n"), |name| (name == "mod_x").then(|| SOURCE.to_string()))
    }

    fn env(c: &ScriptCommand, k: &str) -> Option<String> {
        c.env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn failures_successes_env_and_comments_are_read_from_a_passing_script() {
        let commands = parse(&[
            "=== RUN   TestScript/mod_x\n",
            "    script_test.go:163: \n",
            "        HOME=/no-home\n",
            "        GOPROXY=http://127.0.0.1:1/mod\n",
            "        GOSUMDB=localhost.localdev/sumdb+00000c67+Ac\n",
            "        \n",
            "        > env GO111MODULE=on GOFLAGS=-mod=mod\n",
            "        # A version the proxy lacks\n",
            "        # fails. (0.000s)\n",
            "        > ! go mod download example.com/m@v9.0.0\n",
            "        [stderr]\n",
            "        go: example.com/m@v9.0.0: reading http://127.0.0.1:1/mod/example.com/m/@v/v9.0.0.info: 404 Not Found\n",
            "        \tserver response: not found\n",
            "        [exit status 1]\n",
            "        > stderr '404 Not Found'\n",
            "        > [!short] go build\n",
            "        [condition not met]\n",
            "        > go mod download example.com/m@v1.0.0\n",
            "        [stderr]\n",
            "        go: downloading example.com/m v1.0.0\n",
            "        > env GOPROXY=off\n",
            "        > ! go mod download example.com/m@v9.0.0\n",
            "        [exit status 1]\n",
        ]);
        assert_eq!(commands.len(), 3, "{commands:#?}");
        let first = &commands[0];
        assert_eq!(
            (first.command.as_str(), first.occurrence, first.exit),
            ("go mod download example.com/m@v9.0.0", 1, 1)
        );
        assert_eq!(first.comment, "A version the proxy lacks fails.");
        assert!(first.stderr.ends_with("404 Not Found\n\tserver response: not found\n"), "{}", first.stderr);
        assert_eq!(env(first, "GOPROXY").as_deref(), Some("http://127.0.0.1:1/mod"));
        assert_eq!(env(first, "GOFLAGS").as_deref(), Some("-mod=mod"));
        assert_eq!(env(first, "HOME"), None, "the harness's paths are no configuration");
        assert_eq!((commands[1].exit, commands[1].stderr.as_str()), (0, "go: downloading example.com/m v1.0.0\n"));
        assert_eq!((commands[2].occurrence, env(&commands[2], "GOPROXY").as_deref()), (2, Some("off")));
    }

    #[test]
    fn a_skipped_script_keeps_the_commands_before_its_skip() {
        let events = [
            event("output", "TestScript/mod_skipped", "        GOPROXY=off\n"),
            event("output", "TestScript/mod_skipped", "        > ! go mod download example.com/m@v1.0.0\n"),
            event("output", "TestScript/mod_skipped", "        [stderr]\n"),
            event("output", "TestScript/mod_skipped", "        go: module lookup disabled by GOPROXY=off\n"),
            event("output", "TestScript/mod_skipped", "        [exit status 1]\n"),
            event("output", "TestScript/mod_skipped", "        > [short] skip\n"),
            event("skip", "TestScript/mod_skipped", ""),
        ];
        let commands = parse_test2json(&events.join("\n"), |_| Some(String::new()));
        assert_eq!(commands.len(), 1, "{commands:#?}");
        assert_eq!((commands[0].exit, commands[0].stderr.as_str()), (1, "go: module lookup disabled by GOPROXY=off\n"));
    }

    #[test]
    fn go_1_19_s_log_starts_with_the_time() {
        let commands = parse(&[
            "=== CONT  TestScript/mod_x\n",
            "go test proxy running at GOPROXY=http://127.0.0.1:1/mod\n",
            "    script_test.go:270: \n",
            "        # (2026-11-27T14:51:23Z)\n",
            "        GOPROXY=http://127.0.0.1:1/mod\n",
            "        \n",
            "        > env GO111MODULE=on\n",
            "        # A version the proxy lacks\n",
            "        # fails. (0.016s)\n",
            "        > ! go mod download example.com/m@v9.0.0\n",
            "        [stderr]\n",
            "        go: example.com/m@v9.0.0: reading http://127.0.0.1:1/mod/example.com/m/@v/v9.0.0.info: 404 Not Found\n",
            "        [exit status 1]\n",
            "        > go mod download example.com/m@v1.0.0\n",
            "        [stderr]\n",
            "        go: downloading example.com/m v1.0.0\n",
            "        PASS\n",
            "        \n",
        ]);
        assert_eq!(commands.len(), 2, "{commands:#?}");
        assert_eq!(commands[0].comment, "A version the proxy lacks fails.");
        assert_eq!(commands[1].stderr, "go: downloading example.com/m v1.0.0\n", "the engine's PASS is no output");
        assert_eq!((commands[0].exit, env(&commands[0], "GOPROXY").as_deref()), (1, Some("http://127.0.0.1:1/mod")));
        assert_eq!(env(&commands[0], "GO111MODULE").as_deref(), Some("on"));
    }

    #[test]
    fn go_s_own_lines_that_start_with_a_hash_stay_in_its_output() {
        let commands = parse(&[
            "        GOPROXY=http://127.0.0.1:1/mod\n",
            "        > ! go mod download example.com/m@v9.0.0\n",
            "        [stderr]\n",
            "        # get http://127.0.0.1:1/mod/example.com/m/@v/v9.0.0.info: 404 Not Found (0.001s)\n",
            "        # example.com/m/q\n",
            "        q/q.go:3:2: undefined: x\n",
            "        [exit status 1]\n",
        ]);
        assert_eq!(commands.len(), 1, "{commands:#?}");
        assert_eq!(commands[0].exit, 1);
        assert!(commands[0].stderr.starts_with("# get ") && commands[0].stderr.contains("# example.com/m/q\nq/q.go"));
    }

    #[test]
    fn env_lines_are_expanded_unquoted_and_kept_to_go_s_configuration() {
        let commands = parse(&[
            "        GOPROXY=http://127.0.0.1:1/mod\n",
            "        proxy=http://127.0.0.1:1/mod\n",
            "        sumdb=localhost.localdev/sumdb+00000c67+Ac\n",
            "        > env GOPROXY=$proxy/404 GOVCS='*:none' oldGOPROXY=$GOPROXY\n",
            "        > env GOSUMDB=$sumdb' '${proxy}/sumdb-wrong\n",
            "        > [short] env GOFLAGS=-mod=vendor\n",
            "        [condition not met]\n",
            "        > ! go get rsc.io/quote\n",
            "        [exit status 1]\n",
        ]);
        let c = &commands[0];
        assert_eq!(env(c, "GOPROXY").as_deref(), Some("http://127.0.0.1:1/mod/404"));
        assert_eq!(env(c, "GOVCS").as_deref(), Some("*:none"));
        assert_eq!(
            env(c, "GOSUMDB").as_deref(),
            Some("localhost.localdev/sumdb+00000c67+Ac http://127.0.0.1:1/mod/sumdb-wrong")
        );
        assert_eq!(env(c, "GOFLAGS"), None, "an env line whose condition failed sets nothing");
        assert_eq!(env(c, "oldGOPROXY"), None, "the script's own variables are no configuration");
    }

    #[test]
    fn words_timings_and_conditions() {
        let vars = BTreeMap::from([("A".to_string(), "x y".to_string())]);
        assert_eq!(words("a'b c''d'$A ${/}e", &vars), ["ab c'dx y", "/e"]);
        assert_eq!(words("'' '$A'", &vars), ["", "$A"]);
        assert_eq!(strip_timing("fails (see issue 1) (0.004s)"), "fails (see issue 1)");
        assert_eq!(strip_timing("fails (see issue 1)"), "fails (see issue 1)");
        assert_eq!(strip_timing("a (NaNs)"), "a (NaNs)");
        assert_eq!(strip_conditions("[!short] [exec:git] ! go get x"), "! go get x");
    }

    #[test]
    fn conditional_configuration_is_found() {
        assert!(sets_configuration_conditionally("[!short] env GOFLAGS=-mod=mod\n! go build\n"));
        assert!(!sets_configuration_conditionally("[exec:echo] env BROWSER=echo\nenv GOFLAGS=-mod=mod\n"));
        assert!(!sets_configuration_conditionally("go build\n-- a.txt --\n[short] env GOPROXY=off\n"));
    }

    #[test]
    fn the_split_depends_on_the_name_only() {
        let held = ["a", "b", "c", "d", "e", "f", "g", "h"].iter().filter(|s| held_out(s)).count();
        assert!((1..8).contains(&held), "both sides get scripts");
        assert_eq!(held_out("mod_proxy_errors"), held_out("mod_proxy_errors"));
    }
}
