//! The `modchaos` command as a user runs it: validate, schema, run; the JSON journal;
//! the documented exit codes.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

#[path = "support/json_schema.rs"]
mod json_schema;
use json_schema::Validator;

fn modchaos() -> Command {
    let mut cmd = Command::cargo_bin("modchaos").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    // The durations `run` remembers go under target/, not into the tester's HOME.
    cmd.env("MODCHAOS_CACHE_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("modchaos-cache"));
    cmd
}

fn have_go() -> bool {
    let found = modchaos::gobin::GoBinary::find(None).is_ok();
    if !found {
        eprintln!("*** SKIPPED: no go toolchain found ***");
    }
    found
}

fn temp_scenario(body: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules");
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, body.replace("FIXTURES", &fixtures.display().to_string())).unwrap();
    (dir, path)
}

#[test]
fn validate_accepts_the_shipped_scenarios() {
    modchaos()
        .args(["validate", "scenarios"])
        .assert()
        .success()
        .stdout(predicate::str::contains("invalid").and(predicate::str::contains(" 0 invalid")));
}

#[test]
fn validate_reports_file_line_col_and_exits_2() {
    let (_dir, path) = temp_scenario(
        "name: t\nhosts:\n  p.example:\n    goproxy: {}\n    faults: [{dealy: 2s}]\nexpect: {exit: failure}\n",
    );
    modchaos().args(["validate", path.to_str().unwrap()]).assert().code(2).stderr(
        predicate::str::contains("s.yaml:5:15: unknown field `dealy`")
            .and(predicate::str::contains("did you mean `delay`?")),
    );
}

