//! One scenario run as one unit: sandbox, world, go commands, evidence, diagnosis,
//! expectations, recovery, verification, cleanup. It reports back only through events
//! and a serialisable report, so it can later move into a child process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::events::{Event, EventSink};
use super::report::{CommandReport, PhaseReport, RecoveryReport, ScenarioReport, Status};
use crate::diagnose::diagnose;
use crate::evidence::Evidence;
use crate::expect::{self, Failure};
use crate::fake::Phase;
use crate::fault::toxiproxy::ToxicBackend;
use crate::gobin::GoBinary;
use crate::gocmd::{self, GoInvocation, GoOutcome};
use crate::recover::{self, CachePrepared, ClientConfig};
use crate::sandbox::Sandbox;
use crate::scenario::{GoStep, NetworkNeed, Scenario};
use crate::sealed::SealedSupport;
use crate::verify;
use crate::vocab::{ExitExpectation, NetworkMode};
use crate::world::{HostMap, World};

/// Proxy variables: when a scenario sets none, all point at the world's guard.
const PROXY_VARS: &[&str] = &["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

/// What a scenario run needs besides the scenario.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The go command.
    pub go: GoBinary,
    /// Where scenarios run.
    pub network: Network,
    /// Where TCP toxics are applied: in process (default), or by a toxiproxy server,
    /// in which case scenarios with toxics run in open mode only.
    pub toxics: ToxicBackend,
    /// Where sandboxes are made (default [`crate::fsutil::base_dir`]); a sealed child is
    /// given a directory its parent owns and removes.
    pub sandbox_base: Option<PathBuf>,
}

/// The network scenarios get on this machine.
#[derive(Debug, Clone)]
pub enum Network {
    /// Open mode only; scenarios that need sealed networking are skipped. `why` says
    /// why sealed mode is not used (unavailable, or not asked for).
    Open {
        /// The reason given when skipping.
        why: String,
    },
    /// Sealed runs in child processes (open mode still serves scenarios that insist on it).
    Sealed {
        /// How to start them.
        support: Arc<SealedSupport>,
        /// `$(go env GOROOT)`, passed to each child.
        goroot: Option<PathBuf>,
    },
}

impl RunOptions {
    /// Options for open mode only.
    pub fn open(go: GoBinary, why: &str) -> RunOptions {
        RunOptions {
            go,
            network: Network::Open { why: why.to_string() },
            toxics: ToxicBackend::InProcess,
            sandbox_base: None,
        }
    }

    /// Sealed mode, if `helper` (a program whose `main` calls
    /// [`crate::sealed::dispatch_child`]) can enter namespaces here; the error says why not.
    pub fn sealed(go: GoBinary, helper: &Path) -> Result<RunOptions, String> {
        let support = crate::sealed::probe(helper)?;
        let goroot = go.goroot().ok();
        Ok(RunOptions {
            go,
            network: Network::Sealed { support: Arc::new(support), goroot },
            toxics: ToxicBackend::InProcess,
            sandbox_base: None,
        })
    }

    /// Sealed mode where available, else open mode; the reason for falling back is also
    /// returned, to be said once.
    pub fn auto(go: GoBinary, helper: &Path) -> (RunOptions, Option<String>) {
        match RunOptions::sealed(go.clone(), helper) {
            Ok(options) => (options, None),
            Err(why) => {
                let why = format!("sealed networking is unavailable here ({why})");
                (RunOptions::open(go, &why), Some(why))
            }
        }
    }

    /// The same options with TCP toxics applied by `toxics`.
    pub fn with_toxics(self, toxics: ToxicBackend) -> RunOptions {
        RunOptions { toxics, ..self }
    }

    /// One line saying how scenarios get their network (and their TCP toxics, when not
    /// in process).
    pub fn describe_network(&self) -> String {
        let network = match &self.network {
            Network::Open { why } => format!("open (127.0.0.1 ports; {why})"),
            Network::Sealed { support, .. } => format!(
                "sealed (own user, network, mount, uts{} namespaces per scenario)",
                if support.with_pid { ", pid" } else { "" }
            ),
        };
        match &self.toxics {
            ToxicBackend::InProcess => network,
            ToxicBackend::Toxiproxy(client) => format!(
                "{network}; TCP toxics through toxiproxy at {} (scenarios with toxics run in open mode)",
                client.url()
            ),
        }
    }

