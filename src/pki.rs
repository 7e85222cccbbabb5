//! The certificates of one world, generated per run (never stored): a scenario CA that
//! go trusts through `SSL_CERT_FILE`, an intermediate that signs the hosts' leaves, and
//! the authorities go does not trust — a company's private CA and a corporate
//! TLS-inspecting proxy's CA — that trust scenarios and their recoveries are about.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

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
    /// Signed by the intermediate, but the server does not send the intermediate.
    IncompleteChain,
    /// A self-signed leaf.
    SelfSigned,
}

/// The certificate authorities a scenario can ask go to trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Authority {
    /// The scenario CA, issuer of every valid certificate (trusted by default).
    Scenario,
    /// A company's private CA: issues `untrusted` certificates until go is told to trust it.
    Private,
    /// The CA a TLS-inspecting corporate proxy re-signs with.
    Corporate,
}

impl Authority {
    /// Every authority.
    pub const ALL: [Authority; 3] = [Authority::Scenario, Authority::Private, Authority::Corporate];

    /// The name scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            Authority::Scenario => "scenario",
            Authority::Private => "private",
            Authority::Corporate => "corporate",
        }
    }
}

/// A certificate chain and key ready for rustls.
pub struct ServerCert {
    /// Leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's key.
    pub key: PrivateKeyDer<'static>,
}

/// Why certificates could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot generate certificates: {0}")]
pub struct PkiError(#[from] rcgen::Error);

type Issuer = CertifiedIssuer<'static, KeyPair>;

/// The authorities of one world.
pub struct Pki {
    scenario: Issuer,
    intermediate: Issuer,
    private: Issuer,
    corporate: Issuer,
    now: OffsetDateTime,
}

fn ca_params(name: &str, now: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.distinguished_name.push(DnType::OrganizationName, "modchaos");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = now - Duration::days(365);
    params.not_after = now + Duration::days(365);
    params
}

impl Pki {
    /// Generates fresh authorities (ECDSA P-256: a few milliseconds).
    pub fn generate() -> Result<Pki, PkiError> {
        let now = OffsetDateTime::now_utc();
        let scenario = CertifiedIssuer::self_signed(ca_params("modchaos scenario CA", now), KeyPair::generate()?)?;
        let intermediate =
            CertifiedIssuer::signed_by(ca_params("modchaos intermediate CA", now), KeyPair::generate()?, &scenario)?;
        let private = CertifiedIssuer::self_signed(ca_params("Corp Example private CA", now), KeyPair::generate()?)?;
        let corporate =
            CertifiedIssuer::self_signed(ca_params("Corp Example TLS inspection CA", now), KeyPair::generate()?)?;
        Ok(Pki { scenario, intermediate, private, corporate, now })
    }

    /// PEM of an authority's certificate, for trust bundles.
    pub fn pem(&self, authority: Authority) -> String {
        match authority {
            Authority::Scenario => self.scenario.pem(),
            Authority::Private => self.private.pem(),
            Authority::Corporate => self.corporate.pem(),
        }
    }

    /// A trust bundle (concatenated PEM) of `authorities`.
    pub fn bundle(&self, authorities: &[Authority]) -> String {
        authorities.iter().map(|a| self.pem(*a)).collect()
    }

    /// A certificate for `host` reachable at `ips`, with `fault`.
    pub fn leaf(&self, host: &str, ips: &[IpAddr], fault: CertFault) -> Result<ServerCert, PkiError> {
        self.leaf_from(host, ips, fault, None)
    }

    /// A certificate for `host` issued by the corporate inspection CA, as a TLS-inspecting
    /// proxy forges it on the fly.
    pub fn intercepted(&self, host: &str) -> Result<ServerCert, PkiError> {
        self.leaf_from(host, &[], CertFault::Valid, Some(&self.corporate))
    }

    fn leaf_from(
        &self,
        host: &str,
        ips: &[IpAddr],
        fault: CertFault,
        issuer: Option<&Issuer>,
    ) -> Result<ServerCert, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, host);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        params.not_before = self.now - Duration::days(1);
        params.not_after = self.now + Duration::days(90);
        let names = || -> Result<Vec<SanType>, PkiError> {
            let mut sans = vec![SanType::DnsName(host.try_into()?)];
            sans.extend(ips.iter().map(|ip| SanType::IpAddress(*ip)));
            Ok(sans)
        };
        match fault {
            CertFault::NoSan => {}
            CertFault::WrongHost => {
                params.subject_alt_names = vec![SanType::DnsName(format!("www.{}", other_domain(host)).try_into()?)]
            }
            _ => params.subject_alt_names = names()?,
        }
        match fault {
            CertFault::Expired => {
                params.not_before = self.now - Duration::days(120);
                params.not_after = self.now - Duration::days(1);
            }
            CertFault::NotYetValid => {
                params.not_before = self.now + Duration::days(1);
                params.not_after = self.now + Duration::days(120);
            }
            _ => {}
        }
        let (cert, chain_extra) = match (fault, issuer) {
            (_, Some(issuer)) => (params.signed_by(&key, issuer)?, Vec::new()),
            (CertFault::SelfSigned, None) => (params.self_signed(&key)?, Vec::new()),
            (CertFault::Untrusted, None) => (params.signed_by(&key, &self.private)?, Vec::new()),
            (CertFault::IncompleteChain, None) => (params.signed_by(&key, &self.intermediate)?, Vec::new()),
            (_, None) => (params.signed_by(&key, &self.intermediate)?, vec![self.intermediate.der().clone()]),
        };
        let mut chain = vec![cert.der().clone()];
        chain.extend(chain_extra);
        Ok(ServerCert { chain, key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())) })
    }
}

/// `proxy.corp.example` → `other.example`: a plausible name that is not the host's.
fn other_domain(host: &str) -> String {
    let tld = host.rsplit('.').next().unwrap_or("example");
    format!("other.{tld}")
}

/// A rustls server configuration serving `cert` with HTTP/2 and HTTP/1.1 (ALPN), as
/// go uses HTTP/2 to https proxies.
pub fn server_config(cert: ServerCert) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(cert.chain, cert.key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            CertFault::IncompleteChain,
            CertFault::SelfSigned,
        ] {
            let cert = pki.leaf("proxy.corp.example", &[ip], fault).unwrap();
            let alone = matches!(fault, CertFault::Untrusted | CertFault::IncompleteChain | CertFault::SelfSigned);
            let expected_chain = if alone { 1 } else { 2 };
            assert_eq!(cert.chain.len(), expected_chain, "{fault:?}");
            server_config(cert).unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        }
        assert!(pki.bundle(&[Authority::Scenario, Authority::Private]).matches("BEGIN CERTIFICATE").count() == 2);
    }
}
