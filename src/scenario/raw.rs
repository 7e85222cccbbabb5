//! The scenario file format exactly as written: serde types with `deny_unknown_fields`,
//! positions on every value validation may need to point at, and doc comments that
//! become the JSON Schema's descriptions. [`super::validate`] turns them into the model.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::at::At;
use super::keyed::Keyed;

/// A modchaos scenario: a fake world, faults, a go command, and what must happen.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "modchaos scenario")]
pub struct RawScenario {
    /// Short unique name, shown in reports and matched by `--filter`.
    pub name: At<String>,
    /// What the scenario demonstrates, for the people reading its report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// Seed for probabilistic faults: the same seed gives the same outcome. Defaults to a
    /// hash of the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Files of shared definitions (`modules`, `hosts`, `env`), relative to this file,
    /// whose contents are added to this scenario's: a team's common proxies and fixtures
    /// written once. The scenario's own env values win; a host may not be declared twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<At<String>>,
    /// A place for YAML anchors (`&proxy`) that the rest of the file reuses (`*proxy`,
    /// `<<: *proxy`); modchaos reads nothing else from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchors: Option<serde_json::Value>,
    /// Module fixtures: txtar files (Go's `cmd/go/testdata/mod` format) or directories of
    /// them, relative to this file (`$GOROOT/` at the start names the Go installation),
    /// or modules made up on the spot: `{module: path@version}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<At<RawModuleSource>>,
    /// The fake hosts of this scenario's world, by host name (`proxy.corp.example`).
    #[serde(default, skip_serializing_if = "Keyed::is_empty")]
    pub hosts: Keyed<RawHost>,
    /// Which network the scenario needs: `sealed` (its own namespaces, real names and
    /// ports, a fake resolver; required for DNS faults and forward proxies, and lets env
    /// name hosts that are not declared, which then do not resolve) or `open` (127.0.0.1
    /// ports, names rewritten to addresses). Default: sealed where the kernel allows it,
    /// open elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<At<RawNetwork>>,
    /// The oldest go release the scenario is about (`"1.21"`): older go commands behave
    /// differently, so the scenario is skipped with them (loudly, never passed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_go: Option<At<String>>,
    /// The sealed world's resolver settings (`/etc/resolv.conf` options).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolver: Option<RawResolver>,
    /// Certificate authorities go trusts (default: `[scenario]`, the issuer of every valid
    /// host certificate). `[]` trusts nothing; `private` and `corporate` are the CAs that
    /// trust scenarios are about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<Vec<At<crate::pki::Authority>>>,
    /// Environment for go, on top of the hermetic defaults. URLs must name declared hosts.
    #[serde(default, skip_serializing_if = "Keyed::is_empty")]
    pub env: Keyed<At<String>>,
    /// The module cache's state before the run: versions already downloaded, and what
    /// is broken in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<RawCache>,
    /// First run the same go command against the same world without its faults, which
    /// must succeed: proof that the faults, not the world, break go (reported apart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady_state: Option<bool>,
    /// Who go runs as: `unprivileged` (the default: uid 1000, as on a laptop or a CI
    /// runner, where permission errors happen) or `root` (which never meets one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_user: Option<At<RawGoUser>>,
    /// The run's home and go's own directories before the first run: files in HOME,
    /// directories that belong to root, sandbox variables go does not get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<RawSandbox>,
    /// Files written into the work module directory before the run (a `go.mod` is
    /// generated unless given here).
    #[serde(default, skip_serializing_if = "Keyed::is_empty")]
    pub files: Keyed<String>,
    /// The go command(s) to run.
    #[serde(default)]
    pub run: RawRun,
    /// What must be true after the run.
    #[serde(default)]
    pub expect: RawExpect,
    /// A recovery to apply after the run, and what must be true after rerunning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recover: Option<RawRecover>,
}

/// Where a scenario's modules come from: fixture files, or made up on the spot.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(untagged)]
pub enum RawModuleSource {
    /// A txtar fixture file or a directory of them.
    Fixtures(String),
    /// A module made up on the spot.
    Inline(RawInlineModule),
}

/// A made-up module: a go.mod and one Go file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInlineModule {
    /// `path@version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<At<String>>,
    /// A go toolchain release (`go1.99.0`) instead: the `golang.org/toolchain` module go
    /// downloads to switch to it, for this machine's platform, whose `bin/go` answers
    /// `go version` as that release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolchain: Option<At<String>>,
    /// The path its go.mod declares, when not its own (a renamed module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declares: Option<String>,
    /// Text put in its source: another variant of the same version has other content
    /// (a re-tagged or tampered copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl<'de> Deserialize<'de> for RawModuleSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SourceVisitor;
        impl<'de> Visitor<'de> for SourceVisitor {
            type Value = RawModuleSource;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a fixture path, or {module: path@version}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawModuleSource, E> {
                Ok(RawModuleSource::Fixtures(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawModuleSource, A::Error> {
                RawInlineModule::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawModuleSource::Inline)
            }
        }
        deserializer.deserialize_any(SourceVisitor)
    }
}

impl Serialize for RawModuleSource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RawModuleSource::Fixtures(path) => serializer.serialize_str(path),
            RawModuleSource::Inline(module) => module.serialize(serializer),
        }
    }
}

