//! Scenarios written in Rust: a typed front to the YAML format. The builder writes the
//! same document a scenario file holds and loads it through the same parser and
//! validation, so a built scenario means exactly what its YAML means, its problems are
//! reported the same way, and [`ScenarioBuilder::yaml`] turns it into a file.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::scenario::{LoadContext, LoadError, Scenario};

/// A scenario under construction. Relative paths (fixtures, playbooks) are resolved
/// against [`ScenarioBuilder::base_dir`], by default the crate being tested.
#[derive(Debug, Clone)]
pub struct ScenarioBuilder {
    doc: Map<String, Value>,
    base_dir: PathBuf,
}

impl ScenarioBuilder {
    /// A scenario called `name` (its test name and the name in every report).
    pub fn new(name: impl Into<String>) -> ScenarioBuilder {
        let mut doc = Map::new();
        doc.insert("name".into(), Value::String(name.into()));
        ScenarioBuilder { doc, base_dir: super::crate_dir() }
    }

    /// What the scenario reproduces and why the expected outcome is right.
    pub fn about(self, text: impl Into<String>) -> Self {
        self.set("about", Value::String(text.into()))
    }

    /// The directory relative paths are resolved against.
    pub fn base_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.base_dir = dir.into();
        self
    }

    /// Fixture modules: a txtar file or a directory of them (`$GOROOT/…` for Go's own).
    pub fn modules(self, path: impl Into<String>) -> Self {
        self.push("modules", Value::String(path.into()))
    }

    /// A made-up module (`corp.example/lib@v1.2.3`): a go.mod and one Go file.
    pub fn module(self, path_at_version: impl Into<String>) -> Self {
        self.push("modules", json!({ "module": path_at_version.into() }))
    }

    /// A fake host.
    pub fn host(mut self, name: impl Into<String>, host: Host) -> Self {
        object(&mut self.doc, "hosts").insert(name.into(), Value::Object(host.0));
        self
    }

    /// An environment variable for go (URLs name declared hosts).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        object(&mut self.doc, "env").insert(name.into(), Value::String(value.into()));
        self
    }

    /// A file of the work module (`go.mod`, `go.sum`, `main.go`) before the run.
    pub fn file(mut self, path: impl Into<String>, content: impl Into<String>) -> Self {
        object(&mut self.doc, "files").insert(path.into(), Value::String(content.into()));
        self
    }

    /// Pins the network mode: `"sealed"` or `"open"`.
    pub fn network(self, mode: impl Into<String>) -> Self {
        self.set("network", Value::String(mode.into()))
    }

    /// The oldest go release the scenario's behaviour needs (`"1.24"`).
    pub fn min_go(self, release: impl Into<String>) -> Self {
        self.set("min_go", Value::String(release.into()))
    }

    /// Runs go as root instead of an unprivileged user.
    pub fn go_as_root(self) -> Self {
        self.set("go_user", Value::String("root".into()))
    }

    /// First runs the same commands without the faults, which must succeed.
    pub fn steady_state(self) -> Self {
        self.set("steady_state", Value::Bool(true))
    }

    /// The go command(s).
    pub fn run(self, run: Run) -> Self {
        self.set("run", Value::Object(run.0))
    }

    /// What the run must show.
    pub fn expect(self, expect: Expect) -> Self {
        self.set("expect", Value::Object(expect.0))
    }

    /// The recovery to apply and prove.
    pub fn recover(self, recover: Recover) -> Self {
        self.set("recover", Value::Object(recover.0))
    }

    /// Any other top-level setting, as its YAML value (`"cache"`, `json!({"seed": [...]})`).
    pub fn with(self, key: impl Into<String>, value: Value) -> Self {
        self.set(&key.into(), value)
    }

    /// The scenario as a YAML file would hold it.
    pub fn yaml(&self) -> String {
        serde_saphyr::to_string(&Value::Object(self.doc.clone())).unwrap_or_default()
    }

    /// Loads the scenario through the scenario file parser and validation; problems name
    /// their line and column in [`ScenarioBuilder::yaml`]'s text.
    pub fn build(self) -> Result<Scenario, LoadError> {
        let go = super::go_commands(&[]).ok().and_then(|mut gos| (!gos.is_empty()).then(|| gos.remove(0)));
        self.build_with(&LoadContext::new(go))
    }

    /// [`ScenarioBuilder::build`] with a load context of one's own (another go, more
    /// playbook directories).
    pub fn build_with(self, ctx: &LoadContext) -> Result<Scenario, LoadError> {
        let name = self.doc.get("name").and_then(Value::as_str).unwrap_or("scenario");
        let slug: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
        let path = self.base_dir.join(format!("{slug}.built.yaml"));
        crate::scenario::parse(&path, self.yaml(), ctx)
    }

    fn set(mut self, key: &str, value: Value) -> Self {
        self.doc.insert(key.to_string(), value);
        self
    }

    fn push(mut self, key: &str, value: Value) -> Self {
        array(&mut self.doc, key).push(value);
        self
    }
}

