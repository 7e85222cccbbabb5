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

    /// A valid certificate for `host` reachable at `ips`, from the scenario CA (sent
    /// with its intermediate).
    pub fn leaf(&self, host: &str, ips: &[IpAddr]) -> Result<ServerCert, PkiError> {
        self.issue(self.leaf_params(host, ips)?, Signer::Intermediate { send_chain: true })
    }

    /// A certificate for `host` issued by the corporate inspection CA, as a TLS-inspecting
    /// proxy forges it on the fly.
    pub fn intercepted(&self, host: &str) -> Result<ServerCert, PkiError> {
        self.issue(self.leaf_params(host, &[])?, Signer::Corporate)
    }

    /// The moment this world's certificates count from.
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// The parameters of a valid server certificate for `host` at `ips`: the name in the
    /// CN and the subjectAltName, valid from yesterday for 90 days.
    pub fn leaf_params(&self, host: &str, ips: &[IpAddr]) -> Result<CertificateParams, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, host);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        params.not_before = self.now - Duration::days(1);
        params.not_after = self.now + Duration::days(90);
        let mut sans = vec![SanType::DnsName(host.try_into()?)];
        sans.extend(ips.iter().map(|ip| SanType::IpAddress(*ip)));
        params.subject_alt_names = sans;
        Ok(params)
    }

    /// A certificate made from `params` with a fresh key, signed as `signer` says.
    pub fn issue(&self, params: CertificateParams, signer: Signer) -> Result<ServerCert, PkiError> {
        let key = KeyPair::generate()?;
        let (cert, chain_extra) = match signer {
            Signer::Intermediate { send_chain } => {
                let extra = if send_chain { vec![self.intermediate.der().clone()] } else { Vec::new() };
                (params.signed_by(&key, &self.intermediate)?, extra)
            }
            Signer::Private => (params.signed_by(&key, &self.private)?, Vec::new()),
            Signer::Corporate => (params.signed_by(&key, &self.corporate)?, Vec::new()),
            Signer::SelfSigned => (params.self_signed(&key)?, Vec::new()),
        };
        let mut chain = vec![cert.der().clone()];
        chain.extend(chain_extra);
        Ok(ServerCert { chain, key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())) })
    }
}

/// Who signs a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The scenario CA's intermediate; the server sends the intermediate too unless
    /// `send_chain` is false.
    Intermediate {
        /// Whether the chain the server sends includes the intermediate.
        send_chain: bool,
    },
    /// The company's private CA.
    Private,
    /// The corporate TLS-inspection CA.
    Corporate,
    /// Nobody: the certificate signs itself.
    SelfSigned,
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
