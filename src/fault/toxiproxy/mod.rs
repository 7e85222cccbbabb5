//! The toxiproxy backend, for teams that already run Shopify's toxiproxy: the same TCP
//! toxic declarations as the in-process proxy ([`crate::fault::tcp`]), applied through
//! toxiproxy's HTTP API instead.
//!
//! Per host with toxics, the world creates a toxiproxy proxy listening on the host's
//! public 127.0.0.1 port; its upstream is a zero-toxic in-process relay (which records
//! each connection in the request log, as every fake does, with the toxiproxy toxics
//! acting when it began) in front of the host's real server. Toxics toxiproxy cannot
//! express make the scenario skip with the reason ([`spec::unsupported`]): `nth` and
//! `first` (toxiproxy does not count connections) and durations finer than its units.
//! Time windows are emulated by changing the proxy when they open and heal; the
//! probability becomes toxiproxy's toxicity (drawn by toxiproxy, so not fixed by the
//! scenario seed). toxiproxy's server lives outside modchaos's sealed namespaces, so
//! the backend works in open mode only.

mod blocking;
pub mod client;
pub mod hosts;
pub mod spec;

use std::str::FromStr;

pub use client::{ApiToxic, Client, DEFAULT_URL, NewProxy, ProxyInfo, ToxiproxyError};
pub use hosts::{ActiveLabels, HostError, ToxiproxyHosts};
pub use spec::unsupported;

/// Where a world's TCP toxics are applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ToxicBackend {
    /// modchaos's own proxy, in process (the default; sealed and open modes).
    #[default]
    InProcess,
    /// A toxiproxy server's API (open mode only).
    Toxiproxy(Client),
}

impl ToxicBackend {
    /// The command-line form (`in-process`, `toxiproxy=http://127.0.0.1:8474`).
    pub fn describe(&self) -> String {
        match self {
            ToxicBackend::InProcess => "in-process".into(),
            ToxicBackend::Toxiproxy(client) => format!("toxiproxy={}", client.url()),
        }
    }
}

/// Why a `--toxics` value names no backend.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BackendSpecError {
    /// Neither `in-process` nor `toxiproxy[=URL]`.
    #[error("`{0}`: expected `in-process` or `toxiproxy=http://HOST:PORT`")]
    Unknown(String),
    /// The toxiproxy URL is unusable.
    #[error("{0}")]
    Url(String),
}

impl FromStr for ToxicBackend {
    type Err = BackendSpecError;

    /// `in-process`, `toxiproxy` (at [`DEFAULT_URL`]) or `toxiproxy=URL`.
    fn from_str(text: &str) -> Result<ToxicBackend, BackendSpecError> {
        let client =
            |url: &str| Client::new(url).map(ToxicBackend::Toxiproxy).map_err(|e| BackendSpecError::Url(e.to_string()));
        match text.split_once('=') {
            None if text == "in-process" => Ok(ToxicBackend::InProcess),
            None if text == "toxiproxy" => client(DEFAULT_URL),
            Some(("toxiproxy", url)) => client(url),
            _ => Err(BackendSpecError::Unknown(text.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_parse_from_the_command_line_form() {
        assert_eq!("in-process".parse::<ToxicBackend>(), Ok(ToxicBackend::InProcess));
        let tp: ToxicBackend = "toxiproxy=http://127.0.0.1:9000".parse().unwrap();
        assert_eq!(tp.describe(), "toxiproxy=http://127.0.0.1:9000");
        assert_eq!("toxiproxy".parse::<ToxicBackend>().unwrap().describe(), "toxiproxy=http://127.0.0.1:8474");
        assert!(
            "toxiproxy=127.0.0.1:8474"
                .parse::<ToxicBackend>()
                .unwrap_err()
                .to_string()
                .contains("expected http://host:port")
        );
        assert!("docker".parse::<ToxicBackend>().unwrap_err().to_string().contains("expected `in-process`"));
    }
}