/// Who go runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawGoUser {
    /// uid 1000: files it does not own stop it, as on a customer's machine.
    Unprivileged,
    /// root: no permission error ever happens.
    Root,
}

/// The run's home and go's own directories before the first run.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSandbox {
    /// Files written into HOME before the first run, by path below HOME: `.netrc`,
    /// `.gitconfig` (with `insteadOf` rules or credential helpers), `.config/go/env` (as
    /// `go env -w` writes it; go then reads it: GOENV is left to its default).
    #[serde(default, skip_serializing_if = "Keyed::is_empty")]
    pub home: Keyed<String>,
    /// Directories that belong to root rather than to go's user, so that go cannot
    /// write them: `home`, `gopath`, `build_cache` (GOCACHE). Needs modchaos to run as
    /// root.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub root_owned: Vec<At<RawSandboxDir>>,
    /// Sandbox variables go does not get, so that it falls back to its own defaults
    /// (below HOME, still inside the sandbox): `GOPATH`, `GOMODCACHE`, `GOCACHE`, `GOENV`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unset: Vec<At<String>>,
}

/// Where a recovery writes a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawFilePlace {
    /// The work module.
    Work,
    /// HOME.
    Home,
}

/// A directory of the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawSandboxDir {
    /// HOME.
    Home,
    /// GOPATH (the module cache is below it).
    Gopath,
    /// GOCACHE, go's build cache.
    BuildCache,
}

/// A network mode a scenario can insist on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawNetwork {
    /// Own namespaces, real names and ports, a fake resolver.
    Sealed,
    /// 127.0.0.1 ports with declared names rewritten to addresses.
    Open,
}

/// Options of the sealed world's resolver, as `/etc/resolv.conf` would say them.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawResolver {
    /// How long go waits for an answer before retrying (`1s`; whole seconds; go's default 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<At<String>>,
    /// How many times go asks (go's default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<At<u32>>,
    /// The resolver is down: `refused` (nothing listens at its address: `connection
    /// refused`) or `unreachable` (no route to it: `network is unreachable`). Every lookup,
    /// go's and git's, then fails; the fake resolver sees none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<At<crate::scenario::model::ResolverDown>>,
}

/// A file of definitions shared by several scenarios (`include:`): fixtures, hosts and
/// environment, with relative paths resolved against this file.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "modchaos shared definitions")]
pub struct RawInclude {
    /// What these definitions are for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// A place for YAML anchors used within this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchors: Option<serde_json::Value>,
    /// Module fixtures, as in a scenario (relative to this file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<At<RawModuleSource>>,
    /// Fake hosts, as in a scenario.
    #[serde(default, skip_serializing_if = "Keyed::is_empty")]
    pub hosts: Keyed<RawHost>,
    /// Environment for go, as in a scenario (the including scenario's values win).
    #[serde(default, skip_serializing_if = "Keyed::is_empty")]
    pub env: Keyed<At<String>>,
}

/// One fake host. Exactly one of the kinds (`goproxy`, `closed`) must be given.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHost {
    /// Serve the GOPROXY protocol from the scenario's modules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goproxy: Option<At<RawGoproxy>>,
    /// Nothing listens on this host: every connection is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<At<RawEmpty>>,
    /// Connections vanish: the host's listener never takes them, so go's SYNs go
    /// unanswered until its dialer gives up after 30 s (`dial tcp …: i/o timeout`), as
    /// behind a firewall that drops packets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blackhole: Option<At<RawEmpty>>,
    /// The host's address has no route (sealed worlds only): `network` (no route at
    /// all: `connect: network is unreachable`) or `host` (a reject route: `connect: no
    /// route to host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<At<RawUnreachable>>,
    /// A checksum database (GOSUMDB) over the scenario's modules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sumdb: Option<At<RawSumdb>>,
    /// A corporate forward proxy, used by go through `HTTPS_PROXY` / `HTTP_PROXY`
    /// (`http://proxy.corp.example:3128`). Sealed worlds only: go sends requests through
    /// a proxy only for host names, never for the loopback addresses of open mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_proxy: Option<At<RawForwardProxy>>,
    /// A git host for go's direct mode: `?go-get=1` pages and git smart HTTP over
    /// repositories built from the modules under this host's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<At<RawGit>>,
    /// TLS settings (a host answers https on the same port as http).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<RawTls>,
    /// HTTP faults, tried in order for every request this host receives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<At<RawFault>>,
    /// DNS faults for this host's name, tried in order for every query (sealed worlds
    /// only: the scenario then runs sealed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<At<RawDnsFault>>,
    /// TCP toxics (toxiproxy's names and meanings) on every connection to this host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tcp: Vec<At<RawToxic>>,
}

/// How a host cannot be reached.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawUnreachable {
    /// `network` (the default) or `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::scenario::model::Unreachable>,
}

/// TLS settings of a host.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// What is wrong with the host's certificate (default `valid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<At<crate::fault::tls::CertFault>>,
    /// The names a `wrong_host` certificate is valid for (default `www.other.<tld>`):
    /// those a customer's log quotes (`certificate is valid for sinkhole.corp.example, not
    /// …`), such as a DNS sinkhole's or another site's. DNS names, `*.` wildcards allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<At<String>>,
}

