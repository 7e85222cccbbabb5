//! TLS faults: the certificate a host presents, and what is wrong with it
//! ([`CertFault`]). [`certificate`] makes the host's certificate from the world's
//! authorities with the fault applied: another name, no subjectAltName, a validity
//! window that has passed or not begun, a signer go does not trust, a chain without its
//! intermediate.

use std::net::IpAddr;

use rcgen::SanType;
use serde::{Deserialize, Serialize};
use time::Duration;

use crate::pki::{Pki, PkiError, ServerCert, Signer};

/// What is wrong with a host's certificate (nothing, by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertFault {
    /// A valid certificate from the scenario CA, sent with its intermediate.
    #[default]
    Valid,
    /// Issued by the private CA, which go does not trust.
    Untrusted,
    /// Expired yesterday.
    Expired,
    /// Valid only from tomorrow.
    NotYetValid,
    /// Valid for another name (and no IP address).
    WrongHost,
    /// The host name only in the subject CN, no subjectAltName at all.
    NoSan,
    /// subjectAltNames for the host's IP addresses only, no DNS name: a certificate issued
    /// for a server's address (`certificate is not valid for any names, but wanted to
    /// match …`). Sealed worlds only: open mode's go connects to that address.
    IpOnly,
    /// Signed by the intermediate, but the server does not send the intermediate.
    IncompleteChain,
    /// A self-signed leaf.
    SelfSigned,
}

/// The certificate `host` (reachable at `ips`) presents, with `fault`; a `wrong_host`
/// certificate is valid for `names` (a made-up other name when empty).
pub fn certificate(
    pki: &Pki,
    host: &str,
    ips: &[IpAddr],
    fault: CertFault,
    names: &[String],
) -> Result<ServerCert, PkiError> {
    let mut params = pki.leaf_params(host, ips)?;
    let now = pki.now();
    match fault {
        CertFault::NoSan => params.subject_alt_names = Vec::new(),
        CertFault::IpOnly => params.subject_alt_names = ips.iter().map(|ip| SanType::IpAddress(*ip)).collect(),
        CertFault::WrongHost if names.is_empty() => {
            params.subject_alt_names = vec![SanType::DnsName(format!("www.{}", other_domain(host)).try_into()?)]
        }
        CertFault::WrongHost => {
            params.subject_alt_names =
                names.iter().map(|n| Ok(SanType::DnsName(n.clone().try_into()?))).collect::<Result<_, PkiError>>()?
        }
        CertFault::Expired => {
            params.not_before = now - Duration::days(120);
            params.not_after = now - Duration::days(1);
        }
        CertFault::NotYetValid => {
            params.not_before = now + Duration::days(1);
            params.not_after = now + Duration::days(120);
        }
        _ => {}
    }
    let signer = match fault {
        CertFault::SelfSigned => Signer::SelfSigned,
        CertFault::Untrusted => Signer::Private,
        CertFault::IncompleteChain => Signer::Intermediate { send_chain: false },
        _ => Signer::Intermediate { send_chain: true },
    };
    pki.issue(params, signer)
}

/// `proxy.corp.example` → `other.example`: a plausible name that is not the host's.
fn other_domain(host: &str) -> String {
    let tld = host.rsplit('.').next().unwrap_or("example");
    format!("other.{tld}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{Authority, server_config};

    #[test]
    fn every_fault_yields_a_servable_certificate() {
        let pki = Pki::generate().unwrap();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for fault in [
            CertFault::Valid,
            CertFault::Untrusted,
            CertFault::Expired,
            CertFault::NotYetValid,
            CertFault::WrongHost,
            CertFault::NoSan,
            CertFault::IpOnly,
            CertFault::IncompleteChain,
            CertFault::SelfSigned,
        ] {
            let cert = certificate(&pki, "proxy.corp.example", &[ip], fault, &[]).unwrap();
            let alone = matches!(fault, CertFault::Untrusted | CertFault::IncompleteChain | CertFault::SelfSigned);
            let expected_chain = if alone { 1 } else { 2 };
            assert_eq!(cert.chain.len(), expected_chain, "{fault:?}");
            server_config(cert).unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        }
        assert!(pki.bundle(&[Authority::Scenario, Authority::Private]).matches("BEGIN CERTIFICATE").count() == 2);
    }
}
