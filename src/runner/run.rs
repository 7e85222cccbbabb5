//! One scenario run as one unit: sandbox, world, go commands, recovery, verification,
//! cleanup. It reports back only through progress events and a serialisable
//! [`RunRecord`], so that it can run in a sealed child process; judging the record
//! (evidence, diagnosis, expectations) is the caller's business.

use std::collections::BTreeMap;
use std::time::Instant;

use tracing::Instrument as _;

use super::events::{Progress, ProgressSink};
use super::gocmd::{self, GoInvocation, GoOutcome};
use super::options::RunOptions;
use super::record::{CommandReport, KEPT_OUTPUT, KeptOutput, PhaseRecord, RecoveryRecord, RunRecord, WorldTraffic};
use super::recover::{self, ClientConfig};
use super::verify;
use crate::scenario::{GoStep, GoUser, RecoveryStep, SandboxDir, SandboxSetup, Scenario};
use crate::vocab::{Account, ExitExpectation, NetworkMode, Phase};
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
    /// Files could not be placed in HOME.
    #[error("cannot write the files in HOME: {0}")]
    Home(std::io::Error),
    /// The sandbox could not be given to go's user (or parts of it to root).
    #[error("cannot give the sandbox to go's user: {0}")]
    HandOver(std::io::Error),
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
    env.insert("GOCACHE".into(), config.gocache.display().to_string());
    for var in &config.unset {
        env.remove(var);
    }
    let sets_proxy = scenario_env.iter().any(|(k, _)| PROXY_VARS.contains(&k.as_str()));
    if let (Some(guard), false) = (map.guard, sets_proxy) {
        for var in PROXY_VARS {
            env.insert(var.to_string(), format!("http://{guard}"));
        }
    }
    let home = sandbox.paths.home.display().to_string();
    for (k, v) in scenario_env {
        env.insert(k.clone(), expand_home(&map.to_go(k, v), &home));
    }
    super::egress::confine(&mut env, map);
    env
}

/// `~/` at the start of a value or of a word in it names the run's HOME (`NETRC:
/// ~/.config/ci/netrc`, `GOAUTH: sh ~/bin/token`): scenarios cannot know where it is.
fn expand_home(value: &str, home: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, word) in value.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match word.strip_prefix("~/") {
            Some(rest) => {
                out.push_str(home);
                out.push('/');
                out.push_str(rest);
            }
            None => out.push_str(word),
        }
    }
    out
}

/// Who go runs as in this process for `scenario`: when this process is root (outside, or
/// in a sealed namespace that maps both), the unprivileged user unless the scenario asks
/// for root; otherwise this process's own user.
pub fn go_account(scenario: &Scenario) -> Account {
    let me = Account::current();
    match (me.is_root(), scenario.go_user) {
        (true, GoUser::Unprivileged) => Account::UNPRIVILEGED,
        _ => me,
    }
}

