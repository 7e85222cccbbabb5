//! Reading go's output out of whatever a user pastes: a bare stderr, `go mod download
//! -json` output, or a whole CI log with timestamps, ANSI colours, CRLF line ends,
//! progress-bar carriage returns and other tools' output around it.
//!
//! [`clean`] undoes what the CI system added to every line; [`go_output`] keeps only the
//! lines go itself printed (so that another tool's "connection reset" is never taken for
//! go's), also where another tool embeds them; [`context`] picks up what the log says
//! about the configuration (`go env` output, `GOPROXY=…` lines, `go version`) and how
//! the run ended (a CI system's exit status, cancellation or timeout message).

mod context;
mod golines;

use std::sync::LazyLock;

use regex::Regex;

pub use context::{KILLED_STATUSES, LogContext, context, go_crash};
pub use golines::{
    Glue, broken_go_lines, go_fragments, go_output, last_command_not_go, liberal, only_error_values, shows_go_at_work,
};

/// `text` with ANSI escapes removed, line ends normalised, carriage-return overwrites
/// resolved (the last write wins, as on a terminal) and CI prefixes (timestamps, step
/// names, BuildKit step numbers, GitHub/GitLab/Buildkite markers) stripped.
pub fn clean(text: &str) -> String {
    let text = strip_ansi(text);
    let mut out = String::with_capacity(text.len());
    let rows: Vec<&str> = text
        .split_terminator('\n')
        .map(|raw| {
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            // A bare CR returns to the start of the line: what follows overwrote it.
            raw.rsplit('\r').find(|segment| !segment.is_empty()).unwrap_or("")
        })
        .collect();
    let rows = undouble(rows);
    let mut lines: Vec<&str> = Vec::with_capacity(rows.len());
    let rejoined = rejoin_prefixed_rows(&rows);
    for line in &rejoined {
        let line = line.as_ref();
        if !is_ci_marker(line) {
            lines.push(strip_prefixes(line));
        }
    }
    strip_shared_prefixes(&mut lines);
    for line in lines {
        let line = without_git_remote_tag(line);
        match powershell_record(line) {
            Some(PowerShellRecord::Drop) => continue,
            Some(PowerShellRecord::Keep(kept)) => out.push_str(kept),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    dedent(&out)
}

/// A paste double-spaced on its way (a web form, a mail client, CRLF read twice): a blank
/// row after every line, and never two lines together. The blank rows are the paste's, and
/// they would cut go's continuation lines off the line they continue.
fn undouble(rows: Vec<&str>) -> Vec<&str> {
    let blank = |row: &&str| row.trim().is_empty();
    let lines = rows.iter().filter(|r| !blank(r)).count();
    let together = rows.windows(2).any(|pair| !blank(&pair[0]) && !blank(&pair[1]));
    if lines >= 3 && !together { rows.into_iter().filter(|r| !blank(r)).collect() } else { rows }
}

/// A prefix most lines of the paste share is the tool's that showed them, not go's (a
/// build system's step, task or container name before every line: Tekton's `[build :
/// step] `, Earthly's `  +deps | `, bitbake's `| `), wherever no rule of
/// [`strip_prefixes`] knows the tool. A candidate ends at a separator go's lines do not
/// start with (`| `, `] `) within the line's first 60 characters, and its digits count as
/// one (line numbers, times); it is stripped where at least two lines and a fifth of the
/// non-empty ones carry it. Never on a line that starts like go's or is indented by a tab
/// (go's continuation lines), and never when the prefix holds go's words (`go: `, a module
/// version, a URL, a file position) or is BuildKit's step header (`#9 [builder 4/7] `).
fn strip_shared_prefixes(lines: &mut [&str]) {
    use std::collections::HashMap;
    static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\| |\] ").expect("separator pattern compiles"));
    static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+").expect("digits pattern compiles"));
    static FILE_POSITION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\.go:\d+").expect("file position pattern compiles"));
    let go_words = |prefix: &str| {
        prefix.contains("go: ")
            || prefix.contains('@')
            || prefix.contains("://")
            || prefix.trim_start().starts_with("go ")
            || FILE_POSITION.is_match(prefix)
    };
    let step_header =
        |prefix: &str| prefix.strip_prefix('#').is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    let candidates = |line: &str| -> Vec<usize> {
        if line.starts_with('\t') || golines::starts_like_go(line) {
            return Vec::new();
        }
        let head = line.char_indices().nth(60).map_or(line, |(i, _)| &line[..i]);
        SEPARATOR
            .find_iter(head)
            .map(|m| m.end())
            .filter(|&end| !go_words(&line[..end]) && !step_header(&line[..end]))
            .collect()
    };
    let key = |prefix: &str| DIGITS.replace_all(prefix, "0").into_owned();
    // Each line's candidates, with their keys, found once.
    let keyed: Vec<Vec<(usize, String)>> =
        lines.iter().map(|line| candidates(line).into_iter().map(|end| (end, key(&line[..end]))).collect()).collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for candidates in &keyed {
        let mut seen: Vec<&str> = Vec::new();
        for (_, k) in candidates {
            if !seen.contains(&k.as_str()) {
                *counts.entry(k).or_default() += 1;
                seen.push(k);
            }
        }
    }
    let non_empty = lines.iter().filter(|l| !l.trim().is_empty()).count();
    let shared = |k: &str| counts.get(k).is_some_and(|&n| n >= 2 && n * 5 >= non_empty);
    for (line, candidates) in lines.iter_mut().zip(&keyed) {
        // The longest shared prefix the line carries (`+deps *failed* | ` over `| `).
        if let Some((end, _)) = candidates.iter().rev().find(|(_, k)| shared(k)) {
            *line = &line[*end..];
        } else if !line.is_empty() && shared(&key(&format!("{} ", line.trim_end()))) {
            // An empty line behind the prefix, its trailing space trimmed (bitbake's `|`).
            *line = "";
        }
    }
}

/// The lines of a prefixed log (every line timestamped, `[STG/0] ERR `…) copied from a
/// terminal that broke the longest ones: a row as wide as the widest, with a prefix, and
/// the row after it without one (and not indented) are one line. Measured before the
/// prefixes go, as the terminal counted them; once they are gone the rows no longer
/// look full.
fn rejoin_prefixed_rows<'a>(rows: &[&'a str]) -> Vec<std::borrow::Cow<'a, str>> {
    use std::borrow::Cow;
    let lengths: Vec<usize> = rows.iter().map(|r| r.chars().count()).collect();
    let width = lengths.iter().copied().max().unwrap_or(0);
    let prefixed = |row: &str| strip_prefixes(row).len() < row.len();
    let rest = |row: &str| !row.is_empty() && !row.starts_with("  ") && !row.starts_with('\t') && !prefixed(row);
    // Which rows continue the one above: under a full prefixed row, or under a full row
    // that itself continued one (a line broken twice).
    let mut continues = vec![false; rows.len()];
    if width >= golines::TERMINAL_WIDTH {
        for i in 1..rows.len() {
            continues[i] = lengths[i - 1] + 1 >= width && (continues[i - 1] || prefixed(rows[i - 1])) && rest(rows[i]);
        }
    }
    // One full row over an unprefixed one is as likely the longest line and another
    // tool's (BuildKit's `#9 ERROR:`): a terminal breaks every long line, so join only
    // where it broke at least two.
    if continues.iter().filter(|&&c| c).count() < 2 {
        return rows.iter().map(|&r| Cow::Borrowed(r)).collect();
    }
    let mut out: Vec<Cow<'a, str>> = Vec::with_capacity(rows.len());
    for (i, &row) in rows.iter().enumerate() {
        match out.last_mut() {
            Some(last) if continues[i] => {
                // One short of the width: the break fell on a space, which the paste trimmed.
                if lengths[i - 1] < width {
                    last.to_mut().push(' ');
                }
                last.to_mut().push_str(row);
            }
            _ => out.push(Cow::Borrowed(row)),
        }
    }
    out
}

