//! No secret reaches a report. Secrets are planted in every place a scenario can hold
//! one — a URL in `env`, a recovery's `netrc` and `set` steps, playbook parameters, a
//! forward proxy's, a module proxy's and a git host's credentials, a token in a git
//! `insteadOf` URL — and in a CI log (proxy URLs, an `Authorization` header a GOAUTH
//! command printed, a `.netrc` line, git credential and `insteadOf` URLs) and in a
//! user's environment; then every output is searched for them: `modchaos run -v` on the
//! terminal (with failure stories, recovery steps and configuration diffs), the JSON
//! journal (with every go command's output and every request), JUnit, the HTML report
//! (`run --html` and `report`), `diagnose` (text and JSON), `repro` (stdout and `-o`),
//! `doctor --json` and `validate`.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use base64::Engine as _;

/// (user, password) pairs planted; each password, and the Basic header carrying it,
/// must never show.
const PLANTED: &[(&str, &str)] = &[
    ("ci", "PW-ENV-URL-7f3a"),
    ("ci", "PW-GOPROXY-AUTH-91c2"),
    ("ci", "PW-NETRC-STEP-44d1"),
    ("ci", "PW-SET-URL-b7e0"),
    ("ci", "PW-PLAYBOOK-PARAM-2c9d"),
    ("ci", "PW-FWD-AUTH-5a11"),
    ("ci", "PW-FWD-URL-0e7c"),
    ("ci", "PW-GIT-AUTH-6b2f"),
    ("ci", "PW-GIT-NETRC-d3e4"),
    ("ci", "TOKEN-INSTEADOF-93aa"),
    ("ci", "PW-PROXY-PARAM-c4d8"),
    ("ci", "PW-LOG-GOPROXY-1a2b"),
    ("ci", "PW-LOG-PROXY-3c4d"),
    ("ci", "PW-LOG-GOAUTH-5e6f"),
    ("ci", "PW-LOG-NETRC-7a8b"),
    ("ci", "PW-LOG-INSTEADOF-9c0d"),
    ("ci", "PW-LOG-GITCRED-e1f2"),
    ("ci", "PW-DOC-GOPROXY-a3b4"),
    ("ci", "PW-DOC-PROXY-c5d6"),
    ("ci", "PW-DOC-GOAUTH-e7f8"),
    ("ci", "PW-DOC-INSTEADOF-0a1b"),
];

/// Everything that must not show: each planted secret and its Basic header form.
fn forbidden() -> Vec<String> {
    PLANTED
        .iter()
        .flat_map(|(user, password)| {
            [password.to_string(), base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))]
        })
        .collect()
}

/// Fails with every planted secret found in `output` (named `what`).
fn assert_clean(what: &str, output: &str) {
    let found: Vec<String> = forbidden().into_iter().filter(|s| output.contains(s.as_str())).collect();
    assert!(found.is_empty(), "{what} shows secrets {found:?}:\n{output}");
}

const OPEN: &str = r#"name: secrets in a module proxy's world
modules: [FIXTURES]
hosts:
  proxy.corp.example:
    goproxy: {auth: {user: ci, password: PW-GOPROXY-AUTH-91c2}}
env:
  GOPROXY: https://ci:PW-ENV-URL-7f3a@proxy.corp.example
run: {modules: [corp.example/lib@v1.0.0], timeout: 20s}
expect: {exit: success, diagnosis: none}
recover:
  playbook: goproxy-credentials
  with: {host: proxy.corp.example, login: ci, password: PW-PLAYBOOK-PARAM-2c9d}
  steps:
    - netrc: {host: proxy.corp.example, login: ci, password: PW-NETRC-STEP-44d1}
    - set: {GOPROXY: "https://ci:PW-SET-URL-b7e0@proxy.corp.example"}
"#;

const SEALED: &str = r#"name: secrets behind a forward proxy and a git host
network: sealed
modules: [FIXTURES]
hosts:
  goproxy.corp.example:
    goproxy: {}
  proxy.corp.example:
    forward_proxy: {auth: {user: ci, password: PW-FWD-AUTH-5a11}}
  corp.example:
    git: {auth: {user: ci, password: PW-GIT-AUTH-6b2f}}
env:
  GOPROXY: https://goproxy.corp.example
  HTTPS_PROXY: http://ci:PW-FWD-URL-0e7c@proxy.corp.example:3128
  GIT_CONFIG_COUNT: "1"
  GIT_CONFIG_KEY_0: url.https://TOKEN-INSTEADOF-93aa@corp.example/.insteadOf
  GIT_CONFIG_VALUE_0: https://corp.example/