/// A module proxy.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGoproxy {
    /// Serve only modules whose path matches one of these globs (default: every module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules: Option<Vec<At<String>>>,
    /// URL path the proxy is mounted under (`/goproxy` for `https://host/goproxy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<At<String>>,
    /// Require HTTP Basic credentials (answer 401 without them), as corporate proxies do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<RawBasicAuth>,
    /// Answer `/sumdb/<name>/supported` and forward the scenario's checksum databases
    /// under `/sumdb/<name>/`, as proxy.golang.org does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sumdb: Option<bool>,
    /// Fixtures this proxy serves instead of the scenario's for the same module versions:
    /// a tampered or re-tagged copy (files or directories, relative to this file, or
    /// made-up modules with another `variant`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixtures: Option<Vec<At<RawModuleSource>>>,
}

/// A corporate forward proxy.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawForwardProxy {
    /// Inspect TLS: re-sign every site with the `corporate` CA (go does not trust it
    /// unless `trust:` says so — `certificate signed by unknown authority`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intercept: Option<bool>,
    /// Require Basic credentials (`407 Proxy Authentication Required` without them); go
    /// sends them from the proxy URL (`http://user:password@proxy:3128`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<RawBasicAuth>,
    /// What CONNECT requests get: `tunnel` (default), `refuse` (403 and a block page) or
    /// `drop` (the connection closes without an answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<crate::vocab::ConnectMode>,
    /// Target host globs that get a 403 "blocked by corporate policy" page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block: Vec<At<String>>,
}

/// A checksum database.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSumdb {
    /// The database name go knows it by (default: the host name), e.g. `sum.golang.org`
    /// to stand in for the public database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<At<String>>,
    /// Know only modules whose path matches one of these globs (default: every module);
    /// lookups of others answer 404, as the public database does for private modules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules: Option<Vec<At<String>>>,
    /// Give go only the key (no URL), so that go asks the proxies for
    /// `/sumdb/<name>/supported` first, as it does for sum.golang.org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_proxy: Option<bool>,
}

/// A git host.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGit {
    /// Serve only modules whose path matches one of these globs (default: every module
    /// whose path starts with this host's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules: Option<Vec<At<String>>>,
    /// Require HTTP Basic credentials for git requests (answer 401 without them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<RawBasicAuth>,
    /// With `auth`: the `?go-get=1` pages need the credentials too (401 without them), as
    /// on a host that puts everything behind its login. go sends them for its own page
    /// request only from ~/.netrc (or GOAUTH), so it fails there (`reading
    /// https://…?go-get=1: 401 Unauthorized`), before git is asked (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_pages: Option<At<bool>>,
    /// What the `?go-get=1` pages say (default `ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<super::model::GitMeta>,
    /// Another declared git host that holds the repositories: this one is then a vanity
    /// host whose pages point there (`https://<repos>/<path>.git`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repos: Option<At<String>>,
    /// Versions this host's tags point at with other content than the scenario's (a tag
    /// moved after go.sum or the checksum database recorded it): fixture files, or
    /// made-up modules with another `variant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixtures: Option<Vec<At<RawModuleSource>>>,
    /// Versions (`path@version`) whose tags were deleted from the repository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub untagged: Vec<At<String>>,
    /// Serve plain http only (nothing listens on 443): go then needs GOINSECURE for the
    /// host. Sealed worlds only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_only: Option<bool>,
}

/// HTTP Basic credentials.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBasicAuth {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

/// An empty mapping (`{}`), for kinds and actions that take no settings; nothing at all
/// (`clean_cache:`) reads as one too.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(remote = "Self", deny_unknown_fields)]
#[schemars(transform = null_too_in_schema)]
pub struct RawEmpty {}

/// The schema of [`RawEmpty`] accepts nothing (`null`) as well as `{}`.
fn null_too_in_schema(schema: &mut schemars::Schema) {
    schema.insert("type".into(), serde_json::json!(["object", "null"]));
}

impl<'de> Deserialize<'de> for RawEmpty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EmptyVisitor;
        impl<'de> Visitor<'de> for EmptyVisitor {
            type Value = RawEmpty;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`{}` or nothing")
            }
            fn visit_none<E: de::Error>(self) -> Result<RawEmpty, E> {
                Ok(RawEmpty {})
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawEmpty, E> {
                Ok(RawEmpty {})
            }
            fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawEmpty, D::Error> {
                RawEmpty::deserialize(deserializer)
            }
        }
        deserializer.deserialize_option(EmptyVisitor)
    }
}

impl Serialize for RawEmpty {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RawEmpty::serialize(self, serializer)
    }
}

