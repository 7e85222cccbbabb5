//! The sealed child's log events, carried to its parent: the child runs in namespaces of
//! its own and writes only protocol lines on stdout, so its `tracing` events travel as
//! [`LogLine`]s in that protocol and the parent emits them again, under the parent's
//! subscriber (its filter, its stderr, its `--log-file`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// One event of the child, as it travels.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogLine {
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub level: String,
    /// The module that emitted it.
    pub target: String,
    /// The message.
    pub message: String,
    /// The other fields, formatted.
    pub fields: BTreeMap<String, String>,
}

impl LogLine {
    /// Emits this child event in the parent, tagged with the scenario it belongs to: the
    /// child's target and fields follow its message.
    pub fn emit(&self, scenario: &str) {
        let mut text = format!("{}: {}", self.target, self.message);
        for (k, v) in &self.fields {
            let _ = write!(text, " {k}={v}");
        }
        match self.level.as_str() {
            "ERROR" => tracing::error!(target: "modchaos::sealed", scenario, "{text}"),
            "WARN" => tracing::warn!(target: "modchaos::sealed", scenario, "{text}"),
            "INFO" => tracing::info!(target: "modchaos::sealed", scenario, "{text}"),
            "DEBUG" => tracing::debug!(target: "modchaos::sealed", scenario, "{text}"),
            _ => tracing::trace!(target: "modchaos::sealed", scenario, "{text}"),
        }
    }
}

/// A layer that hands every event to `send` as a [`LogLine`].
pub struct Forward<F> {
    send: F,
}

impl<F: Fn(LogLine) + Send + Sync + 'static> Forward<F> {
    /// A layer sending events through `send`.
    pub fn new(send: F) -> Forward<F> {
        Forward { send }
    }
}

impl<S: Subscriber, F: Fn(LogLine) + Send + Sync + 'static> Layer<S> for Forward<F> {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        (self.send)(LogLine {
            level: event.metadata().level().to_string(),
            target: event.metadata().target().to_string(),
            message: fields.message,
            fields: fields.others,
        });
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    others: BTreeMap<String, String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.others.insert(field.name().to_string(), format!("{value:?}"));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.others.insert(field.name().to_string(), value.to_string());
        }
    }
}

static FILTER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Says which events sealed children should send: `RUST_LOG`-style directives (the
/// parent's own filter). Set once, by the program that installs the subscriber.
pub fn set_child_filter(directives: String) {
    let _ = FILTER.set(directives);
}

/// The directives a sealed child filters its events by: those set with
/// [`set_child_filter`], else modchaos's own events at the most detailed level the
/// parent's subscriber wants now; `None` when it wants nothing.
pub fn child_filter() -> Option<String> {
    let level: Level = tracing::level_filters::LevelFilter::current().into_level()?;
    Some(FILTER.get().cloned().unwrap_or_else(|| format!("modchaos={level}")))
}
