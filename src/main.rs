//! The `modchaos` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use modchaos::cleanup;
use modchaos::fault::toxiproxy::ToxicBackend;
use modchaos::gobin::GoBinary;
use modchaos::report::{journal::Journal, junit::Junit, terminal::Terminal};
use modchaos::runner::RunOptions;
use modchaos::scenario::{self, LoadContext};
use modchaos::suite::history::FILE_NAME;
use modchaos::suite::{Event, EventSink};
use modchaos::suite::{Parallelism, SuiteOptions, load_all, run_suite, selected};

/// Exit codes, documented in the README.
mod exit {
    /// Every selected scenario passed.
    pub const PASSED: u8 = 0;
    /// At least one scenario failed.
    pub const FAILED: u8 = 1;
    /// Bad input: an invalid scenario file, bad arguments, nothing selected.
    pub const BAD_INPUT: u8 = 2;
    /// The environment cannot run scenarios (no usable go command, the toxiproxy server
    /// given with `--toxics` does not answer, MODCHAOS_TMPDIR or TMPDIR unusable).
    pub const ENVIRONMENT: u8 = 3;
    /// Nothing failed, but some scenarios were skipped.
    pub const SKIPPED: u8 = 4;
    /// Ctrl-C, SIGTERM or SIGHUP ended the run (go processes stopped, sandboxes removed,
    /// reports written with what finished).
    pub const INTERRUPTED: u8 = 130;
    /// SIGHUP ended the run (the terminal closed, an SSH session dropped): handled as
    /// SIGTERM, with the status a shell gives a process the signal ended (128 + 1).
    pub const HANGUP: u8 = 129;
}

/// Exit codes of `modchaos doctor`, documented in the README and its help: like go's own
/// (0 succeeded, 1 failed) so that it can stand in for the go command in a script, with
/// doctor's own failures and the deadline kept apart.
mod doctor_exit {
    /// go succeeded.
    pub const SUCCEEDED: u8 = 0;
    /// go failed: it exited with a non-zero status or was killed by a signal.
    pub const GO_FAILED: u8 = 1;
    /// Bad arguments to doctor (clap's code for usage errors).
    pub const BAD_INPUT: u8 = 2;
    /// The go program could not be started.
    pub const CANNOT_RUN: u8 = 3;
    /// go was still running at the deadline: inspected, then killed (as timeout(1)).
    pub const DEADLINE: u8 = 124;
    /// Ctrl-C or SIGTERM ended the run (go inspected and killed as at the deadline).
    pub const INTERRUPTED: u8 = 130;
}

const DOCTOR_HELP: &str = "\
Runs the go command line in your own environment (your HOME, module cache, GOPROXY, network: \
nothing is sandboxed), with -x added right after the subcommand where go accepts it and \
GODEBUG=netdns=go+2 (your GODEBUG kept; a resolver you chose there is kept), in its own process \
group. go's output is shown as it comes (with --json, go's stdout goes to stderr). At the \
deadline (or on Ctrl-C) the module cache is inspected before go is killed, so a lock go waits \
for names its holder. Then `go version`, `go env -json` and `go env -changed`, the cache and \
go's output are diagnosed. Your module cache is only read, never written. Passwords and tokens \
are shown as xxxxx.

Examples:
  modchaos doctor -- go mod download -json
  modchaos doctor --timeout 30s --json -- go get example.com/m@latest > report.json

Exit codes: 0 go succeeded · 1 go failed (the diagnosis says why; it is printed whether or \
not the cause is recognised) · 2 bad arguments · 3 the go program could not be started · \
124 go was still running at the deadline and was killed · 130 interrupted (Ctrl-C, SIGTERM, SIGHUP)";

const EXIT_CODES: &str = "Exit codes: 0 all passed · 1 a scenario failed · 2 bad input (invalid scenario file, bad arguments, a report file that cannot be written) · 3 no usable go command (or toxiproxy server not answering, or an unusable MODCHAOS_TMPDIR or TMPDIR) · 4 nothing failed but some scenarios were skipped (0 with --skip-ok) · 129 hung up (SIGHUP) · 130 interrupted (Ctrl-C, SIGTERM)";