/// Declares the raw type of a fault mapping: optional settings (`when`, …) and exactly
/// one action key, each action's settings under it (`respond: {status: 500}`). The keys
/// are externally tagged so that the YAML parser reports problems at the exact key;
/// the generated `Deserialize` lists every accepted key on a typo (for "did you mean"),
/// and the JSON Schema says that exactly one action is required.
macro_rules! fault_mapping {
    (
        $(#[$meta:meta])*
        $name:ident, keys: $keys:ident, expecting: $expecting:literal,
        settings { $( $(#[$smeta:meta])* $sfield:ident : $sty:ty ),* $(,)? }
        actions { $( $(#[$ameta:meta])* $afield:ident : $aty:ty ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, Serialize, JsonSchema)]
        #[schemars(extend("oneOf" = [ $( {"required": [stringify!($afield)]} ),* ]))]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$smeta])* #[serde(default, skip_serializing_if = "Option::is_none")] pub $sfield: Option<$sty>, )*
            $( $(#[$ameta])* #[serde(default, skip_serializing_if = "Option::is_none")] pub $afield: Option<At<$aty>>, )*
        }

        /// Keys the mapping accepts, settings first, in the order the schema lists them.
        pub const $keys: &[&str] = &[$(stringify!($sfield),)* $(stringify!($afield),)*];

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct MappingVisitor;
                impl<'de> Visitor<'de> for MappingVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        let mut value = $name::default();
                        while let Some(key) = map.next_key::<String>()? {
                            let duplicate = match key.as_str() {
                                $( stringify!($sfield) => value.$sfield.replace(map.next_value()?).is_some(), )*
                                $( stringify!($afield) => value.$afield.replace(map.next_value()?).is_some(), )*
                                other => return Err(de::Error::unknown_field(other, $keys)),
                            };
                            if duplicate {
                                return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                            }
                        }
                        Ok(value)
                    }
                }
                deserializer.deserialize_map(MappingVisitor)
            }
        }
    };
}

fault_mapping! {
    /// An HTTP fault: optional `when` conditions and exactly one action.
    RawFault, keys: FAULT_KEYS, expecting: "a fault: a mapping with optional `when` and one action",
    settings {
        /// When the fault fires (default: every request).
        when: At<RawWhen>,
    }
    actions {
        /// Answer with this status and body instead of the real response.
        respond: RawRespond,
        /// Wait this long (`250ms`, `2s`) before answering; later faults still apply.
        delay: String,
        /// Accept the request and never answer.
        hang: RawEmpty,
        /// Reset the TCP connection (RST), optionally after sending headers and some body bytes.
        reset: RawReset,
        /// Close the TCP connection (FIN), optionally after sending headers and some body
        /// bytes: a server or middlebox that went away (go: `unexpected EOF`, or `EOF`
        /// before any response).
        close: RawReset,
        /// Fail the response after some body bytes: an HTTP/2 RST_STREAM (INTERNAL_ERROR),
        /// optionally followed by GOAWAY; over HTTP/1.1 the connection ends early.
        stream_reset: RawStreamReset,
        /// Serve only the first bytes of the body, as if that were the whole body.
        truncate: RawTruncate,
        /// Flip bytes of the body (positions chosen from the scenario seed).
        corrupt: RawCorrupt,
        /// Answer 200 with this body instead of the real one (e.g. invalid `.info` JSON).
        replace_body: RawReplaceBody,
    }
}

fault_mapping! {
    /// A DNS fault on the host's name: optional `when` conditions and exactly one action.
    /// Only sealed worlds have a resolver, so a scenario with DNS faults runs sealed.
    RawDnsFault, keys: DNS_FAULT_KEYS, expecting: "a DNS fault: a mapping with optional `when` and one action",
    settings {
        /// When the fault fires (default: every query for the name).
        when: At<RawDnsWhen>,
    }
    actions {
        /// Answer NXDOMAIN: the name does not exist (go: `no such host`).
        nxdomain: RawEmpty,
        /// Answer SERVFAIL (go: `server misbehaving`).
        servfail: RawEmpty,
        /// Answer REFUSED (go prints `server misbehaving` too).
        refused: RawEmpty,
        /// Never answer (go: `i/o timeout` after the resolver's timeout and attempts).
        timeout: RawEmpty,
        /// Answer with these addresses instead of the host's (nothing listens there
        /// unless another host has it: `connection refused`).
        address: Vec<At<String>>,
        /// Answer these addresses before the host's own (a dead address among live ones:
        /// go tries the next, after a dial timeout for one that drops packets).
        add: Vec<At<String>>,
        /// Wait this long before answering; later faults still apply.
        delay: String,
        /// Answer over UDP with the truncated bit and no records, so the client asks again
        /// over TCP (where the real answer is given).
        truncate: RawEmpty,
        /// Answer with no records and neither the authoritative nor the recursion-available
        /// bit: a server that does not resolve for clients, such as an authoritative-only
        /// one in resolv.conf (go: `lame referral`).
        lame_referral: RawEmpty,
    }
}

fault_mapping! {
    /// A TCP toxic, as toxiproxy declares it: `stream`, `toxicity`, optional `when`, and
    /// exactly one toxic with toxiproxy's attributes. Times are durations (`200ms`) or,
    /// as in toxiproxy, bare numbers (milliseconds; microseconds for slicer's `delay`).
    RawToxic, keys: TOXIC_KEYS, expecting: "a TCP toxic: a mapping with optional `when`, `stream`, `toxicity` and one toxic",
    settings {
        /// Which connections (`nth`, `first`, `probability`) and when (`after`, `until`).
        when: At<RawToxicWhen>,
        /// `downstream` (server → client, the default) or `upstream` (client → server).
        stream: At<RawStream>,
        /// Probability that the toxic applies to a connection (default 1.0).
        toxicity: At<f64>,
    }
    actions {
        /// Delay all data by `latency` (± `jitter`).
        latency: RawLatency,
        /// Limit the rate to `rate` KB/s.
        bandwidth: RawBandwidth,
        /// Delay the close of the connection by `delay`.
        slow_close: RawSlowClose,
        /// Stop all data; close the connection after `timeout` (0: never).
        timeout: RawToxicTimeout,
        /// Reset the connection (a real RST) `timeout` after the first data.
        reset_peer: RawResetPeer,
        /// Cut the data into pieces of `average_size` ± `size_variation` bytes, `delay` apart.
        slicer: RawSlicer,
        /// Close the connection after `bytes` bytes.
        limit_data: RawLimitData,
        /// Take the address away: connections are refused (toxiproxy's `enabled: false`).
        down: RawEmpty,
    }
}

/// A quantity: a bare number in the setting's own unit (toxiproxy's milliseconds, bytes),
/// or a value with its unit (`200ms`, `8KiB`).
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(untagged)]
pub enum RawQuantity {
    /// A number in the setting's unit.
    Number(u64),
    /// A value with its unit.
    Text(String),
}

impl<'de> Deserialize<'de> for RawQuantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct QuantityVisitor;
        impl Visitor<'_> for QuantityVisitor {
            type Value = RawQuantity;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, or a value with its unit like `200ms` or `8KiB`")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawQuantity, E> {
                Ok(RawQuantity::Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawQuantity, E> {
                u64::try_from(v).map(RawQuantity::Number).map_err(|_| E::custom("cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawQuantity, E> {
                Ok(RawQuantity::Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(QuantityVisitor)
    }
}

impl Serialize for RawQuantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RawQuantity::Number(n) => serializer.serialize_u64(*n),
            RawQuantity::Text(text) => serializer.serialize_str(text),
        }
    }
}

/// A time in a toxic: a duration (`200ms`) or a bare number in toxiproxy's unit.
pub type ToxiTime = RawQuantity;

/// A toxic's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawStream {
    /// Client → server.
    Upstream,
    /// Server → client.
    Downstream,
}

/// Which connections a toxic acts on, and when.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawToxicWhen {
    /// Only the Nth connection (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<At<u64>>,
    /// The first N connections, then heal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<At<u64>>,
    /// Each connection with this probability (0 to 1), drawn from the scenario seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<At<f64>>,
    /// Act only from this long after the world started (`2s`), on live connections too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<At<String>>,
    /// Heal this long after the world started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<At<String>>,
}

/// toxiproxy's `latency` attributes.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLatency {
    /// Added delay.
    pub latency: At<ToxiTime>,
    /// Random variation, ± (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<At<ToxiTime>>,
}

