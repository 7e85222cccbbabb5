//! One scenario run as one unit: sandbox, world, go commands, recovery, verification,
//! cleanup. It reports back only through progress events and a serialisable
//! [`RunRecord`], so that it can run in a sealed child process; judging the record
//! (evidence, diagnosis, expectations) is the caller's business.

use std::collections::BTreeMap;
use std::time::Instant;

use super::events::{Progress, ProgressSink};
use super::gocmd::{self, GoInvocation, GoOutcome};
use super::options::RunOptions;
use super::record::{CommandReport, PhaseRecord, RecoveryRecord, RunRecord};
use super::recover::{self, ClientConfig};
use super::verify;
use crate::scenario::{GoStep, Scenario};
use crate::vocab::{ExitExpectation, NetworkMode, Phase};
use crate::world::cache::CachePrepared;
use crate::world::sandbox::Sandbox;
use crate::world::{HostMap, World};

/// What stopped the harness before a run ended (the run's record keeps its text as the
/// reason the scenario failed).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A go command could not be started.
    #[error("cannot run `{command}`: {source}")]
    Go {
        /// The command line.
        command: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The scenario has no go command.
    #[error("the scenario has no go command")]
    NoCommand,
    /// The work module could not be written.
    #[error("cannot write the work module: {0}")]
    WorkModule(std::io::Error),
    /// The fakes could not start.
    #[error("cannot start the fake hosts: {0}")]
    World(std::io::Error),
    /// The module cache could not be put into the scenario's state.
    #[error("cannot prepare the module cache: {0}")]
    Cache(#[from] crate::world::cache::CacheSetupError),
    /// go's trust bundle could not be written.
    #[error("cannot write the trust bundle: {0}")]
    Trust(std::io::Error),
    /// A recovery step could not be applied.
    #[error("cannot apply the recovery: {0}")]
    Recovery(std::io::Error),
    /// The toxiproxy server failed the world.
    #[error("the toxiproxy backend failed: {}", .0.join("; "))]
    Toxiproxy(Vec<String>),
}

/// Proxy variables: when a scenario sets none, all point at the world's guard.
const PROXY_VARS: &[&str] = &["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

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
    super::egress::confine(&mut env, map);
    env
}

struct Ctx<'a> {
    scenario: &'a Scenario,
    options: &'a RunOptions,
    sink: &'a dyn ProgressSink,
    sandbox: &'a Sandbox,
    world: &'a World,
    commands: Vec<CommandReport>,
}