/// Chaos / fault-injection harness for Go module downloads.
#[derive(Parser)]
#[command(name = "modchaos", version, about, after_help = EXIT_CODES)]
struct Cli {
    /// Also write the harness's log as JSON lines to this file (debug level unless
    /// RUST_LOG says otherwise): world start and stop, every request with the fault that
    /// fired, DNS queries, go commands, recovery steps, cleanup, errors inside fakes.
    #[arg(long, global = true, value_name = "FILE")]
    log_file: Option<PathBuf>,
    /// Colours on the terminal: `auto` (a terminal without NO_COLOR), `always`, `never`.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    color: modchaos::report::console::ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenario files against the real go command and check diagnosis and recovery.
    Run(RunArgs),
    /// Check scenario files without running them.
    Validate {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The go command (for `$GOROOT/` fixture paths); default: $MODCHAOS_GO, then PATH.
        #[arg(long)]
        go: Option<PathBuf>,
    },
    /// Print the go.sum lines of module fixtures (txtar files or directories), as the
    /// harness computes them: what a scenario's go.sum must say to match.
    Fixtures {
        /// Fixture files or directories of them (read one level deep), as a scenario's
        /// `modules:` names them: `'$GOROOT/src/cmd/go/testdata/mod'` (quoted) names the Go
        /// installation's.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The go command (for `$GOROOT/` paths); default: $MODCHAOS_GO, then PATH.
        #[arg(long)]
        go: Option<PathBuf>,
    },
    /// Diagnose a log: go's stderr, `go mod download -json` output, or a whole CI log
    /// (timestamps, colours and other tools' output are fine). Exit status 0 when a
    /// failure was recognised, 1 when not (no failure, or an unknown one), 2 on bad input.
    Diagnose(DiagnoseArgs),
    /// Turn a diagnosed log into a scenario file that reproduces the failure (the hosts
    /// named as in the log, the failing module, the fault, the expected diagnosis and a
    /// recovery). Exit status 0 when a scenario was written, 1 when the log shows no
    /// failure modchaos can reproduce, 2 on bad input.
    Repro {
        /// The log file; `-` or nothing for standard input.
        file: Option<PathBuf>,
        /// Write the scenario here instead of standard output (an existing file only with
        /// --force).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Overwrite the --output file if it exists.
        #[arg(long, requires = "output")]
        force: bool,
    },
    /// Run a go command in your own environment with expert logging, and diagnose it
    /// (live mode: your module cache, your network).
    #[command(after_help = DOCTOR_HELP)]
    Doctor(DoctorArgs),
    /// Start a scenario's world and keep it running, faults live, for your own go command
    /// and project: open mode prints what to export and serves until Ctrl-C; sealed mode
    /// (where hosts have their real names) opens a shell inside the world's namespaces.
    /// A command after `--` runs in the world instead, and `up` exits with its status.
    /// Requests are logged as they come.
    Up(UpArgs),
    /// Print shell completions for bash, zsh, fish, elvish or powershell
    /// (`modchaos completions bash > /etc/bash_completion.d/modchaos`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `modchaos man > /usr/local/share/man/man1/modchaos.1`;
    /// with `--dir DIR`, write it and one page per subcommand (`modchaos-run.1`, …, with
    /// each subcommand's options), which the main page's SEE ALSO names.
    Man {
        /// Write modchaos.1 and every subcommand's page into this directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the JSON Schema of scenario files (or of playbooks, or of a journal line),
    /// for editors and journal consumers.
    Schema {
        /// The playbook schema instead.
        #[arg(long, conflicts_with = "journal")]
        playbook: bool,
        /// The schema of one line of the JSON journal (`run --json`) instead.
        #[arg(long)]
        journal: bool,
    },
    /// Turn JSON journals (`run --json`; several, e.g. the shards of a suite, make one
    /// report) into a self-contained HTML report: a summary table and, per scenario, a
    /// timeline of requests and faults per host against go's commands, the diagnosis with
    /// its evidence, the recovery and the rerun. A last line cut short by a crash is left
    /// out with a warning. Exit status 0 when written, 2 when a journal cannot be read
    /// (the error names its line) or the report cannot be written.
    Report(ReportArgs),
}

#[derive(Args)]
struct ReportArgs {
    /// Journal files (JSON lines, as `run --json` writes them).
    #[arg(required = true)]
    journals: Vec<PathBuf>,
    /// Write the HTML report here.
    #[arg(long, value_name = "OUT", required = true)]
    html: PathBuf,
}

#[derive(Args)]
struct DiagnoseArgs {
    /// The log file; `-` or nothing for standard input.
    file: Option<PathBuf>,
    /// Print the diagnosis as JSON.
    #[arg(long)]
    json: bool,
    /// How go ended, when the log does not say: its exit status (124, 137 and 143 mean it
    /// was killed, as timeout(1) and CI systems report it).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_exit_status)]
    exit_status: Option<i32>,
    /// The configuration go ran with: `KEY=VALUE` lines, `go env` or `go env -json`
    /// output. Its values win over those the log shows.
    #[arg(long, value_name = "FILE")]
    env: Option<PathBuf>,
    /// How long go ran (`90s`, `20m`, `2h`).
    #[arg(long, value_name = "D", value_parser = humantime::parse_duration)]
    duration: Option<std::time::Duration>,
}

#[derive(Args)]
struct UpArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// `open` (this process, 127.0.0.1 ports; prints what to export), `sealed` (a shell
    /// in the world's own namespaces), or `auto`: sealed where the kernel allows it.
    #[arg(long, value_enum, default_value = "auto")]
    network: UpNetwork,
    /// The go command (for `$GOROOT/` fixture paths); default: $MODCHAOS_GO, then PATH.
    #[arg(long)]
    go: Option<PathBuf>,
    /// Extra directory to look for playbooks in.
    #[arg(long)]
    playbooks: Vec<PathBuf>,
    /// A command to run in the world (`-- go mod download -x`) instead of a shell or
    /// serving until Ctrl-C.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Args)]
struct DoctorArgs {
    /// How long go may run before the module cache is inspected and go killed
    /// (`90s`, `5m`, `1h`).
    #[arg(long, default_value = "5m", value_parser = parse_timeout)]
    timeout: std::time::Duration,
    /// Print the report (diagnosis, cache, configuration, all of go's output) as JSON on
    /// stdout; go's own stdout is then shown on stderr.
    #[arg(long)]
    json: bool,
    /// The go command line: the go program (`go`, a path, `go1.22.0`), then its
    /// subcommand and arguments. Put it after `--`.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "GO COMMAND")]
    command: Vec<String>,
}

#[derive(Args)]
struct RunArgs {
    /// Scenario files or directories (searched recursively).
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Run at most N scenarios at once, whatever they need. Default: as many as the CPUs
    /// can serve, longest first, scenarios that mostly wait (hangs, timeouts, slow links)
    /// holding no CPU, up to four per CPU.
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Neither read nor write the durations of earlier runs (kept in
    /// $MODCHAOS_CACHE_DIR, else $XDG_CACHE_HOME/modchaos, else ~/.cache/modchaos), which
    /// order the scenarios longest first and tell which ones mostly wait.
    #[arg(long)]
    no_history: bool,
    /// Only scenarios whose name or file matches this regex.
    #[arg(long)]
    filter: Option<String>,
    /// The go command; repeat it for a version matrix (every scenario runs with each).
    /// Default: $MODCHAOS_GO (one path, or several separated by `:`), then go on PATH.
    #[arg(long)]
    go: Vec<PathBuf>,
    /// Run only this shard of the scenario files: `hash:K/N` (by the hash of each path:
    /// stable when files come and go) or `count:K/N` (every Nth file from the Kth), as
    /// cargo-nextest's --partition. The N shards' reports together are the whole suite.
    #[arg(long, value_parser = parse_partition)]
    partition: Option<modchaos::suite::Partition>,
    /// Keep the sandbox of every scenario that fails (HOME, module cache, work module)
    /// and print where, with a script that sets go's environment to rerun it by hand.
    #[arg(long)]
    keep: bool,
    /// Print the scenario files this run would run (after --partition and --filter), one
    /// per line, and exit without running them.
    #[arg(long)]
    list: bool,
    /// Exit 0 (not 4) when nothing failed but some scenarios were skipped, for runners
    /// known to lack what they need (user namespaces, root). The summary still names
    /// every skipped scenario with its reason.
    #[arg(long)]
    skip_ok: bool,
    /// Write the JSON journal (one line per scenario) to this file; `-` for stdout.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write a JUnit XML report (one test case per scenario) to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write a self-contained HTML report (summary, and per scenario a timeline of
    /// requests and faults against go's commands, diagnosis, recovery) to this file when
    /// the suite ends.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// Extra directory to look for playbooks in.
    #[arg(long)]
    playbooks: Vec<PathBuf>,
    /// More: -v prints every go command as it ends; -vv adds the harness's log (info),
    /// -vvv its debug log (every request and DNS query). RUST_LOG overrides the log level.
    #[arg(long, short, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Less: only failures, invalid files and the summary.
    #[arg(long, short, conflicts_with = "verbose")]
    quiet: bool,
    /// Network mode: `sealed` (own namespaces per scenario, real names and ports, fake
    /// DNS), `open` (127.0.0.1 ports), or `auto`: sealed where the kernel allows it.
    #[arg(long, value_enum, default_value = "auto")]
    network: NetworkChoice,
    /// Where TCP toxics are applied: `in-process` (modchaos's own proxy), or
    /// `toxiproxy=http://HOST:PORT`, a running toxiproxy server on this machine (its
    /// scenarios with toxics run in open mode; those needing sealed mode, or using
    /// `nth`/`first` on a toxic, are skipped).
    #[arg(long, default_value = "in-process", value_parser = parse_toxics)]
    toxics: ToxicBackend,
}

/// `doctor --timeout`: a duration, not zero (go would be killed before it could start,
/// and the verdict would be a hang that never happened).
fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| format!("{e} (write a duration like 90s, 5m, 1h)"))?;
    if duration.is_zero() {
        return Err("a zero timeout kills go before it can start: give go time to run, like 90s or 5m".into());
    }
    Ok(duration)
}