/// toxiproxy's `bandwidth` attributes.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBandwidth {
    /// Rate in KB/s (1 KB = 1000 bytes).
    pub rate: At<u64>,
}

/// toxiproxy's `slow_close` attributes.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSlowClose {
    /// Delay before the close goes through.
    pub delay: At<ToxiTime>,
}

/// toxiproxy's `timeout` attributes.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawToxicTimeout {
    /// Close the connection this long after data stops (0: hold it open forever).
    pub timeout: At<ToxiTime>,
}

/// toxiproxy's `reset_peer` attributes.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawResetPeer {
    /// Reset this long after the first data (default 0: at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<At<ToxiTime>>,
}

/// toxiproxy's `slicer` attributes.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSlicer {
    /// Average piece size in bytes.
    pub average_size: At<usize>,
    /// Variation of piece sizes in bytes (default 0; less than `average_size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_variation: Option<At<usize>>,
    /// Time between pieces (a bare number counts microseconds, as in toxiproxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<At<ToxiTime>>,
}

/// toxiproxy's `limit_data` attributes.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLimitData {
    /// Bytes let through before the connection is closed.
    pub bytes: At<u64>,
}

/// Conditions under which a DNS fault fires; all given conditions must hold.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDnsWhen {
    /// Query type (`A`, `AAAA`; default: any).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub qtype: Option<At<String>>,
    /// Fire only on the Nth query these conditions match (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<At<u64>>,
    /// Fire on the first N matching queries, then heal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<At<u64>>,
    /// Fire with this probability (0 to 1), drawn from the scenario seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<At<f64>>,
    /// Fire only this long after the world started (`2s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<At<String>>,
    /// Heal this long after the world started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<At<String>>,
}

/// Conditions under which a fault fires; all given conditions must hold.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWhen {
    /// Glob over the request path. `*` stays within one `/` segment, `**` crosses them;
    /// a pattern not starting with `/` may match at any depth (`*.zip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<At<String>>,
    /// HTTP method (default: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<At<String>>,
    /// Fire only on the Nth request this fault's other conditions match (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<At<u64>>,
    /// Fire on the first N matching requests, then heal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<At<u64>>,
    /// Fire with this probability (0 to 1), drawn from the scenario seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<At<f64>>,
    /// Fire only this long after the world started (`2s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<At<String>>,
    /// Heal this long after the world started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<At<String>>,
}

