//! One scenario's section: what ran and how it ended, the timeline, the diagnosis with
//! its evidence, the recovery and its rerun, unmet expectations (expected against got),
//! then, folded, go's commands with their output, the requests, DNS queries and hosts.

use super::markup::{Html, number};
use super::timeline;
use crate::report::journal::record::{
    DiagnosisEntry, GoCommandEntry, OutputEntry, PhaseEntry, PhaseName, RunStatus, ScenarioRecord, VerificationEntry,
};
use crate::runner::record::KeptOutput;

/// Most of each output stream shown in the page (the journal keeps up to 64 KiB).
const SHOWN_OUTPUT: usize = 16 << 10;

/// The label and class of a status.
pub fn status_label(status: RunStatus) -> (&'static str, &'static str) {
    match status {
        RunStatus::Passed => ("PASS", "passed"),
        RunStatus::Failed => ("FAIL", "failed"),
        RunStatus::Skipped => ("SKIP", "skipped"),
    }
}

/// Writes the section of `record`, the `index`th scenario (its anchor is `s-<index>`).
pub fn write(html: &mut Html, index: usize, record: &ScenarioRecord) {
    let (label, class) = status_label(record.status);
    html.raw("<details class=\"scenario\"").attr("id", &format!("s-{index}")).attr("data-status", class);
    if record.status == RunStatus::Failed {
        html.raw(" open");
    }
    html.raw("><summary><span").attr("class", &format!("badge {class}")).raw(">").text(label).raw("</span> ");
    html.element("<span class=\"name\">", &record.name, "</span></summary>");
    html.raw("<p class=\"meta\">").text(&meta(record)).raw("</p>");
    if let Some(reason) = &record.reason {
        html.element("<p class=\"reason\">", reason, "</p>");
    }
    timeline::write(html, record);
    legend(html);
    if let Some(run) = &record.run {
        html.raw("<h3>Diagnosis</h3>");
        phase(html, run);
    }
    if let Some(v) = &record.verification {
        html.raw("<h3>Integrity of the run</h3>");
        verification(html, v);
    }
    if let Some(recovery) = &record.recovery {
        html.raw("<h3>Recovery</h3><p>");
        match &recovery.playbook {
            Some(playbook) => html.raw("playbook <code>").text(playbook).raw("</code>"),
            None => html.raw("inline steps"),
        };
        html.raw(if recovery.recovered {
            " <span class=\"ok\">recovered</span>"
        } else {
            " <span class=\"bad\">not recovered</span>"
        });
        html.raw("</p><ol class=\"steps\">");
        for step in &recovery.steps {
            html.element("<li><code>", step, "</code></li>");
        }
        match &recovery.failed_step {
            Some(step) => html.raw("</ol><h4>The step that failed (no rerun) <code>").text(step).raw("</code></h4>"),
            None => html.raw("</ol><h4>The rerun</h4>"),
        };
        phase(html, &recovery.rerun);
        if let Some(v) = &recovery.verification {
            html.raw("<h4>Integrity of the rerun</h4>");
            verification(html, v);
        }
    }
    if !record.unmet.is_empty() {
        html.raw("<h3>Failures</h3><table class=\"unmet\"><thead><tr><th>phase</th><th>what</th><th>expected</th><th>got</th></tr></thead><tbody>");
        for f in &record.unmet {
            html.element("<tr><td>", PhaseName::name(f.phase), "</td>");
            html.element("<td>", &f.what, "</td>");
            html.element("<td class=\"expected\"><pre>", &f.expected, "</pre></td>");
            html.element("<td class=\"got\"><pre>", &f.got, "</pre></td></tr>");
        }
        html.raw("</tbody></table>");
    } else if !record.failures.is_empty() {
        // A version 1 journal: the failures as lines.
        html.raw("<h3>Failures</h3><ul class=\"unmet\">");
        for f in &record.failures {
            html.element("<li><pre>", f, "</pre></li>");
        }
        html.raw("</ul>");
    }
    if !record.leads.is_empty() {
        // Where to look first: faults the scenario declared that never fired.
        html.raw("<h3>Leads</h3><ul class=\"leads\">");
        for lead in &record.leads {
            html.element("<li>", lead, "</li>");
        }
        html.raw("</ul>");
    }
    commands(html, record);
    requests(html, record);
    dns(html, record);
    setup(html, record);
    html.raw("</details>\n");
}