impl Ctx<'_> {
    async fn run_steps(
        &mut self,
        steps: &[GoStep],
        phase: Phase,
        config: &ClientConfig,
    ) -> Result<GoOutcome, RunError> {
        self.world.log.set_phase(phase);
        let go_env = go_env(self.sandbox, config, &self.world.map);
        let mut last = None;
        for step in steps {
            let command = step.command_line();
            self.sink.progress(&Progress::CommandStarted {
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
            let outcome = gocmd::run(&inv).await.map_err(|source| RunError::Go { command: command.clone(), source })?;
            self.finished(phase, command, &outcome);
            last = Some(outcome);
        }
        last.ok_or(RunError::NoCommand)
    }

    /// Reports and records a go command that ended.
    fn finished(&mut self, phase: Phase, command: String, outcome: &GoOutcome) {
        self.sink.progress(&Progress::CommandFinished {
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
    }

    /// Integrity checks after a successful phase.
    async fn verify(&mut self, phase: &PhaseRecord, config: &ClientConfig) -> verify::Verification {
        let scenario = self.scenario;
        self.world.log.set_phase(Phase::Verify);
        let args: Vec<String> = scenario.run.iter().flat_map(|s| s.args.iter().cloned()).collect();
        let records = phase.module_records();
        let targets = verify::downloaded(&records, &args, &scenario.modules);
        let mut v = verify::check_cache(&targets, &records, &scenario.modules, &config.modcache);
        let go_env = go_env(self.sandbox, config, &self.world.map);
        self.sink.progress(&Progress::CommandStarted {
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
        if let Some(o) = v.go_mod_verify.clone() {
            self.finished(Phase::Verify, o.command.clone(), &o);
        }
        v
    }

    /// What the world saw during `phase`, with the last go command's outcome.
    fn phase_record(&self, outcome: GoOutcome, phase: Phase, config: &ClientConfig) -> PhaseRecord {
        let requests = self.world.log.snapshot().into_iter().filter(|r| r.phase == phase).collect();
        let dns = self.world.log.snapshot_dns().into_iter().filter(|q| q.phase == phase).collect();
        let env_changes =
            if phase == Phase::Recover { recover::env_changes(&self.scenario.env, &config.env) } else { Vec::new() };
        PhaseRecord {
            outcome,
            hosts: self.world.map.clone(),
            requests,
            dns,
            env: config.env.clone(),
            go_version: self.options.go.version().ok(),
            env_changes,
        }
    }
}

/// Runs `scenario` in this process, in `mode` (sealed only inside a sealed child, whose
/// namespaces are already set up).
pub async fn run_here(
    scenario: &Scenario,
    options: &RunOptions,
    mode: NetworkMode,
    sink: &dyn ProgressSink,
) -> RunRecord {
    let started = Instant::now();
    sink.progress(&Progress::ScenarioStarted {
        name: scenario.name.clone(),
        file: scenario.file.display().to_string(),
    });
    let mut record = RunRecord::new(&scenario.name, &scenario.file);
    record.network = Some(mode);
    let sandbox = match &options.sandbox_base {
        Some(base) => Sandbox::create_in(base),
        None => Sandbox::create(),
    };
    match sandbox {
        Ok(sandbox) => {
            record.sandbox = Some(sandbox.paths.root.display().to_string());
            if let Err(reason) = run_in(scenario, options, mode, sink, &sandbox, &mut record).await {
                record.reason = Some(reason.to_string());
            }
            let root = sandbox.paths.root.clone();
            match sandbox.remove() {
                Ok(()) => record.sandbox_removed = !root.exists(),
                Err(e) => record.reason = Some(format!("could not remove the sandbox {}: {e}", root.display())),
            }
        }
        Err(e) => record.reason = Some(format!("cannot create a sandbox: {e}")),
    }
    record.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    record
}

async fn run_in(
    scenario: &Scenario,
    options: &RunOptions,
    mode: NetworkMode,
    sink: &dyn ProgressSink,
    sandbox: &Sandbox,
    record: &mut RunRecord,
) -> Result<(), RunError> {
    sandbox.write_work_files(&scenario.files).map_err(RunError::WorkModule)?;
    let mut world = World::start_with(scenario, mode, &options.toxics).await.map_err(RunError::World)?;
    record.hosts = world.map.describe();
    let mut ctx = Ctx { scenario, options, sink, sandbox, world: &world, commands: Vec::new() };

    let mut config = ClientConfig {
        env: scenario.env.clone(),
        trust: scenario.trust.clone(),
        modcache: sandbox.paths.modcache.clone(),
    };
    // Kept until the scenario ends: lock holders live, mounts stay.
    let _cache = CachePrepared::apply(&scenario.cache, &scenario.modules, &config.modcache)?;
    record.cache = _cache.descriptions.clone();
    sandbox.write_trust(&world.pki.bundle(&config.trust)).map_err(RunError::Trust)?;
    let outcome = match ctx.run_steps(&scenario.run, Phase::Run, &config).await {
        Ok(o) => o,
        Err(e) => {
            record.commands = ctx.commands;
            return Err(e);
        }
    };
    let phase = ctx.phase_record(outcome, Phase::Run, &config);
    if scenario.expect.verified && phase.outcome.exit.kind() == ExitExpectation::Success {
        record.verification = Some(ctx.verify(&phase, &config).await);
    }
    record.run = Some(phase);

    if let Some(recovery) = &scenario.recover {
        let steps = match recover::apply(&recovery.steps, &mut config, sandbox, &world.map) {
            Ok(steps) => steps,
            Err(e) => {
                record.commands = ctx.commands;
                return Err(RunError::Recovery(e));
            }
        };
        if let Err(e) = sandbox.write_trust(&world.pki.bundle(&config.trust)) {
            record.commands = ctx.commands;
            return Err(RunError::Trust(e));
        }
        let outcome = match ctx.run_steps(&scenario.run, Phase::Recover, &config).await {
            Ok(o) => o,
            Err(e) => {
                record.commands = ctx.commands;
                return Err(e);
            }
        };
        let rerun = ctx.phase_record(outcome, Phase::Recover, &config);
        let verification = if recovery.expect.verified && rerun.outcome.exit.kind() == ExitExpectation::Success {
            Some(ctx.verify(&rerun, &config).await)
        } else {
            None
        };
        record.recovery = Some(RecoveryRecord { playbook: recovery.playbook.clone(), steps, rerun, verification });
    }
    record.commands = ctx.commands;
    let problems = world.stop().await;
    if !problems.is_empty() {
        return Err(RunError::Toxiproxy(problems));
    }
    Ok(())
}