/// Gives the sandbox directories a scenario wants to belong to root back to root
/// (read and traverse for everyone, write for root only).
fn give_to_root(sandbox: &Sandbox, dirs: &[SandboxDir]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    for dir in dirs {
        let path = match dir {
            SandboxDir::Home => &sandbox.paths.home,
            SandboxDir::Gopath => &sandbox.paths.gopath,
            SandboxDir::BuildCache => &sandbox.paths.gocache,
        };
        crate::fsutil::chown_tree(path, Account::ROOT)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// Where go keeps its module cache given the sandbox variables a scenario leaves unset:
/// GOMODCACHE, else GOPATH's `pkg/mod`, else `$HOME/go/pkg/mod`.
fn effective_modcache(sandbox: &Sandbox, unset: &[String]) -> std::path::PathBuf {
    let gone = |var: &str| unset.iter().any(|v| v == var);
    match (gone("GOMODCACHE"), gone("GOPATH")) {
        (false, _) => sandbox.paths.modcache.clone(),
        (true, false) => sandbox.paths.gopath.join("pkg").join("mod"),
        (true, true) => sandbox.paths.home.join("go").join("pkg").join("mod"),
    }
}

/// The deadline of a recovery's go step: the run's (`run.timeout`; where the run's steps
/// set their own, the longest), so that a scenario about a hang waits for a recovery step
/// no longer than it waits for go itself.
pub fn recovery_step_timeout(scenario: &Scenario) -> std::time::Duration {
    scenario.run.iter().map(|s| s.timeout).max().unwrap_or(crate::scenario::validate::DEFAULT_TIMEOUT)
}

/// The steps of a recovery that were applied, and the go step that failed, if one did
/// (its command line and outcome).
struct Applied {
    steps: Vec<String>,
    failed: Option<(String, GoOutcome)>,
}

struct Ctx<'a> {
    /// When the scenario started: the zero of its timeline.
    started: Instant,
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
        if self.options.keep_sandbox {
            write_rerun_script(self.sandbox, &go_env, steps, &self.options.go.path);
        }
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
                user: Some(self.sandbox.owner()),
            };
            let began = Instant::now();
            let outcome = gocmd::run(&inv)
                .instrument(tracing::debug_span!(target: "modchaos::phase", "go", phase = %phase))
                .await
                .map_err(|source| RunError::Go { command: command.clone(), source })?;
            let _phase = tracing::debug_span!(target: "modchaos::phase", "record").entered();
            self.finished(phase, command, &outcome, began);
            last = Some(outcome);
        }
        last.ok_or(RunError::NoCommand)
    }

    /// Milliseconds from the scenario's start to `at`.
    fn offset_ms(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.started).as_secs_f64() * 1000.0
    }

    /// Reports and records a go command that ended (it started at `began`).
    fn finished(&mut self, phase: Phase, command: String, outcome: &GoOutcome, began: Instant) {
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
            start_ms: self.offset_ms(began),
            stdout: KeptOutput::keep(&self.world.map.from_go(&outcome.stdout), KEPT_OUTPUT),
            stderr: KeptOutput::keep(&self.world.map.from_go(&outcome.stderr), KEPT_OUTPUT),
        });
    }

    /// Applies a recovery's steps in order; go command steps run here, in the work
    /// module, as go's user, with the run's deadline, and must succeed: the first that
    /// does not ends the recovery (a recovery that failed, not a harness problem).
    async fn recover(&mut self, steps: &[RecoveryStep], config: &mut ClientConfig) -> Result<Applied, RunError> {
        let mut done = Vec::new();
        for step in steps {
            match step {
                RecoveryStep::Go(args) => {
                    let go_step = GoStep { args: args.clone(), timeout: recovery_step_timeout(self.scenario) };
                    let outcome = self.run_steps(std::slice::from_ref(&go_step), Phase::Recover, config).await?;
                    if !outcome.exit.success() {
                        return Ok(Applied { steps: done, failed: Some((go_step.command_line(), outcome)) });
                    }
                    done.push(step.describe());
                }
                _ => {
                    done.push(recover::apply(step, config, self.sandbox, &self.world.map).map_err(RunError::Recovery)?);
                }
            }
            if let Some(line) = done.last() {
                let line = crate::redact::Redactor::new(self.scenario.secrets()).text(line);
                tracing::info!(target: "modchaos::recovery", scenario = %self.scenario.name, step = %line, "recovery step");
            }
        }
        self.sandbox.write_trust(&self.world.pki.bundle(&config.trust)).map_err(RunError::Trust)?;
        Ok(Applied { steps: done, failed: None })
    }

    /// Integrity checks after a successful phase.
    async fn verify(&mut self, phase: &PhaseRecord, config: &ClientConfig) -> verify::Verification {
        let scenario = self.scenario;
        self.world.log.set_phase(Phase::Verify);
        let args: Vec<String> = scenario.run.iter().flat_map(|s| s.args.iter().cloned()).collect();
        let records = phase.module_records();
        let work_go_mod = std::fs::read_to_string(self.sandbox.paths.work.join("go.mod")).unwrap_or_default();
        let targets = verify::downloaded(&records, &args, &scenario.modules, &work_go_mod);
        let mut v = verify::check_cache(&targets, &records, &scenario.modules, &config.modcache);
        let go_env = go_env(self.sandbox, config, &self.world.map);
        self.sink.progress(&Progress::CommandStarted {
            scenario: scenario.name.clone(),
            phase: Phase::Verify,
            command: "go mod verify".into(),
        });
        let began = Instant::now();
        verify::go_mod_verify(
            &self.options.go.path,
            &targets,
            &go_env,
            &self.sandbox.paths.root.join("verify"),
            Some(&self.sandbox.paths.work),
            Some(self.sandbox.owner()),
            &mut v,
        )
        .await;
        if let Some(o) = v.go_mod_verify.clone() {
            self.finished(Phase::Verify, o.command.clone(), &o, began);
        }
        v
    }

    /// Gives the commands run so far back to `record`, with what the world saw so far: a
    /// run that stopped early.
    fn hand_back(self, record: &mut RunRecord) {
        record.traffic.push(self.traffic(false));
        record.commands = self.commands;
    }

    /// Everything the world saw so far, on the scenario's timeline.
    fn traffic(&self, steady: bool) -> WorldTraffic {
        WorldTraffic {
            steady,
            start_ms: self.offset_ms(self.world.log.started()),
            requests: self.world.log.snapshot(),
            dns: self.world.log.snapshot_dns(),
        }
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

/// The file in a kept sandbox that sets go's environment of the last phase run and
/// names its commands, for rerunning go by hand (`--keep`).
pub const RERUN_SCRIPT: &str = "rerun.sh";

/// Writes [`RERUN_SCRIPT`]: every variable go was given, the work directory, the go
/// commands (commented out: the world that answered them is gone once the run ends).
fn write_rerun_script(sandbox: &Sandbox, env: &BTreeMap<String, String>, steps: &[GoStep], go: &std::path::Path) {
    use std::fmt::Write as _;
    let mut script = String::from(
        "# Sourced by a shell: go's environment in this scenario's last phase, and its commands.\n\
         # The scenario's world (its fake hosts) stopped when the run ended.\n",
    );
    for (k, v) in env {
        let _ = writeln!(script, "export {k}={}", shell_words::quote(v));
    }
    let _ = writeln!(script, "cd {}", shell_words::quote(&sandbox.paths.work.display().to_string()));
    for step in steps {
        let _ = writeln!(script, "# {} {}", go.display(), shell_words::join(&step.args));
    }
    let _ = std::fs::write(sandbox.paths.root.join(RERUN_SCRIPT), script);
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
    record.started_at = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    let sandbox = {
        let _phase = tracing::debug_span!(target: "modchaos::phase", "sandbox_create").entered();
        match &options.sandbox_base {
            Some(base) => Sandbox::create_in(base),
            None => Sandbox::create(),
        }
    };
    match sandbox {
        Ok(mut sandbox) => {
            record.sandbox = Some(sandbox.paths.root.display().to_string());
            if let Err(reason) = run_in(started, scenario, options, mode, sink, &mut sandbox, &mut record).await {
                record.reason = Some(reason.to_string());
            }
            let root = sandbox.paths.root.clone();
            if options.keep_sandbox {
                // Kept for a person to look at; whoever judges the run removes it if it passed.
                sandbox.keep();
            } else {
                // Its path is gone when this returns; its files are deleted in the
                // background, before this process exits.
                let _phase = tracing::debug_span!(target: "modchaos::phase", "sandbox_remove").entered();
                match sandbox.remove_soon() {
                    Ok(()) => record.sandbox_removed = !root.exists(),
                    Err(e) => record.reason = Some(format!("could not remove the sandbox {}: {e}", root.display())),
                }
            }
        }
        Err(e) => record.reason = Some(format!("cannot create a sandbox: {e}")),
    }
    record.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    record
}

/// A world and a sandbox made ready for go: files written, hosts listening, the module
/// cache in the scenario's state, everything handed over to go's user.
struct Prepared {
    world: World,
    config: ClientConfig,
    /// Kept until the scenario ends: lock holders live, mounts stay.
    cache: CachePrepared,
}

async fn prepare(
    scenario: &Scenario,
    options: &RunOptions,
    mode: NetworkMode,
    sandbox: &mut Sandbox,
) -> Result<Prepared, RunError> {
    let phase = |name| tracing::debug_span!(target: "modchaos::phase", "prepare", step = name);
    phase("files").in_scope(|| {
        sandbox.write_work_files(&scenario.files).map_err(RunError::WorkModule)?;
        sandbox.write_home_files(&scenario.sandbox.home_files).map_err(RunError::Home)
    })?;
    let world = World::start_with(scenario, mode, &options.toxics)
        .instrument(phase("world_start"))
        .await
        .map_err(RunError::World)?;
    let mut unset = scenario.sandbox.unset.clone();
    // A go env file in HOME is read only when GOENV is left to its default, and what it
    // sets only where the environment does not (the scenario's own env still does).
    if scenario.sandbox.home_files.iter().any(|(path, _)| path == SandboxSetup::GO_ENV_FILE) {
        unset.push("GOENV".into());
        unset.extend(scenario.sandbox.go_env_file_vars());
        unset.sort();
        unset.dedup();
    }
    let config = ClientConfig {
        env: scenario.env.clone(),
        trust: scenario.trust.clone(),
        modcache: effective_modcache(sandbox, &unset),
        gocache: sandbox.paths.gocache.clone(),
        unset,
    };
    let go_user = go_account(scenario);
    let modcacherw = config.env.iter().any(|(k, v)| k == "GOFLAGS" && v.split_whitespace().any(|f| f == "-modcacherw"));
    let mut cache = phase("cache").in_scope(|| {
        CachePrepared::prepare(&scenario.cache, &scenario.modules, &config.modcache, go_user, modcacherw)
    })?;
    phase("trust").in_scope(|| sandbox.write_trust(&world.pki.bundle(&config.trust))).map_err(RunError::Trust)?;
    phase("hand_over").in_scope(|| sandbox.hand_over(go_user)).map_err(RunError::HandOver)?;
    phase("cache").in_scope(|| cache.finish(&scenario.cache, &config.modcache, go_user))?;
    phase("hand_over").in_scope(|| give_to_root(sandbox, &scenario.sandbox.root_owned)).map_err(RunError::HandOver)?;
    Ok(Prepared { world, config, cache })
}

/// The steady state: the same go commands against the same world without its faults,
/// in a sandbox of their own.
async fn steady_state(
    started: Instant,
    scenario: &Scenario,
    options: &RunOptions,
    mode: NetworkMode,
    sink: &dyn ProgressSink,
    record: &mut RunRecord,
) -> Result<PhaseRecord, RunError> {
    let calm = scenario.without_faults();
    let mut sandbox = match &options.sandbox_base {
        Some(base) => Sandbox::create_in(base),
        None => Sandbox::create(),
    }
    .map_err(RunError::WorkModule)?;
    let Prepared { mut world, config, cache } = prepare(&calm, options, mode, &mut sandbox).await?;
    let mut ctx =
        Ctx { started, scenario: &calm, options, sink, sandbox: &sandbox, world: &world, commands: Vec::new() };
    let outcome = ctx.run_steps(&calm.run, Phase::Steady, &config).await;
    record.commands.append(&mut ctx.commands);
    record.traffic.push(ctx.traffic(true));
    let phase = outcome.map(|o| ctx.phase_record(o, Phase::Steady, &config));
    drop(cache);
    world.stop().await;
    let _ = sandbox.remove_soon();
    phase
}

async fn run_in(
    started: Instant,
    scenario: &Scenario,
    options: &RunOptions,
    mode: NetworkMode,
    sink: &dyn ProgressSink,
    sandbox: &mut Sandbox,
    record: &mut RunRecord,
) -> Result<(), RunError> {
    if scenario.steady_state {
        record.steady = Some(steady_state(started, scenario, options, mode, sink, record).await?);
    }
    let Prepared { mut world, mut config, cache } = prepare(scenario, options, mode, sandbox).await?;
    record.hosts = world.map.describe();
    record.cache = cache.descriptions.clone();
    let sandbox: &Sandbox = sandbox;
    let commands = std::mem::take(&mut record.commands);
    let mut ctx = Ctx { started, scenario, options, sink, sandbox, world: &world, commands };
    let outcome = match ctx.run_steps(&scenario.run, Phase::Run, &config).await {
        Ok(o) => o,
        Err(e) => {
            ctx.hand_back(record);
            return Err(e);
        }
    };
    let phase = tracing::debug_span!(target: "modchaos::phase", "record")
        .in_scope(|| ctx.phase_record(outcome, Phase::Run, &config));
    if scenario.expect.verified && phase.outcome.exit.kind() == ExitExpectation::Success {
        record.verification = Some(ctx.verify(&phase, &config).await);
    }
    record.run = Some(phase);

    if let Some(recovery) = &scenario.recover {
        let steps_start = ctx.offset_ms(Instant::now());
        let applied = match ctx.recover(&recovery.steps, &mut config).await {
            Ok(applied) => applied,
            Err(e) => {
                ctx.hand_back(record);
                return Err(e);
            }
        };
        let steps_end = ctx.offset_ms(Instant::now());
        let (rerun, failed_step, verification) = match applied.failed {
            // The recovery failed at a go step: no rerun; the step is what the world saw.
            Some((command, outcome)) => (ctx.phase_record(outcome, Phase::Recover, &config), Some(command), None),
            None => {
                let run = recovery.run.as_ref().unwrap_or(&scenario.run);
                let outcome = match ctx.run_steps(run, Phase::Recover, &config).await {
                    Ok(o) => o,
                    Err(e) => {
                        ctx.hand_back(record);
                        return Err(e);
                    }
                };
                let rerun = ctx.phase_record(outcome, Phase::Recover, &config);
                let verified = recovery.expect.verified && rerun.outcome.exit.kind() == ExitExpectation::Success;
                let verification = if verified { Some(ctx.verify(&rerun, &config).await) } else { None };
                (rerun, None, verification)
            }
        };
        record.recovery = Some(RecoveryRecord {
            playbook: recovery.playbook.clone(),
            steps: applied.steps,
            rerun,
            failed_step,
            verification,
            start_ms: steps_start,
            end_ms: steps_end,
        });
    }
    let world_start_ms = ctx.offset_ms(world.log.started());
    record.commands = ctx.commands;
    let problems = async {
        drop(cache);
        world.stop().await
    }
    .instrument(tracing::debug_span!(target: "modchaos::phase", "world_stop"))
    .await;
    // After the stop: exchanges the world cut short are finished, with their notes.
    record.traffic.push(WorldTraffic {
        steady: false,
        start_ms: world_start_ms,
        requests: world.log.snapshot(),
        dns: world.log.snapshot_dns(),
    });
    if !problems.is_empty() {
        return Err(RunError::Toxiproxy(problems));
    }
    Ok(())
}
