//! A judged scenario report told as a journal record: every internal type mapped onto
//! the journal's own, times moved onto the scenario's timeline, and every text masked
//! (`crate::redact`: credentials in URLs, tokens, `.netrc` passwords, and the scenario's
//! own secrets) — go's output and request paths included, in the journal and in the HTML
//! report made from it.

use super::record::*;
use crate::diagnose::Diagnosis;
use crate::evidence::Evidence;
use crate::judge::report::{KeptOutput, WorldTraffic};
use crate::judge::{PhaseReport, ScenarioReport, Status};
use crate::runner::verify::Verification;
use crate::vocab::{Exit, Phase};
use crate::world::HostMap;

/// The journal record of `report`, every text in it masked.
pub fn scenario_record(report: &ScenarioReport) -> ScenarioRecord {
    let record = unmasked(report);
    let redactor = report.redactor();
    // Every string of the record, wherever it is: a field added later cannot leak.
    let masked = serde_json::to_value(&record).map(|mut value| {
        redactor.json(&mut value);
        value
    });
    match masked.and_then(serde_json::from_value) {
        Ok(masked) => masked,
        // Not expected (the types read back what they write, times are finite): keep
        // the summary, masked field by field, and say what happened.
        Err(e) => ScenarioRecord {
            reason: Some(format!("modchaos could not mask this journal record ({e}): its details are left out")),
            diagnosis_summary: record.diagnosis_summary.as_deref().map(|s| redactor.text(s)),
            name: redactor.text(&record.name),
            file: redactor.text(&record.file),
            playbook: record.playbook.as_deref().map(|s| redactor.text(s)),
            commands: record.commands.iter().map(|c| redactor.text(c)).collect(),
            failures: record.failures.iter().map(|f| redactor.text(f)).collect(),
            hosts: Vec::new(),
            go_commands: Vec::new(),
            requests: Vec::new(),
            dns: Vec::new(),
            steady: None,
            run: None,
            verification: None,
            recovery: None,
            unmet: Vec::new(),
            leads: Vec::new(),
            cache: Vec::new(),
            ..record
        },
    }
}

/// The record of `report` as it is, secrets included.
fn unmasked(report: &ScenarioReport) -> ScenarioRecord {
    let diagnosis = report.diagnosis();
    ScenarioRecord {
        journal_version: JOURNAL_VERSION,
        name: report.name.clone(),
        file: report.file.clone(),
        status: match report.status {
            Status::Passed => RunStatus::Passed,
            Status::Failed => RunStatus::Failed,
            Status::Skipped => RunStatus::Skipped,
        },
        reason: report.reason.clone(),
        diagnosis: diagnosis.map(|d| d.category.id().to_string()),
        diagnosis_summary: diagnosis.map(|d| d.summary.clone()),
        recovered: report.recovered(),
        playbook: report.recovery.as_ref().and_then(|r| r.playbook.clone()),
        duration_ms: report.duration_ms as u64,
        network: report.network.map(|n| n.name().to_string()),
        go_version: report.go_version.clone(),
        seed: report.seed,
        commands: report.commands.iter().map(|c| c.command.clone()).collect(),
        failures: report
            .failures
            .iter()
            .map(|f| format!("[{}] {}: expected {}, got {}", f.phase, f.what, f.expected, f.got))
            .collect(),
        started_at: report.started_at.clone(),
        hosts: hosts(report),
        go_commands: report
            .commands
            .iter()
            .map(|c| GoCommandEntry {
                phase: phase(c.phase),
                command: c.command.clone(),
                start_ms: ms(c.start_ms),
                duration_ms: ms(c.duration_ms),
                exit: exit(c.exit),
                pid: c.pid,
                stdout: output(&c.stdout),
                stderr: output(&c.stderr),
            })
            .collect(),
        requests: report.traffic.iter().flat_map(requests).collect(),
        dns: report.traffic.iter().flat_map(dns).collect(),
        steady: report.steady.as_ref().map(phase_entry),
        run: report.run.as_ref().map(phase_entry),
        verification: report.verification.as_ref().map(verification),
        recovery: report.recovery.as_ref().map(|r| RecoveryEntry {
            playbook: r.playbook.clone(),
            steps: r.steps.clone(),
            start_ms: ms(r.start_ms),
            end_ms: ms(r.end_ms),
            recovered: r.recovered,
            rerun: phase_entry(&r.rerun),
            failed_step: r.failed_step.clone(),
            verification: r.verification.as_ref().map(verification),
        }),
        unmet: report
            .failures
            .iter()
            .map(|f| UnmetEntry {
                phase: phase(f.phase),
                what: f.what.clone(),
                expected: f.expected.clone(),
                got: f.got.clone(),
            })
            .collect(),
        leads: report.leads.clone(),
        cache: report.cache.clone(),
    }
}

/// The journal record of a scenario file that did not load, secrets masked (a problem
/// may quote the file's text).
pub fn invalid_record(file: &str, problems: &[String]) -> InvalidRecord {
    InvalidRecord {
        journal_version: JOURNAL_VERSION,
        file: crate::redact::text(file),
        status: InvalidStatus::Invalid,
        problems: problems.iter().map(|p| crate::redact::text(p)).collect(),
    }
}

