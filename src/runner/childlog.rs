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

/// Fields of the harness's own events a child's event keeps as fields of their own in
/// the parent (the request and DNS logs'), so that a JSON log reader finds
/// `status`, `path` and the rest where the parent's own events put them.
const KEPT: [&str; 16] = [
    "seq",
    "phase",
    "host",
    "method",
    "path",
    "status",
    "bytes",
    "ms",
    "faults",
    "note",
    "transport",
    "name",
    "qtype",
    "rcode",
    "answers",
    "step",
];

impl LogLine {
    /// Emits this child event in the parent, tagged with the scenario it belongs to and the
    /// child's module (`source`); the request and DNS logs' fields stay fields, any others
    /// follow as `other`.
    pub fn emit(&self, scenario: &str) {
        let field = |name: &str| self.fields.get(name).map(String::as_str);
        let mut other = String::new();
        for (k, v) in self.fields.iter().filter(|(k, _)| !KEPT.contains(&k.as_str()) && *k != "scenario") {
            let _ = write!(other, "{}{k}={v}", if other.is_empty() { "" } else { " " });
        }
        let other = (!other.is_empty()).then_some(other.as_str());
        macro_rules! at {
            ($level:ident) => {
                tracing::$level!(
                    target: "modchaos::sealed",
                    scenario,
                    source = %self.target,
                    seq = field("seq"),
                    phase = field("phase"),
                    host = field("host"),
                    method = field("method"),
                    path = field("path"),
                    status = field("status"),
                    bytes = field("bytes"),
                    ms = field("ms"),
                    faults = field("faults"),
                    note = field("note"),
                    transport = field("transport"),
                    name = field("name"),
                    qtype = field("qtype"),
                    rcode = field("rcode"),
                    answers = field("answers"),
                    step = field("step"),
                    other,
                    "{}",
                    self.message
                )
            };
        }
        match self.level.as_str() {
            "ERROR" => at!(error),
            "WARN" => at!(warn),
            "INFO" => at!(info),
            "DEBUG" => at!(debug),
            _ => at!(trace),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_childs_request_event_keeps_its_fields_and_says_whose_it_is() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber =
            tracing_subscriber::fmt().json().with_max_level(Level::TRACE).with_writer(move || writer.clone()).finish();
        let line = LogLine {
            level: "DEBUG".into(),
            target: "modchaos::request".into(),
            message: "request".into(),
            fields: [("status", "500"), ("path", "/m/@v/v1.0.0.zip"), ("scenario", "s"), ("odd", "x")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        tracing::subscriber::with_default(subscriber, || line.emit("500 stops a comma list"));
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let event: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        let fields = &event["fields"];
        assert_eq!(fields["message"], "request", "{event}");
        assert_eq!(fields["scenario"], "500 stops a comma list", "{event}");
        assert_eq!(fields["source"], "modchaos::request", "{event}");
        assert_eq!((fields["status"].as_str(), fields["path"].as_str()), (Some("500"), Some("/m/@v/v1.0.0.zip")));
        assert_eq!(fields["other"], "odd=x", "the child's own scenario field is not repeated: {event}");
        assert!(fields.get("host").is_none(), "absent fields stay absent: {event}");
    }
}