    /// The mode this machine would use for scenarios that accept either.
    pub fn default_mode(&self) -> NetworkMode {
        match self.network {
            Network::Open { .. } => NetworkMode::Open,
            Network::Sealed { .. } => NetworkMode::Sealed,
        }
    }
}

/// The environment go gets: the sandbox's hermetic base (with the module cache the
/// configuration names), the guard proxy, then the scenario's variables with declared
/// hosts mapped to their addresses.
pub fn go_env(sandbox: &Sandbox, config: &ClientConfig, map: &HostMap) -> BTreeMap<String, String> {
    let scenario_env = &config.env;
    let mut env = sandbox.base_env();
    env.insert("GOMODCACHE".into(), config.modcache.display().to_string());
    let sets_proxy = scenario_env.iter().any(|(k, _)| PROXY_VARS.contains(&k.as_str()));
    if let (Some(guard), false) = (map.guard, sets_proxy) {
        for var in PROXY_VARS {
            env.insert(var.to_string(), format!("http://{guard}"));
        }
    }
    for (k, v) in scenario_env {
        let value = map.to_go(k, v);
        if k == "GOFLAGS" {
            let flags = if value.split_whitespace().any(|f| f == "-modcacherw") {
                value
            } else {
                format!("{value} -modcacherw")
            };
            env.insert(k.clone(), flags.trim().to_string());
        } else {
            env.insert(k.clone(), value);
        }
    }
    env
}

struct Ctx<'a> {
    scenario: &'a Scenario,
    options: &'a RunOptions,
    sink: &'a dyn EventSink,
    sandbox: &'a Sandbox,
    world: &'a World,
    commands: Vec<CommandReport>,
}

impl Ctx<'_> {
    async fn run_steps(&mut self, steps: &[GoStep], phase: Phase, config: &ClientConfig) -> Result<GoOutcome, String> {
        self.world.log.set_phase(phase);
        let go_env = go_env(self.sandbox, config, &self.world.map);
        let mut last = None;
        for step in steps {
            let command = step.command_line();
            self.sink.emit(&Event::CommandStarted {
                scenario: self.scenario.name.clone(),
                phase,
                command: command.clone(),
            });
            let inv = GoInvocation {
                go: &self.options.go.path,
                args: &step.args,
                env: &go_env,
                cwd: &self.sandbox.paths.work,
                timeout: step.timeout,
                inspect_cache: Some(&config.modcache),
            };
            let outcome = gocmd::run(&inv).await.map_err(|e| format!("cannot run `{command}`: {e}"))?;
            self.sink.emit(&Event::CommandFinished {
                scenario: self.scenario.name.clone(),
                phase,
                command: command.clone(),
                exit: outcome.exit,
                duration_ms: outcome.duration_ms,
            });
            self.commands.push(CommandReport {
                phase,
                command,
                exit: outcome.exit,
                duration_ms: outcome.duration_ms,
                pid: outcome.pid,
            });
            last = Some(outcome);
        }
        last.ok_or_else(|| "the scenario has no go command".to_string())
    }

    /// Integrity checks after a successful phase; problems become failures.
    async fn verify(
        &mut self,
        evidence: &Evidence,
        config: &ClientConfig,
        report: &mut ScenarioReport,
    ) -> verify::Verification {
        let scenario = self.scenario;
        self.world.log.set_phase(Phase::Verify);
        let args: Vec<String> = scenario.run.iter().flat_map(|s| s.args.iter().cloned()).collect();
        let targets = verify::downloaded(evidence, &args, &scenario.modules);
        let mut v = verify::check_cache(&targets, evidence, &scenario.modules, &config.modcache);
        let go_env = go_env(self.sandbox, config, &self.world.map);
        self.sink.emit(&Event::CommandStarted {
            scenario: scenario.name.clone(),
            phase: Phase::Verify,
            command: "go mod verify".into(),
        });
        verify::go_mod_verify(
            &self.options.go.path,
            &targets,
            &go_env,
            &self.sandbox.paths.root.join("verify"),
            &mut v,
        )
        .await;
        if let Some(o) = &v.go_mod_verify {
            self.sink.emit(&Event::CommandFinished {
                scenario: scenario.name.clone(),
                phase: Phase::Verify,
                command: o.command.clone(),
                exit: o.exit,
                duration_ms: o.duration_ms,
            });
            self.commands.push(CommandReport {
                phase: Phase::Verify,
                command: o.command.clone(),
                exit: o.exit,
                duration_ms: o.duration_ms,
                pid: o.pid,
            });
        }
        for problem in &v.problems {
            report.failures.push(Failure {
                phase: Phase::Verify,
                what: "integrity".into(),
                expected: "content equal to the fixture".into(),
                got: problem.clone(),
            });
        }
        v
    }

    fn evidence(&self, outcome: &GoOutcome, phase: Phase, config: &ClientConfig) -> Evidence {
        let requests = self.world.log.snapshot().into_iter().filter(|r| r.phase == phase).collect();
        let dns = self.world.log.snapshot_dns().into_iter().filter(|q| q.phase == phase).collect();
        let mut evidence = Evidence::from_run(outcome, &self.world.map, requests, dns, config.env.clone());
        evidence.go_version = self.options.go.version().ok();
        if phase == Phase::Recover {
            evidence.env_changes = Evidence::env_diff(&self.scenario.env, &config.env);
        }
        evidence
    }
}

