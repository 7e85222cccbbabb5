//! The CI examples in `examples/ci/` are valid: the GitHub Actions workflow passes
//! actionlint and GitHub's workflow schema, the GitLab CI file passes GitLab's CI schema
//! (both schemas as vendored by check-jsonschema), and every modchaos flag they use
//! exists. Each checker also rejects a deliberately broken copy, so a checker that
//! accepts anything cannot pass this test. The tools are installed once under
//! `target/tmp/` (actionlint with `go install`, check-jsonschema with pip in a venv);
//! where they cannot be, the check is skipped, loudly.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ACTIONLINT: &str = "github.com/rhysd/actionlint/cmd/actionlint";
const ACTIONLINT_VERSION: &str = "v1.7.7";
const CHECK_JSONSCHEMA_VERSION: &str = "0.39.0";

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci").join(name)
}

fn tools_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a command to completion; `Err` with what it said when it fails.
fn run(command: &mut Command) -> Result<String, String> {
    let out = command.stdin(Stdio::null()).output().map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() { Ok(said) } else { Err(said) }
}

/// actionlint, built once with `go install` into `target/tmp/`.
fn actionlint() -> Result<PathBuf, String> {
    let dir = tools_dir(&format!("actionlint-{ACTIONLINT_VERSION}"));
    let binary = dir.join("bin/actionlint");
    if binary.is_file() {
        return Ok(binary);
    }
    let go = modchaos::gobin::GoBinary::find(None).map_err(|e| e.to_string())?;
    let staging = dir.join(format!("bin.tmp-{}", std::process::id()));
    eprintln!("installing actionlint {ACTIONLINT_VERSION} with go install into {}…", dir.display());
    run(Command::new(&go.path)
        .args(["install", &format!("{ACTIONLINT}@{ACTIONLINT_VERSION}")])
        .current_dir(&dir)
        .env("GOBIN", &staging)
        .env("GOPATH", dir.join("gopath"))
        .env("GOMODCACHE", dir.join("gopath/pkg/mod"))
        // The build cache every test's Go tool shares: the standard library compiles once.
        .env("GOCACHE", Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-build-cache"))
        .env("GOFLAGS", "-modcacherw")
        .env("GOTOOLCHAIN", "local")
        .env("GOWORK", "off")
        .env("CGO_ENABLED", "0"))
    .map_err(|e| format!("go install {ACTIONLINT}@{ACTIONLINT_VERSION} failed: {e}"))?;
    std::fs::create_dir_all(dir.join("bin")).map_err(|e| e.to_string())?;
    std::fs::rename(staging.join("actionlint"), &binary).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&staging);
    Ok(binary)
}

/// The python of a venv holding check-jsonschema (run as `python -m check_jsonschema`),
/// installed once with pip under `target/tmp/`.
fn check_jsonschema() -> Result<PathBuf, String> {
    let dir = tools_dir(&format!("check-jsonschema-{CHECK_JSONSCHEMA_VERSION}"));
    let python = dir.join("venv/bin/python");
    if dir.join("venv/bin/check-jsonschema").is_file() {
        return Ok(python);
    }
    let staging = dir.join(format!("venv.tmp-{}", std::process::id()));
    eprintln!("installing check-jsonschema {CHECK_JSONSCHEMA_VERSION} with pip into {}…", dir.display());
    run(Command::new("python3").arg("-m").arg("venv").arg(&staging))
        .map_err(|e| format!("python3 -m venv failed: {e}"))?;
    run(Command::new(staging.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("check-jsonschema=={CHECK_JSONSCHEMA_VERSION}"),
    ]))
    .map_err(|e| format!("pip install check-jsonschema failed: {e}"))?;
    // The venv's scripts name the staging path, but its python finds the packages
    // relative to itself wherever the venv is: the checker runs as `python -m`.
    let _ = std::fs::remove_dir_all(dir.join("venv"));
    std::fs::rename(&staging, dir.join("venv")).map_err(|e| e.to_string())?;
    Ok(python)
}

/// A copy of `file` with `from` replaced by `to` (which must occur), in a temp dir.
fn broken_copy(file: &Path, from: &str, to: &str) -> (tempfile::TempDir, PathBuf) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} no longer contains {from:?}", file.display());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file.file_name().unwrap());
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    (dir, path)
}

#[test]
fn the_github_actions_workflow_passes_actionlint() {
    let actionlint = match actionlint() {
        Ok(path) => path,
        Err(why) => {
            eprintln!("\n*** SKIPPED: actionlint is not available here: {why} ***\n");
            return;
        }
    };
    let workflow = example("github-actions.yml");
    let lint = |path: &Path| run(Command::new(&actionlint).arg("-no-color").arg(path));
    lint(&workflow).unwrap_or_else(|said| panic!("actionlint rejects {}:\n{said}", workflow.display()));
    let (_dir, broken) = broken_copy(&workflow, "timeout-minutes: 60", "timeout-minutes: an hour");
    let said = lint(&broken).expect_err("actionlint accepts a broken workflow");
    assert!(said.contains("timeout-minutes") || said.contains("float"), "{said}");
}

#[test]
fn both_workflows_pass_their_ci_systems_schemas() {
    let checker = match check_jsonschema() {
        Ok(path) => path,
        Err(why) => {
            eprintln!("\n*** SKIPPED: check-jsonschema is not available here: {why} ***\n");
            return;
        }
    };
    let check = |schema: &str, path: &Path| {
        run(Command::new(&checker).args(["-m", "check_jsonschema", "--builtin-schema", schema]).arg(path))
    };
    for (schema, file, from, to) in [
        ("vendor.github-workflows", "github-actions.yml", "contents: read", "contents: sometimes"),
        ("vendor.gitlab-ci", "gitlab-ci.yml", "when: always", "when: sometimes"),
    ] {
        let path = example(file);
        check(schema, &path).unwrap_or_else(|said| panic!("{schema} rejects {file}:\n{said}"));
        let (_dir, broken) = broken_copy(&path, from, to);
        let said = check(schema, &broken).expect_err("the schema accepts a broken file");
        assert!(said.contains("sometimes"), "{said}");
    }
}

#[test]
fn every_modchaos_flag_the_workflows_use_exists() {
    let help = run(Command::new(env!("CARGO_BIN_EXE_modchaos")).args(["run", "--help"])).unwrap();
    for file in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(example(file)).unwrap();
        let runs: Vec<&str> =
            text.lines().filter(|l| l.contains("modchaos run") || l.trim_start().starts_with("--")).collect();
        assert!(!runs.is_empty(), "{file} runs no modchaos command");
        let flags: Vec<&str> = runs
            .iter()
            .flat_map(|l| l.split_whitespace())
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(|w| w.trim_end_matches(['\\', '"']))
            .collect();
        for flag in flags {
            assert!(help.contains(flag), "{file} uses {flag}, which `modchaos run` does not have");
        }
    }
}
