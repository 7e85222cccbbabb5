//! Go's own module fixtures (`$GOROOT/src/cmd/go/testdata/mod`) as real-world test data:
//! the whole directory must load, the harness's h1 hashes must equal the go.sum lines in
//! Go's own `testdata/script` files, and the real go must agree through the fake proxy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use modchaos::fixture::ModuleSet;
use modchaos::gobin::GoBinary;
use modchaos::judge::run_scenario;
use modchaos::runner::{NoEvents, RunOptions};
use modchaos::scenario::{LoadContext, parse};

fn goroot() -> Option<(GoBinary, PathBuf)> {
    let go = GoBinary::find(None).ok()?;
    let root = go.goroot().ok()?;
    Some((go, root))
}

macro_rules! require_go {
    () => {
        match goroot() {
            Some(found) => found,
            None => {
                eprintln!("*** SKIPPED: no go toolchain found, so $GOROOT/src/cmd/go/testdata cannot be read ***");
                return;
            }
        }
    };
}

/// `module version[/go.mod] h1:...` lines of Go's script tests, by (module, version, is_go_mod).
fn script_sums(goroot: &Path) -> BTreeMap<(String, String, bool), BTreeSet<String>> {
    let re = regex::Regex::new(r"(?m)^(\S+) (v[^/\s]+)(/go\.mod)? (h1:[A-Za-z0-9+/]{43}=)$").unwrap();
    let mut sums: BTreeMap<_, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(goroot.join("src/cmd/go/testdata/script")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        // Scripts hold deliberately wrong sums in files named like go.sum.bad: skip those.
        let mut section = String::new();
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("-- ").and_then(|l| l.strip_suffix(" --")) {
                section = name.to_string();
            } else if !section.contains("bad")
                && let Some(c) = re.captures(line)
            {
                sums.entry((c[1].to_string(), c[2].to_string(), c.get(3).is_some()))
                    .or_default()
                    .insert(c[4].to_string());
            }
        }
    }
    sums
}

#[test]
fn the_whole_testdata_mod_directory_loads() {
    let (_, goroot) = require_go!();
    let dir = goroot.join("src/cmd/go/testdata/mod");
    let txt_files = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "txt"))
        .count();
    let loaded = ModuleSet::load(std::slice::from_ref(&dir)).expect("Go's fixture directory loads");
    let with_violations = loaded.set.iter().filter(|m| !m.zip_violations.is_empty()).count();
    eprintln!(
        "loaded {} modules from {} .txt files in {}; {} break the module zip rules on purpose; skipped: {:?}",
        loaded.set.len(),
        txt_files,
        dir.display(),
        with_violations,
        loaded
            .skipped
            .iter()
            .map(|(p, why)| format!("{}: {why}", p.file_name().unwrap().to_string_lossy()))
            .collect::<Vec<_>>()
    );
    assert_eq!(loaded.set.len(), txt_files, "every .txt fixture becomes a module");
    assert!(loaded.set.len() >= 200, "Go ships a few hundred fixture modules");
    assert!(
        loaded.skipped.iter().all(|(p, _)| p.extension().is_none_or(|x| x != "txt")),
        "only non-.txt files are skipped"
    );
    for (module, expected) in [
        ("rsc.io/badfile2", "invalid char '☺'"),
        ("rsc.io/badfile3", "invalid char '?'"),
        ("rsc.io/badfile4", "collides"),
        ("rsc.io/badfile5", "directory x/Y collides"),
        ("rsc.io/badzip", "not in the module prefix"),
    ] {
        let m = loaded.set.versions(module).first().unwrap_or_else(|| panic!("{module} loads"));
        assert!(m.zip_violations.iter().any(|v| v.contains(expected)), "{module}: {:?}", m.zip_violations);
    }
    assert_eq!(with_violations, 5, "exactly Go's five deliberately broken modules break the rules");
    assert!(
        loaded.set.versions("rsc.io/badfile1")[0].zip_violations.is_empty(),
        "badfile1 is valid (its comment says so)"
    );
}