/// Runs `scenario` to the end and reports: in a sealed child where the options allow
/// it, in this process in open mode otherwise, or skipped (with the reason) when it
/// needs sealed networking that is not available. With the toxiproxy backend, a
/// scenario with TCP toxics runs in open mode, or is skipped when it needs sealed mode
/// or has a toxic toxiproxy cannot express; scenarios without toxics are not concerned.
/// Never panics on a harness problem: it becomes a failed report with the reason.
pub async fn run_scenario(scenario: &Scenario, options: &RunOptions, sink: &dyn EventSink) -> ScenarioReport {
    if let (Some(min), Some(have)) = (scenario.min_go, options.go.release())
        && have < min
    {
        let reason = format!("needs go {}.{} or newer (this is go {}.{})", min.0, min.1, have.0, have.1);
        return skip(scenario, sink, reason);
    }
    let has_toxics = scenario.hosts.iter().any(|h| !h.toxics.is_empty());
    if let (ToxicBackend::Toxiproxy(client), true) = (&options.toxics, has_toxics) {
        let reason = match (crate::fault::toxiproxy::unsupported(scenario.hosts.iter().map(|h| (h.name.as_str(), h.toxics.as_slice()))), &scenario.network) {
            (Some(why), _) => Some(format!("toxiproxy cannot express it: {why}")),
            (None, NetworkNeed::Sealed(need)) => Some(format!(
                "needs sealed networking ({need}), but the toxiproxy backend ({}) works in open mode only: toxiproxy's server runs outside modchaos's sealed namespaces",
                client.url()
            )),
            (None, _) => None,
        };
        return match reason {
            Some(reason) => skip(scenario, sink, reason),
            None => run_here(scenario, options, NetworkMode::Open, sink).await,
        };
    }
    match (&scenario.network, &options.network) {
        (NetworkNeed::Sealed(need), Network::Open { why }) => {
            skip(scenario, sink, format!("needs sealed networking ({need}), but {why}"))
        }
        (NetworkNeed::Open(_), _) | (_, Network::Open { .. }) => {
            run_here(scenario, options, NetworkMode::Open, sink).await
        }
        (_, Network::Sealed { support, goroot }) => {
            crate::sealed::run_in_child(scenario, &options.go, goroot.clone(), support, sink).await
        }
    }
}

/// Reports `scenario` as skipped for `reason`.
fn skip(scenario: &Scenario, sink: &dyn EventSink, reason: String) -> ScenarioReport {
    sink.emit(&Event::ScenarioStarted { name: scenario.name.clone(), file: scenario.file.display().to_string() });
    let report = ScenarioReport::skipped(&scenario.name, &scenario.file, reason);
    sink.emit(&Event::ScenarioFinished { report: Box::new(report.clone()) });
    report
}

