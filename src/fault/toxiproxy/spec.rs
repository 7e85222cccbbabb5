//! A scenario's toxics in toxiproxy's terms: the API's attributes in its units, and the
//! reasons a toxic cannot be expressed there (so that the scenario is skipped, never
//! run as something else).
//!
//! Units, from toxiproxy's README and toxic sources: `latency`/`jitter`, `slow_close`'s
//! `delay`, `timeout`'s and `reset_peer`'s `timeout` in milliseconds; `bandwidth`'s
//! `rate` in KB/s of 1000 bytes; `slicer`'s sizes in bytes and its `delay` in
//! microseconds; `limit_data`'s `bytes` in bytes. All are integers: a duration that is
//! not a whole number of the unit cannot be sent.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::client::ApiToxic;
use crate::fault::tcp::{Toxic, ToxicKind};

/// Why a toxic cannot be handed to toxiproxy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Inexpressible {
    /// `nth`/`first` count connections, which toxiproxy does not.
    #[error(
        "toxic #{number} selects connections with `{field}`, and toxiproxy has no per-connection counting (the in-process backend has)"
    )]
    Counting {
        /// The toxic.
        number: usize,
        /// `nth` or `first`.
        field: &'static str,
    },
    /// A duration finer than the attribute's unit.
    #[error("toxic #{number}: {kind} `{attribute}` of {value} is not a whole number of {unit}, toxiproxy's unit")]
    Unit {
        /// The toxic.
        number: usize,
        /// Its type.
        kind: &'static str,
        /// The attribute.
        attribute: &'static str,
        /// The value given.
        value: String,
        /// toxiproxy's unit for it.
        unit: &'static str,
    },
    /// A number beyond toxiproxy's integer attributes.
    #[error("toxic #{number}: {kind} `{attribute}` is too large for toxiproxy")]
    TooLarge {
        /// The toxic.
        number: usize,
        /// Its type.
        kind: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
}

/// Why hosts with these toxics cannot run with the toxiproxy backend, if they cannot: the
/// first toxic toxiproxy cannot express, named with its host.
pub fn unsupported<'a>(hosts: impl IntoIterator<Item = (&'a str, &'a [Toxic])>) -> Option<String> {
    hosts.into_iter().find_map(|(host, toxics)| {
        toxics.iter().find_map(|toxic| check(toxic).err().map(|e| format!("host `{host}`: {e}")))
    })
}

/// Checks that toxiproxy can express `toxic`.
pub fn check(toxic: &Toxic) -> Result<(), Inexpressible> {
    let number = toxic.number;
    if toxic.when.nth.is_some() {
        return Err(Inexpressible::Counting { number, field: "nth" });
    }
    if toxic.when.first.is_some() {
        return Err(Inexpressible::Counting { number, field: "first" });
    }
    attributes(toxic).map(drop)
}

/// The toxic's name on its proxy: unique (the number), and readable in toxiproxy's own
/// listings (`modchaos_2_latency_downstream`).
pub fn name(toxic: &Toxic) -> String {
    format!("modchaos_{}_{}_{}", toxic.number, toxic.kind.name(), toxic.stream.name())
}

/// The probability toxiproxy uses: `toxicity` times `when.probability`. toxiproxy draws
/// it from its own random source, per connection and toxic, so unlike in-process runs
/// the outcome is not fixed by the scenario seed.
pub fn toxicity(toxic: &Toxic) -> f64 {
    toxic.toxicity * toxic.when.probability.unwrap_or(1.0)
}

/// The API's form of a stage toxic (every kind but `down`, which is the proxy's
/// `enabled` flag), acting with `toxicity`.
pub fn api_toxic(toxic: &Toxic, toxicity: f64) -> Result<ApiToxic, Inexpressible> {
    Ok(ApiToxic {
        name: name(toxic),
        kind: toxic.kind.name().to_string(),
        stream: toxic.stream.name().to_string(),
        toxicity,
        attributes: attributes(toxic)?,
    })
}