/// A log pasted with every line indented alike (a quote in an issue, a list item) loses
/// that indentation, so that go's lines start where go started them.
fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    if indent < 2 {
        return text.to_string();
    }
    let mut out: String =
        text.lines().map(|l| l.get(indent..).unwrap_or(l.trim_start())).collect::<Vec<_>>().join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Removes CSI (`ESC [ … letter`), OSC (`ESC ] … BEL/ST`) and two-byte escapes, and
/// Buildkite's `_bk;t=…` timestamps.
fn strip_ansi(text: &str) -> String {
    static ESCAPES: LazyLock<Regex> = LazyLock::new(|| {
        // (Buildkite's `ESC _bk;t=…BEL` first: the two-byte form would take its `ESC _` alone.)
        Regex::new(r"\x1b?_bk;t=\d+\x07|\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
            .expect("escape pattern compiles")
    });
    ESCAPES.replace_all(text, "").into_owned()
}

/// Lines that only structure a CI log (GitLab sections, GitHub groups) and say nothing.
fn is_ci_marker(line: &str) -> bool {
    static MARKER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:section_(?:start|end):\d+:\S*|##\[(?:group|endgroup)\].*|::(?:group|endgroup)::.*)$")
            .expect("marker pattern compiles")
    });
    MARKER.is_match(line.trim_end())
}