/// `diagnose --exit-status`: a status as a shell or CI system reports it, 0 or more (a
/// signal N shows as 128+N); a negative number is no status any of them prints.
fn parse_exit_status(text: &str) -> Result<i32, String> {
    let code: i32 =
        text.parse().map_err(|_| format!("`{text}` is not a number (give go's exit status, like 1 or 124)"))?;
    if code < 0 {
        return Err(format!(
            "`{code}` is not an exit status: statuses are 0 or more, and a shell reports a process killed by signal N as 128+N (137 for SIGKILL, 143 for SIGTERM)"
        ));
    }
    Ok(code)
}

fn parse_partition(text: &str) -> Result<modchaos::suite::Partition, modchaos::suite::partition::PartitionError> {
    text.parse()
}

fn parse_toxics(text: &str) -> Result<ToxicBackend, modchaos::fault::toxiproxy::BackendSpecError> {
    text.parse()
}

/// `run --network` values (their help speaks of a suite of scenarios).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum NetworkChoice {
    /// Sealed where available, open elsewhere (scenarios needing sealed mode are skipped).
    Auto,
    /// Open mode only (scenarios needing sealed mode are skipped).
    Open,
    /// Sealed mode; fail if the kernel does not allow it.
    Sealed,
}

/// `up --network` values: one scenario's world, so nothing is skipped; a world that
/// cannot be had is an error.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum UpNetwork {
    /// Sealed where the kernel allows it, open elsewhere (a scenario that needs sealed
    /// mode then stops with exit status 3).
    Auto,
    /// Open mode: the hosts listen on 127.0.0.1 ports in this process, and what to export
    /// is printed.
    Open,
    /// Sealed mode: a shell (or the command) inside the world's namespaces; exit status 3
    /// if the kernel does not allow it.
    Sealed,
}

/// Sends each event to every reporter.
struct Fanout(Vec<Box<dyn EventSink>>);

impl EventSink for Fanout {
    fn emit(&self, event: &Event) {
        for sink in &self.0 {
            sink.emit(event);
        }
    }
}

fn main() -> ExitCode {
    // A sealed child or probe does its job and exits here, before any thread starts.
    modchaos::runner::dispatch();
    let cli = Cli::parse();
    let live = matches!(&cli.command, Command::Run(args) if !args.list);
    let console = modchaos::report::console::Console::stderr(cli.color, live);
    // Problems in scenario files (every command that loads one) follow --color too, not
    // miette's own guess.
    let colored = console.colored();
    let _ = miette::set_hook(Box::new(move |_| Box::new(miette::MietteHandlerOpts::new().color(colored).build())));
    let terminal_directives = match &cli.command {
        Command::Run(args) => match args.verbose {
            0 | 1 => "modchaos=warn,warn",
            2 => "modchaos=info,warn",
            _ => "modchaos=debug,warn",
        },
        // Requests and DNS queries as they come are the point of `up`.
        Command::Up(_) => "modchaos=info,modchaos::request=debug,modchaos::dns=debug,warn",
        _ => "modchaos=warn,warn",
    };
    if let Err(e) = init_logging(&console, terminal_directives, cli.log_file.as_deref()) {
        eprintln!(
            "modchaos: --log-file {}: {e}",
            cli.log_file.as_deref().unwrap_or(std::path::Path::new("")).display()
        );
        return ExitCode::from(exit::BAD_INPUT);
    }
    if prints_only(&cli.command) {
        end_quietly_when_stdout_closes();
    }
    let code = match cli.command {
        Command::Run(args) => run(args, console),
        Command::Up(args) => up(args),
        Command::Validate { paths, go } => validate(&paths, go),
        Command::Fixtures { paths, go } => fixtures(&paths, go.as_deref()),
        Command::Diagnose(args) => {
            let colored = modchaos::report::console::stdout_colored(cli.color);
            diagnose(&args, colored)
        }
        Command::Repro { file, output, force } => repro(file.as_deref(), output.as_deref(), force),
        Command::Doctor(args) => doctor(args),
        Command::Report(args) => report(&args),
        Command::Schema { playbook, journal } => {
            let schema = if journal {
                modchaos::report::journal::schema()
            } else if playbook {
                scenario::playbook_schema()
            } else {
                scenario::schema()
            };
            println!("{}", serde_json::to_string_pretty(&schema).expect("schemas serialise"));
            exit::PASSED
        }
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            // Into a buffer first: clap_complete panics when stdout closes early (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "modchaos", &mut script);
            use std::io::Write as _;
            let _ = std::io::stdout().write_all(&script);
            exit::PASSED
        }
        Command::Man { dir } => {
            use clap::CommandFactory as _;
            let written = match &dir {
                Some(dir) => std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(Cli::command(), dir)),
                None => clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()),
            };
            match written {
                Ok(()) => exit::PASSED,
                Err(e) => {
                    let place = dir.map_or_else(|| "standard output".to_string(), |d| d.display().to_string());
                    eprintln!("modchaos: cannot write the manual pages to {place}: {e}");
                    exit::ENVIRONMENT
                }
            }
        }
    };
    ExitCode::from(code)
}

