//! The environment variables that decide where go and git connect: the proxy variables
//! (go reads the upper-case one first and falls back to the lower-case one; curl, git's
//! HTTP, reads `http_proxy` only in lower case), the lists that exempt hosts from the
//! proxy, and the variables that send connections past the proxies altogether. Open
//! mode's egress guard and scenario validation both speak of these.

/// Proxy variables, as (upper case, lower case) pairs.
pub const PROXY_PAIRS: [(&str, &str); 3] =
    [("HTTPS_PROXY", "https_proxy"), ("HTTP_PROXY", "http_proxy"), ("ALL_PROXY", "all_proxy")];

/// Variables listing hosts that are reached without the proxy.
pub const NO_PROXY_VARS: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// True for one of the [`PROXY_PAIRS`].
pub fn is_proxy_var(name: &str) -> bool {
    PROXY_PAIRS.iter().any(|(upper, lower)| name == *upper || name == *lower)
}

/// Why setting `name` lets go or git connect without going through the proxy variables,
/// for the variables that do; `None` for every other variable.
pub fn steers_past_proxies(name: &str) -> Option<&'static str> {
    let why = match name {
        "REQUEST_METHOD" => "makes go act as a CGI program, which ignores HTTP_PROXY",
        "GIT_CONFIG_COUNT" | "GIT_CONFIG_PARAMETERS" | "GIT_CONFIG" | "GIT_CONFIG_SYSTEM" => {
            "gives git configuration (http.proxy, url.<base>.insteadOf) that can point it anywhere"
        }
        _ if name.starts_with("GIT_CONFIG_KEY_") || name.starts_with("GIT_CONFIG_VALUE_") => {
            "gives git configuration (http.proxy, url.<base>.insteadOf) that can point it anywhere"
        }
        "GIT_PROXY_COMMAND" => "runs a command that makes git's git:// connections itself",
        "GIT_SSH" | "GIT_SSH_COMMAND" | "GIT_SSH_VARIANT" => "makes git's ssh connections, which no HTTP proxy sees",
        "GIT_EXEC_PATH" => "replaces git's own helpers (git-remote-https) by other programs",
        "LD_PRELOAD" | "LD_AUDIT" | "LD_LIBRARY_PATH" => "loads other code into go and git",
        _ => return None,
    };
    Some(why)
}

/// Why the variable `name` set to `value` (`None`: changed to something not known yet,
/// as a recovery's `append` does) lets go or git reach the network without the proxies;
/// `None` when it does not.
pub fn bypass(name: &str, value: Option<&str>) -> Option<&'static str> {
    if let Some(why) = steers_past_proxies(name) {
        return Some(why);
    }
    if NO_PROXY_VARS.contains(&name) && value.is_none_or(|v| !v.trim().is_empty()) {
        return Some("sends the hosts it names around the proxy, straight to the network");
    }
    if is_proxy_var(name) && value.is_some_and(|v| v.trim().is_empty()) {
        return Some("is empty, which sends go and git straight to the network");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_ways_around_a_proxy() {
        for name in ["REQUEST_METHOD", "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_12", "GIT_SSH_COMMAND"]
        {
            assert!(bypass(name, Some("x")).is_some(), "{name}");
        }
        assert!(bypass("NO_PROXY", Some("*")).is_some());
        assert!(bypass("no_proxy", None).is_some());
        assert!(bypass("NO_PROXY", Some("")).is_none());
        assert!(bypass("HTTPS_PROXY", Some("")).is_some());
        assert!(bypass("https_proxy", Some(" ")).is_some());
        assert!(bypass("HTTPS_PROXY", Some("http://proxy.corp.example:3128")).is_none());
        assert!(bypass("GOPROXY", Some("direct")).is_none());
        assert!(bypass("GIT_TERMINAL_PROMPT", Some("0")).is_none());
    }
}