/// A fake host: its kind, its faults.
#[derive(Debug, Clone)]
pub struct Host(Map<String, Value>);

impl Host {
    /// A module proxy serving every fixture.
    pub fn goproxy() -> Host {
        Host::kind("goproxy")
    }

    /// A checksum database over the fixtures.
    pub fn sumdb() -> Host {
        Host::kind("sumdb")
    }

    /// A git host for direct mode (sealed worlds).
    pub fn git() -> Host {
        Host::kind("git")
    }

    /// Nothing listens: connections are refused.
    pub fn closed() -> Host {
        Host::kind("closed")
    }

    /// Connections vanish: go's dial times out.
    pub fn blackhole() -> Host {
        Host::kind("blackhole")
    }

    /// A corporate forward proxy (sealed worlds).
    pub fn forward_proxy() -> Host {
        Host::kind("forward_proxy")
    }

    /// A kind's setting (`Host::goproxy().option("prefix", json!("/goproxy"))`).
    pub fn option(mut self, key: impl Into<String>, value: Value) -> Host {
        if let Some(Value::Object(kind)) = self.0.values_mut().next() {
            kind.insert(key.into(), value);
        }
        self
    }

    /// An HTTP fault, tried in order with the others.
    pub fn fault(mut self, fault: Fault) -> Host {
        array(&mut self.0, "faults").push(Value::Object(fault.0));
        self
    }

    /// A faulty certificate: `expired`, `wrong_host`, `untrusted`, `self_signed`, …
    pub fn certificate(mut self, fault: impl Into<String>) -> Host {
        self.0.insert("tls".into(), json!({ "certificate": fault.into() }));
        self
    }

    /// Any other host setting, as its YAML value (`"dns"`, `"tcp"`).
    pub fn with(mut self, key: impl Into<String>, value: Value) -> Host {
        self.0.insert(key.into(), value);
        self
    }

    fn kind(kind: &str) -> Host {
        let mut map = Map::new();
        map.insert(kind.into(), Value::Object(Map::new()));
        Host(map)
    }
}

/// An HTTP fault: one action, and when it applies.
#[derive(Debug, Clone)]
pub struct Fault(Map<String, Value>);

impl Fault {
    /// Answer with this status (`text/plain` body, shown by go as `server response:`).
    pub fn respond(status: u16) -> Fault {
        Fault::action("respond", json!({ "status": status }))
    }

    /// Wait before answering.
    pub fn delay(by: Duration) -> Fault {
        Fault::action("delay", Value::String(duration(by)))
    }

    /// Accept the request and never answer.
    pub fn hang() -> Fault {
        Fault::action("hang", json!({}))
    }

    /// Reset the connection before answering.
    pub fn reset() -> Fault {
        Fault::action("reset", json!({}))
    }

    /// Serve only the first `bytes` bytes, as a complete body.
    pub fn truncate(bytes: u64) -> Fault {
        Fault::action("truncate", json!({ "after_bytes": bytes }))
    }

    /// Any other action, as its YAML value.
    pub fn action(name: impl Into<String>, settings: Value) -> Fault {
        let mut map = Map::new();
        map.insert(name.into(), settings);
        Fault(map)
    }

    /// The body of a `respond`.
    pub fn body(mut self, text: impl Into<String>) -> Fault {
        if let Some(Value::Object(respond)) = self.0.get_mut("respond") {
            respond.insert("body".into(), Value::String(text.into()));
        }
        self
    }