/// `modchaos report`: journals read (every error naming its file and line), the HTML
/// written.
fn report(args: &ReportArgs) -> u8 {
    let mut lines = Vec::new();
    let mut read_already = std::collections::HashSet::new();
    let mut empty = 0;
    for path in &args.journals {
        // The same journal twice would count its scenarios twice.
        if !read_already.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())) {
            eprintln!("modchaos report: {} is given more than once: read once", path.display());
            continue;
        }
        let text = match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(e)) => {
                eprintln!("modchaos report: {}: not UTF-8 text: {e}", path.display());
                return exit::BAD_INPUT;
            }
            Err(e) => {
                eprintln!("modchaos report: {}: {e}", path.display());
                return exit::BAD_INPUT;
            }
        };
        // An empty shard's journal is empty: nothing to add, unless every journal is.
        if text.trim().is_empty() && args.journals.len() > 1 {
            eprintln!("modchaos report: {}: empty (a shard that selected nothing?): no record to add", path.display());
            empty += 1;
            continue;
        }
        match modchaos::report::journal::read_cut(&text) {
            Ok(mut read) => {
                if let Some(line) = read.cut_line {
                    eprintln!(
                        "modchaos report: {}: line {line} is cut short (the run that wrote it was killed mid-line?): left out; the {} complete record(s) before it are in the report",
                        path.display(),
                        read.lines.len()
                    );
                }
                lines.append(&mut read.lines);
            }
            Err(e) => {
                eprintln!("modchaos report: {}: {e}", path.display());
                return exit::BAD_INPUT;
            }
        }
    }
    if lines.is_empty() && empty > 0 {
        eprintln!("modchaos report: every journal given is empty: no record to report");
        return exit::BAD_INPUT;
    }
    let title: Vec<String> = args.journals.iter().map(|p| p.display().to_string()).collect();
    match write_html(&args.html, &lines, &title.join(", ")) {
        Ok(()) => exit::PASSED,
        Err(e) => {
            eprintln!("modchaos report: {e}");
            exit::BAD_INPUT
        }
    }
}

/// Writes the HTML report of `lines` to `path`.
fn write_html(
    path: &std::path::Path,
    lines: &[modchaos::report::journal::JournalLine],
    title: &str,
) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("--html {}: {e}", path.display()))?;
    write_html_to(file, path, lines, title)
}

/// Writes the HTML report of `lines` to `out`, the file `path` already open.
fn write_html_to(
    mut out: impl std::io::Write,
    path: &std::path::Path,
    lines: &[modchaos::report::journal::JournalLine],
    title: &str,
) -> Result<(), String> {
    let page = modchaos::report::html::render(lines, title);
    out.write_all(page.as_bytes()).and_then(|()| out.flush()).map_err(|e| format!("--html {}: {e}", path.display()))
}

fn print_problems(error: &scenario::LoadError) {
    for problem in error.problems() {
        eprintln!("{}", modchaos::redact::text(&format!("{:?}", miette::Report::new(problem))));
    }
}

/// Prints what validation found valid but probably not meant in `scenario`, as warnings.
fn print_warnings(scenario: &scenario::Scenario) {
    for warning in &scenario.warnings {
        let report = miette::Report::new(scenario::diag::Warning(warning.clone()));
        eprintln!("{}", modchaos::redact::text(&format!("{report:?}")));
    }
}

fn fixtures(paths: &[PathBuf], go: Option<&std::path::Path>) -> u8 {
    let mut code = exit::PASSED;
    for path in paths {
        // `$GOROOT/…`, as a scenario's `modules:` writes it (quoted from the shell).
        let path = match path.to_str().and_then(|p| p.strip_prefix("$GOROOT/")) {
            Some(rest) => match GoBinary::find(go).and_then(|go| go.goroot()) {
                Ok(goroot) => goroot.join(rest),
                Err(e) => {
                    eprintln!("modchaos: {}: `$GOROOT/` needs a go to ask for GOROOT: {e}", path.display());
                    code = exit::BAD_INPUT;
                    continue;
                }
            },
            None => path.clone(),
        };
        match modchaos::fixture::ModuleSet::load(std::slice::from_ref(&path)) {
            Ok(loaded) => {
                for m in loaded.set.iter() {
                    print!("{}", modchaos::sumdb::record_text(&m.path, &m.version, &m.sum, m.go_mod_sum.as_deref()));
                }
                for (path, why) in &loaded.skipped {
                    eprintln!("skipped {}: {why}", path.display());
                }
                // A directory of directories (`fixtures/`) holds no fixture itself.
                if loaded.set.iter().next().is_none() {
                    eprintln!(
                        "modchaos: {}: no module fixture in it\n  help: a directory is read one level deep: name the \
                         directory that holds the *.txt fixtures (e.g. fixtures/modules)",
                        path.display()
                    );
                    code = exit::BAD_INPUT;
                }
            }
            Err(e) => {
                eprintln!("modchaos: {e}");
                code = exit::BAD_INPUT;
            }
        }
    }
    code
}