run: {modules: [corp.example/lib@v1.0.0], timeout: 20s}
expect: {exit: success, diagnosis: none}
recover:
  playbook: http-proxy-credentials
  with: {proxy: "http://ci:PW-PROXY-PARAM-c4d8@proxy.corp.example:3128"}
  steps:
    - netrc: {host: corp.example, login: ci, password: PW-GIT-NETRC-d3e4}
    - set: {GOPROXY: direct, GOPRIVATE: corp.example}
"#;

/// A CI log of a 407 with credentials all over it.
const LOG: &str = r#"2024-05-01T10:00:00Z + go env
2024-05-01T10:00:00Z GOPROXY=https://ci:PW-LOG-GOPROXY-1a2b@goproxy.corp.example
2024-05-01T10:00:00Z HTTPS_PROXY=http://ci:PW-LOG-PROXY-3c4d@proxy.corp.example:3128
2024-05-01T10:00:00Z GOAUTH=command /usr/local/bin/ci-auth
2024-05-01T10:00:01Z ci-auth: https://goproxy.corp.example
2024-05-01T10:00:01Z ci-auth: Authorization: Bearer PW-LOG-GOAUTH-5e6f
2024-05-01T10:00:01Z + cat ~/.netrc
2024-05-01T10:00:01Z machine goproxy.corp.example login ci password PW-LOG-NETRC-7a8b
2024-05-01T10:00:01Z + git config --global url."https://PW-LOG-INSTEADOF-9c0d@github.com/".insteadOf https://github.com/
2024-05-01T10:00:01Z + git credential approve <<< url=https://ci:PW-LOG-GITCRED-e1f2@corp.example
2024-05-01T10:00:02Z + go mod download -json -x corp.example/lib@v1.0.0
2024-05-01T10:00:02Z # get https://ci:PW-LOG-GOPROXY-1a2b@goproxy.corp.example/corp.example/lib/@v/v1.0.0.info
2024-05-01T10:00:02Z # get https://ci:PW-LOG-GOPROXY-1a2b@goproxy.corp.example/corp.example/lib/@v/v1.0.0.info: Get "https://ci:PW-LOG-GOPROXY-1a2b@goproxy.corp.example/corp.example/lib/@v/v1.0.0.info": Proxy Authentication Required
2024-05-01T10:00:02Z {
2024-05-01T10:00:02Z 	"Path": "corp.example/lib",
2024-05-01T10:00:02Z 	"Version": "v1.0.0",
2024-05-01T10:00:02Z 	"Error": "corp.example/lib@v1.0.0: Get \"https://ci:PW-LOG-GOPROXY-1a2b@goproxy.corp.example/corp.example/lib/@v/v1.0.0.info\": Proxy Authentication Required"
2024-05-01T10:00:02Z }
2024-05-01T10:00:02Z Error: Process completed with exit code 1.
"#;

fn modchaos() -> Command {
    let mut cmd = Command::cargo_bin("modchaos").unwrap();
    cmd.timeout(Duration::from_secs(300));
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn regression_no_report_of_a_run_shows_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules");
    for (name, yaml) in [("open.yaml", OPEN), ("sealed.yaml", SEALED)] {
        std::fs::write(dir.path().join(name), yaml.replace("FIXTURES", &fixtures.display().to_string())).unwrap();
    }
    let journal = dir.path().join("journal.json");
    let junit = dir.path().join("junit.xml");
    let html = dir.path().join("report.html");
    let output = modchaos()
        .args(["run", "-v", "--json"])
        .arg(&journal)
        .arg("--junit")
        .arg(&junit)
        .arg("--html")
        .arg(&html)
        .arg(dir.path())
        .output()
        .unwrap();
    let terminal = text(&output.stderr) + &text(&output.stdout);
    let again = dir.path().join("again.html");
    modchaos().arg("report").arg(&journal).arg("--html").arg(&again).assert().success();
    let journal = std::fs::read_to_string(&journal).unwrap();
    let html = std::fs::read_to_string(&html).unwrap();
    let again = std::fs::read_to_string(&again).unwrap();
    let junit = std::fs::read_to_string(&junit).unwrap();
    // Both scenarios fail on purpose, so that the whole story is told; the story did
    // reach the places secrets were in (configuration diffs, recovery steps).
    assert_eq!(output.status.code(), Some(1), "{terminal}");
    assert!(terminal.contains("FAIL  secrets in a module proxy's world"), "{terminal}");
    assert!(terminal.contains("configuration changed: GOPROXY: https://ci:xxxxx@proxy.corp.example"), "{terminal}");
    assert!(journal.lines().count() == 2 && junit.contains("<testcase"), "{journal}\n{junit}");
    let sealed_ran = !terminal.contains("SKIP  secrets behind a forward proxy");
    if sealed_ran {
        assert!(terminal.contains("set HTTPS_PROXY=http://ci:xxxxx@proxy.corp.example:3128"), "{terminal}");
    } else {
        eprintln!("*** sealed networking is unavailable: the forward proxy and git host scenario was skipped ***");
    }
    assert_clean("the terminal (run -v)", &terminal);
    assert_clean("the JSON journal", &journal);
    assert_clean("the JUnit report", &junit);
    // The journal and the HTML report tell the whole story (each command's output, each
    // request, the environment), masked.
    assert!(
        journal.contains("\"go_commands\"") && journal.contains("https://ci:xxxxx@proxy.corp.example"),
        "{journal}"
    );
    assert!(html.contains("https://ci:xxxxx@proxy.corp.example"), "{html}");
    assert_clean("the HTML report (run --html)", &html);
    assert_clean("the HTML report (report)", &again);

    // validate quotes the file: its snippets must not show the secrets either.
    std::fs::write(
        dir.path().join("bad.yaml"),
        OPEN.replace("FIXTURES", "missing").replace("  GOPROXY", "  GOPROXY: x\n  GOPROXY"),
    )
    .unwrap();
    let output = modchaos().arg("validate").arg(dir.path().join("bad.yaml")).output().unwrap();
    let said = text(&output.stderr) + &text(&output.stdout);
    assert!(said.contains("bad.yaml"), "{said}");
    assert_clean("validate", &said);
}

