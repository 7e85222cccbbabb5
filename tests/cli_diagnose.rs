//! `modchaos diagnose` as a user runs it, with the context a user has besides the log:
//! `--exit-status`, `--env` (KEY=VALUE lines, `go env` or `go env -json` output) and
//! `--duration`; the verdict says which context it used, text and JSON, and a killed run
//! is never a success.

use assert_cmd::Command;
use predicates::prelude::*;

fn diagnose() -> Command {
    let mut cmd = Command::cargo_bin("modchaos").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).arg("diagnose");
    cmd
}

/// A `-x` trace that ends in the middle of a request: all a log of a killed run has.
const CUT_SHORT: &str = "# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\n\
                         # get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 200 OK (0.003s)\n\
                         # get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip\n";

fn json(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output).expect("diagnose --json prints JSON")
}

#[test]
fn a_log_ending_mid_request_is_a_hang_not_a_success() {
    let out = diagnose().arg("--json").write_stdin(CUT_SHORT).assert().code(0).get_output().stdout.clone();
    let v = json(&out);
    assert_eq!(v["diagnosis"]["category"], "hang", "{v:#}");
    assert_eq!(v["diagnosis"]["confidence"], "medium", "{v:#}");
    // With the exit status the CI printed, it is certain, and the verdict says why.
    let out = diagnose()
        .args(["--json", "--exit-status", "124", "--duration", "20m"])
        .write_stdin(CUT_SHORT)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v = json(&out);
    assert_eq!(v["diagnosis"]["category"], "hang", "{v:#}");
    assert_eq!(v["diagnosis"]["confidence"], "high", "{v:#}");
    let context: Vec<String> = v["diagnosis"]["context"]
        .as_array()
        .expect("the context used is listed")
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert!(context.iter().any(|c| c.contains("exit status 124 (--exit-status)")), "{context:?}");
    assert!(context.iter().any(|c| c.contains("20m (--duration)")), "{context:?}");
    let evidence = v["diagnosis"]["evidence"].to_string();
    assert!(evidence.contains("1200.0 s"), "the duration is evidence: {evidence}");
}

#[test]
fn a_ci_cancellation_in_the_log_is_context_too() {
    let log = format!("{CUT_SHORT}##[error]The operation was canceled.\n");
    diagnose().write_stdin(log).assert().code(0).stdout(
        predicate::str::contains("diagnosis: hang (high confidence)")
            .and(predicate::str::contains("context used:"))
            .and(predicate::str::contains("killed before go ended (the log: \"The operation was canceled.\")")),
    );
    // Every request answered, then killed: a lock, with the hang as the other reading.
    let answered = "# get https://p.example/m/@v/v1.info\n# get https://p.example/m/@v/v1.info: 200 OK (0.001s)\n";
    diagnose().args(["--exit-status", "137"]).write_stdin(answered).assert().code(0).stdout(
        predicate::str::contains("diagnosis: cache.lock_stuck (medium confidence)")
            .and(predicate::str::contains("also fits: hang (low confidence)")),
    );
}

#[test]
fn env_file_in_each_form_changes_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    // `Forbidden` names no proxy: only the configuration tells a forward proxy's refusal.
    let log =
        "go: corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\": Forbidden\n";
    let plain = diagnose().arg("--json").write_stdin(log).assert().get_output().stdout.clone();
    assert_eq!(json(&plain)["diagnosis"]["confidence"], "low", "{:#}", json(&plain));
    for (name, text) in [
        ("vars.env", "HTTPS_PROXY=http://gw.corp.example:3128\nGOPROXY=https://proxy.corp.example\n"),
        (
            "go-env.txt",
            "GOPROXY='https://proxy.corp.example'\nGOSUMDB='off'\nHTTPS_PROXY='http://gw.corp.example:3128'\n",
        ),
        (
            "go-env.json",
            "{\n\t\"GOPROXY\": \"https://proxy.corp.example\",\n\t\"GOROOT\": \"/usr/local/go\",\n\t\"HTTPS_PROXY\": \"http://gw.corp.example:3128\"\n}\n",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = diagnose()
            .args(["--json", "--env", path.to_str().unwrap()])
            .write_stdin(log)
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let v = json(&out);
        assert_eq!(v["diagnosis"]["category"], "http_proxy.failure", "{name}: {v:#}");
        assert_eq!(v["diagnosis"]["confidence"], "high", "{name}: {v:#}");
        assert!(v["diagnosis"]["summary"].as_str().unwrap().contains("gw.corp.example"), "{name}: {v:#}");
        assert!(v["diagnosis"]["context"].to_string().contains("(--env "), "{name}: {v:#}");
    }
}

#[test]
fn bad_context_arguments_exit_2() {
    diagnose().args(["--duration", "soon"]).write_stdin("go: x\n").assert().code(2);
    diagnose().args(["--exit-status", "one"]).write_stdin("go: x\n").assert().code(2);
    // A negative status is none a shell or CI system prints: refused, saying what is.
    diagnose()
        .args(["--exit-status", "-1"])
        .write_stdin("go: x\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`-1` is not an exit status").and(predicate::str::contains("128+N")));
    diagnose().args(["--env", "/nonexistent/env"]).write_stdin("go: x\n").assert().code(2);
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.env");
    std::fs::write(&empty, "nothing useful here\n").unwrap();
    diagnose()
        .args(["--env", empty.to_str().unwrap()])
        .write_stdin("go: x\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no KEY=VALUE line"));
}

#[test]
fn a_success_that_warns_is_none_and_exit_status_0_is_believed() {
    let log = "go: writing stat cache: open /root/go/pkg/mod/cache/download/corp.example/lib/@v/v1.0.0.info1.tmp: permission denied\n";
    diagnose().args(["--exit-status", "0"]).write_stdin(log).assert().code(1).stdout(
        predicate::str::contains("diagnosis: none (high confidence)")
            .and(predicate::str::contains("exit status 0 (--exit-status)")),
    );
}
