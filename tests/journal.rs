//! The JSON journal of a real run: every line valid against the schema `modchaos schema
//! --journal` prints, and the story it tells consistent with itself — requests inside
//! the go command that made them on the scenario's timeline, the fault that fired on
//! the request it answered, the diagnosis with its evidence, the recovery and rerun.
//! Then `modchaos report` on a journal that is not one: a clear error with the line.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

#[path = "support/json_schema.rs"]
mod json_schema;
use json_schema::Validator;

/// A version 1 journal record (the summary fields only), as `run --json` wrote one.
const V1_RECORD: &str = r#"{"name":"a","file":"a.yaml","status":"passed","reason":null,"diagnosis":"none","diagnosis_summary":"go succeeded","recovered":null,"playbook":null,"duration_ms":12,"network":"open","go_version":"go1.26.8","seed":1,"commands":[],"failures":[]}"#;

/// `modchaos report JOURNALS… --html HTML`.
fn report(journals: &[&Path], html: &Path) -> assert_cmd::assert::Assert {
    modchaos().arg("report").args(journals).arg("--html").arg(html).assert()
}

fn modchaos() -> Command {
    let mut cmd = Command::cargo_bin("modchaos").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn have_go() -> bool {
    let found = modchaos::gobin::GoBinary::find(None).is_ok();
    if !found {
        eprintln!("*** SKIPPED: no go toolchain found ***");
    }
    found
}

fn schema() -> Value {
    let out = modchaos().args(["schema", "--journal"]).assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("the journal schema is JSON")
}

/// How far two threads' clocks may disagree: timestamps of go's commands and of the
/// requests they made are taken on different threads.
const CLOCK_SLACK_MS: f64 = 3.0;

/// The journal of a run of the comma-list scenario (steady state, run, recovery,
/// verification), a TCP toxic scenario, a skipped scenario and an invalid file.
fn real_journal(dir: &Path) -> Vec<Value> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules");
    std::fs::write(dir.join("typo.yaml"), "name: t\nexpect: {exit: sucess}\n").unwrap();
    std::fs::write(
        dir.join("future.yaml"),
        format!(
            "name: needs a future go\nmin_go: \"1.99\"\nmodules: [{}]\nhosts: {{p.example: {{goproxy: {{}}}}}}\nrun: {{modules: [corp.example/lib@v1.0.0]}}\nexpect: {{exit: success}}\n",
            fixtures.display()
        ),
    )
    .unwrap();
    let journal = dir.join("journal.jsonl");
    modchaos()
        .args(["run", "scenarios/goproxy-list/500-stops-comma-list.yaml", "scenarios/tcp/latency-within-deadline.yaml"])
        .arg(dir)
        .arg("--json")
        .arg(&journal)
        .assert()
        .code(2); // the invalid file
    let text = std::fs::read_to_string(&journal).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

#[test]
fn every_line_of_a_real_run_is_valid_against_the_printed_schema_and_tells_the_whole_story() {
    if !have_go() {
        return;
    }
    let schema = schema();
    assert_eq!(schema["title"], "modchaos journal line");
    let validator = Validator::new(&schema);
    let dir = tempfile::tempdir().unwrap();
    let lines = real_journal(dir.path());
    assert_eq!(lines.len(), 4, "{lines:#?}");
    for line in &lines {
        if let Err(errors) = validator.check(line) {
            panic!("{errors}\n{line:#}");
        }
        assert_eq!(line["journal_version"], modchaos::report::journal::JOURNAL_VERSION);
    }
    // The schema is not a formality: it rejects what is not a journal line.
    let mut broken = lines.iter().find(|l| l["name"] == "500 stops a comma list").unwrap().clone();
    broken["go_commands"][0]["exit"]["kind"] = "exploded".into();
    assert!(validator.check(&broken).is_err(), "an unknown exit kind");
    let mut broken = lines[0].clone();
    broken.as_object_mut().unwrap().remove("file");
    assert!(validator.check(&broken).is_err(), "a line without its file");

    let invalid = lines.iter().find(|l| l["status"] == "invalid").unwrap();
    assert!(invalid["problems"][0].as_str().unwrap().contains("typo.yaml:2:16"), "{invalid:#}");
    let skipped = lines.iter().find(|l| l["status"] == "skipped").unwrap();
    assert!(skipped["reason"].as_str().unwrap().contains("needs go 1.99"));
    assert_eq!(skipped["go_commands"], serde_json::json!([]));

    let s = lines.iter().find(|l| l["name"] == "500 stops a comma list").unwrap();
    // The version 1 fields, as before.
    assert_eq!((s["status"].as_str(), s["diagnosis"].as_str()), (Some("passed"), Some("proxy.server_error")));
    assert_eq!((s["recovered"].as_bool(), s["playbook"].as_str()), (Some(true), Some("pipe-separated-goproxy")));
    assert!(s["go_version"].as_str().unwrap().starts_with("go1."));
    let duration = s["duration_ms"].as_f64().unwrap();
    // Every go command, in order, on the scenario's timeline, with its output.
    let commands = s["go_commands"].as_array().unwrap();
    let phases: Vec<&str> = commands.iter().map(|c| c["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["steady", "run", "recover", "verify"]);
    let mut previous_end = 0.0;
    for c in commands {
        let (start, length) = (c["start_ms"].as_f64().unwrap(), c["duration_ms"].as_f64().unwrap());
        assert!(start >= previous_end && start + length <= duration + 1.0, "{c:#} within {duration} ms");
        previous_end = start + length;
    }
    let run = &commands[1];
    assert_eq!(run["exit"], serde_json::json!({"kind": "code", "code": 1, "signal": null, "text": "exit status 1"}));
    assert!(run["stderr"]["text"].as_str().unwrap().contains("500 Internal Server Error"), "{run:#}");
    assert!(run["stdout"]["text"].as_str().unwrap().contains("\"Error\""), "{run:#}");
    assert_eq!(run["stderr"]["cut"], false);
    // Every request of both worlds, each inside the go command of its phase.
    let requests = s["requests"].as_array().unwrap();
    let of = |world: &'static str, phase: &'static str| {
        requests.iter().filter(move |r| r["world"] == world && r["phase"] == phase)
    };
    assert!(of("steady", "steady").count() >= 3, "the steady state's .info, .mod, .zip: {requests:#?}");
    let run_requests: Vec<&Value> = of("scenario", "run").collect();
    assert_eq!(run_requests.len(), 1, "go stops at the 500: {run_requests:#?}");
    let failed = run_requests[0];
    assert_eq!((failed["host"].as_str(), failed["status"].as_u64()), (Some("proxy.corp.example"), Some(500)));
    assert_eq!(failed["faults"], serde_json::json!(["#1 respond 500"]));
    let (start, end) = (failed["start_ms"].as_f64().unwrap(), failed["end_ms"].as_f64().unwrap());
    let (run_start, run_end) =
        (run["start_ms"].as_f64().unwrap(), run["start_ms"].as_f64().unwrap() + run["duration_ms"].as_f64().unwrap());
    // The request's times are taken on a server thread, the command's on the runner's:
    // on a VM whose vCPU clocks drift apart (a CI run saw a request 0.7 ms past go's
    // exit) they may disagree by a little. The order within one thread is exact.
    assert!(start <= end, "request {start}..{end}");
    assert!(
        run_start - CLOCK_SLACK_MS <= start && end <= run_end + CLOCK_SLACK_MS,
        "request {start}..{end} in go's run {run_start}..{run_end} (± {CLOCK_SLACK_MS} ms)"
    );
    assert!(
        of("scenario", "recover")
            .any(|r| r["host"] == "mirror.corp.example" && r["path"].as_str().unwrap().ends_with(".zip"))
    );
    if s["network"] == "sealed" {
        let dns = s["dns"].as_array().unwrap();
        assert!(dns.iter().any(|q| q["name"] == "proxy.corp.example" && q["rcode"] == "NOERROR"), "{dns:#?}");
    }
    assert_eq!(s["hosts"].as_array().unwrap().len(), 2);
    // The diagnosis with its evidence, the recovery and its rerun, the integrity checks.
    let diagnosis = &s["run"]["diagnosis"];
    assert_eq!(diagnosis["category"], "proxy.server_error");
    assert!(diagnosis["evidence"].as_array().unwrap().iter().any(|e| e["text"].as_str().unwrap().contains("500")));
    let recovery = &s["recovery"];
    assert_eq!(recovery["steps"][0], "replace \",\" by \"|\" in GOPROXY");
    assert!(recovery["start_ms"].as_f64().unwrap() >= run_end, "{recovery:#}");
    assert_eq!(recovery["rerun"]["diagnosis"]["category"], "none");
    assert_eq!(recovery["rerun"]["exit"]["code"], 0);
    assert!(!recovery["verification"]["checks"].as_array().unwrap().is_empty());
    assert_eq!(s["unmet"], serde_json::json!([]));

    // A TCP toxic shows on the connections it acted on.
    let tcp = lines.iter().find(|l| l["file"].as_str().unwrap().ends_with("latency-within-deadline.yaml")).unwrap();
    let connections: Vec<&Value> =
        tcp["requests"].as_array().unwrap().iter().filter(|r| r["method"] == "TCP").collect();
    assert!(
        !connections.is_empty() && connections.iter().all(|c| !c["faults"].as_array().unwrap().is_empty()),
        "{tcp:#}"
    );
}

#[test]
fn a_failed_expectation_is_in_the_journal_as_fields_and_as_a_line() {
    if !have_go() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules");
    let path = dir.path().join("wrong.yaml");
    std::fs::write(
        &path,
        format!(
            "name: wrong expectation\nmodules: [{}]\nhosts:\n  p.example:\n    goproxy: {{}}\n    faults: [{{respond: {{status: 502}}}}]\nrun: {{modules: [corp.example/lib@v1.0.0]}}\nexpect: {{exit: failure, diagnosis: proxy.not_found}}\n",
            fixtures.display()
        ),
    )
    .unwrap();
    let out = modchaos().arg("run").arg(&path).args(["--json", "-"]).assert().code(1).get_output().stdout.clone();
    let line: Value = serde_json::from_slice(&out).unwrap();
    assert!(Validator::new(&schema()).check(&line).is_ok());
    let got = "proxy.server_error (p.example answered 502 Bad Gateway for corp.example/lib@v1.0.0)";
    assert_eq!(
        line["unmet"][0],
        serde_json::json!({"phase": "run", "what": "diagnosis", "expected": "proxy.not_found", "got": got})
    );
    assert_eq!(line["failures"][0], format!("[run] diagnosis: expected proxy.not_found, got {got}"));
}

#[test]
fn report_names_the_line_of_a_broken_journal_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let html = dir.path().join("report.html");
    let good = V1_RECORD;
    std::fs::write(&journal, format!("{good}\n{{\"name\": \"truncated\n")).unwrap();
    report(&[&journal], &html).code(2).stderr(predicates::str::contains("journal.jsonl: line 2: not JSON"));
    assert!(!html.exists());
    std::fs::write(&journal, format!("{good}\n{}\n", good.replace("\"status\":\"passed\"", "\"status\":7"))).unwrap();
    report(&[&journal], &html)
        .code(2)
        .stderr(predicates::str::contains("journal.jsonl: line 2: not a journal record: invalid type: integer `7`"));
    modchaos()
        .args(["report", "/nonexistent/journal.jsonl", "--html"])
        .arg(&html)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("/nonexistent/journal.jsonl: No such file"));
    // A version 1 journal (the summary fields only) still makes a report.
    std::fs::write(&journal, format!("{good}\n")).unwrap();
    report(&[&journal], &html).success();
    assert!(std::fs::read_to_string(&html).unwrap().contains("1 scenario run(s): 1 passed"));
}

#[test]
fn report_renders_a_journal_cut_by_a_crash_and_reads_a_journal_given_twice_once() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let html = dir.path().join("report.html");
    let good = V1_RECORD;
    let other = good.replace("\"name\":\"a\"", "\"name\":\"b\"");
    // As `head -c` or a crash mid-write leaves it: the last line without its end.
    std::fs::write(&journal, format!("{good}\n{other}\n{}", &good[..good.len() / 2])).unwrap();
    report(&[&journal], &html).success().stderr(predicates::str::contains("journal.jsonl: line 3 is cut short"));
    assert!(std::fs::read_to_string(&html).unwrap().contains("2 scenario run(s): 2 passed"));
    // The same file twice: its scenarios counted once, and said so.
    std::fs::write(&journal, format!("{good}\n")).unwrap();
    report(&[&journal, &journal], &html)
        .success()
        .stderr(predicates::str::contains("journal.jsonl is given more than once: read once"));
    assert!(std::fs::read_to_string(&html).unwrap().contains("1 scenario run(s): 1 passed"));
}