/// Reads a file, or standard input for `None` / `-`; the error names what failed.
fn read_input(file: Option<&std::path::Path>) -> Result<String, String> {
    use std::io::Read as _;
    match file.filter(|f| f.as_os_str() != "-") {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        None => {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes).map_err(|e| format!("standard input: {e}"))?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
    }
}

/// `modchaos diagnose`: `colored` says whether its text (on stdout) is coloured.
fn diagnose(args: &DiagnoseArgs, colored: bool) -> u8 {
    use modchaos::diagnose::Category;
    let text = match read_input(args.file.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("modchaos diagnose: {e}");
            return exit::BAD_INPUT;
        }
    };
    let mut evidence = modchaos::evidence::Evidence::from_log(&text);
    if let Some(path) = &args.env {
        let given = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                eprintln!("modchaos diagnose: --env {}: {e}", path.display());
                return exit::BAD_INPUT;
            }
        };
        let given = modchaos::evidence::log::context(&modchaos::evidence::log::clean(&given));
        if given.env.is_empty() && given.go_env.is_none() {
            eprintln!(
                "modchaos diagnose: --env {}: no KEY=VALUE line, go env or go env -json output in it",
                path.display()
            );
            return exit::BAD_INPUT;
        }
        evidence.given_env(given, &format!("--env {}", path.display()));
    }
    if let Some(code) = args.exit_status {
        evidence.given_exit(modchaos::vocab::Exit::Code { code }, "--exit-status");
    }
    if let Some(duration) = args.duration {
        evidence.given_duration(duration, "--duration");
    }
    let diagnosis = modchaos::diagnose::diagnose(&evidence);
    let recognised = !matches!(diagnosis.category, Category::None | Category::Unknown);
    if args.json {
        println!("{}", modchaos::report::diagnosis::json(&diagnosis, recognised));
    } else {
        print!("{}", modchaos::report::diagnosis::render_colored(&diagnosis, colored));
        for alternative in &diagnosis.alternatives {
            println!(
                "also fits: {} ({} confidence): {}",
                alternative.category,
                alternative.confidence.word(),
                modchaos::redact::text(&alternative.summary)
            );
        }
        if diagnosis.context.is_empty() {
            println!("context used: go's output only (no exit status, configuration or duration given or in the log)");
        } else {
            println!("context used:");
            for line in &diagnosis.context {
                println!("  {}", modchaos::redact::text(line));
            }
        }
    }
    if recognised { exit::PASSED } else { exit::FAILED }
}

fn repro(file: Option<&std::path::Path>, output: Option<&std::path::Path>, force: bool) -> u8 {
    // Checked before the log is read: a scenario written by hand is not lost to a repro.
    if let Some(path) = output
        && !force
        && std::fs::symlink_metadata(path).is_ok()
    {
        eprintln!(
            "modchaos repro: {} exists: not overwritten\n  help: choose another name, or add --force to replace it",
            path.display()
        );
        return exit::BAD_INPUT;
    }
    let text = match read_input(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("modchaos repro: {e}");
            return exit::BAD_INPUT;
        }
    };
    let origin = file
        .filter(|f| f.as_os_str() != "-")
        .map_or("a log read from standard input".to_string(), |f| format!("the log {}", f.display()));
    let repro = match modchaos::repro::repro(&text, &origin) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("modchaos repro: {e}");
            return exit::FAILED;
        }
    };
    match output {
        Some(path) => {
            // create_new: a file that appeared since the check above is not replaced either.
            let written = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .create_new(!force)
                .open(path)
                .and_then(|mut f| std::io::Write::write_all(&mut f, repro.yaml.as_bytes()));
            if let Err(e) = written {
                eprintln!("modchaos repro: {}: {e}", path.display());
                return exit::BAD_INPUT;
            }
            eprintln!(
                "modchaos repro: wrote {} (expects {}); run it with: modchaos run {}",
                path.display(),
                repro.diagnosis.category,
                path.display()
            );
        }
        None => print!("{}", repro.yaml),
    }
    exit::PASSED
}

/// Waits for Ctrl-C, SIGTERM or SIGHUP, and names it: go lives in its own process group,
/// so the terminal's SIGINT reaches only modchaos, which must stop go itself.
async fn stop_on_signals() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hangup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
        let _ = tokio::signal::ctrl_c().await;
        return "SIGINT";
    };
    // SIGHUP: the terminal closed or the SSH session dropped; a run cleans up as for the
    // others, rather than die leaving its sandboxes to a later run's sweep.
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
        _ = hangup.recv() => "SIGHUP",
    }
}

fn doctor(args: DoctorArgs) -> u8 {
    use modchaos::doctor::{DoctorError, DoctorOptions};
    use modchaos::runner::gocmd::{Echo, Exit};
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("modchaos doctor: the current directory: {e}");
            return doctor_exit::CANNOT_RUN;
        }
    };
    let options = DoctorOptions {
        command: args.command,
        timeout: args.timeout,
        cwd,
        stdout_echo: Some(if args.json { Echo::Stderr } else { Echo::Stdout }),
        stderr_echo: Some(Echo::Stderr),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("modchaos doctor: cannot start the async runtime: {e}");
            return doctor_exit::CANNOT_RUN;
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    runtime.spawn(async move {
        stop_on_signals().await;
        let _ = stop_tx.send(true);
    });
    let report = match runtime.block_on(modchaos::doctor::doctor(&options, stop_rx)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("modchaos doctor: {e}");
            return match e {
                DoctorError::Empty => doctor_exit::BAD_INPUT,
                DoctorError::Spawn { .. } => doctor_exit::CANNOT_RUN,
                DoctorError::Interrupted => doctor_exit::INTERRUPTED,
            };
        }
    };
    if args.json {
        println!("{}", modchaos::report::doctor::json(&report));
    } else {
        print!("{}", modchaos::report::doctor::render(&report));
    }
    match report.exit() {
        _ if report.interrupted => doctor_exit::INTERRUPTED,
        Some(Exit::Timeout) => doctor_exit::DEADLINE,
        Some(exit) if exit.success() => doctor_exit::SUCCEEDED,
        _ => doctor_exit::GO_FAILED,
    }
}