    /// Only for URL paths matching this glob.
    pub fn path(self, glob: impl Into<String>) -> Fault {
        self.when("path", Value::String(glob.into()))
    }

    /// Only the `n`th matching request.
    pub fn nth(self, n: u64) -> Fault {
        self.when("nth", json!(n))
    }

    /// Only the first `n` matching requests, then heal.
    pub fn first(self, n: u64) -> Fault {
        self.when("first", json!(n))
    }

    /// Any other condition, as its YAML value (`"method"`, `"probability"`).
    pub fn when(mut self, key: impl Into<String>, value: Value) -> Fault {
        object(&mut self.0, "when").insert(key.into(), value);
        self
    }
}

/// The go command(s) a scenario runs.
#[derive(Debug, Clone)]
pub struct Run(Map<String, Value>);

impl Run {
    /// `go mod download -json -x` of these `path@version`s.
    pub fn modules<I: IntoIterator<Item = S>, S: Into<String>>(modules: I) -> Run {
        let list = modules.into_iter().map(|m| Value::String(m.into())).collect();
        Run(Map::from_iter([("modules".to_string(), Value::Array(list))]))
    }

    /// Any go command line (`build ./...`).
    pub fn go(command: impl Into<String>) -> Run {
        Run(Map::from_iter([("go".to_string(), Value::String(command.into()))]))
    }

    /// The deadline of each command.
    pub fn timeout(mut self, deadline: Duration) -> Run {
        self.0.insert("timeout".into(), Value::String(duration(deadline)));
        self
    }
}

/// What a run (or a recovery's rerun) must show.
#[derive(Debug, Clone, Default)]
pub struct Expect(Map<String, Value>);

impl Expect {
    /// go exits 0.
    pub fn success() -> Expect {
        Expect::exit("success")
    }

    /// go exits non-zero.
    pub fn failure() -> Expect {
        Expect::exit("failure")
    }

    /// go is still running at the deadline.
    pub fn timeout() -> Expect {
        Expect::exit("timeout")
    }

    /// The diagnosis: a category id (`proxy.server_error`), a
    /// [`Category`](crate::vocab::Category), or `none`.
    pub fn diagnosis(self, category: impl Into<String>) -> Expect {
        self.set("diagnosis", Value::String(category.into()))
    }

    /// A regex one of go's error messages must match.
    pub fn error(self, regex: impl Into<String>) -> Expect {
        self.set("error", Value::String(regex.into()))
    }

    /// Requests a fake must (or must not) have seen.
    pub fn request(mut self, request: Request) -> Expect {
        array(&mut self.0, "requests").push(Value::Object(request.0));
        self
    }

    /// Whether the downloaded content must verify against the fixtures.
    pub fn verified(self, verified: bool) -> Expect {
        self.set("verified", Value::Bool(verified))
    }

    /// Any other expectation, as its YAML value (`"stderr"`, `"dns"`, `"duration"`).
    pub fn with(self, key: impl Into<String>, value: Value) -> Expect {
        self.set(&key.into(), value)
    }

    fn exit(exit: &str) -> Expect {
        Expect(Map::from_iter([("exit".to_string(), Value::String(exit.into()))]))
    }

    fn set(mut self, key: &str, value: Value) -> Expect {
        self.0.insert(key.into(), value);
        self
    }
}

/// Requests to one host that an expectation counts.
#[derive(Debug, Clone)]
pub struct Request(Map<String, Value>);

impl Request {
    /// Requests to `host` (any path, any status; at least one unless counted).
    pub fn to(host: impl Into<String>) -> Request {
        Request(Map::from_iter([("host".to_string(), Value::String(host.into()))]))
    }

    /// Only paths matching this glob.
    pub fn path(mut self, glob: impl Into<String>) -> Request {
        self.0.insert("path".into(), Value::String(glob.into()));
        self
    }

    /// Only responses with this status (0: no response).
    pub fn status(mut self, status: u16) -> Request {
        self.0.insert("status".into(), json!(status));
        self
    }

    /// Exactly `n` of them.
    pub fn count(mut self, n: u64) -> Request {
        self.0.insert("count".into(), json!(n));
        self
    }