#[test]
fn report_adds_nothing_for_an_empty_shards_journal_and_an_interrupted_line_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, empty) = (dir.path().join("shard-1.jsonl"), dir.path().join("shard-2.jsonl"));
    let html = dir.path().join("report.html");
    let interrupted = serde_json::to_string(&modchaos::report::journal::interrupted_record(
        "SIGTERM",
        3,
        1,
        &[("b".into(), "b.yaml".into())],
        1234,
    ))
    .unwrap();
    let value: Value = serde_json::from_str(&interrupted).unwrap();
    if let Err(errors) = Validator::new(&schema()).check(&value) {
        panic!("{errors}\n{value:#}");
    }
    std::fs::write(&journal, format!("{V1_RECORD}\n{interrupted}\n")).unwrap();
    std::fs::write(&empty, "").unwrap();
    report(&[&journal, &empty], &html).success().stderr(predicates::str::contains("shard-2.jsonl: empty"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("1 scenario run(s): 1 passed"), "{page}");
    assert!(page.contains("INTERRUPTED by SIGTERM after 1 of 3 planned run(s)"), "{page}");
    assert!(page.contains("1 were stopped while they ran, 1 never started"), "{page}");
    // Every journal empty: nothing to report.
    report(&[&empty, &empty.with_file_name("shard-3.jsonl")], &html).code(2);
}