/// A replacement response.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRespond {
    /// HTTP status code.
    pub status: At<u16>,
    /// Body; sent as `text/plain; charset=utf-8` unless `content_type` says otherwise, so
    /// go prints it after "server response:".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Content-Type of the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Other response headers: `Retry-After` on a 429 or 503, `Location` on a redirect
    /// (to a captive portal's sign-in page, say).
    #[serde(default, skip_serializing_if = "Keyed::is_empty")]
    pub headers: Keyed<String>,
}

/// Where to reset (or close) the connection.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReset {
    /// Send the headers and this many body bytes first; without it the connection ends
    /// before any response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_bytes: Option<u64>,
}

/// Where to reset the stream.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStreamReset {
    /// Body bytes sent first (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_bytes: Option<u64>,
    /// Then shut the whole connection down with GOAWAY (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goaway: Option<bool>,
}

/// Where to cut the body.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTruncate {
    /// Number of body bytes to keep.
    pub after_bytes: u64,
}

/// How much of the body to damage.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCorrupt {
    /// Number of bytes to flip (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<At<u32>>,
}

/// A replacement body with status 200.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReplaceBody {
    /// The body to send.
    pub body: String,
    /// Content-Type (default: the one the real response would have had).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// The module cache before the run.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCache {
    /// Versions (`path@version`, from the scenario's modules) written into the cache
    /// exactly as a successful `go mod download` leaves them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seed: Vec<At<String>>,
    /// What is broken in the cache, applied in order after seeding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<At<RawCacheFault>>,
}

/// One broken state of the module cache.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawCacheFault {
    /// Another live process holds the version's `.lock` (flock): go blocks forever,
    /// printing nothing, when it needs the zip.
    LockHeld(RawLockHeld),
    /// The cache (or its download directory) cannot be written: a read-only mount, so
    /// that even root gets `read-only file system` (sealed worlds only).
    ReadOnly(RawReadOnly),
    /// The cached zip damaged and its extracted directory removed (the version must be
    /// seeded).
    CorruptZip(RawCorruptZip),
    /// An interrupted extraction (`.partial` marker) or download (`.tmp` file) left behind.
    Partial(RawPartial),
    /// The version's `.ziphash` truncated to zero bytes.
    EmptyZiphash(RawVersionRef),
    /// The version's cached go.mod (`.mod`) emptied: go hashes an empty file, and go.sum
    /// disagrees (`verifying <m>@<v>/go.mod: checksum mismatch`).
    EmptyGoMod(RawVersionRef),
    /// The version's `.ziphash` deleted.
    MissingZiphash(RawVersionRef),
    /// The module cache lives on a tiny filesystem (a tmpfs of `size`): downloads fail
    /// with `no space left on device` (sealed worlds only).
    DiskFull(RawDiskFull),
    /// Part of the cache belongs to root while go runs as another user (a cache baked
    /// into a container image by root, a build running as uid 1000): go reads it, and
    /// meets `permission denied` at its first write. Needs modchaos to run as root.
    RootOwned(RawRootOwned),
}

/// `root_owned` settings.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRootOwned {
    /// `cache` (all of GOMODCACHE, the default), `download` (`cache/download`) or
    /// `extracted` (the module trees).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<crate::fault::cache::OwnerScope>,
}

/// A version in the cache.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawVersionRef {
    /// `path@version`.
    pub module: At<String>,
}

/// `lock_held` settings.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLockHeld {
    /// `path@version` whose lock is held.
    pub module: At<String>,
    /// Longest time the holder lives if the harness dies (default 10m); normally it is
    /// killed with the scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<At<String>>,
}

/// `read_only` settings.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReadOnly {
    /// `cache` (all of GOMODCACHE, the default) or `download` (only `cache/download`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<crate::fault::cache::ReadOnlyScope>,
}

/// `corrupt_zip` settings.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCorruptZip {
    /// `path@version` whose zip is damaged.
    pub module: At<String>,
    /// `truncate` (default), `garbage` or `checksum` (one CRC bit flipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub how: Option<crate::fault::cache::Corruption>,
}

/// `partial` settings.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPartial {
    /// `path@version` left half-done.
    pub module: At<String>,
    /// `extraction` (default) or `download`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<crate::fault::cache::PartialStage>,
}

/// `disk_full` settings.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDiskFull {
    /// Size of the filesystem (`8KiB`, `1MiB`, or a number of bytes).
    pub size: At<RawSize>,
}

/// A size: bytes, or a number with `KiB`/`MiB`/`KB`/`MB`.
pub type RawSize = RawQuantity;

/// The go command(s) of a scenario.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    /// A go command line, with or without the leading `go` (shell-style quoting).
    /// Default: `mod download -json -x` and the modules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go: Option<At<String>>,
    /// Modules (`path@version`) for the default command. Default: every fixture module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules: Option<Vec<At<String>>>,
    /// Several go command lines run in order in the same sandbox (instead of `go`);
    /// expectations apply to the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<RawStep>>,
    /// Deadline for each go command (default `60s`): go's process group then gets SIGTERM,
    /// and SIGKILL after a short grace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<At<String>>,
}

