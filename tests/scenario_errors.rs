//! Bad scenario files get clear errors: file:line:col, what was expected, and a hint
//! (often "did you mean"). And no input, however mangled, makes the loader panic.

use std::path::{Path, PathBuf};

use modchaos::scenario::{LoadContext, LoadError, parse};
use proptest::prelude::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules")
}

/// Parses `yaml` as `<tmp>/bad.yaml` where `<tmp>` holds a copy-free link to the fixtures.
fn errors(yaml: &str) -> Vec<String> {
    let path = fixtures().parent().unwrap().join("bad.yaml");
    match parse(&path, yaml.to_string(), &LoadContext::default()) {
        Ok(_) => Vec::new(),
        Err(e) => {
            let problems = e.problems();
            assert!(matches!(e, LoadError::Invalid { .. }));
            problems.iter().map(|p| p.plain().replace(&format!("{}/", path.parent().unwrap().display()), "")).collect()
        }
    }
}

fn one_error(yaml: &str) -> String {
    let errors = errors(yaml);
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    errors.into_iter().next().unwrap()
}

const EXPECT: &str = "expect: {exit: failure}\n";

const HEADER: &str = "name: t\nmodules: [modules]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n";

#[test]
fn a_bad_duration_names_its_position_and_the_accepted_form() {
    let e = one_error(&format!("{HEADER}run:\n  timeout: 20\n{EXPECT}"));
    assert!(e.starts_with("bad.yaml:7:12: `20` has no unit"), "{e}");
    assert!(e.contains("help: write durations with a unit, like 250ms"), "{e}");
    let e = one_error(&format!("{HEADER}    faults:\n      - delay: 2 secs please\n{EXPECT}"));
    assert!(e.starts_with("bad.yaml:7:16: `2 secs please` is not a duration"), "{e}");
}

#[test]
fn regression_an_enormous_timeout_is_refused_at_validation() {
    // `9000000000000000000s` passed validate and overflowed the sealed child's watchdog.
    let e = one_error(&format!("{HEADER}run:\n  timeout: 9000000000000000000s\n{EXPECT}"));
    assert!(e.starts_with("bad.yaml:7:12: `9000000000000000000s` is longer than the longest duration"), "{e}");
    assert!(e.contains("help: write durations with a unit"), "{e}");
    // A toxic's bare number (milliseconds) is bounded too.
    let e = one_error(&format!("{HEADER}    tcp: [{{latency: {{latency: 900000000000}}}}]\n{EXPECT}"));
    assert!(e.contains("is longer than the longest duration"), "{e}");
}

#[test]
fn an_unknown_fault_kind_suggests_the_closest_one() {
    let e =
        one_error(&format!("{HEADER}    faults:\n      - when: {{path: '*.zip'}}\n        respnd: {{status: 500}}\n"));
    assert!(e.starts_with("bad.yaml:8:9: unknown field `respnd`, expected one of when, respond,"), "{e}");
    assert!(e.ends_with("help: did you mean `respond`?"), "{e}");
}

#[test]
fn a_missing_fixture_file_is_reported_with_the_nearest_name() {
    let e = one_error(&format!("name: t\nmodules: [modules/corp.example_lib_v1.0.9.txt]\n{EXPECT}"));
    assert!(e.starts_with("bad.yaml:2:11: fixture file not found: "), "{e}");
    assert!(e.contains("corp.example_lib_v1.0.9.txt"), "{e}");
    assert!(e.contains("help: did you mean `corp.example_lib_v1.0.0.txt`?"), "{e}");
}

#[test]
fn a_regex_that_does_not_compile_is_located() {
    let e = one_error(&format!("{HEADER}expect:\n  error: 'reading (https'\n"));
    assert!(e.starts_with("bad.yaml:7:10: regex does not compile: unclosed group"), "{e}");
    assert!(e.contains("help: patterns use Rust regex syntax"), "{e}");
}

#[test]
fn an_env_value_naming_an_undeclared_host_points_at_the_host() {
    let e = one_error(&format!("{HEADER}env:\n  GOPROXY: https://proxy.corp.exmaple,direct\n{EXPECT}"));
    assert!(
        e.starts_with(
            "bad.yaml:7:20: GOPROXY refers to host `proxy.corp.exmaple`, which this scenario does not declare"
        ),
        "{e}"
    );
    assert!(e.ends_with("help: did you mean `proxy.corp.example`?"), "{e}");
    let e = one_error(&format!("{HEADER}env:\n  HTTPS_PROXY: http://squid.corp.example:3128\n{EXPECT}"));
    assert!(e.contains("HTTPS_PROXY refers to host `squid.corp.example`"), "{e}");
    assert!(e.contains("declare it under hosts:"), "{e}");
}