#[test]
fn a_report_that_cannot_be_written_whole_is_an_error_and_a_bad_path_spares_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = "scenarios/http-faults/flaky-first-two-then-heals.yaml";
    let run = |extra: &[&str]| modchaos().args(["run", "--network", "open", scenario]).args(extra).assert();
    // A bad --junit path: the existing journal is left as it was.
    let journal = dir.path().join("last-night.jsonl");
    std::fs::write(&journal, "kept\n").unwrap();
    run(&["--json", journal.to_str().unwrap(), "--junit", "/nonexistent/dir/r.xml"])
        .code(2)
        .stderr(predicates::str::contains("--junit /nonexistent/dir/r.xml"));
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), "kept\n");
    // Two reports in one file.
    run(&["--json", journal.to_str().unwrap(), "--html", journal.to_str().unwrap()])
        .code(2)
        .stderr(predicates::str::contains("are the same file"));
    if !have_go() || !Path::new("/dev/full").exists() {
        return;
    }
    // A journal the disk cannot take: said, and the run does not pass.
    run(&["--json", "/dev/full"])
        .code(2)
        .stderr(predicates::str::contains("--json /dev/full: cannot write the journal"));
}

#[test]
fn in_open_mode_go_output_in_the_journal_speaks_the_scenarios_names() {
    if !have_go() {
        return;
    }
    let out = modchaos()
        .args(["run", "scenarios/goproxy-list/500-stops-comma-list.yaml", "--network", "open", "--json", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let line: Value = serde_json::from_slice(&out).unwrap();
    assert!(Validator::new(&schema()).check(&line).is_ok());
    assert_eq!(line["network"], "open");
    for c in line["go_commands"].as_array().unwrap() {
        let text = format!("{}{}", c["stdout"]["text"].as_str().unwrap(), c["stderr"]["text"].as_str().unwrap());
        assert!(!text.contains("127.0.0.1:"), "go's loopback addresses leaked into the journal: {text}");
    }
    let run = &line["go_commands"][1];
    assert!(
        run["stderr"]["text"]
            .as_str()
            .unwrap()
            .contains("https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 500")
    );
    // Open mode's world starts inside the scenario too: its requests fall in go's run.
    let (start, end) =
        (run["start_ms"].as_f64().unwrap(), run["start_ms"].as_f64().unwrap() + run["duration_ms"].as_f64().unwrap());
    for r in line["requests"].as_array().unwrap().iter().filter(|r| r["phase"] == "run") {
        let at = r["start_ms"].as_f64().unwrap();
        assert!(start <= at && at <= end, "{r:#} in {start}..{end}");
    }
}