/// One go command of a multi-step run.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// The go command line.
    pub go: At<String>,
    /// Deadline for this command (default: the run's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<At<String>>,
}

/// How the go command must end.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawExit {
    /// Exit status 0.
    Success,
    /// A non-zero exit status.
    Failure,
    /// Still running at the deadline (and killed).
    Timeout,
}

/// Expectations about a run.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// How go must end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<At<RawExit>>,
    /// The diagnosis category id (`proxy.server_error`, …), or `none` for no failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<At<String>>,
    /// Regex that one of go's error messages must match: from stderr or from `-json`
    /// records (decoded), continuation lines (`\tserver response: …`) included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<At<String>>,
    /// Regex that go's raw stderr must match (host names as the scenario writes them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<At<String>>,
    /// Regex that go's raw stdout must match (`-json` output is JSON-escaped there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<At<String>>,
    /// Requests the fakes must (or must not) have seen during this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<At<RawRequestExpect>>,
    /// Queries the sealed world's resolver must (or must not) have seen during this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<At<RawDnsExpect>>,
    /// Bounds on how long the go command ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<RawDurationBounds>,
    /// After success: every downloaded module's hashes equal the fixture's and
    /// `go mod verify` passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}

/// A count of matching requests.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRequestExpect {
    /// Declared host name.
    pub host: At<String>,
    /// Glob over the path (same rules as fault paths; default: any path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<At<String>>,
    /// HTTP method (default: any). `TLS` counts TLS handshakes the client abandoned,
    /// which are recorded but not counted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Response status the requests must have had (0 for no response at all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Exactly this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// At least this many (the default is `at_least: 1` when no count is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<u64>,
    /// At most this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<u64>,
}

/// A count of matching DNS queries.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDnsExpect {
    /// Queried name (a glob: `*.golang.org`).
    pub name: At<String>,
    /// Query type (`A`, `AAAA`; default: any).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub qtype: Option<String>,
    /// The answer's code: `NOERROR`, `NXDOMAIN`, `SERVFAIL`, `REFUSED`, or `none` for a
    /// dropped query (default: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcode: Option<At<String>>,
    /// Exactly this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// At least this many (the default is `at_least: 1` when no count is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<u64>,
    /// At most this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<u64>,
}

/// Bounds on a duration.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDurationBounds {
    /// Lower bound (`2s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<At<String>>,
    /// Upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<At<String>>,
}

/// A recovery: a playbook and/or inline steps, then a rerun with expectations.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRecover {
    /// Name of a playbook file (`playbooks/<name>.yaml` beside this file or in a parent
    /// directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook: Option<At<String>>,
    /// Values for the playbook's parameters.
    #[serde(default, skip_serializing_if = "Keyed::is_empty")]
    pub with: Keyed<String>,
    /// Steps applied after the playbook's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<At<RawRecoveryStep>>,
    /// The go command(s) of the rerun, when not the scenario's own (a recovery that
    /// changes the command: `go get` a newer version, build instead of download…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RawRun>,
    /// What must hold after the rerun (default: `exit: success`, `verified: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<RawExpect>,
}

/// One recovery action. Strings may use `${param}` for playbook parameters. A step
/// without settings may be written by its name alone (`- clean_cache`), as the README
/// names them, or as a key (`- clean_cache: {}`); see [`RawRecoveryStep::bare`].
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(remote = "Self", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(transform = bare_steps_in_schema)]
pub enum RawRecoveryStep {
    /// Set environment variables.
    Set(Keyed<String>),
    /// Remove environment variables.
    Unset(Vec<At<String>>),
    /// Replace every occurrence of `from` by `to` in a variable (e.g. `,` by `|` in GOPROXY).
    Replace {
        /// Variable name.
        var: At<String>,
        /// Text to replace.
        from: String,
        /// Replacement.
        to: String,
    },
    /// Append text to a variable (created when unset).
    Append {
        /// Variable name.
        var: At<String>,
        /// Text to append.
        value: String,
    },
    /// Prepend text to a variable (created when unset).
    Prepend {
        /// Variable name.
        var: At<String>,
        /// Text to prepend.
        value: String,
    },
    /// Add credentials for a declared host to the sandbox's `.netrc`.
    Netrc {
        /// Declared host name.
        host: At<String>,
        /// User name.
        login: String,
        /// Password.
        password: String,
    },
    /// Empty the sandbox's module cache.
    CleanCache(RawEmpty),
    /// Stop every process that holds a lock in the module cache (found in /proc/locks),
    /// as a person would kill a stuck build.
    ReleaseLocks(RawEmpty),
    /// Point GOMODCACHE at a new, empty directory on a roomy, writable filesystem.
    MoveCache(RawEmpty),
    /// Add certificate authorities to the bundle go trusts (`SSL_CERT_FILE`): `scenario`,
    /// `private` or `corporate`.
    Trust(Vec<At<String>>),
    /// Run a go command in the work module, as go's user with the recovered settings
    /// (`mod tidy`, `get corp.example/lib@v1.1.0`, `mod edit -replace …`, `clean
    /// -modcache`); it must succeed. A leading `go` may be written or not.
    Go(At<String>),
    /// Write a file of the work module (`go.sum` with the lines restored, a new go.mod),
    /// or of HOME with `in: home` (a fixed `.gitconfig`, a credential helper).
    WriteFile {
        /// Path below the work module (or HOME).
        file: At<String>,
        /// Its new content.
        content: String,
        /// `work` (the default) or `home`.
        #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
        place: Option<RawFilePlace>,
    },
    /// Delete the lines of a work module file that match a regex (a go.sum line
    /// recording a re-tagged version).
    DeleteLines {
        /// Path below the work module.
        file: At<String>,
        /// Regex over each line.
        matching: At<String>,
    },
    /// Give sandbox directories back to go's user (the fix for a cache or home baked
    /// by root): `module_cache`, `home`, `gopath`, `build_cache`.
    FixOwnership(Vec<At<String>>),
    /// Point GOCACHE at a new, empty directory go's user owns.
    MoveBuildCache(RawEmpty),
    /// Put a newer go release on PATH as `goX.Y.Z` (the machine's go "upgraded"): a
    /// toolchain switch then runs it instead of downloading one.
    InstallToolchain(At<String>),
}