fn meta(record: &ScenarioRecord) -> String {
    let mut parts = vec![record.file.clone()];
    parts.extend(record.go_version.clone());
    parts.extend(record.network.clone());
    if let Some(seed) = record.seed {
        parts.push(format!("seed {seed}"));
    }
    parts.push(format!("{} ms", record.duration_ms));
    parts.extend(record.started_at.clone());
    parts.join(" · ")
}

fn legend(html: &mut Html) {
    html.raw(concat!(
        "<p class=\"legend\"><span class=\"sw s2xx\"></span>2xx <span class=\"sw s3xx\"></span>3xx ",
        "<span class=\"sw s4xx\"></span>4xx <span class=\"sw s5xx\"></span>5xx ",
        "<span class=\"sw none\"></span>no response <span class=\"sw conn\"></span>TLS/TCP/CONNECT ",
        "<span class=\"sw fault\"></span>fault fired <span class=\"sw cmd\"></span>go command ",
        "<span class=\"sw cmdfail\"></span>go failed</p>"
    ));
}

fn phase(html: &mut Html, phase: &PhaseEntry) {
    html.raw("<p class=\"phase\">");
    if let Some(command) = &phase.command {
        html.element("<code>", command, "</code>");
    }
    if let Some(exit) = &phase.exit {
        html.text(&format!(" → {}", exit.text));
    }
    if let Some(ms) = phase.duration_ms {
        html.text(&format!(" ({} ms)", number(ms)));
    }
    html.raw("</p>");
    diagnosis(html, &phase.diagnosis);
    if !phase.env_changes.is_empty() {
        html.raw("<p>Configuration changed:</p><ul class=\"env\">");
        for change in &phase.env_changes {
            html.element("<li><code>", change, "</code></li>");
        }
        html.raw("</ul>");
    }
}

fn diagnosis(html: &mut Html, d: &DiagnosisEntry) {
    html.raw("<p class=\"diagnosis\"><span class=\"category\">")
        .text(&d.category)
        .raw("</span> <span class=\"confidence\">")
        .text(&format!("({} confidence)", d.confidence))
        .raw("</span> ")
        .text(&d.summary)
        .raw("</p>");
    if !d.evidence.is_empty() {
        html.raw("<ul class=\"evidence\">");
        for line in &d.evidence {
            html.element("<li><span class=\"src\">", &line.source, "</span><pre>");
            html.text(&line.text).raw("</pre></li>");
        }
        html.raw("</ul>");
    }
    if !d.playbooks.is_empty() {
        html.raw("<p>Playbooks that fix it: ");
        for (i, p) in d.playbooks.iter().enumerate() {
            if i > 0 {
                html.raw(", ");
            }
            html.element("<code>", p, "</code>");
        }
        html.raw("</p>");
    }
    for a in &d.alternatives {
        html.raw("<p class=\"alt\">also fits: ")
            .element("<span class=\"category\">", &a.category, "</span>")
            .text(&format!(" ({} confidence): {}", a.confidence, a.summary))
            .raw("</p>");
    }
    for c in &d.context {
        html.element("<p class=\"context\">context used: ", c, "</p>");
    }
}

fn verification(html: &mut Html, v: &VerificationEntry) {
    html.raw("<ul class=\"verification\">");
    for c in &v.checks {
        html.element("<li class=\"ok\">", c, "</li>");
    }
    for p in &v.problems {
        html.element("<li class=\"bad\">", p, "</li>");
    }
    html.raw("</ul>");
}

fn commands(html: &mut Html, record: &ScenarioRecord) {
    if record.go_commands.is_empty() {
        return;
    }
    html.raw("<details class=\"fold\"><summary>go commands (").int(record.go_commands.len() as i64).raw(")</summary>");
    for c in &record.go_commands {
        command(html, c);
    }
    html.raw("</details>");
}

fn command(html: &mut Html, c: &GoCommandEntry) {
    html.raw("<div class=\"command\"><p>")
        .element("<span class=\"phase\">", PhaseName::name(c.phase), "</span> ")
        .element("<code>", &c.command, "</code>")
        .text(&format!(
            " → {} (at {} ms, {} ms, pid {})",
            c.exit.text,
            number(c.start_ms),
            number(c.duration_ms),
            c.pid
        ))
        .raw("</p>");
    stream(html, "stderr", &c.stderr);
    stream(html, "stdout", &c.stdout);
    html.raw("</div>");
}

