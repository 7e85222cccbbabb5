//! The secrets a scenario holds — passwords of the hosts' Basic credentials, credentials
//! in the URLs of its environment and of its recovery's values, `.netrc` passwords — so
//! that reports can mask them wherever they show (see `crate::redact`).

use base64::Engine as _;

use super::model::{HostKind, RecoveryStep, Scenario};
use crate::vocab::BasicAuth;

impl Scenario {
    /// Every secret of the scenario, as written and as a Basic `Authorization` header
    /// carries it (base64 of `user:password`).
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        let basic = |auth: &BasicAuth, secrets: &mut Vec<String>| {
            secrets.push(auth.password.clone());
            let pair = format!("{}:{}", auth.user, auth.password);
            secrets.push(base64::engine::general_purpose::STANDARD.encode(pair));
        };
        for host in &self.hosts {
            let auth = match &host.kind {
                HostKind::Goproxy(spec) => spec.auth.as_ref(),
                HostKind::Git(spec) => spec.auth.as_ref(),
                HostKind::ForwardProxy(spec) => spec.auth.as_ref(),
                // Hosts without credentials (closed, checksum databases, and kinds to come).
                _ => None,
            };
            if let Some(auth) = auth {
                basic(auth, &mut secrets);
            }
        }
        for (_, value) in &self.env {
            secrets.extend(crate::redact::url_secrets(value));
        }
        for step in self.recover.iter().flat_map(|r| &r.steps) {
            match step {
                RecoveryStep::Netrc { login, password, .. } => {
                    basic(&BasicAuth { user: login.clone(), password: password.clone() }, &mut secrets)
                }
                RecoveryStep::Set(vars) => {
                    secrets.extend(vars.iter().flat_map(|(_, v)| crate::redact::url_secrets(v)));
                }
                RecoveryStep::Append { value, .. } | RecoveryStep::Prepend { value, .. } => {
                    secrets.extend(crate::redact::url_secrets(value));
                }
                RecoveryStep::Replace { to, .. } => secrets.extend(crate::redact::url_secrets(to)),
                _ => {}
            }
        }
        secrets.retain(|s| !s.is_empty());
        secrets.sort();
        secrets.dedup();
        secrets
    }
}