fn validate(paths: &[PathBuf], go: Option<PathBuf>) -> u8 {
    let discovery = scenario::discover_each(paths);
    let files = discovery.files.clone();
    for dir in &discovery.empty_dirs {
        print_no_scenarios_under(dir);
    }
    let empty = discovery.empty_dirs.len();
    let unreadable = discovery.unreadable_as_load_errors();
    for (_, e) in &unreadable {
        print_problems(e);
    }
    let ctx = LoadContext::new(GoBinary::find(go.as_deref()).ok());
    let mut bad = unreadable.len();
    for file in &files {
        // A playbook or a shared file named on its own is checked as one (discovery in a
        // directory skips both).
        let checked = match file.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()) {
            Some("playbooks") => scenario::playbook::load(&scenario::playbook::PlaybookSource::File(file.clone()))
                .map(|book| format!("playbook {}", book.raw.name.value))
                .map_err(|problems| scenario::LoadError::Invalid { problems }),
            Some("shared") => scenario::check_shared(file).map(|()| "shared definitions".to_string()),
            _ => scenario::load(file, &ctx).map(|s| {
                print_warnings(&s);
                s.name
            }),
        };
        match checked {
            Ok(what) => println!("ok  {} ({what})", file.display()),
            Err(e) => {
                bad += 1;
                print_problems(&e);
            }
        }
    }
    let total = files.len() + unreadable.len();
    let mut summary = format!("{total} file(s): {} valid, {bad} invalid", total - bad);
    if empty > 0 {
        summary.push_str(&format!(", {empty} director(ies) without scenario files"));
    }
    println!("{summary}");
    if bad > 0 || empty > 0 || total == 0 { exit::BAD_INPUT } else { exit::PASSED }
}

/// Says that `dir` holds no scenario file, and what discovery looks for.
fn print_no_scenarios_under(dir: &std::path::Path) {
    eprintln!(
        "modchaos: no scenario files found under {}\n  help: scenario files end in .yaml or .yml; playbooks/, shared/ and hidden directories are skipped",
        dir.display()
    );
}

fn up(args: UpArgs) -> u8 {
    use modchaos::runner::up::{UpAction, up_open, up_sealed};
    if let Err(code) = usable_temp_dirs() {
        return code;
    }
    let go = GoBinary::find(args.go.as_deref()).ok();
    let mut ctx = LoadContext::new(go);
    ctx.playbook_dirs = args.playbooks.clone();
    let scenario = match scenario::load(&args.scenario, &ctx) {
        Ok(s) => s,
        Err(e) => {
            print_problems(&e);
            return exit::BAD_INPUT;
        }
    };
    print_warnings(&scenario);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("modchaos: cannot start the async runtime: {e}");
            return exit::ENVIRONMENT;
        }
    };
    let helper = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let sealed = match (args.network, &scenario.network) {
        (UpNetwork::Open, _) | (UpNetwork::Auto, scenario::NetworkNeed::Open(_)) => None,
        (_, need) => match modchaos::sealed::probe(&helper) {
            Ok(support) => Some(support),
            Err(why) if args.network == UpNetwork::Sealed || matches!(need, scenario::NetworkNeed::Sealed(_)) => {
                eprintln!("modchaos up: this scenario needs sealed networking, which is unavailable here: {why}");
                return exit::ENVIRONMENT;
            }
            Err(_) => None,
        },
    };
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let status = match sealed {
        Some(support) => {
            let action = match (args.command.is_empty(), interactive) {
                (false, _) => UpAction::Command(args.command.clone()),
                (true, true) => UpAction::Shell,
                (true, false) => {
                    eprintln!(
                        "modchaos up: a sealed world is reached only from inside it: give a command after `--`, or run up from a terminal for a shell (or --network open to export its addresses)"
                    );
                    return exit::BAD_INPUT;
                }
            };
            let filter = std::env::var("RUST_LOG")
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "modchaos=info,modchaos::request=debug,modchaos::dns=debug,warn".into());
            runtime.block_on(up_sealed(&scenario, &support, action, filter))
        }
        None => {
            let action =
                if args.command.is_empty() { UpAction::Serve } else { UpAction::Command(args.command.clone()) };
            runtime.block_on(up_open(&scenario, &ToxicBackend::InProcess, &action))
        }
    };
    match status {
        Ok(code) => u8::try_from(code).unwrap_or(1),
        Err(e) => {
            eprintln!("modchaos up: {e}");
            exit::ENVIRONMENT
        }
    }
}

/// The harness's log: on the terminal at the level `-v`s or RUST_LOG ask for (warnings by
/// default), and as JSON lines in `log_file` (debug by default).
fn init_logging(
    console: &modchaos::report::console::Console,
    terminal_directives: &str,
    log_file: Option<&std::path::Path>,
) -> std::io::Result<()> {
    use tracing_subscriber::layer::{Layer as _, SubscriberExt as _};
    use tracing_subscriber::util::SubscriberInitExt as _;
    let from_env = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty());
    // A RUST_LOG the filter cannot read is said, once, not silently replaced.
    if let Some(directives) = &from_env
        && let Err(e) = tracing_subscriber::EnvFilter::try_new(directives)
    {
        eprintln!("modchaos: RUST_LOG={directives:?} is not a log filter ({e}): warnings only");
    }
    let filter = |default: &str| {
        let directives = from_env.clone().unwrap_or_else(|| default.to_string());
        tracing_subscriber::EnvFilter::try_new(&directives)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"))
    };
    let terminal = tracing_subscriber::fmt::layer()
        .with_writer(console.clone())
        .with_ansi(console.colored())
        .with_target(true)
        .without_time()
        .with_filter(filter(terminal_directives));
    let file = match log_file {
        Some(path) => {
            let file = std::fs::File::create(path)?;
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(modchaos::report::console::LogFile::new(file))
                    .with_current_span(false)
                    .with_filter(filter("modchaos=debug,warn")),
            )
        }
        None => None,
    };
    let _ = tracing_subscriber::registry().with(terminal).with(file).try_init();
    // Sealed children filter their events as finely as the finest reader here.
    let finest = if log_file.is_some() { "modchaos=debug,warn" } else { terminal_directives };
    modchaos::runner::childlog::set_child_filter(from_env.unwrap_or_else(|| finest.to_string()));
    Ok(())
}