/// What becomes of a line of the error record Windows PowerShell (5.1) wraps every line a
/// native command writes to stderr in, progress included (`go : go: downloading …`, `At
/// line:1 char:1`, `+ ~~~~`, `+ CategoryInfo : NotSpecified: (go: downloading...:String)`,
/// `+ FullyQualifiedErrorId : NativeCommandError`).
enum PowerShellRecord<'a> {
    /// A line of the record only: its position, underline and the category that repeats
    /// go's line cut short.
    Drop,
    /// What the line says, without the record around it: go's own line, or the record's
    /// id (unindented, no line of go's).
    Keep(&'a str),
}

/// The part of PowerShell's error record `line` is, if any ([`PowerShellRecord`]).
fn powershell_record(line: &str) -> Option<PowerShellRecord<'_>> {
    static RECORD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*(?:At (?:line:\d+|\S.*:\d+) char:\d+|\+ ~+|\+ CategoryInfo\s+: .*)\s*$").expect("compiles")
    });
    static ID: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*\+ (FullyQualifiedErrorId\s*: \S+)\s*$").expect("compiles"));
    // PowerShell names the command before the line it wrote (`go : `, `go.exe : `).
    static NATIVE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^go(?:\.exe)? : (.+)$").expect("compiles"));
    if RECORD.is_match(line) {
        return Some(PowerShellRecord::Drop);
    }
    let kept = ID.captures(line).or_else(|| NATIVE.captures(line))?.get(1)?;
    Some(PowerShellRecord::Keep(&line[kept.start()..kept.end()]))
}

