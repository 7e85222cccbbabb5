//! The terminal everything human-readable goes to (stderr): live progress bars when it is
//! a TTY, plain lines otherwise, colours as `--color` and `NO_COLOR` say. The terminal
//! reporter and the log writer share one console, so that log lines are printed above
//! the bars rather than through them.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use indicatif::{MultiProgress, ProgressDrawTarget};

/// When to colour output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// When stderr is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always, even into a file or a pipe (CI logs that render ANSI).
    Always,
    /// Never.
    Never,
}

/// Whether a command's text on stdout (`diagnose`) is coloured: `auto` colours a terminal
/// when `NO_COLOR` is not set, as for stderr.
pub fn stdout_colored(color: ColorChoice) -> bool {
    match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => console::Term::stdout().is_term() && no_color_unset(),
    }
}

/// Whether `NO_COLOR` leaves colours on (unset or empty).
fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// stderr, with or without live bars.
#[derive(Clone)]
pub struct Console {
    bars: Option<MultiProgress>,
    color: bool,
    out: Arc<Mutex<()>>,
}

impl Console {
    /// The console for this process: live when stderr is a terminal (and `live` allows
    /// it), coloured as `color` says.
    pub fn stderr(color: ColorChoice, live: bool) -> Console {
        let tty = console::Term::stderr().is_term();
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && no_color_unset(),
        };
        console::set_colors_enabled_stderr(color);
        let bars = (tty && live).then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8)));
        Console { bars, color, out: Arc::new(Mutex::new(())) }
    }

    /// A console that draws nothing live and never colours (tests, pipes).
    pub fn plain() -> Console {
        Console { bars: None, color: false, out: Arc::new(Mutex::new(())) }
    }

    /// Whether output is coloured.
    pub fn colored(&self) -> bool {
        self.color
    }

    /// The live bars, when there are any.
    pub fn bars(&self) -> Option<&MultiProgress> {
        self.bars.as_ref()
    }

    /// Prints `text` (one or more lines) above the bars, or plainly.
    pub fn print(&self, text: &str) {
        let text = text.strip_suffix('\n').unwrap_or(text);
        let _guard = self.out.lock().unwrap_or_else(|e| e.into_inner());
        match &self.bars {
            Some(bars) => {
                for line in text.split('\n') {
                    let _ = bars.println(line);
                }
            }
            None => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{text}");
                let _ = err.flush();
            }
        }
    }
}

/// A `tracing` writer printing through the console: each log event is one `print`, its
/// secrets masked as every report masks them.
pub struct LogWriter {
    console: Console,
    buffer: Vec<u8>,
}

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            self.console.print(&crate::redact::text(&String::from_utf8_lossy(&self.buffer)));
            self.buffer.clear();
        }
        Ok(())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Console {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> LogWriter {
        LogWriter { console: self.clone(), buffer: Vec::new() }
    }
}

/// A file of JSON log lines, each masked as reports are (`--log-file`).
pub struct LogFile(Mutex<std::fs::File>);

impl LogFile {
    /// Log lines go to `file`.
    pub fn new(file: std::fs::File) -> LogFile {
        LogFile(Mutex::new(file))
    }
}

/// One log line being written to a [`LogFile`].
pub struct LogFileLine<'a> {
    file: &'a Mutex<std::fs::File>,
    buffer: Vec<u8>,
}

impl std::io::Write for LogFileLine<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let line = crate::redact::text(&String::from_utf8_lossy(&self.buffer));
        self.buffer.clear();
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(line.as_bytes())?;
        file.flush()
    }
}

impl Drop for LogFileLine<'_> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogFile {
    type Writer = LogFileLine<'a>;

    fn make_writer(&'a self) -> LogFileLine<'a> {
        LogFileLine { file: &self.0, buffer: Vec::new() }
    }
}