fn run(args: RunArgs, console: modchaos::report::console::Console) -> u8 {
    if let Err(code) = usable_temp_dirs() {
        return code;
    }
    let gos = match GoBinary::find_all(&args.go) {
        Ok(gos) => gos,
        Err(e) => {
            eprintln!("modchaos: {e}");
            return exit::ENVIRONMENT;
        }
    };
    for go in &gos {
        if let Err(e) = go.version() {
            eprintln!("modchaos: {e}");
            return exit::ENVIRONMENT;
        }
    }
    let go = gos[0].clone();
    let filter = match args.filter.as_deref().map(regex::Regex::new).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("modchaos: --filter: {e}");
            return exit::BAD_INPUT;
        }
    };
    let discovery = scenario::discover_each(&args.paths);
    // `modchaos run` outside a suite's directory: the default path is missing.
    if let [(path, e)] = discovery.unreadable.as_slice()
        && args.paths == [PathBuf::from("scenarios")]
        && e.kind() == std::io::ErrorKind::NotFound
    {
        eprintln!(
            "modchaos: {}: {e}\n  help: run modchaos in a directory that has a scenarios/ directory, or name scenario files or directories: modchaos run PATH...",
            path.display()
        );
        return exit::BAD_INPUT;
    }
    let files: Vec<PathBuf> = match &args.partition {
        Some(partition) => partition.select(&discovery.files).into_iter().cloned().collect(),
        None => discovery.files.clone(),
    };
    if files.is_empty() {
        for dir in &discovery.empty_dirs {
            print_no_scenarios_under(dir);
        }
    }
    let mut ctx = LoadContext::new(Some(go.clone()));
    ctx.playbook_dirs = args.playbooks.clone();
    let (scenarios, mut invalid) = load_all(&files, &ctx);
    // A path that could not be read is reported as invalid files are (and in JUnit and
    // the journal), without hiding the files the other paths hold.
    invalid.splice(0..0, discovery.unreadable_as_load_errors());
    for (_, e) in &invalid {
        print_problems(e);
    }
    let scenarios: Vec<_> = scenarios.into_iter().filter(|s| selected(s, filter.as_ref())).collect();
    if !args.list {
        scenarios.iter().for_each(print_warnings);
    }
    if args.list {
        for scenario in &scenarios {
            println!("{}", scenario.file.display());
        }
        for (file, _) in &invalid {
            println!("{}", file.display());
        }
        return if invalid.is_empty() { exit::PASSED } else { exit::BAD_INPUT };
    }
    // An empty shard of a partitioned suite is not an error (its siblings hold the rest):
    // it still writes its (empty) reports.
    if scenarios.is_empty() && invalid.is_empty() && args.partition.is_none() {
        eprintln!("modchaos: no scenario selected (files found: {})", files.len());
        return exit::BAD_INPUT;
    }
    if scenarios.iter().any(|s| s.go_user == scenario::GoUser::Unprivileged) {
        for go in &gos {
            if let Err(e) = go.check_usable_by(modchaos::vocab::Account::UNPRIVILEGED) {
                eprintln!("modchaos: {e}");
                return exit::ENVIRONMENT;
            }
        }
    }
    let verbosity = match (args.quiet, args.verbose) {
        (true, _) => modchaos::report::terminal::Verbosity::Quiet,
        (false, 0) => modchaos::report::terminal::Verbosity::Normal,
        (false, _) => modchaos::report::terminal::Verbosity::Verbose,
    };
    let mut sinks: Vec<Box<dyn EventSink>> = vec![Box::new(Terminal::new(console, verbosity))];
    // Every report file opens before any scenario runs, none emptied unless all can be
    // written; the HTML report is written when the suite ends (it needs the whole suite).
    use modchaos::report::outputs::{Output, is_stdout, open_all};
    let requested: Vec<Output> = [
        (args.json.as_ref().filter(|p| !is_stdout(p)), "--json", true),
        (args.junit.as_ref(), "--junit", false),
        (args.html.as_ref(), "--html", false),
    ]
    .into_iter()
    .filter_map(|(path, option, exclusive)| path.map(|p| Output { option, path: p.clone(), exclusive }))
    .collect();
    let opened = match open_all(&requested) {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("modchaos: {e}");
            return exit::BAD_INPUT;
        }
    };
    let file_for = |option: &str| {
        let index = requested.iter().position(|o| o.option == option)?;
        opened.files[index].try_clone().ok().map(std::io::BufWriter::new)
    };
    if let Some(path) = &args.json {
        let out: Box<dyn std::io::Write + Send> = match file_for("--json") {
            Some(file) => Box::new(file),
            None => Box::new(std::io::stdout()),
        };
        sinks.push(Box::new(Journal::new(out, path.display().to_string())));
    }
    if let Some(file) = file_for("--junit") {
        sinks.push(Box::new(Junit::new(Box::new(file))));
    }
    // Written through the file opened above, when the suite ends.
    let html = match (&args.html, file_for("--html")) {
        (Some(path), Some(file)) => {
            let collector = Arc::new(modchaos::report::journal::Collector::default());
            let sink = collector.clone();
            sinks.push(Box::new(move |event: &Event| sink.emit(event)));
            Some((path.clone(), file, collector))
        }
        _ => None,
    };
    // What ran and what was running, for the reports of an interrupted run.
    let tracker = Arc::new(modchaos::suite::events::Tracker::default());
    let tracked = tracker.clone();
    sinks.push(Box::new(move |event: &Event| tracked.emit(event)));
    // Orphans of killed go commands come back to this process (not to PID 1), which reaps
    // them; and what earlier runs that were killed left behind goes now.
    let _ = cleanup::become_subreaper();
    let swept = cleanup::sweep_stale(&[modchaos::fsutil::base_dir(), std::env::temp_dir()]);
    if !swept.is_empty() {
        let names: Vec<String> = swept.iter().map(|p| p.display().to_string()).collect();
        eprintln!("modchaos: removed {} director(ies) left by killed runs: {}", swept.len(), names.join(", "));
    }
    let parallelism = args.jobs.map_or_else(Parallelism::for_this_machine, Parallelism::Fixed);
    let history =
        if args.no_history { None } else { modchaos::suite::history::default_dir().map(|d| d.join(FILE_NAME)) };
    let helper = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let mut runs = Vec::new();
    for go in gos {
        let run = match args.network {
            NetworkChoice::Open => RunOptions::open(go, "--network open was given"),
            NetworkChoice::Sealed => match RunOptions::sealed(go, &helper) {
                Ok(run) => run,
                Err(why) => {
                    eprintln!("modchaos: --network sealed: sealed networking is unavailable here: {why}");
                    return exit::ENVIRONMENT;
                }
            },
            NetworkChoice::Auto => {
                let (run, fallback) = RunOptions::auto(go, &helper);
                if let (Some(why), true) = (fallback, runs.is_empty()) {
                    eprintln!(
                        "modchaos: {why}; scenarios that need it are skipped, the others run in open mode (--network open|sealed forces a mode)"
                    );
                }
                run
            }
        };
        let mut run = run.with_toxics(args.toxics.clone());
        run.keep_sandbox = args.keep;
        runs.push(run);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("modchaos: cannot start the async runtime: {e}");
            return exit::ENVIRONMENT;
        }
    };
    if let ToxicBackend::Toxiproxy(client) = &args.toxics
        && let Err(e) = runtime.block_on(client.version())
    {
        eprintln!("modchaos: --toxics {}: {e}", args.toxics.describe());
        return exit::ENVIRONMENT;
    }
    let options = SuiteOptions { parallelism, history, filter, runs };
    // Ctrl-C or SIGTERM: drop the suite, which kills every go process group and sealed
    // child and removes every sandbox (their guards do), then exit like an interrupted
    // program.
    let fanout = Arc::new(Fanout(sinks));
    let suite = run_suite(scenarios, invalid, &options, fanout.clone());
    let interrupted = stop_on_signals();
    let result = runtime.block_on(async {
        tokio::select! {
            result = suite => Ok(result),
            signal = interrupted => Err(signal),
        }
    });
    // Dropping the runtime stops every run (their guards kill and remove what they
    // started); then no child is left unreaped, whatever PID 1 does.
    drop(runtime);
    cleanup::reap_children(std::time::Duration::from_secs(5));
    // An interrupted run still writes its reports: what finished, and what the signal
    // stopped (JUnit errors, the journal's last line, the HTML report's banner).
    if let Err(signal) = result {
        fanout.emit(&tracker.interrupted(signal));
    }
    let title = args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    let html_failure = html.and_then(|(path, file, collector)| {
        write_html_to(file, &path, &collector.lines(), &format!("modchaos run {title}")).err()
    });
    let output_failures: Vec<String> = fanout.0.iter().filter_map(|sink| sink.failure()).chain(html_failure).collect();
    drop(opened);
    let result = match result {
        Ok(result) => result,
        Err(signal) => {
            eprintln!(
                "modchaos: interrupted by {signal}: go processes stopped, sandboxes removed; the reports hold what finished"
            );
            return if signal == "SIGHUP" { exit::HANGUP } else { exit::INTERRUPTED };
        }
    };
    for failure in &output_failures {
        eprintln!("modchaos: a report was not written whole: {failure}");
    }
    if !output_failures.is_empty() {
        return exit::BAD_INPUT;
    }
    let s = result.summary;
    if s.invalid > 0 {
        exit::BAD_INPUT
    } else if s.failed > 0 {
        exit::FAILED
    } else if s.skipped > 0 && !args.skip_ok {
        exit::SKIPPED
    } else {
        exit::PASSED
    }
}