#[test]
fn misspelt_keys_values_and_categories_get_suggestions() {
    for (yaml, position, suggestion) in [
        ("name: t\nhots: {}\n".to_string(), "bad.yaml:2:1: unknown field `hots`", "did you mean `hosts`?"),
        (
            format!("{HEADER}expect: {{exit: sucess}}\n"),
            "bad.yaml:6:16: unknown variant `sucess`",
            "did you mean `success`?",
        ),
        (
            format!("{HEADER}expect: {{diagnosis: proxy.server-error}}\n"),
            "bad.yaml:6:21: unknown diagnosis category `proxy.server-error`",
            "did you mean `proxy.server_error`?",
        ),
        (
            format!("{HEADER}expect:\n  requests: [{{host: proxy.corp.exampel, count: 0}}]\n"),
            "bad.yaml:7:21: host `proxy.corp.exampel` is not declared",
            "did you mean `proxy.corp.example`?",
        ),
        (
            format!("{HEADER}recover: {{playbook: pipe-separated}}\n{EXPECT}"),
            "bad.yaml:6:21: no playbook named `pipe-separated`",
            "did you mean `pipe-separated-goproxy`?",
        ),
    ] {
        let e = one_error(&yaml);
        assert!(e.starts_with(position), "{e}\n--- for ---\n{yaml}");
        assert!(e.ends_with(suggestion), "{e}");
    }
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let all = errors(&format!(
        "{HEADER}    faults:\n      - {{respond: {{status: 700}}, delay: 1s}}\n      - {{}}\nenv:\n  HOME: /root\nrun: {{timeout: soon}}\nexpect: {{stderr: '(', diagnosis: nope}}\n"
    ));
    let joined = all.join("\n");
    for want in [
        "700 is not an HTTP status",
        "a fault has exactly one action",
        "a fault needs an action",
        "HOME is managed by the sandbox",
        "`soon` is not a duration",
        "regex does not compile",
        "unknown diagnosis category `nope`",
    ] {
        assert!(joined.contains(want), "missing {want:?} in:\n{joined}");
    }
    assert!(all.iter().all(|e| e.starts_with("bad.yaml:")), "{joined}");
}

#[test]
fn a_scenario_that_expects_nothing_is_refused() {
    let e = one_error(HEADER);
    assert!(e.starts_with("bad.yaml:1:7: the scenario expects nothing, so it cannot fail"), "{e}");
}

#[test]
fn yaml_syntax_errors_and_empty_files_are_errors_not_panics() {
    for yaml in [
        "",
        "name: [unclosed\n",
        "\tname: tab\n",
        "name: t\nname: twice\n",
        "- a list\n",
        "name: t\nhosts: []\n",
        "\u{0}\u{1}\u{2}",
    ] {
        let found = errors(yaml);
        assert!(!found.is_empty(), "{yaml:?} was accepted");
        assert!(found.iter().all(|e| e.starts_with("bad.yaml")), "{found:?}");
    }
}

#[test]
fn truncating_any_shipped_scenario_anywhere_never_panics() {
    let scenarios = modchaos::scenario::discover(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")]).unwrap();
    for file in scenarios {
        let text = std::fs::read_to_string(&file).unwrap();
        for cut in (0..text.len()).filter(|i| text.is_char_boundary(*i)) {
            let _ = parse(&file, text[..cut].to_string(), &LoadContext::default());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = parse(Path::new("fuzz.yaml"), text, &LoadContext::default());
    }

    #[test]
    fn mutated_scenarios_never_panic(seed_file in 0usize..100, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let files = modchaos::scenario::discover(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")]).unwrap();
        let file = &files[seed_file % files.len()];
        let mut bytes = std::fs::read(file).unwrap();
        for (at, byte) in edits {
            let at = at % (bytes.len() + 1);
            const NASTY: &[u8] = b" :-[{}]'\"\n\t#&*!|>%@`";
            if byte % 2 == 0 { bytes.insert(at, NASTY[byte as usize % NASTY.len()]); } else if at < bytes.len() { bytes.remove(at); }
        }
        let _ = parse(file, String::from_utf8_lossy(&bytes).into_owned(), &LoadContext::default());
    }
}
