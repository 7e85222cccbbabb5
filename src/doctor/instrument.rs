//! The extra logging an expert turns on before rerunning a failing go command: `-x`
//! (every fetch and every command go runs, with its result) where the subcommand accepts
//! it, and the resolver trace of `GODEBUG=netdns=go+2`. Both only add output: they
//! change nothing go does (the released go command is built without cgo, so its resolver
//! is the pure Go one already; a resolver the user chose in GODEBUG is kept).

use serde::{Deserialize, Serialize};

/// The subcommands (words after `go`) that accept `-x`, checked one by one against the
/// real go 1.26: `go <sub> -x` parses. The others (`mod verify`, `mod why`, `mod init`,
/// `mod vendor`, `work …`, `version`, `doc`, `bug`, `tool`, `telemetry`) answer `flag
/// provided but not defined: -x` and exit 2, so adding it would break the command.
const ACCEPTS_X: &[&[&str]] = &[
    &["build"],
    &["clean"],
    &["env"],
    &["fix"],
    &["fmt"],
    &["generate"],
    &["get"],
    &["install"],
    &["list"],
    &["run"],
    &["test"],
    &["vet"],
    &["mod", "download"],
    &["mod", "edit"],
    &["mod", "graph"],
    &["mod", "tidy"],
];

/// What happened to `-x`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TraceFlag {
    /// Added right after these words (the subcommand, and `-C dir` when it comes first,
    /// since go insists that `-C` be the first flag).
    Added {
        /// The words it follows, e.g. `mod download`.
        after: String,
    },
    /// The command line has it already.
    AlreadyThere,
    /// This subcommand does not accept `-x` (or there is none).
    NotAccepted {
        /// The subcommand as given, possibly empty.
        subcommand: String,
    },
}

/// The go subcommand: `mod download` for `go mod download …`, `build` for `go build …`.
/// `args` are the words after the program; the number of words taken is returned too.
pub fn subcommand(args: &[String]) -> (Vec<&str>, usize) {
    match args {
        [first, second, ..] if (first == "mod" || first == "work") && !second.starts_with('-') => {
            (vec![first.as_str(), second.as_str()], 2)
        }
        [first, ..] if !first.starts_with('-') => (vec![first.as_str()], 1),
        _ => (Vec::new(), 0),
    }
}

/// `args` (the words after the program) with `-x` right after the subcommand where go
/// accepts it, and what was done.
pub fn add_trace_flag(args: &[String]) -> (Vec<String>, TraceFlag) {
    let (words, taken) = subcommand(args);
    if !ACCEPTS_X.contains(&words.as_slice()) {
        return (args.to_vec(), TraceFlag::NotAccepted { subcommand: words.join(" ") });
    }
    let flags = &args[taken..];
    // go's flag parsing stops at the first argument that is not a flag; what follows is
    // packages or the program's own arguments (`go run . -x`). A flag's separate value
    // (`-o out`) stops the scan early too: a second `-x` would then be harmless.
    let has_x = flags.iter().take_while(|a| a.starts_with('-') && *a != "--").any(|a| {
        let name = a.trim_start_matches('-');
        name == "x" || name.starts_with("x=")
    });
    if has_x {
        return (args.to_vec(), TraceFlag::AlreadyThere);
    }
    let chdir = match flags.first().map(|f| f.trim_start_matches('-')) {
        Some("C") if flags.first().is_some_and(|f| f.starts_with('-')) => 2.min(flags.len()),
        Some(f) if f.starts_with("C=") && flags.first().is_some_and(|f| f.starts_with('-')) => 1,
        _ => 0,
    };
    let at = taken + chdir;
    let mut out = args[..at].to_vec();
    out.push("-x".into());
    out.extend_from_slice(&args[at..]);
    (out, TraceFlag::Added { after: args[..at].join(" ") })
}

/// The resolver setting that prints the resolver's decisions (`go package net: …`).
pub const RESOLVER_TRACE_SETTING: &str = "netdns=go+2";

/// GODEBUG with go's resolver trace turned on: `netdns=go+2` appended to the user's
/// settings, or, when they already choose a resolver (`netdns=cgo`), their choice kept
/// with the trace added (`netdns=cgo+2`), so that the rerun resolves as theirs does.
pub fn godebug_with_resolver_trace(existing: Option<&str>) -> String {
    let existing = existing.unwrap_or_default().trim();
    let mut settings: Vec<String> =
        existing.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
    let mut found = false;
    for setting in &mut settings {
        let Some(value) = setting.strip_prefix("netdns=") else { continue };
        found = true;
        let mode = value.split('+').find(|part| *part == "go" || *part == "cgo").unwrap_or("go");
        *setting = format!("netdns={mode}+2");
    }
    if !found {
        settings.push(RESOLVER_TRACE_SETTING.to_string());
    }
    settings.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    fn added(line: &str) -> String {
        add_trace_flag(&words(line)).0.join(" ")
    }

    #[test]
    fn x_goes_right_after_the_subcommand() {
        assert_eq!(added("mod download -json m@v1"), "mod download -x -json m@v1");
        assert_eq!(added("build ./..."), "build -x ./...");
        assert_eq!(added("get example.com/m@latest"), "get -x example.com/m@latest");
        assert_eq!(added("test -run X ."), "test -x -run X .");
        assert_eq!(added("mod tidy"), "mod tidy -x");
        // The program's own -x is not go's.
        assert_eq!(added("run . -x"), "run -x . -x");
    }

    #[test]
    fn x_follows_a_leading_chdir_flag() {
        assert_eq!(added("list -C sub -m all"), "list -C sub -x -m all");
        assert_eq!(added("list --C=sub ."), "list --C=sub -x .");
        assert_eq!(added("mod download -C"), "mod download -C -x");
        let (_, how) = add_trace_flag(&words("build -C sub ."));
        assert_eq!(how, TraceFlag::Added { after: "build -C sub".into() });
    }

    #[test]
    fn commands_that_reject_x_or_have_it_are_left_alone() {
        for line in ["mod verify", "mod why -m m", "version", "work sync", "mod init m", "", "help build", "-C x build"]
        {
            let (args, how) = add_trace_flag(&words(line));
            assert_eq!(args, words(line), "{line}");
            assert!(matches!(how, TraceFlag::NotAccepted { .. }), "{line}: {how:?}");
        }
        for line in ["mod download -x m@v1", "build --x .", "build -x=false ."] {
            assert_eq!(add_trace_flag(&words(line)), (words(line), TraceFlag::AlreadyThere), "{line}");
        }
    }

    #[test]
    fn the_resolver_trace_keeps_the_users_settings() {
        assert_eq!(godebug_with_resolver_trace(None), "netdns=go+2");
        assert_eq!(godebug_with_resolver_trace(Some("")), "netdns=go+2");
        assert_eq!(godebug_with_resolver_trace(Some("http2debug=1")), "http2debug=1,netdns=go+2");
        assert_eq!(godebug_with_resolver_trace(Some("netdns=cgo,x509sha1=1")), "netdns=cgo+2,x509sha1=1");
        assert_eq!(godebug_with_resolver_trace(Some("netdns=1")), "netdns=go+2");
        assert_eq!(godebug_with_resolver_trace(Some("netdns=2+go")), "netdns=go+2");
    }
}