/// Runs `scenario` in this process, in `mode` (sealed only inside a sealed child, whose
/// namespaces are already set up).
pub async fn run_here(
    scenario: &Scenario,
    options: &RunOptions,
    mode: NetworkMode,
    sink: &dyn EventSink,
) -> ScenarioReport {
    let started = Instant::now();
    sink.emit(&Event::ScenarioStarted { name: scenario.name.clone(), file: scenario.file.display().to_string() });
    let mut report = ScenarioReport::empty(&scenario.name, &scenario.file);
    report.network = Some(mode);
    let sandbox = match &options.sandbox_base {
        Some(base) => Sandbox::create_in(base),
        None => Sandbox::create(),
    };
    match sandbox {
        Ok(sandbox) => {
            report.sandbox = Some(sandbox.paths.root.display().to_string());
            if let Err(reason) = run_in(scenario, options, mode, sink, &sandbox, &mut report).await {
                report.reason = Some(reason);
            }
            let root = sandbox.paths.root.clone();
            match sandbox.remove() {
                Ok(()) => report.sandbox_removed = !root.exists(),
                Err(e) => report.reason = Some(format!("could not remove the sandbox {}: {e}", root.display())),
            }
        }
        Err(e) => report.reason = Some(format!("cannot create a sandbox: {e}")),
    }
    report.status = if report.reason.is_none() && report.failures.is_empty() { Status::Passed } else { Status::Failed };
    report.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    sink.emit(&Event::ScenarioFinished { report: Box::new(report.clone()) });
    report
}

async fn run_in(
    scenario: &Scenario,
    options: &RunOptions,
    mode: NetworkMode,
    sink: &dyn EventSink,
    sandbox: &Sandbox,
    report: &mut ScenarioReport,
) -> Result<(), String> {
    sandbox.write_work_files(&scenario.files).map_err(|e| format!("cannot write the work module: {e}"))?;
    let mut world = World::start_with(scenario, mode, &options.toxics)
        .await
        .map_err(|e| format!("cannot start the fake hosts: {e}"))?;
    report.hosts = world.map.describe();
    let mut ctx = Ctx { scenario, options, sink, sandbox, world: &world, commands: Vec::new() };

    let mut config = ClientConfig {
        env: scenario.env.clone(),
        trust: scenario.trust.clone(),
        modcache: sandbox.paths.modcache.clone(),
    };
    // Kept until the scenario ends: lock holders live, mounts stay.
    let _cache = CachePrepared::apply(&scenario.cache, &scenario.modules, &config.modcache)
        .map_err(|e| format!("cannot prepare the module cache: {e}"))?;
    report.cache = _cache.descriptions.clone();
    sandbox.write_trust(&world.pki.bundle(&config.trust)).map_err(|e| format!("cannot write the trust bundle: {e}"))?;
    let result = ctx.run_steps(&scenario.run, Phase::Run, &config).await;
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            report.commands = ctx.commands;
            return Err(e);
        }
    };
    let evidence = ctx.evidence(&outcome, Phase::Run, &config);
    let diagnosis = diagnose(&evidence);
    report.failures.extend(expect::check(&scenario.expect, &evidence, &diagnosis, Phase::Run));
    if scenario.expect.verified && outcome.exit.kind() == ExitExpectation::Success {
        report.verification = Some(ctx.verify(&evidence, &config, report).await);
    }
    report.run = Some(PhaseReport { evidence, diagnosis });

    if let Some(recovery) = &scenario.recover {
        let failures_before = report.failures.len();
        let steps = recover::apply(&recovery.steps, &mut config, sandbox, &world.map)
            .map_err(|e| format!("cannot apply the recovery: {e}"))?;
        sandbox
            .write_trust(&world.pki.bundle(&config.trust))
            .map_err(|e| format!("cannot write the trust bundle: {e}"))?;
        let outcome = ctx.run_steps(&scenario.run, Phase::Recover, &config).await;
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                report.commands = ctx.commands;
                return Err(e);
            }
        };
        let evidence = ctx.evidence(&outcome, Phase::Recover, &config);
        let diagnosis = diagnose(&evidence);
        report.failures.extend(expect::check(&recovery.expect, &evidence, &diagnosis, Phase::Recover));
        let verification = if recovery.expect.verified && outcome.exit.kind() == ExitExpectation::Success {
            Some(ctx.verify(&evidence, &config, report).await)
        } else {
            None
        };
        let recovered = report.failures.len() == failures_before;
        report.recovery = Some(RecoveryReport {
            playbook: recovery.playbook.clone(),
            steps,
            rerun: PhaseReport { evidence, diagnosis },
            verification,
            recovered,
        });
    }
    report.commands = ctx.commands;
    let problems = world.stop().await;
    if !problems.is_empty() {
        return Err(format!("the toxiproxy backend failed: {}", problems.join("; ")));
    }
    Ok(())
}