/// Strips the prefixes CI systems put before each line, repeatedly (a BuildKit step
/// inside a timestamped GitHub log has both).
fn strip_prefixes(mut line: &str) -> &str {
    static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?:",
            // ISO timestamps (GitHub Actions, GitLab, most log shippers), after the job and
            // step names that `gh run view --log` puts first, tab-separated.
            r"(?:[^\t\n]+\t[^\t\n]+\t)?[ \t]*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\s",
            // Bracketed timestamps (Jenkins timestamper and friends).
            r"|\[\d{4}-\d{2}-\d{2}[T ][^\]\n]{0,40}\]\s?",
            r"|\[\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\]\s?",
            // A bare time of day, with or without a colon after it (`09:07:15: `).
            r"|\d{2}:\d{2}:\d{2}(?:[.,]\d+)?:?\s",
            // The journal's and syslog's date, host and process (`journalctl -u build`:
            // `May 01 10:00:01 build-01 build.sh[2345]: `).
            r"|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \S+ [^\s:]+\[\d+\]: ",
            // Go's own log package, in a tool that wraps go (vndr, dep): `2022/12/22 00:01:12 `.
            r"|\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? ",
            // BuildKit: step number and seconds (`#12 3.456 `), or the seconds alone, as a
            // step's lines are often pasted without their number: always five characters
            // (`1.425`, `12.34`, `119.0`).
            r"|#\d+ \d+\.\d+ |(?:\d\.\d{3}|\d{2}\.\d{2}|\d{3}\.\d) ",
            // A web UI's line numbers, copied with the lines (`3461 | `).
            r"|\d{1,6} \| ",
            // Open Build Service (rpmbuild, openSUSE): seconds since the build began (`[   47s] `).
            r"|\[\s*\d+s\] ?",
            // Cloud Foundry's `cf logs`: the source and instance, then the stream
            // (`[STG/0] ERR `, `[APP/PROC/WEB/0] OUT `).
            r"|\[[A-Z]+(?:/[A-Za-z0-9_-]+)*/\d+\] (?:OUT|ERR) ",
            // Dependabot's updater: `updater | 2024/05/01 10:00:03 ERROR <job_123> `.
            r"|updater \| (?:\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} )?(?:[A-Z]+ )?(?:<job_\d+> )?",
            // A quote or a tool's marker before a pasted line (`> `, `>> `, nix's indented
            // `       > ` before a builder's last log lines), or a build phase's tag (Cloud
            // Native Buildpacks' `[builder] `): go prints neither.
            r"|[ \t]*>{1,2} |\[[a-z][a-z0-9_.-]{0,30}\] ",
            // A log level in brackets (Maven's and Gradle's `[ERROR] `, `[INFO] `), or
            // Python logging's default `LEVEL:logger:` (an OBS service, a script running go).
            r"|\[(?:ERROR|WARNING|WARN|INFO|DEBUG)\] |(?:ERROR|WARNING|INFO|DEBUG|CRITICAL):[A-Za-z0-9_.-]+:",
            // GitHub annotations.
            r"|##\[(?:error|warning|debug|notice|command)\]",
            r"|::(?:error|warning|notice|debug)(?: [^:]*)?::",
            r")"
        ))
        .expect("prefix pattern compiles")
    });
    while let Some(m) = PREFIX.find(line) {
        if m.end() == 0 {
            break;
        }
        // A GitHub warning annotation stays on a line that is not go's: what it says
        // (`##[warning]Cache save failed with exit code 2`) is a warning, no exit status
        // of the step.
        let annotation = m.as_str();
        if (annotation.starts_with("##[warning]") || annotation.starts_with("::warning"))
            && !golines::starts_like_go(&line[m.end()..])
        {
            break;
        }
        line = &line[m.end()..];
    }
    line
}