#[test]
fn the_schema_is_json_and_accepts_every_shipped_scenario() {
    let out = modchaos().arg("schema").assert().success().get_output().stdout.clone();
    let schema: serde_json::Value = serde_json::from_slice(&out).expect("schema is JSON");
    assert_eq!(schema["title"], "modchaos scenario");
    assert_eq!(schema["additionalProperties"], false);
    let validator = Validator::new(&schema);
    let files = modchaos::scenario::discover(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")]).unwrap();
    assert!(files.len() >= 10);
    for file in files {
        let value: serde_json::Value = serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        if let Err(errors) = validator.check(&value) {
            panic!("{}: {errors}", file.display());
        }
    }
    let typo: serde_json::Value = serde_json::json!({"name": "t", "hots": {}});
    assert!(validator.check(&typo).is_err(), "the schema rejects unknown keys, as the parser does");
    let two_actions = serde_json::json!({"name": "t", "hosts": {"p.example": {"goproxy": {}, "faults": [{"hang": {}, "delay": "1s"}]}}});
    assert!(validator.check(&two_actions).is_err(), "a fault has one action");
    let step = |step: serde_json::Value| serde_json::json!({"name": "t", "expect": {"exit": "failure"}, "recover": {"steps": [step]}});
    for bare in [serde_json::json!("clean_cache"), serde_json::json!({"release_locks": null})] {
        assert!(validator.check(&step(bare.clone())).is_ok(), "the parser accepts {bare}, so the schema does");
    }
    assert!(validator.check(&step(serde_json::json!("trust"))).is_err(), "a step with settings needs them");

    let playbook: serde_json::Value =
        serde_json::from_slice(&modchaos().args(["schema", "--playbook"]).assert().success().get_output().stdout)
            .unwrap();
    assert_eq!(playbook["title"], "modchaos playbook");
}

#[test]
fn run_writes_a_journal_and_exits_0_when_everything_passes() {
    if !have_go() {
        return;
    }
    let out = modchaos()
        .args(["run", "scenarios", "--filter", "^500 stops a comma list$", "--json", "-"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let records: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 1, "{stdout}");
    let r = &records[0];
    assert_eq!(r["name"], "500 stops a comma list");
    assert_eq!(r["file"], "scenarios/goproxy-list/500-stops-comma-list.yaml");
    assert_eq!(r["status"], "passed");
    assert_eq!(r["diagnosis"], "proxy.server_error");
    assert_eq!(r["recovered"], true);
    assert!(r["duration_ms"].as_u64().is_some());
    let commands: Vec<&str> = r["commands"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(
        commands,
        [
            // The steady state (the world without its faults), the run, the rerun.
            "go mod download -json -x corp.example/lib@v1.0.0",
            "go mod download -json -x corp.example/lib@v1.0.0",
            "go mod download -json -x corp.example/lib@v1.0.0",
            "go mod verify"
        ]
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("PASS  500 stops a comma list"), "{stderr}");
}

#[test]
fn a_failing_scenario_exits_1_and_shows_expected_vs_got_with_the_requests() {
    if !have_go() {
        return;
    }
    let (_dir, path) = temp_scenario(
        "name: wrong expectation\nmodules: [FIXTURES]\nhosts:\n  p.example:\n    goproxy: {}\n    faults: [{respond: {status: 502}}]\nrun: {modules: [corp.example/lib@v1.0.0]}\nexpect: {exit: failure, diagnosis: proxy.not_found}\n",
    );
    modchaos().args(["run", path.to_str().unwrap()]).assert().code(1).stderr(
        predicate::str::contains("FAIL  wrong expectation")
            .and(predicate::str::contains("expected: proxy.not_found"))
            .and(predicate::str::contains("got: proxy.server_error"))
            .and(predicate::str::contains("p.example GET /corp.example/lib/@v/v1.0.0.info → 502"))
            .and(predicate::str::contains("502 Bad Gateway")),
    );
}

#[test]
fn junit_report_parses_back_with_one_case_per_scenario() {
    if !have_go() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let xml_path = dir.path().join("junit.xml");
    modchaos().args(["run", "scenarios/goproxy-list", "--junit", xml_path.to_str().unwrap()]).assert().success();
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    let suite = &report.test_suites[0];
    let files =
        modchaos::scenario::discover(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/goproxy-list")]).unwrap();
    assert_eq!(suite.test_cases.len(), files.len());
    assert!(suite.test_cases.iter().all(|c| matches!(c.status, quick_junit::TestCaseStatus::Success { .. })));
    let case = suite.test_cases.iter().find(|c| c.name.as_str() == "500 stops a comma list").unwrap();
    assert_eq!(case.classname.as_ref().map(|c| c.as_str()), Some("scenarios/goproxy-list/500-stops-comma-list.yaml"));
    assert!(case.system_out.as_ref().is_some_and(|o| o.as_str().contains("proxy.server_error")));
    assert!(suite.time.is_some_and(|t| t >= case.time.unwrap()), "a suite carries its cases' time");
}

#[test]
fn exit_codes_for_bad_input_and_a_missing_go() {
    let (_dir, bad) = temp_scenario("name: t\nexpect: {exit: sucess}\n");
    if have_go() {
        modchaos().args(["run", bad.to_str().unwrap()]).assert().code(2);
        modchaos().args(["run", "scenarios", "--filter", "no scenario has this name"]).assert().code(2);
    }
    modchaos()
        .args(["run", "scenarios", "--go", "/nonexistent/go"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("/nonexistent/go"));
    modchaos().args(["run", "scenarios"]).env("MODCHAOS_GO", "/nonexistent/go").assert().code(3);
}

#[test]
fn toxics_backend_is_checked_before_running() {
    modchaos()
        .args(["run", "scenarios/tcp", "--toxics", "toxiproxy=127.0.0.1:8474"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected http://host:port"));
    if have_go() {
        // Nothing listens on a port just released: exit 3 with the reason, nothing run.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        modchaos()
            .args(["run", "scenarios/tcp", "--toxics", &format!("toxiproxy=http://127.0.0.1:{port}")])
            .assert()
            .code(3)
            .stderr(predicate::str::contains(format!("cannot reach toxiproxy at http://127.0.0.1:{port}")));
    }
}

#[test]
fn a_go_that_the_unprivileged_user_cannot_run_is_refused_before_any_scenario() {
    if !modchaos::vocab::Account::current().is_root() {
        eprintln!("*** SKIPPED: only root runs go as another user, so only root can meet this ***");
        return;
    }
    let Ok(go) = modchaos::gobin::GoBinary::find(None) else {
        eprintln!("*** SKIPPED: no go toolchain found ***");
        return;
    };
    // A go inside a directory only root may enter, as in /root/sdk (its own binary; the
    // rest of GOROOT linked).
    use std::os::unix::fs::PermissionsExt as _;
    let private = tempfile::tempdir().unwrap();
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let goroot = go.goroot().unwrap();
    let copy = private.path().join("go");
    std::fs::create_dir_all(copy.join("bin")).unwrap();
    std::fs::copy(&go.path, copy.join("bin/go")).unwrap();
    for entry in std::fs::read_dir(&goroot).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "bin" {
            std::os::unix::fs::symlink(entry.path(), copy.join(entry.file_name())).unwrap();
        }
    }
    modchaos()
        .args(["run", "--go"])
        .arg(copy.join("bin/go"))
        .arg("scenarios/basics/happy-path.yaml")
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("cannot be run by uid 1000").and(predicate::str::contains("--go /opt/go/bin/go")),
        )
        .stderr(predicate::str::contains("happy path").not());
}

#[test]
fn the_shards_of_a_partition_together_are_the_whole_suite() {
    let list = |extra: &[&str]| -> Vec<String> {
        let out = modchaos().args(["run", "--list", "scenarios"]).args(extra).assert().success().get_output().clone();
        String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
    };
    let mut all = list(&[]);
    all.sort();
    assert!(all.len() > 50, "{all:?}");
    for scheme in ["hash", "count"] {
        let mut union = Vec::new();
        for k in 1..=3 {
            let shard = list(&["--partition", &format!("{scheme}:{k}/3")]);
            assert!(!shard.is_empty() && shard.len() < all.len(), "{scheme}:{k}/3 has {} files", shard.len());
            union.extend(shard);
        }
        union.sort();
        assert_eq!(union, all, "{scheme}");
    }
    modchaos()
        .args(["run", "--list", "--partition", "hash:4/3", "scenarios"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("hash:K/N or count:K/N"));
}

#[test]
fn validate_lists_a_missing_path_among_the_other_problems() {
    let dir = tempfile::tempdir().unwrap();
    let (_good_dir, good) = temp_scenario("name: good\nexpect: {exit: failure}\n");
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "").unwrap();
    let missing = dir.path().join("nonexistent.yaml");
    modchaos()
        .arg("validate")
        .args([&good, &missing, &empty])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("ok  ").and(predicate::str::contains("3 file(s): 1 valid, 2 invalid")))
        .stderr(
            predicate::str::contains("nonexistent.yaml: No such file or directory")
                .and(predicate::str::contains("help: check the path"))
                // The file after the missing one is still checked.
                .and(predicate::str::contains("empty.yaml")),
        );
}

#[test]
fn validate_says_why_a_directory_without_scenarios_fails() {
    let dir = tempfile::tempdir().unwrap();
    modchaos().arg("validate").arg(dir.path()).assert().code(2).stdout(predicate::str::contains("0 file(s)")).stderr(
        predicate::str::contains(format!("no scenario files found under {}", dir.path().display()))
            .and(predicate::str::contains("help: scenario files end in .yaml or .yml")),
    );
}

#[test]
fn run_reports_a_missing_path_as_an_invalid_file_and_hints_where_scenarios_are() {
    if !have_go() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.yaml");
    std::fs::write(&typo, "name: t\nexpect: {exit: sucess}\n").unwrap();
    let missing = dir.path().join("nonexistent.yaml");
    let xml = dir.path().join("junit.xml");
    modchaos()
        .args(["run", "--junit", xml.to_str().unwrap()])
        .args([&missing, &typo])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nonexistent.yaml: No such file").and(predicate::str::contains("sucess")));
    let report = quick_junit::Report::deserialize_from_str(&std::fs::read_to_string(&xml).unwrap()).unwrap();
    let invalid = report.test_suites.iter().find(|s| s.name.as_str() == "modchaos scenario files").unwrap();
    let messages: Vec<&str> = invalid
        .test_cases
        .iter()
        .filter_map(|c| match &c.status {
            quick_junit::TestCaseStatus::NonSuccess { message: Some(m), .. } => Some(m.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("nonexistent.yaml: No such file")), "{messages:?}");
    // Without arguments, outside a directory with scenarios/: where to run it, or what to pass.
    modchaos().arg("run").current_dir(dir.path()).assert().code(2).stderr(
        predicate::str::contains("scenarios: No such file")
            .and(predicate::str::contains("help: run modchaos in a directory that has a scenarios/ directory")),
    );
}

#[test]
fn an_invalid_file_is_an_error_in_junit_and_the_journal_and_skips_can_be_accepted() {
    if !have_go() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules");
    std::fs::write(dir.path().join("typo.yaml"), "name: t\nexpect: {exit: sucess}\n").unwrap();
    std::fs::write(
        dir.path().join("future.yaml"),
        format!(
            "name: needs a future go\nmin_go: \"1.99\"\nmodules: [{}]\nhosts: {{p.example: {{goproxy: {{}}}}}}\nrun: {{modules: [corp.example/lib@v1.0.0]}}\nexpect: {{exit: success}}\n",
            fixtures.display()
        ),
    )
    .unwrap();
    let xml = dir.path().join("junit.xml");
    let journal = dir.path().join("journal.jsonl");
    modchaos()
        .args(["run", "--junit", xml.to_str().unwrap(), "--json", journal.to_str().unwrap()])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid:").and(predicate::str::contains("typo.yaml")));
    let report = quick_junit::Report::deserialize_from_str(&std::fs::read_to_string(&xml).unwrap()).unwrap();
    let invalid = report.test_suites.iter().find(|s| s.name.as_str() == "modchaos scenario files").unwrap();
    assert_eq!(invalid.test_cases.len(), 1);
    assert!(matches!(
        &invalid.test_cases[0].status,
        quick_junit::TestCaseStatus::NonSuccess { kind: quick_junit::NonSuccessKind::Error, message: Some(m), .. }
            if m.as_str().contains("typo.yaml:2:16") && m.as_str().contains("sucess")
    ));
    let lines = std::fs::read_to_string(&journal).unwrap();
    let records: Vec<serde_json::Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(records.iter().any(|r| r["status"] == "invalid" && r["file"].as_str().unwrap().ends_with("typo.yaml")));
    let skipped = records.iter().find(|r| r["status"] == "skipped").expect("the min_go scenario is in the journal");
    assert!(skipped["reason"].as_str().unwrap().contains("needs go 1.99"));
    // Skipped alone: 4, or 0 when the runner says skips are expected; the summary names it.
    std::fs::remove_file(dir.path().join("typo.yaml")).unwrap();
    modchaos().arg("run").arg(dir.path()).assert().code(4);
    modchaos()
        .args(["run", "--skip-ok"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stderr(predicate::str::contains("skipped:\n    needs a future go: needs go 1.99"));
}

#[test]
fn a_go_matrix_runs_every_scenario_with_each_go_and_names_the_version() {
    let Some(second) = std::env::var_os("MODCHAOS_SECOND_GO") else {
        eprintln!("*** SKIPPED: set MODCHAOS_SECOND_GO to a second go command (.ci/run does) ***");
        return;
    };
    if !have_go() {
        return;
    }
    let first = modchaos::gobin::GoBinary::find(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("junit.xml");
    modchaos()
        .args(["run", "--filter", "^500 stops a comma list$", "--junit", xml.to_str().unwrap(), "--go"])
        .arg(&first.path)
        .arg("--go")
        .arg(&second)
        .arg("scenarios")
        .assert()
        .success();
    let report = quick_junit::Report::deserialize_from_str(&std::fs::read_to_string(&xml).unwrap()).unwrap();
    assert_eq!(report.test_suites.len(), 2, "one suite per go");
    let versions: Vec<String> = report
        .test_suites
        .iter()
        .map(|s| {
            let case = &s.test_cases[0];
            assert!(case.name.as_str().starts_with("500 stops a comma list [go"), "{}", case.name.as_str());
            let version = case.properties.iter().find(|p| p.name.as_str() == "go_version").unwrap();
            version.value.as_str().to_string()
        })
        .collect();
    assert_ne!(versions[0], versions[1], "{versions:?}");
}

#[test]
fn completions_and_the_manual_page_come_from_the_command_line_definition() {
    let out = modchaos().args(["completions", "bash"]).assert().success().get_output().stdout.clone();
    let script = String::from_utf8(out).unwrap();
    assert!(script.contains("--partition") && script.contains("doctor"), "{script}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("modchaos.bash");
    std::fs::write(&path, &script).unwrap();
    let syntax = std::process::Command::new("bash").arg("-n").arg(&path).status().unwrap();
    assert!(syntax.success(), "bash -n rejects the completion script");
    let man = modchaos().arg("man").assert().success().get_output().stdout.clone();
    let man = String::from_utf8(man).unwrap();
    assert!(man.starts_with(".ie") || man.contains(".TH modchaos 1"), "{man}");
    assert!(man.contains("run") && man.contains("validate"), "{man}");
    // Every page the main one names, each with its subcommand's options.
    modchaos().args(["man", "--dir"]).arg(dir.path().join("man1")).assert().success();
    let page = |name: &str| std::fs::read_to_string(dir.path().join("man1").join(name)).unwrap();
    assert!(page("modchaos.1").contains("modchaos\\-run(1)"), "{}", page("modchaos.1"));
    assert!(page("modchaos-run.1").contains("partition"), "{}", page("modchaos-run.1"));
    assert!(page("modchaos-diagnose.1").contains("exit\\-status"), "{}", page("modchaos-diagnose.1"));
}

#[test]
fn keep_leaves_the_sandbox_of_a_failure_with_a_rerun_script_and_removes_the_rest() {
    if !have_go() {
        return;
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fail.yaml"),
        format!(
            "name: kept failure\nmodules: [{}]\nhosts:\n  p.example:\n    goproxy: {{}}\n    faults: [{{respond: {{status: 502}}}}]\nrun: {{modules: [corp.example/lib@v1.0.0]}}\nexpect: {{exit: failure, diagnosis: proxy.not_found}}\n",
            fixtures.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pass.yaml"),
        format!(
            "name: removed pass\nmodules: [{}]\nhosts:\n  p.example:\n    goproxy: {{}}\nrun: {{modules: [corp.example/lib@v1.0.0]}}\nexpect: {{exit: success}}\n",
            fixtures.display()
        ),
    )
    .unwrap();
    let journal = dir.path().join("journal.jsonl");
    let out = modchaos()
        .args(["run", "--keep", "--json", journal.to_str().unwrap()])
        .arg(dir.path())
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let kept = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("sandbox kept: "))
        .unwrap_or_else(|| panic!("no kept sandbox named:\n{stderr}"))
        .to_string();
    let kept = Path::new(&kept);
    let script = std::fs::read_to_string(kept.join("rerun.sh")).expect("a rerun script");
    assert!(script.contains("export GOPROXY=") && script.contains("# ") && script.contains("mod download"), "{script}");
    assert!(kept.join("work").is_dir());
    // The passing scenario's sandbox is gone.
    let lines = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(lines.lines().count(), 2);
    // A later run does not sweep what was kept on purpose.
    modchaos().args(["run"]).arg(dir.path().join("pass.yaml")).assert().success();
    assert!(kept.exists(), "the kept sandbox was swept");
    let root = if kept.parent().unwrap().file_name().unwrap().to_str().unwrap().starts_with("modchaos-sealed-") {
        kept.parent().unwrap().to_path_buf()
    } else {
        kept.to_path_buf()
    };
    modchaos::fsutil::make_writable(&root);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_log_file_has_every_request_also_from_sealed_children_and_quiet_prints_only_the_summary() {
    if !have_go() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    let out = modchaos()
        .args(["run", "-q", "--filter", "^500 stops a comma list$", "--log-file", log.to_str().unwrap(), "scenarios"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("PASS"), "-q prints no passing line:\n{stderr}");
    assert!(stderr.contains("summary: 1 passed"), "{stderr}");
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&log).unwrap().lines().map(|l| serde_json::from_str(l).expect("JSON lines")).collect();
    let text = |v: &serde_json::Value| v["fields"]["message"].as_str().unwrap_or_default().to_string();
    assert!(lines.iter().any(|l| text(l).contains("world started")), "no world start in the log");
    // A sealed child's request keeps its fields and says whose it is.
    assert!(
        lines.iter().any(|l| text(l) == "request"
            && l["fields"]["status"] == "500"
            && l["fields"]["scenario"] == "500 stops a comma list"
            && l["fields"]["source"] == "modchaos::request"),
        "no request with the fault's 500 in the log"
    );
    assert!(lines.iter().any(|l| text(l).contains("go ended")), "no go command in the log");
    assert!(lines.iter().any(|l| text(l).contains("recovery step")), "no recovery step in the log");
}

#[test]
fn up_runs_a_command_in_the_world_sealed_and_open_with_faults_live() {
    if !have_go() {
        return;
    }
    let scenario = "scenarios/goproxy-list/500-stops-comma-list.yaml";
    for network in ["open", "sealed"] {
        if network == "sealed"
            && std::process::Command::new("unshare").args(["-Urn", "true"]).status().map_or(true, |s| !s.success())
        {
            eprintln!("*** SKIPPED: sealed `up`: no user namespaces here ***");
            continue;
        }
        let out = modchaos()
            .args([
                "up",
                "--network",
                network,
                scenario,
                "--",
                "go",
                "mod",
                "download",
                "-json",
                "corp.example/lib@v1.0.0",
            ])
            .assert()
            .code(1)
            .get_output()
            .clone();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stdout.contains("500 Internal Server Error") && stdout.contains("upstream exploded"),
            "{network}: {stdout}"
        );
        assert!(stderr.contains("export GOPROXY="), "{network}: {stderr}");
        assert!(
            stderr.contains("status=500") && stderr.contains("respond 500"),
            "{network}: no request logged:\n{stderr}"
        );
    }
}

#[test]
fn up_serves_until_interrupted_for_a_go_run_elsewhere() {
    if !have_go() {
        return;
    }
    use std::io::BufRead as _;
    let mut up = std::process::Command::new(env!("CARGO_BIN_EXE_modchaos"))
        .args(["up", "--network", "open", "scenarios/basics/happy-path.yaml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(up.stderr.take().unwrap()).lines();
    let mut env = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(assignment) = line.strip_prefix("export ") {
            let (k, v) = assignment.split_once('=').unwrap();
            env.push((k.to_string(), shell_words::split(v).unwrap().concat()));
            if k == "no_proxy" {
                break;
            }
        }
    }
    let modcache = env.iter().find(|(k, _)| k == "GOMODCACHE").unwrap().1.clone();
    // Another terminal: the exported environment is all a go command needs.
    let work = tempfile::tempdir().unwrap();
    modchaos::fsutil::disable_go_telemetry(&work.path().join(".config")).unwrap();
    let go = modchaos::gobin::GoBinary::find(None).unwrap();
    let download = std::process::Command::new(&go.path)
        .args(["mod", "download", "-json", "corp.example/lib@v1.1.0"])
        .current_dir(work.path())
        .env("HOME", work.path())
        .env("XDG_CONFIG_HOME", work.path().join(".config"))
        .env("GOCACHE", work.path().join("gocache"))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(download.status.success(), "{}", String::from_utf8_lossy(&download.stdout));
    let request = lines.by_ref().map(|l| l.unwrap()).find(|l| l.contains("request") && l.contains("v1.1.0.zip"));
    assert!(request.is_some_and(|l| l.contains("status=200")), "the zip request was not logged");
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(up.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let status = up.wait().unwrap();
    let said = rest.join().unwrap();
    assert!(status.success(), "up ended with {status}: {said}");
    assert!(said.contains("stopping the world"), "{said}");
    assert!(!Path::new(&modcache).exists(), "up left its module cache {modcache}");
}

/// `modchaos diagnose build.log | head -1` (and the other commands that only print) end
/// as `cat` would when the reader goes away: by SIGPIPE, never with a panic.
#[test]
fn printing_commands_end_quietly_when_their_reader_goes_away() {
    use std::os::unix::process::ExitStatusExt as _;
    let log = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        log.path(),
        "go: example.com/m@v1.0.0: reading https://proxy.example/example.com/m/@v/v1.0.0.info: 404 Not Found\n",
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("modchaos");
    for args in [vec!["diagnose".as_ref(), log.path().as_os_str()], vec!["schema".as_ref()], vec!["man".as_ref()]] {
        // A pipe whose read end is closed before modchaos starts: its first write meets
        // EPIPE, however fast it writes (closing the read end after the spawn raced a
        // short output into the pipe's buffer on a busy machine, and it exited 0).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(&bin)
            .args(&args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{args:?}: {} {stderr}", out.status);
    }
}

#[test]
fn the_color_flag_applies_to_validate_and_diagnose_too() {
    let (_dir, bad) = temp_scenario("name: t\nexpect: {exit: sucess}\n");
    let stderr = |color: &str| {
        let out = modchaos().args(["validate", "--color", color]).arg(&bad).assert().code(2).get_output().clone();
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(stderr("always").contains("\u{1b}["), "{}", stderr("always"));
    assert!(!stderr("never").contains('\u{1b}'), "{}", stderr("never"));
    let log = "go: corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 500 Internal Server Error\n";
    let stdout = |color: &str| {
        let out =
            modchaos().args(["diagnose", "--color", color]).write_stdin(log).assert().code(0).get_output().clone();
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(stdout("always").contains("\u{1b}[") && stdout("always").contains("proxy.server_error"));
    // Into a pipe, `auto` is plain.
    assert!(!stdout("never").contains('\u{1b}') && !stdout("auto").contains('\u{1b}'), "{}", stdout("auto"));
}

#[test]
fn repro_does_not_overwrite_a_file_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ci.log");
    std::fs::write(&log, "go: corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 500 Internal Server Error\n").unwrap();
    let out = dir.path().join("customer-1234.yaml");
    std::fs::write(&out, "name: written by hand\n").unwrap();
    modchaos().arg("repro").arg(&log).arg("-o").arg(&out).assert().code(2).stderr(
        predicate::str::contains("customer-1234.yaml exists: not overwritten").and(predicate::str::contains("--force")),
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "name: written by hand\n");
    modchaos().arg("repro").arg(&log).arg("-o").arg(&out).arg("--force").assert().success();
    assert!(std::fs::read_to_string(&out).unwrap().contains("proxy.server_error"));
}

#[test]
fn up_help_words_its_network_modes_for_one_world() {
    let help = modchaos().args(["up", "--help"]).assert().success().get_output().stdout.clone();
    let help = String::from_utf8(help).unwrap();
    assert!(!help.contains("skipped"), "up runs one world, it skips nothing:\n{help}");
    assert!(help.contains("exit status 3"), "{help}");
    assert!(help.contains("what to export"), "{help}");
    let run =
        String::from_utf8(modchaos().args(["run", "--help"]).assert().success().get_output().stdout.clone()).unwrap();
    assert!(run.contains("scenarios needing sealed mode are skipped"), "{run}");
}

#[test]
fn a_regex_where_a_glob_belongs_is_a_warning_and_the_failure_names_the_fault_that_never_fired() {
    let (dir, path) = temp_scenario(
        "name: regex path\nmodules: [FIXTURES]\nhosts:\n  p.example:\n    goproxy: {}\n    faults:\n      - when: {path: \"^/corp\\\\.example/.*$\"}\n        respond: {status: 500}\nrun: {modules: [corp.example/lib@v1.0.0]}\nexpect: {exit: failure, diagnosis: proxy.server_error}\n",
    );
    // Valid, with a warning at the glob.
    modchaos().args(["validate", path.to_str().unwrap()]).assert().success().stderr(
        predicate::str::contains("s.yaml:7:22: warning: `^/corp\\.example/.*$` looks like a")
            .and(predicate::str::contains("`when.path` is a glob"))
            .and(predicate::str::contains("paths are globs")),
    );
    // And at an expected request's path.
    let (_dir2, path2) = temp_scenario(
        "name: regex request\nmodules: [FIXTURES]\nhosts:\n  p.example:\n    goproxy: {}\nrun: {modules: [corp.example/lib@v1.0.0]}\nexpect:\n  exit: success\n  requests:\n    - {host: p.example, path: \"/corp.example/lib/@v/v1\\\\.0\\\\.0\\\\.zip\"}\n",
    );
    modchaos().args(["validate", path2.to_str().unwrap()]).assert().success().stderr(
        predicate::str::contains("s.yaml:10:31: warning: `/corp.example/lib/@v/")
            .and(predicate::str::contains("`expect.requests[].path` is a glob")),
    );
    if !have_go() {
        return;
    }
    let journal = dir.path().join("journal.jsonl");
    let lead = "fault #1 (respond 500) on p.example never fired in the ";
    let junit = dir.path().join("junit.xml");
    modchaos()
        .args(["run", path.to_str().unwrap(), "--json", journal.to_str().unwrap(), "--junit", junit.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("leads:")
                .and(predicate::str::contains(lead))
                .and(predicate::str::contains("check its `when` (path \"^/corp\\.example/.*$\")"))
                .and(predicate::str::contains("paths are globs, not regular expressions")),
        );
    let line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&journal).unwrap().lines().next().unwrap()).unwrap();
    let leads = line["leads"].as_array().unwrap();
    assert_eq!(leads.len(), 1, "{line}");
    assert!(leads[0].as_str().unwrap().starts_with(lead), "{line}");
    // The HTML report shows the lead too, escaped.
    let html = dir.path().join("report.html");
    modchaos().arg("report").arg(&journal).arg("--html").arg(&html).assert().success();
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains("<h3>Leads</h3>") && html.contains(lead), "{html}");
    // JUnit's message says which phase missed (here the run's exit or diagnosis).
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("message=\"[run] "), "{xml}");
}

#[test]
fn validate_checks_a_playbook_or_a_shared_file_named_on_its_own_as_what_it_is() {
    // They were read as scenarios: `unknown field fixes`, `missing field name`.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    modchaos()
        .arg("validate")
        .arg(root.join("scenarios/playbooks/retry.yaml"))
        .arg(root.join("scenarios/shared/corp-proxy-and-sumdb.yaml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("(playbook retry)").and(predicate::str::contains("(shared definitions)")));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("playbooks")).unwrap();
    let book = dir.path().join("playbooks/fix.yaml");
    std::fs::write(&book, "name: fix\nsteps:\n  - sett: {A: b}\n").unwrap();
    modchaos().arg("validate").arg(&book).assert().code(2).stderr(
        predicate::str::contains("fix.yaml:3:5: unknown variant `sett`").and(predicate::str::contains("fixes").not()),
    );
}

#[test]
fn a_scenario_that_passed_without_its_faults_firing_says_so() {
    // An outside audit's false green: a fault whose `when` matched nothing, and a scenario
    // expecting success, passed with nothing said.
    if !have_go() {
        return;
    }
    let (dir, path) = temp_scenario(
        "name: unfired\nmodules: [FIXTURES]\nhosts:\n  p.example:\n    goproxy: {}\n    faults:\n      - when: {path: \"*.zpi\"}\n        delay: 2s\nrun: {modules: [corp.example/lib@v1.0.0]}\nexpect: {exit: success}\n",
    );
    let journal = dir.path().join("journal.jsonl");
    let note = "note: passed, but fault #1 (delay 2s) on p.example never fired in the ";
    modchaos()
        .args(["run", path.to_str().unwrap(), "--json", journal.to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains(note).and(predicate::str::contains("check its `when` (path \"*.zpi\")")));
    let line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&journal).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(line["status"], "passed");
    assert_eq!(line["leads"].as_array().map(Vec::len), Some(1), "{line}");
}

/// `fixtures` prints the go.sum lines of a directory of fixtures, reads `$GOROOT/` as a
/// scenario's `modules:` does, and says why a directory of directories gives nothing.
#[test]
fn fixtures_reads_goroot_paths_and_refuses_a_directory_without_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    modchaos()
        .arg("fixtures")
        .arg(root.join("fixtures/modules"))
        .assert()
        .success()
        .stdout(predicates::str::contains("corp.example/lib v1.0.0/go.mod h1:"));
    modchaos()
        .arg("fixtures")
        .arg(root.join("fixtures"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no module fixture in it"))
        .stderr(predicates::str::contains("one level deep"));
    if !have_go() {
        eprintln!("*** fixtures' $GOROOT/ paths NOT checked: no go toolchain found ***");
        return;
    }
    modchaos()
        .args(["fixtures", "$GOROOT/src/cmd/go/testdata/mod"])
        .assert()
        .success()
        .stdout(predicates::str::contains("rsc.io/quote v1.5.2 h1:"));
}

/// A temporary directory the environment names that cannot hold sandboxes is the
/// environment's problem (exit 3, said once and naming the variable), not a harness
/// problem of every scenario, nor go's.
#[test]
fn regression_an_unusable_modchaos_tmpdir_or_tmpdir_exits_3_naming_the_variable() {
    let (_dir, path) = temp_scenario(
        "name: t\nmodules: [FIXTURES]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\nrun: {modules: [corp.example/lib@v1.0.0]}\nexpect: {exit: success}\n",
    );
    let file = path.display().to_string();
    for (var, value, said) in [
        (
            "MODCHAOS_TMPDIR",
            "/nonexistent-modchaos",
            "MODCHAOS_TMPDIR=/nonexistent-modchaos names a directory that does not exist",
        ),
        ("MODCHAOS_TMPDIR", "relative/dir", "MODCHAOS_TMPDIR=relative/dir is not an absolute path"),
        ("TMPDIR", "/nonexistent-modchaos", "TMPDIR=/nonexistent-modchaos names a directory that does not exist"),
    ] {
        modchaos()
            .args(["run", "--network", "open", &file])
            .env(var, value)
            .assert()
            .code(3)
            .stderr(predicate::str::contains(said).and(predicate::str::contains(format!("help: set {var} to"))));
    }
}

/// The summary's skipped list joins a scenario's name and its reason with ": ": each is
/// masked on its own, so that a name ending in "token" does not make the reason's first
/// word look like one ("…stale token: xxxxx sealed networking").
#[test]
fn regression_a_skip_reason_after_a_name_ending_in_token_is_not_masked() {
    let out = modchaos()
        .args(["run", "--network", "open", "-q", "scenarios/credentials/gitconfig-insteadof-with-a-stale-token.yaml"])
        .assert()
        .code(4)
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(out).unwrap();
    assert!(stderr.contains("with a stale token: needs sealed networking"), "{stderr}");
}