#[test]
fn regression_diagnose_and_repro_mask_the_secrets_of_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ci.log");
    std::fs::write(&log, LOG).unwrap();
    let output = modchaos().arg("diagnose").arg(&log).output().unwrap();
    let said = text(&output.stdout);
    assert!(said.contains("http_proxy.failure"), "{said}");
    assert_clean("diagnose", &(said + &text(&output.stderr)));
    let output = modchaos().args(["diagnose", "--json"]).arg(&log).output().unwrap();
    let said = text(&output.stdout);
    assert!(said.contains("\"recognised\": true"), "{said}");
    assert_clean("diagnose --json", &(said + &text(&output.stderr)));

    let output = modchaos().arg("repro").arg(&log).output().unwrap();
    let yaml = text(&output.stdout);
    assert!(output.status.success() && yaml.contains("forward_proxy"), "{yaml}\n{}", text(&output.stderr));
    assert_clean("repro", &(yaml.clone() + &text(&output.stderr)));
    let written = dir.path().join("repro.yaml");
    let output = modchaos().arg("repro").arg(&log).arg("-o").arg(&written).output().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_clean("repro -o", &(std::fs::read_to_string(&written).unwrap() + &text(&output.stderr)));
    // Masked consistently, the scenario still holds together.
    let output = modchaos().arg("validate").arg(&written).output().unwrap();
    assert!(
        output.status.success(),
        "the masked scenario is invalid:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[test]
fn regression_doctor_masks_the_users_secrets() {
    let Ok(go) = modchaos::gobin::GoBinary::find(None) else {
        eprintln!("*** SKIPPED: no go toolchain ***");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for sub in ["home", "gopath", "modcache", "gocache", "work"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    modchaos::fsutil::disable_go_telemetry(&dir.path().join("home/.config")).unwrap();
    // Nothing listens on port 1: go fails at once, and never leaves this machine.
    let output = modchaos()
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path().join("home"))
        .env("GOPATH", dir.path().join("gopath"))
        .env("GOMODCACHE", dir.path().join("modcache"))
        .env("GOCACHE", dir.path().join("gocache"))
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-modcacherw")
        .env("GOSUMDB", "off")
        .env("GOPROXY", "https://ci:PW-DOC-GOPROXY-a3b4@127.0.0.1:1")
        .env("HTTPS_PROXY", "http://ci:PW-DOC-PROXY-c5d6@127.0.0.1:1")
        .env("GOAUTH", "command /bin/echo Authorization: Bearer PW-DOC-GOAUTH-e7f8")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "url.https://PW-DOC-INSTEADOF-0a1b@github.com/.insteadOf")
        .env("GIT_CONFIG_VALUE_0", "https://github.com/")
        .current_dir(dir.path().join("work"))
        .args(["doctor", "--timeout", "60s", "--json", "--"])
        .arg(&go.path)
        .args(["mod", "download", "-json", "corp.example/lib@v1.0.0"])
        .output()
        .unwrap();
    let report = text(&output.stdout);
    assert!(report.contains("\"diagnosis\""), "{report}\n{}", text(&output.stderr));
    assert!(report.contains("https://ci:xxxxx@127.0.0.1:1"), "{report}");
    assert_clean("doctor --json", &(report + &text(&output.stderr)));
}