/// The journal's last line for a run `signal` stopped.
pub fn interrupted_record(
    signal: &str,
    planned: usize,
    finished: usize,
    in_flight: &[(String, String)],
    duration_ms: u64,
) -> InterruptedRecord {
    InterruptedRecord {
        journal_version: JOURNAL_VERSION,
        status: InterruptedStatus::Interrupted,
        signal: signal.to_string(),
        planned,
        finished,
        in_flight: in_flight
            .iter()
            .map(|(name, file)| InFlightEntry { name: crate::redact::text(name), file: crate::redact::text(file) })
            .collect(),
        duration_ms,
    }
}

/// The declared hosts, from whichever phase ran (they are the same in every phase).
fn hosts(report: &ScenarioReport) -> Vec<HostEntry> {
    let phases = [report.run.as_ref(), report.steady.as_ref(), report.recovery.as_ref().map(|r| &r.rerun)];
    let Some(map) = phases.into_iter().flatten().find_map(|p| p.evidence.hosts.as_ref()) else {
        return Vec::new();
    };
    host_entries(map)
}

fn host_entries(map: &HostMap) -> Vec<HostEntry> {
    map.hosts
        .iter()
        .map(|h| {
            let listen = if map.sealed {
                let ports: Vec<String> = [80, 443].iter().chain(&h.ports).map(|p| format!(":{p}")).collect();
                format!("{} {}", h.addr.ip(), ports.join(" "))
            } else {
                h.addr.to_string()
            };
            HostEntry { name: h.name.clone(), kind: h.kind.clone(), listen }
        })
        .collect()
}

/// A time to the microsecond (finer is noise, and costs bytes on every line); 0 for a
/// time that is not a number, which JSON cannot carry.
fn ms(value: f64) -> f64 {
    if value.is_finite() { (value * 1000.0).round() / 1000.0 } else { 0.0 }
}

fn world(traffic: &WorldTraffic) -> WorldName {
    if traffic.steady { WorldName::Steady } else { WorldName::Scenario }
}

fn requests(traffic: &WorldTraffic) -> impl Iterator<Item = RequestEntry> + '_ {
    traffic.requests.iter().map(|r| RequestEntry {
        world: world(traffic),
        seq: r.seq,
        phase: phase(r.phase),
        host: r.host.clone(),
        method: r.method.clone(),
        path: r.path.clone(),
        status: r.status,
        bytes: r.bytes,
        start_ms: ms(traffic.start_ms + r.start_ms),
        end_ms: r.end_ms.map(|end| ms(traffic.start_ms + end)),
        faults: r.faults.clone(),
        note: r.note.clone(),
    })
}

fn dns(traffic: &WorldTraffic) -> impl Iterator<Item = DnsEntry> + '_ {
    traffic.dns.iter().map(|q| DnsEntry {
        world: world(traffic),
        seq: q.seq,
        phase: phase(q.phase),
        transport: q.transport.clone(),
        name: q.name.clone(),
        qtype: q.qtype.clone(),
        rcode: q.rcode.clone(),
        answers: q.answers.clone(),
        truncated: q.truncated,
        faults: q.faults.clone(),
        start_ms: ms(traffic.start_ms + q.start_ms),
        end_ms: q.end_ms.map(|end| ms(traffic.start_ms + end)),
        note: q.note.clone(),
    })
}

fn phase(phase: Phase) -> PhaseName {
    match phase {
        Phase::Steady => PhaseName::Steady,
        Phase::Run => PhaseName::Run,
        Phase::Recover => PhaseName::Recover,
        Phase::Verify => PhaseName::Verify,
    }
}

fn exit(exit: Exit) -> ExitEntry {
    let (kind, code, signal) = match exit {
        Exit::Code { code } => (ExitKind::Code, Some(code), None),
        Exit::Signal { signal } => (ExitKind::Signal, None, Some(signal)),
        Exit::Timeout => (ExitKind::Timeout, None, None),
    };
    ExitEntry { kind, code, signal, text: exit.describe() }
}

fn output(kept: &KeptOutput) -> OutputEntry {
    OutputEntry { text: kept.text.clone(), bytes: kept.bytes, cut: kept.cut }
}

fn phase_entry(report: &PhaseReport) -> PhaseEntry {
    let evidence: &Evidence = &report.evidence;
    PhaseEntry {
        command: evidence.command.clone(),
        exit: evidence.exit.map(exit),
        duration_ms: evidence.duration_ms.map(ms),
        diagnosis: diagnosis(&report.diagnosis),
        env: evidence.env.iter().map(|(name, value)| EnvEntry { name: name.clone(), value: value.clone() }).collect(),
        env_changes: evidence.env_changes.clone(),
    }
}

/// `low`, `medium`, `high`: the confidence as every report words it.
fn confidence(c: crate::diagnose::Confidence) -> String {
    c.word().to_string()
}

fn diagnosis(d: &Diagnosis) -> DiagnosisEntry {
    DiagnosisEntry {
        category: d.category.id().to_string(),
        confidence: confidence(d.confidence),
        summary: d.summary.clone(),
        evidence: d
            .evidence
            .iter()
            .map(|line| EvidenceEntry {
                source: serde_json::to_value(line.source)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                text: line.text.clone(),
            })
            .collect(),
        playbooks: d.playbooks.clone(),
        alternatives: d
            .alternatives
            .iter()
            .map(|a| AlternativeEntry {
                category: a.category.id().to_string(),
                confidence: confidence(a.confidence),
                summary: a.summary.clone(),
            })
            .collect(),
        context: d.context.clone(),
    }
}

fn verification(v: &Verification) -> VerificationEntry {
    VerificationEntry { checks: v.checks.clone(), problems: v.problems.clone() }
}