/// Checks the temporary directories the environment names before anything runs: one
/// that cannot hold sandboxes would fail every scenario as a harness problem, and a
/// missing TMPDIR would be blamed on go. Exit status 3 (the environment) with the fix.
fn usable_temp_dirs() -> Result<(), u8> {
    modchaos::fsutil::check_temp_dirs().map_err(|e| {
        eprintln!("modchaos: {e}\n  help: set {} to a directory this user can write, or unset it", e.var());
        exit::ENVIRONMENT
    })
}

/// Whether `command` only reads its input and prints: no servers, no children, nothing to
/// clean up if it is stopped halfway.
fn prints_only(command: &Command) -> bool {
    matches!(
        command,
        Command::Validate { .. }
            | Command::Fixtures { .. }
            | Command::Diagnose(_)
            | Command::Repro { .. }
            | Command::Schema { .. }
            | Command::Completions { .. }
            | Command::Man { .. }
    )
}

/// `modchaos diagnose big.log | head` ends the way `cat big.log | head` does: the default
/// SIGPIPE action, which Rust's runtime replaces with "ignore" (and then `println!` panics
/// on the broken pipe). Only for commands that [`prints_only`]: the others own servers,
/// go processes and temporary directories that must be cleaned up, so they keep the
/// runtime's choice.
fn end_quietly_when_stdout_closes() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: SIG_DFL installs no handler code, and nothing these commands do relies on
    // SIGPIPE being ignored (they write to no socket or child).
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}