fn stream(html: &mut Html, name: &'static str, output: &OutputEntry) {
    if output.text.is_empty() {
        return;
    }
    let shown = KeptOutput::keep(&output.text, SHOWN_OUTPUT);
    html.raw("<details class=\"stream\"><summary>").raw(name).text(&format!(" ({} bytes", output.bytes));
    if output.cut || shown.cut {
        html.text(", cut here: the journal keeps up to 64 KiB");
    }
    html.raw(")</summary><pre>").text(&shown.text).raw("</pre></details>");
}

fn requests(html: &mut Html, record: &ScenarioRecord) {
    if record.requests.is_empty() {
        return;
    }
    html.raw("<details class=\"fold\"><summary>requests (")
        .int(record.requests.len() as i64)
        .raw(")</summary><table class=\"requests\"><thead><tr><th>#</th><th>phase</th><th>at ms</th><th>ms</th><th>host</th><th>method</th><th>path</th><th>status</th><th>bytes</th><th>faults</th><th>note</th></tr></thead><tbody>");
    for r in &record.requests {
        html.raw("<tr><td>").int(r.seq as i64).raw("</td>");
        html.element("<td>", PhaseName::name(r.phase), "</td>");
        html.element("<td>", &number(r.start_ms), "</td>");
        html.element("<td>", &r.end_ms.map_or("never ended".into(), |e| number(e - r.start_ms)), "</td>");
        html.element("<td>", &r.host, "</td>");
        html.element("<td>", &r.method, "</td>");
        html.element("<td class=\"path\">", &r.path, "</td>");
        html.element("<td>", &r.status.map_or("none".into(), |s| s.to_string()), "</td>");
        html.raw("<td>").int(r.bytes as i64).raw("</td>");
        html.element("<td class=\"faults\">", &r.faults.join(", "), "</td>");
        html.element("<td>", r.note.as_deref().unwrap_or(""), "</td></tr>");
    }
    html.raw("</tbody></table></details>");
}

fn dns(html: &mut Html, record: &ScenarioRecord) {
    if record.dns.is_empty() {
        return;
    }
    html.raw("<details class=\"fold\"><summary>DNS queries (")
        .int(record.dns.len() as i64)
        .raw(")</summary><table class=\"requests\"><thead><tr><th>#</th><th>phase</th><th>at ms</th><th>transport</th><th>type</th><th>name</th><th>answer</th><th>faults</th><th>note</th></tr></thead><tbody>");
    for q in &record.dns {
        html.raw("<tr><td>").int(q.seq as i64).raw("</td>");
        html.element("<td>", PhaseName::name(q.phase), "</td>");
        html.element("<td>", &number(q.start_ms), "</td>");
        html.element("<td>", &q.transport, "</td>");
        html.element("<td>", &q.qtype, "</td>");
        html.element("<td>", &q.name, "</td>");
        let mut answer = q.rcode.clone().unwrap_or_else(|| "no answer".into());
        if !q.answers.is_empty() {
            answer += &format!(" {}", q.answers.join(", "));
        }
        html.element("<td>", &answer, "</td>");
        html.element("<td class=\"faults\">", &q.faults.join(", "), "</td>");
        html.element("<td>", q.note.as_deref().unwrap_or(""), "</td></tr>");
    }
    html.raw("</tbody></table></details>");
}

fn setup(html: &mut Html, record: &ScenarioRecord) {
    let env = record.run.as_ref().map(|r| r.env.as_slice()).unwrap_or_default();
    if record.hosts.is_empty() && env.is_empty() && record.cache.is_empty() {
        return;
    }
    html.raw("<details class=\"fold\"><summary>hosts, environment, module cache</summary><ul class=\"setup\">");
    for h in &record.hosts {
        html.raw("<li>")
            .element("<code>", &h.name, "</code>")
            .text(&format!(" ({}) listening on {}", h.kind, h.listen))
            .raw("</li>");
    }
    for e in env {
        html.raw("<li><code>").text(&e.name).raw("=").text(&e.value).raw("</code></li>");
    }
    for c in &record.cache {
        html.element("<li>module cache: ", c, "</li>");
    }
    html.raw("</ul></details>");
}
