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

use std::collections::BTreeMap;

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

/// The go commands of every script that passed in a `go tool test2json` stream of
/// `cmd/go`'s `TestScript` run with `-test.v=test2json` (a failed or skipped script's
/// output depends on the machine, so it is left out), in the order the scripts ran.
/// Lines that are not JSON events (a build's output) are skipped.
pub fn parse_test2json(events: &str) -> Vec<ScriptCommand> {
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
    let mut passed = Vec::new();
    for event in events.lines().filter_map(|l| serde_json::from_str::<Event>(l).ok()) {
        let Some(script) = event.test.strip_prefix("TestScript/") else { continue };
        match event.action.as_str() {
            "output" => {
                if !output.contains_key(script) {
                    order.push(script.to_string());
                }
                output.entry(script.to_string()).or_default().push_str(&event.output);
            }
            "pass" => passed.push(script.to_string()),
            _ => {}
        }
    }
    order.iter().filter(|s| passed.contains(s)).flat_map(|s| parse_script_log(s, &output[s])).collect()
}

/// The go commands of one script's log as the script engine prints it: the harness's
/// environment, then `> command` lines, `# comment` lines, and `[stderr]`, `[stdout]` and
/// `[exit status N]` blocks, all indented by eight spaces.
fn parse_script_log(script: &str, log: &str) -> Vec<ScriptCommand> {
    let mut commands: Vec<ScriptCommand> = Vec::new();
    let mut env: Vec<(String, String)> = Vec::new();
    let mut comment: Vec<String> = Vec::new();
    let mut in_comment = false;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut current: Option<ScriptCommand> = None;
    let mut block: Option<bool> = None; // Some(true): stderr, Some(false): stdout
    let mut harness = true;
    for line in log.lines() {
        let Some(line) = line.strip_prefix("        ") else { continue };
        if harness {
            if line.starts_with("> ") || line.starts_with("# ") {
                harness = false;
            } else {
                if let Some((key, value)) = line.split_once('=')
                    && CONFIGURATION.contains(&key)
                {
                    set(&mut env, key, value);
                }
                continue;
            }
        }
        if let Some(text) = line.strip_prefix("# ").or((line == "#").then_some("")) {
            if !in_comment {
                comment.clear();
            }
            in_comment = true;
            comment.push(strip_timing(text).to_string());
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
                for (key, value) in assignments.split_whitespace().filter_map(|a| a.split_once('=')) {
                    set(&mut env, key, value);
                }
            }
            let go = cmd.strip_prefix("! ").or_else(|| cmd.strip_prefix("? ")).unwrap_or(cmd);
            if go.starts_with("go ") {
                let occurrence = seen.entry(go.to_string()).and_modify(|n| *n += 1).or_insert(1);
                current = Some(ScriptCommand {
                    script: script.to_string(),
                    command: go.to_string(),
                    occurrence: *occurrence,
                    comment: comment.join(" "),
                    env: env.clone(),
                    exit: 0,
                    stderr: String::new(),
                    stdout: String::new(),
                });
            }
            continue;
        }
        let Some(command) = current.as_mut() else { continue };
        match line {
            "[condition not met]" => {
                current = None;
                continue;
            }
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

/// Sets (or, with an empty value, keeps empty) a variable, replacing an earlier value.
fn set(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    env.retain(|(k, _)| k != key);
    env.push((key.to_string(), value.to_string()));
}

/// A comment line without the engine's ` (0.012s)` timing suffix.
fn strip_timing(text: &str) -> &str {
    match text.rfind(" (") {
        Some(at) if text.ends_with("s)") && text[at + 2..text.len() - 2].parse::<f64>().is_ok() => &text[..at],
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

    #[test]
    fn failures_successes_env_and_comments_are_read_from_a_passing_script() {
        let log = [
            "=== RUN   TestScript/mod_x\n",
            "    script_test.go:163: \n",
            "        HOME=/no-home\n",
            "        GOPROXY=http://127.0.0.1:1/mod\n",
            "        GOSUMDB=localhost.localdev/sumdb+00000c67+Ac\n",
            "        \n",
            "        > env GO111MODULE=on GOFLAGS=-mod=mod\n",
            "        # A version the proxy lacks (0.012s)\n",
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
        ];
        let mut events: Vec<String> = log.iter().map(|l| event("output", "TestScript/mod_x", l)).collect();
        events.push(event("pass", "TestScript/mod_x", ""));
        events.push(event("output", "TestScript/mod_failed", "        > ! go build\n"));
        events.push(event("fail", "TestScript/mod_failed", ""));
        let commands = parse_test2json(&(events.join("\n") + "\nnot json\n"));
        assert_eq!(commands.len(), 3, "{commands:#?}");
        let first = &commands[0];
        assert_eq!(
            (first.command.as_str(), first.occurrence, first.exit),
            ("go mod download example.com/m@v9.0.0", 1, 1)
        );
        assert_eq!(first.comment, "A version the proxy lacks fails.");
        assert!(first.stderr.ends_with("404 Not Found\n\tserver response: not found\n"), "{}", first.stderr);
        let env = |c: &ScriptCommand, k: &str| c.env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        assert_eq!(env(first, "GOPROXY").as_deref(), Some("http://127.0.0.1:1/mod"));
        assert_eq!(env(first, "GOFLAGS").as_deref(), Some("-mod=mod"));
        assert_eq!(env(first, "HOME"), None, "the harness's paths are no configuration");
        assert_eq!((commands[1].exit, commands[1].stderr.as_str()), (0, "go: downloading example.com/m v1.0.0\n"));
        assert_eq!((commands[2].occurrence, env(&commands[2], "GOPROXY").as_deref()), (2, Some("off")));
    }

    #[test]
    fn timings_and_conditions_are_taken_off() {
        assert_eq!(strip_timing("fails (see issue 1) (0.004s)"), "fails (see issue 1)");
        assert_eq!(strip_timing("fails (see issue 1)"), "fails (see issue 1)");
        assert_eq!(strip_conditions("[!short] [exec:git] ! go get x"), "! go get x");
    }

    #[test]
    fn the_split_depends_on_the_name_only() {
        let held = ["a", "b", "c", "d", "e", "f", "g", "h"].iter().filter(|s| held_out(s)).count();
        assert!((1..8).contains(&held), "both sides get scripts");
        assert_eq!(held_out("mod_proxy_errors"), held_out("mod_proxy_errors"));
    }
}