/// The attributes in toxiproxy's units.
fn attributes(toxic: &Toxic) -> Result<BTreeMap<String, Value>, Inexpressible> {
    let number = toxic.number;
    let kind = toxic.kind.name();
    let ms = |attribute: &'static str, d: Duration| {
        whole(number, kind, attribute, d, Duration::from_millis(1), "milliseconds")
    };
    let us = |attribute: &'static str, d: Duration| {
        whole(number, kind, attribute, d, Duration::from_micros(1), "microseconds")
    };
    let int = |attribute: &'static str, n: u64| {
        i64::try_from(n).map(Value::from).map_err(|_| Inexpressible::TooLarge { number, kind, attribute })
    };
    let pairs: Vec<(&str, Value)> = match &toxic.kind {
        ToxicKind::Latency(t) => vec![("latency", ms("latency", t.latency)?), ("jitter", ms("jitter", t.jitter)?)],
        ToxicKind::Bandwidth(t) => vec![("rate", int("rate", t.rate)?)],
        ToxicKind::SlowClose(t) => vec![("delay", ms("delay", t.delay)?)],
        ToxicKind::Timeout(t) => vec![("timeout", ms("timeout", t.timeout)?)],
        ToxicKind::ResetPeer(t) => vec![("timeout", ms("timeout", t.timeout)?)],
        ToxicKind::Slicer(t) => vec![
            ("average_size", int("average_size", t.average_size as u64)?),
            ("size_variation", int("size_variation", t.size_variation as u64)?),
            ("delay", us("delay", t.delay)?),
        ],
        ToxicKind::LimitData(t) => vec![("bytes", int("bytes", t.bytes)?)],
        ToxicKind::Down => Vec::new(),
    };
    Ok(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// `d` as a whole number of `unit`s.
fn whole(
    number: usize,
    kind: &'static str,
    attribute: &'static str,
    d: Duration,
    unit: Duration,
    unit_name: &'static str,
) -> Result<Value, Inexpressible> {
    if !d.as_nanos().is_multiple_of(unit.as_nanos()) {
        return Err(Inexpressible::Unit {
            number,
            kind,
            attribute,
            value: humantime::format_duration(d).to_string(),
            unit: unit_name,
        });
    }
    i64::try_from(d.as_nanos() / unit.as_nanos()).map(Value::from).map_err(|_| Inexpressible::TooLarge {
        number,
        kind,
        attribute,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fault::FaultWhen;
    use crate::fault::tcp::{Bandwidth, Latency, LimitData, ResetPeer, Slicer, SlowClose, Stream, Timeout};

    fn toxic(kind: ToxicKind) -> Toxic {
        Toxic::new(3, kind)
    }

    fn attrs(kind: ToxicKind) -> Value {
        serde_json::to_value(api_toxic(&toxic(kind), 1.0).unwrap().attributes).unwrap()
    }

    #[test]
    fn every_attribute_is_in_toxiproxys_unit() {
        let ms = Duration::from_millis;
        assert_eq!(
            attrs(ToxicKind::Latency(Latency { latency: ms(300), jitter: ms(20) })),
            json!({"latency": 300, "jitter": 20})
        );
        assert_eq!(attrs(ToxicKind::Bandwidth(Bandwidth { rate: 100 })), json!({"rate": 100}));
        assert_eq!(attrs(ToxicKind::SlowClose(SlowClose { delay: Duration::from_secs(2) })), json!({"delay": 2000}));
        assert_eq!(attrs(ToxicKind::Timeout(Timeout { timeout: ms(1500) })), json!({"timeout": 1500}));
        assert_eq!(attrs(ToxicKind::ResetPeer(ResetPeer { timeout: Duration::ZERO })), json!({"timeout": 0}));
        assert_eq!(
            attrs(ToxicKind::Slicer(Slicer {
                average_size: 512,
                size_variation: 256,
                delay: Duration::from_micros(200)
            })),
            json!({"average_size": 512, "size_variation": 256, "delay": 200})
        );
        assert_eq!(attrs(ToxicKind::LimitData(LimitData { bytes: 30000 })), json!({"bytes": 30000}));
    }

    #[test]
    fn the_api_toxic_has_type_stream_name_and_toxicity() {
        let mut t = toxic(ToxicKind::LimitData(LimitData { bytes: 1 }));
        t.stream = Stream::Upstream;
        t.toxicity = 0.5;
        t.when.probability = Some(0.5);
        let api = api_toxic(&t, toxicity(&t)).unwrap();
        assert_eq!(
            serde_json::to_value(&api).unwrap(),
            json!({"name": "modchaos_3_limit_data_upstream", "type": "limit_data", "stream": "upstream",
                   "toxicity": 0.25, "attributes": {"bytes": 1}})
        );
    }

    #[test]
    fn finer_than_the_unit_is_refused_not_rounded() {
        let t = toxic(ToxicKind::Latency(Latency { latency: Duration::from_micros(1500), jitter: Duration::ZERO }));
        let e = check(&t).unwrap_err();
        assert_eq!(
            e.to_string(),
            "toxic #3: latency `latency` of 1ms 500us is not a whole number of milliseconds, toxiproxy's unit"
        );
        let slicer =
            toxic(ToxicKind::Slicer(Slicer { average_size: 10, size_variation: 0, delay: Duration::from_nanos(1500) }));
        assert!(matches!(check(&slicer), Err(Inexpressible::Unit { unit: "microseconds", .. })));
        let huge = toxic(ToxicKind::LimitData(LimitData { bytes: u64::MAX }));
        assert!(matches!(check(&huge), Err(Inexpressible::TooLarge { attribute: "bytes", .. })));
    }

    #[test]
    fn connection_counting_is_refused() {
        let mut t = toxic(ToxicKind::ResetPeer(ResetPeer { timeout: Duration::ZERO }));
        t.when = FaultWhen { nth: Some(2), ..FaultWhen::default() };
        assert!(check(&t).unwrap_err().to_string().contains("`nth`"));
        t.when = FaultWhen { first: Some(2), ..FaultWhen::default() };
        assert!(check(&t).unwrap_err().to_string().contains("toxiproxy has no per-connection counting"));
        t.when = FaultWhen { after: Some(Duration::from_secs(1)), probability: Some(0.5), ..FaultWhen::default() };
        assert_eq!(check(&t), Ok(()));
    }
}