    /// At least `n`.
    pub fn at_least(mut self, n: u64) -> Request {
        self.0.insert("at_least".into(), json!(n));
        self
    }
}

/// A recovery: a playbook and/or steps, then the rerun's expectations.
#[derive(Debug, Clone, Default)]
pub struct Recover(Map<String, Value>);

impl Recover {
    /// Apply this playbook (built in, or `playbooks/<name>.yaml` near the base dir).
    pub fn playbook(name: impl Into<String>) -> Recover {
        Recover(Map::from_iter([("playbook".to_string(), Value::String(name.into()))]))
    }

    /// Steps only.
    pub fn steps() -> Recover {
        Recover::default()
    }

    /// A playbook parameter.
    pub fn with(mut self, param: impl Into<String>, value: impl Into<String>) -> Recover {
        object(&mut self.0, "with").insert(param.into(), Value::String(value.into()));
        self
    }

    /// Set an environment variable.
    pub fn set(self, name: impl Into<String>, value: impl Into<String>) -> Recover {
        let mut set = Map::new();
        set.insert(name.into(), Value::String(value.into()));
        self.step(json!({ "set": set }))
    }

    /// Run a go command in the work module (`mod tidy`).
    pub fn go(self, command: impl Into<String>) -> Recover {
        self.step(json!({ "go": command.into() }))
    }

    /// Empty the module cache.
    pub fn clean_cache(self) -> Recover {
        self.step(json!({ "clean_cache": {} }))
    }

    /// Any other step, as its YAML value (`json!({"netrc": {...}})`).
    pub fn step(mut self, step: Value) -> Recover {
        array(&mut self.0, "steps").push(step);
        self
    }

    /// What the rerun must show (default: success, verified).
    pub fn expect(mut self, expect: Expect) -> Recover {
        self.0.insert("expect".into(), Value::Object(expect.0));
        self
    }
}

impl From<crate::vocab::Category> for String {
    fn from(category: crate::vocab::Category) -> String {
        category.id().to_string()
    }
}

fn duration(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

fn object<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut().expect("made an object above")
}

fn array<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let entry = map.entry(key.to_string()).or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(Vec::new());
    }
    entry.as_array_mut().expect("made an array above")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Category;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn a_built_scenario_means_what_its_yaml_means() {
        let built = ScenarioBuilder::new("500 stops a comma list")
            .base_dir(fixtures())
            .modules("fixtures/modules")
            .host(
                "proxy.corp.example",
                Host::goproxy().fault(Fault::respond(500).body("upstream exploded").path("/corp.example/lib/@v/*")),
            )
            .host("mirror.corp.example", Host::goproxy())
            .env("GOPROXY", "https://proxy.corp.example,https://mirror.corp.example")
            .run(Run::modules(["corp.example/lib@v1.0.0"]).timeout(Duration::from_secs(20)))
            .expect(
                Expect::failure()
                    .diagnosis(Category::ProxyServerError)
                    .request(Request::to("mirror.corp.example").count(0)),
            )
            .recover(Recover::playbook("pipe-separated-goproxy"));
        let yaml = built.yaml();
        let scenario = built.build_with(&LoadContext::default()).unwrap();
        let path = fixtures().join("500-stops-a-comma-list.built.yaml");
        let from_yaml = crate::scenario::parse(&path, yaml, &LoadContext::default()).unwrap();
        assert_eq!(format!("{scenario:?}"), format!("{from_yaml:?}"));
        assert_eq!(scenario.expect.diagnosis, Some(Category::ProxyServerError));
        assert_eq!(scenario.hosts.len(), 2);
        assert_eq!(scenario.run[0].timeout, Duration::from_secs(20));
    }

    #[test]
    fn problems_are_located_in_the_generated_yaml() {
        let built = ScenarioBuilder::new("typo")
            .base_dir(fixtures())
            .host("proxy.corp.example", Host::goproxy().fault(Fault::respond(500).path("[")))
            .expect(Expect::failure().diagnosis("proxy.server_eror"));
        let error = built.build_with(&LoadContext::default()).unwrap_err().to_string();
        assert!(error.contains("typo.built.yaml:"), "{error}");
        assert!(error.contains("did you mean `proxy.server_error`?"), "{error}");
    }
}
