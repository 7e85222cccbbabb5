//! Applying recovery steps: environment edits, `.netrc` credentials, cache cleaning. The
//! environment is kept in scenario terms (host names); the host map translates it for go.

use std::io::Write as _;

use crate::pki::Authority;
use crate::sandbox::Sandbox;
use crate::scenario::RecoveryStep;
use crate::world::HostMap;

/// What recovery steps change: the environment (scenario terms) and the trusted CAs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Environment variables, in order.
    pub env: Vec<(String, String)>,
    /// Certificate authorities in go's trust bundle.
    pub trust: Vec<Authority>,
}

/// Applies `steps` in order to `config` and the sandbox; returns one line per step.
pub fn apply(
    steps: &[RecoveryStep],
    config: &mut ClientConfig,
    sandbox: &Sandbox,
    map: &HostMap,
) -> std::io::Result<Vec<String>> {
    let env = &mut config.env;
    let mut done = Vec::new();
    for step in steps {
        match step {
            RecoveryStep::Set(vars) => {
                for (k, v) in vars {
                    set(env, k, v.clone());
                }
            }
            RecoveryStep::Unset(vars) => env.retain(|(k, _)| !vars.contains(k)),
            RecoveryStep::Replace { var, from, to } => {
                if let Some(current) = get(env, var) {
                    let replaced = current.replace(from.as_str(), to);
                    set(env, var, replaced);
                }
            }
            RecoveryStep::Append { var, value } => {
                let new = format!("{}{value}", get(env, var).unwrap_or_default());
                set(env, var, new);
            }
            RecoveryStep::Prepend { var, value } => {
                let new = format!("{value}{}", get(env, var).unwrap_or_default());
                set(env, var, new);
            }
            RecoveryStep::Netrc { host, login, password } => {
                let mut file =
                    std::fs::OpenOptions::new().create(true).append(true).open(sandbox.paths.home.join(".netrc"))?;
                for machine in map.netrc_machines(host) {
                    writeln!(file, "machine {machine} login {login} password {password}")?;
                }
            }
            RecoveryStep::CleanCache => sandbox.clean_module_cache()?,
            RecoveryStep::Trust(cas) => {
                for ca in cas {
                    if !config.trust.contains(ca) {
                        config.trust.push(*ca);
                    }
                }
            }
        }
        done.push(step.describe());
    }
    Ok(done)
}

fn get(env: &[(String, String)], var: &str) -> Option<String> {
    env.iter().rev().find(|(k, _)| k == var).map(|(_, v)| v.clone())
}

fn set(env: &mut Vec<(String, String)>, var: &str, value: String) {
    match env.iter_mut().find(|(k, _)| k == var) {
        Some(entry) => entry.1 = value,
        None => env.push((var.to_string(), value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_edits() {
        let sandbox = Sandbox::create().unwrap();
        let map = HostMap::default();
        let env =
            vec![("GOPROXY".to_string(), "https://a,https://b".to_string()), ("GOFLAGS".to_string(), "-x".to_string())];
        let mut config = ClientConfig { env, trust: vec![Authority::Scenario] };
        let steps = [
            RecoveryStep::Replace { var: "GOPROXY".into(), from: ",".into(), to: "|".into() },
            RecoveryStep::Append { var: "GOPROXY".into(), value: "|direct".into() },
            RecoveryStep::Unset(vec!["GOFLAGS".into()]),
            RecoveryStep::Set(vec![("GONOSUMDB".into(), "corp.example".into())]),
            RecoveryStep::Netrc { host: "a".into(), login: "u".into(), password: "p".into() },
            RecoveryStep::Trust(vec![Authority::Private, Authority::Scenario]),
        ];
        let lines = apply(&steps, &mut config, &sandbox, &map).unwrap();
        assert_eq!(config.trust, [Authority::Scenario, Authority::Private]);
        let env = config.env;
        assert_eq!(
            env,
            [
                ("GOPROXY".to_string(), "https://a|https://b|direct".to_string()),
                ("GONOSUMDB".to_string(), "corp.example".to_string())
            ]
        );
        assert_eq!(lines.len(), 6);
        assert_eq!(
            std::fs::read_to_string(sandbox.paths.home.join(".netrc")).unwrap(),
            "machine a login u password p\n"
        );
    }
}