/// The steps that take no settings, which may be written by their name alone.
pub const BARE_STEPS: &[&str] = &["clean_cache", "release_locks", "move_cache", "move_build_cache"];

impl RawRecoveryStep {
    /// The step a bare name (`clean_cache`) stands for, when it takes no settings.
    pub fn bare(name: &str) -> Option<RawRecoveryStep> {
        Some(match name {
            "clean_cache" => RawRecoveryStep::CleanCache(RawEmpty {}),
            "release_locks" => RawRecoveryStep::ReleaseLocks(RawEmpty {}),
            "move_cache" => RawRecoveryStep::MoveCache(RawEmpty {}),
            "move_build_cache" => RawRecoveryStep::MoveBuildCache(RawEmpty {}),
            _ => return None,
        })
    }
}

/// Every step's key, for "did you mean" (the derived list is private to serde).
const STEP_KEYS: &[&str] = &[
    "set",
    "unset",
    "replace",
    "append",
    "prepend",
    "netrc",
    "clean_cache",
    "release_locks",
    "move_cache",
    "trust",
    "go",
    "write_file",
    "delete_lines",
    "fix_ownership",
    "move_build_cache",
    "install_toolchain",
];

/// A step is a one-key mapping read by the derived code (`serde(remote = "Self")` makes
/// it an inherent function), or a bare name. The YAML reader, given a bare name where a
/// value is due, reads the next list item as that value: hence this reader, which sees
/// the scalar first.
impl<'de> Deserialize<'de> for RawRecoveryStep {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StepVisitor;
        impl<'de> Visitor<'de> for StepVisitor {
            type Value = RawRecoveryStep;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a recovery step: `name: value`, or the name of a step without settings")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<RawRecoveryStep, E> {
                if let Some(step) = RawRecoveryStep::bare(name) {
                    return Ok(step);
                }
                if STEP_KEYS.contains(&name) {
                    return Err(E::invalid_value(
                        de::Unexpected::Str(name),
                        &format!("`{name}:` with its value (only {} go without one)", BARE_STEPS.join(", ")).as_str(),
                    ));
                }
                Err(E::unknown_variant(name, STEP_KEYS))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawRecoveryStep, A::Error> {
                RawRecoveryStep::deserialize(de::value::MapAccessDeserializer::new(&mut map))
            }
        }
        deserializer.deserialize_any(StepVisitor)
    }
}

impl Serialize for RawRecoveryStep {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RawRecoveryStep::serialize(self, serializer)
    }
}

/// The schema's steps accept the bare names too.
fn bare_steps_in_schema(schema: &mut schemars::Schema) {
    if let Some(serde_json::Value::Array(variants)) = schema.get_mut("oneOf") {
        variants.push(serde_json::json!({
            "description": "A step without settings, by its name alone.",
            "type": "string",
            "enum": BARE_STEPS,
        }));
    }
}

/// A reusable recovery, stored as `playbooks/<name>.yaml`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "modchaos playbook")]
pub struct RawPlaybook {
    /// The playbook's name; must equal the file name without `.yaml`.
    pub name: At<String>,
    /// What it does and when it is the right fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// Diagnosis categories it addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<At<String>>,
    /// Parameters a scenario must supply with `with:`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<At<String>>,
    /// The steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<At<RawRecoveryStep>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_keys_for_suggestions_are_the_steps_the_reader_knows() {
        // STEP_KEYS repeats the variants' names (serde's own list is private): every key
        // of the schema's mapping forms, in order, and nothing else.
        let schema = serde_json::to_value(schemars::schema_for!(RawRecoveryStep)).unwrap();
        let keys: Vec<String> = schema["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["required"][0].as_str().map(str::to_string))
            .collect();
        assert_eq!(keys, STEP_KEYS);
        for name in BARE_STEPS {
            assert!(RawRecoveryStep::bare(name).is_some(), "{name}");
        }
    }
}