/// A build a `git push` ran on the server (Heroku, Dokku), echoed by git with its
/// `remote: ` tag: go's lines under it are go's. git's own `remote: ` messages (a
/// repository not found, access denied) keep the tag the git rules read. Taken off after
/// the CI's prefixes, which come first on the line.
fn without_git_remote_tag(line: &str) -> &str {
    match line.strip_prefix("remote: ") {
        Some(rest) if golines::starts_like_go(rest) => rest,
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildkites_timestamp_escape_goes_whole() {
        let log = "\x1b_bk;t=1714557600137\x07go: m.io/a@v1.0.0: reading https://p/m.io/a/@v/v1.0.0.zip: 500\n";
        assert_eq!(clean(log), "go: m.io/a@v1.0.0: reading https://p/m.io/a/@v/v1.0.0.zip: 500\n");
    }

    #[test]
    fn a_double_spaced_paste_is_read_as_single_spaced() {
        let log = "go: a.b/c@v1.0.0: reading https://p/a.b/c/@v/v1.0.0.info: 404 Not Found\n\n\tserver response: gone\n\n\ngo: done\n";
        assert_eq!(
            clean(log),
            "go: a.b/c@v1.0.0: reading https://p/a.b/c/@v/v1.0.0.info: 404 Not Found\n\tserver response: gone\ngo: done\n"
        );
        // Blank lines between paragraphs of an ordinary log stay.
        let log = "go: downloading a.b/c v1.0.0\ngo: downloading a.b/d v1.0.0\n\nok\n";
        assert_eq!(clean(log), log);
    }

    #[test]
    fn a_prefix_most_lines_share_is_the_tools() {
        let log = "task build has failed: \"step-go\" exited with code 1: Error\n\
                   [build : go] + go mod download\n\
                   [build : go] go: downloading corp.example/lib v1.0.0\n\
                   [build : go] go: corp.example/lib@v1.0.0: reading https://p/corp.example/lib/@v/v1.0.0.zip: 500\n";
        let cleaned = clean(log);
        assert!(cleaned.contains("\ngo: corp.example/lib@v1.0.0: reading"), "{cleaned}");
        // Numbered (`[build:3] `) and padded (`  +deps | `) prefixes, and bitbake's bare `|`.
        let cleaned =
            clean("[build:1] + go build\n[build:2] go: downloading a.b/c v1.0.0\n[build:3] go: a.b/c@v1.0.0: boom\n");
        assert!(cleaned.lines().all(|l| !l.starts_with("[build")), "{cleaned}");
        let cleaned = clean("| go: downloading a.b/c v1.0.0\n|\n| go: a.b/c@v1.0.0: boom\n");
        assert_eq!(cleaned, "go: downloading a.b/c v1.0.0\n\ngo: a.b/c@v1.0.0: boom\n");
        // go's own words are never a prefix: its quoted paths, -json's keys, file positions.
        for log in [
            "a.go:1:2: unrecognized import path \"x.org/a1\": reading https://x.org/a1?go-get=1: 436\n\
             a.go:2:2: unrecognized import path \"x.org/a2\": reading https://x.org/a2?go-get=1: 436\n",
            "{\n\t\"Error\": \"a.b/c@v1.0.0: boom\"\n}\n{\n\t\"Error\": \"a.b/d@v1.0.0: boom\"\n}\n",
        ] {
            assert_eq!(clean(log), log);
        }
        // A test's own lines (file positions) and go's tab-indented continuations stay.
        let log = "    x_test.go:15: got [1 2] want [3]\n    x_test.go:16: got [1 2] want [4]\n";
        assert_eq!(clean(log), "x_test.go:15: got [1 2] want [3]\nx_test.go:16: got [1 2] want [4]\n");
        let log = "go: a imports\n\tfoo | bar: x\ngo: b imports\n\tfoo | bar: y\n";
        assert_eq!(clean(log), log);
        // The journal's date, host and process.
        let cleaned = clean("May 01 10:00:01 ci-1 build.sh[2345]: go: a.b/c@v1.0.0: boom\n");
        assert_eq!(cleaned, "go: a.b/c@v1.0.0: boom\n");
    }

    #[test]
    fn ansi_timestamps_and_line_ends_are_undone() {
        let log = "2024-05-01T10:00:00.1234567Z \x1b[36;1mgo mod download\x1b[0m\r\n\
                   2024-05-01T10:00:01.0000000Z go: corp.example/lib@v1.0.0: reading x: 500\r\n\
                   [2024-05-01T10:00:02.000Z] \tserver response: boom\r\n\
                   10:00:03 go: done\n\
                   #12 3.456 go: downloading a v1\n\
                   [   47s] \tk8s.io/client-go@v0.26.2: is explicitly required in go.mod\n\
                   ##[error]Process completed with exit code 1.\n\
                   downloading 10%\r downloading 50%\rdownloaded\n";
        assert_eq!(
            clean(log),
            "go mod download\ngo: corp.example/lib@v1.0.0: reading x: 500\n\tserver response: boom\ngo: done\n\
             go: downloading a v1\n\tk8s.io/client-go@v0.26.2: is explicitly required in go.mod\nProcess completed with exit code 1.\ndownloaded\n"
        );
    }

    #[test]
    fn tools_and_buildkit_time_prefixes_go() {
        // Each from a public report: a CI's `HH:MM:SS: `, a tool logging with Go's log
        // package, BuildKit's seconds pasted without the step number.
        let log = "09:07:15: \tgoogle.golang.org/api@v0.78.0 requires\n\
                   2022/12/22 00:01:12 unrecognized import path \"code.cloudfoundry.org/clock\"\n\
                   1.425 verifying m@v1.45.5: checksum mismatch\n\
                   119.0 internal/fn.go:13:2: unrecognized import path \"x\"\n\
                   0.071s # cd /tmp; git ls-remote -q origin\n";
        assert_eq!(
            clean(log),
            "\tgoogle.golang.org/api@v0.78.0 requires\nunrecognized import path \"code.cloudfoundry.org/clock\"\n\
             verifying m@v1.45.5: checksum mismatch\ninternal/fn.go:13:2: unrecognized import path \"x\"\n\
             0.071s # cd /tmp; git ls-remote -q origin\n"
        );
    }

    #[test]
    fn a_pushed_builds_go_lines_lose_gits_remote_tag() {
        // `git push heroku`: the server's build, echoed by git. Its own messages keep the tag.
        let log = "remote: -----> Running: go install -mod=vendor example.com/app\n\
                   remote: build example.com/app: cannot load example.com/dep: open /tmp/b/vendor/example.com/dep: no \
                   such file or directory\n\
                   remote: go: downloading example.com/dep v1.0.0\n\
                   remote: Repository not found.\n";
        assert_eq!(
            clean(log),
            "remote: -----> Running: go install -mod=vendor example.com/app\nbuild example.com/app: cannot load \
             example.com/dep: open /tmp/b/vendor/example.com/dep: no such file or directory\ngo: downloading \
             example.com/dep v1.0.0\nremote: Repository not found.\n"
        );
    }

    #[test]
    fn cloud_foundry_staging_lines_lose_their_prefix() {
        // `cf logs` (as a buildpack's staging shows it): indented timestamp, source and
        // instance, stream.
        let log = "   2025-08-18T17:48:55.77+0200 [STG/0] OUT -----> Running go build supply\n\
                   \x20  2025-08-18T17:48:55.77+0200 [STG/0] ERR go: go.mod requires go >= 1.23.0\n\
                   \x20  2025-08-18T17:49:01.02+0200 [APP/PROC/WEB/0] OUT started\n";
        assert_eq!(clean(log), "-----> Running go build supply\ngo: go.mod requires go >= 1.23.0\nstarted\n");
    }

    #[test]
    fn prefixed_rows_a_terminal_broke_are_one_line_again() {
        // Every line of the log has a prefix; the rows a narrow terminal broke off the
        // widest lines have none.
        let log = "2025-08-18T17:48:52.53+0200 [STG/0] OUT -----> Download go 1.22.5\n\
                   2025-08-18T17:48:55.77+0200 [STG/0] ERR go: go.mod requires go >= 1.23.0 (runnin\n\
                   g go 1.22.5; GOTOOLCHAIN=local)\n\
                   2025-08-18T17:48:55.77+0200 [STG/0] ERR Failed to compile droplet: Failed to run\n\
                   \x20all supply scripts: exit status 1\n";
        assert_eq!(
            clean(log),
            "-----> Download go 1.22.5\ngo: go.mod requires go >= 1.23.0 (running go 1.22.5; GOTOOLCHAIN=local)\n\
             Failed to compile droplet: Failed to run all supply scripts: exit status 1\n"
        );
        // A row without a prefix under a short prefixed line is a line of its own.
        assert_eq!(clean("2025-08-18T17:48:52Z short\nplain line\n"), "short\nplain line\n");
    }

    #[test]
    fn uniformly_indented_logs_are_dedented() {
        let log = "    go: m@v1: boom\n    \tserver response: x\n\n      # get https://p\n";
        assert_eq!(clean(log), "go: m@v1: boom\n\tserver response: x\n\n  # get https://p\n");
        assert_eq!(clean("go: a\n  b\n"), "go: a\n  b\n");
    }

    #[test]
    fn gitlab_sections_and_gh_step_prefixes_go() {
        let log = "section_start:1700000000:step_script\r\x1b[0KExecuting \"step_script\"\n\
                   build\tRun go mod download\t2024-05-01T10:00:00.0000000Z go: m@v1: boom\n\
                   section_end:1700000001:step_script\r\x1b[0K\n";
        assert_eq!(clean(log), "Executing \"step_script\"\ngo: m@v1: boom\n");
    }
}
