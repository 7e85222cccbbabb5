//! What a corporate forward proxy does with CONNECT requests: the scenario says it, the
//! forward proxy fake does it.

use serde::{Deserialize, Serialize};

/// What the proxy does with CONNECT requests it would otherwise allow: corporate
/// proxies that forbid tunnels answer `403`, broken ones (or firewalls posing as
/// proxies) close the connection without a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectMode {
    /// Open the tunnel (intercepting it when interception is on).
    #[default]
    Tunnel,
    /// Answer `403 Forbidden` with a text block page.
    Refuse,
    /// Close the client connection without any response.
    Drop,
}