#[test]
fn our_hashes_equal_the_go_sum_lines_of_gos_script_tests() {
    let (_, goroot) = require_go!();
    let set = ModuleSet::load(&[goroot.join("src/cmd/go/testdata/mod")]).unwrap().set;
    let sums = script_sums(&goroot);
    let (mut agree, mut disagree) = (0, Vec::new());
    for ((module, version, go_mod), recorded) in &sums {
        let Some(m) = set.get(module, version) else {
            continue;
        };
        let ours = if *go_mod { m.go_mod_sum.clone().unwrap_or_default() } else { m.sum.clone() };
        if recorded.contains(&ours) {
            agree += 1;
        } else {
            disagree.push(format!(
                "{module} {version}{}: ours {ours}, scripts {recorded:?}",
                if *go_mod { "/go.mod" } else { "" }
            ));
        }
    }
    eprintln!(
        "{agree} go.sum lines of Go's script tests agree with our hashes; {} disagree:\n{}",
        disagree.len(),
        disagree.join("\n")
    );
    assert!(agree >= 40, "only {agree} comparable go.sum lines found");
    assert!(disagree.is_empty());
}

#[test]
fn go_reports_the_same_sums_through_the_fake_proxy() {
    let (go, goroot) = require_go!();
    let sums = script_sums(&goroot);
    let modules = [
        ("rsc.io/quote", "v1.5.2"),
        ("rsc.io/quote", "v1.0.0"),
        ("rsc.io/sampler", "v1.3.0"),
        ("rsc.io/sampler", "v1.99.99"),
        ("golang.org/x/text", "v0.0.0-20170915032832-14c0d48ead0c"),
        ("golang.org/x/text", "v0.3.0"),
        ("rsc.io/testonly", "v1.0.0"),
        ("example.com/version", "v1.1.0"),
        ("example.com/stack", "v1.0.0"),
        ("rsc.io/QUOTE", "v1.5.2"),
    ];
    let dir = goroot.join("src/cmd/go/testdata/mod");
    let files: Vec<String> = modules
        .iter()
        .map(|(path, version)| {
            let escaped = format!(
                "{}_{}.txt",
                modchaos::fixture::escape::escape(path).replace('/', "_"),
                modchaos::fixture::escape::escape(version)
            );
            format!("  - {}\n", dir.join(escaped).display())
        })
        .collect();
    let ids: Vec<String> = modules.iter().map(|(p, v)| format!("{p}@{v}")).collect();
    let yaml = format!(
        "name: goroot sums\nmodules:\n{}hosts:\n  proxy.golang.example:\n    goproxy: {{}}\nrun:\n  modules: [{}]\nexpect:\n  exit: success\n  verified: true\n",
        files.concat(),
        ids.join(", ")
    );
    let ctx = LoadContext::new(Some(go.clone()));
    let scenario = parse(Path::new("goroot-sums.yaml"), yaml, &ctx).unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let report =
        runtime.block_on(run_scenario(&scenario, &RunOptions::open(go, "this test is about open mode"), &NoEvents));
    assert!(
        report.failures.is_empty() && report.reason.is_none(),
        "{}",
        modchaos::report::text::failure_details(&report)
    );
    let records = &report.run.as_ref().unwrap().evidence.records;
    assert_eq!(records.len(), modules.len());
    let mut compared = 0;
    for record in records {
        let fixture = scenario.modules.get(&record.path, &record.version).unwrap();
        assert_eq!(
            record.sum.as_deref(),
            Some(fixture.sum.as_str()),
            "{}@{}: go and the harness disagree",
            record.path,
            record.version
        );
        if let Some(recorded) = sums.get(&(record.path.clone(), record.version.clone(), false)) {
            assert!(
                recorded.contains(fixture.sum.as_str()),
                "{}@{}: go.sum lines in Go's scripts say {recorded:?}",
                record.path,
                record.version
            );
            compared += 1;
        }
    }
    eprintln!(
        "go mod download -json through the fake proxy: {} modules, Sum equal to ours for all, {compared} also equal to Go's script go.sum lines",
        records.len()
    );
    assert!(compared >= 7, "only {compared} modules had script go.sum lines to compare with");
}
