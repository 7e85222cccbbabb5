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
fn a_gosumdb_that_would_reach_outside_needs_a_sealed_network() {
    let e = one_error(&format!("{HEADER}env:\n  GOSUMDB: sum.golang.org\n{EXPECT}"));
    assert!(e.starts_with("bad.yaml:7:12: GOSUMDB `sum.golang.org` is the real public checksum database"), "{e}");
    assert!(e.contains("network: sealed"), "{e}");
    let key = "sum.corp.example+3ed4d606+AQtvltDrN3T+aT48q+y+H+vP6VBoOaD8spA1jq42BJAn";
    let e = one_error(&format!("{HEADER}env:\n  GOSUMDB: {key}\n{EXPECT}"));
    assert!(e.contains("go would dial https://sum.corp.example/, which no declared host answers"), "{e}");
    // Values go refuses before dialing are what a scenario reproduces, sealed or not.
    assert!(errors(&format!("{HEADER}env:\n  GOSUMDB: \"on\"\n{EXPECT}")).is_empty());
    assert!(errors(&format!("{HEADER}network: sealed\nenv:\n  GOSUMDB: {key}\n{EXPECT}")).is_empty());
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
    // In the order they are written.
    let places: Vec<(usize, usize)> = all
        .iter()
        .map(|e| {
            let mut n = e.split(':').skip(1).map(|x| x.parse::<usize>().unwrap_or(0));
            (n.next().unwrap_or(0), n.next().unwrap_or(0))
        })
        .collect();
    assert!(places.is_sorted(), "{places:?}\n{joined}");
    // Even when the file's order is not the order of the checks (expect before hosts).
    let all = errors(
        "name: t\nexpect: {exit: failure, diagnosis: nope}\nmodules: [modules]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n    faults: [{respond: {status: 700}}]\n",
    );
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all[0].starts_with("bad.yaml:2:") && all[1].starts_with("bad.yaml:7:"), "{all:#?}");
}

#[test]
fn every_misspelt_key_and_wrong_type_is_reported_not_just_the_first() {
    // The YAML reader stops at the first value that does not fit; the loader goes on
    // past it, so that an author with three typos fixes them in one go.
    let all = errors(&format!(
        "{HEADER}    faults:\n      - when: {{path: '*.zip'}}\n        corupt: {{bytes: 8}}\n      - respond: {{status: 500}}\n  mirror.corp.example:\n    goproxy: {{}}\n    tls: maybe\nrun:\n  modules: [corp.example/lib@v1.0.0]\n  timout: 3s\nexpect:\n  exit: failure\n  diagnosis: proxy.server_error\n"
    ));
    assert_eq!(all.len(), 3, "{all:#?}");
    assert!(all[0].starts_with("bad.yaml:8:9: unknown field `corupt`"), "{all:#?}");
    assert!(all[0].contains("help: did you mean `corrupt`?"), "{all:#?}");
    assert!(all[1].starts_with("bad.yaml:12:10: expected a mapping"), "{all:#?}");
    assert!(all[2].starts_with("bad.yaml:15:3: unknown field `timout`"), "{all:#?}");
    assert!(all[2].contains("help: did you mean `timeout`?"), "{all:#?}");
}

#[test]
fn steps_without_settings_may_be_written_by_their_name_alone() {
    // The README names them bare (`clean_cache`); the YAML reader used to take the next
    // list item as such a step's value and report a mistake in that item, or past the end.
    let fine = errors(&format!(
        "{HEADER}{EXPECT}recover:\n  steps:\n    - clean_cache\n    - release_locks:\n    - move_cache: {{}}\n    - trust: [private]\n    - move_build_cache\n"
    ));
    assert!(fine.is_empty(), "{fine:#?}");
    let all =
        errors(&format!("{HEADER}{EXPECT}recover:\n  steps:\n    - trust\n    - clen_cache\n    - go: mod tidy\n"));
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all[0].starts_with("bad.yaml:9:7: ") && all[0].contains("`trust:` with its value"), "{all:#?}");
    assert!(all[1].starts_with("bad.yaml:10:7: unknown variant `clen_cache`"), "{all:#?}");
    assert!(all[1].contains("did you mean `clean_cache`?"), "{all:#?}");
}

#[test]
fn anchors_aliases_long_lists_and_parameterless_playbooks_are_said_plainly() {
    // A mistake in an anchored value: shown where it is written, the alias named, and no
    // raw position text glued to the message.
    let e = one_error(&format!(
        "name: t\nanchors:\n  bad: &bad {{pth: '*.zip'}}\nmodules: [modules]\nhosts:\n  proxy.corp.example:\n    goproxy: {{}}\n    faults: [{{when: *bad, hang: {{}}}}]\n{EXPECT}"
    ));
    assert!(e.starts_with("bad.yaml:3:14: unknown field `pth`"), "{e}");
    assert!(e.contains("(in a value the alias at line 8, column 21 brings here)"), "{e}");
    assert!(!e.contains("defined at") && !e.contains("used at"), "{e}");
    assert!(e.contains("did you mean `path`?"), "{e}");
    // An alias of nothing names the alias.
    let e = one_error(&format!("{HEADER}    faults: [{{when: *lib, hang: {{}}}}]\n{EXPECT}"));
    assert!(e.starts_with("bad.yaml:6:21: alias `*lib` names no anchor"), "{e}");
    assert!(e.contains("`&lib`"), "{e}");
    // No category near: the whole list, uncut.
    let e = one_error(&format!("{HEADER}expect: {{exit: failure, diagnosis: proxy.5xx}}\n"));
    assert!(
        e.contains("proxy.server_error") && e.contains("module.go_sum_missing") && !e.contains("characters]"),
        "{e}"
    );
    // A playbook without parameters given some.
    let e = one_error(&format!("{HEADER}{EXPECT}recover: {{playbook: retry, with: {{times: 3}}}}\n"));
    assert!(e.contains("help: `retry` takes no parameters: remove `with:`"), "{e}");
}

#[test]
fn yaml_syntax_errors_keep_their_words_and_get_a_hint() {
    for (yaml, hint) in [
        ("name: t\nexpect: {exit: failure, error: error: upstream}\n", "inside `{…}`, a value that holds `: `"),
        (
            "name: t\nexpect:\n  exit: failure\n  error: error: upstream\n",
            "a value that holds `: ` is read as a second key",
        ),
        ("name: t\nexpect:\n\texit: failure\n", "YAML indents with spaces only"),
        ("name: t\nmodules: [a, b\nexpect:\n  exit: failure\n", "a `[` or `{` above may be left open"),
    ] {
        let e = one_error(yaml);
        assert!(e.contains(&format!("help: {hint}")), "{yaml:?}:\n{e}");
    }
    // A host's key misindented to the level of host names.
    let e = one_error(
        "name: t\nmodules: [modules]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n  faults:\n    - respond: {status: 500}\nexpect: {exit: failure}\n",
    );
    assert!(e.starts_with("bad.yaml:7:5: `faults` is read as the name of a host"), "{e}");
    assert!(e.contains("help: `faults:` belongs to a host: indent it under the host's name"), "{e}");
    // A top-level field missing: said at the top, not at the file's last key.
    let e = one_error("modules: [modules]\nexpect: {exit: failure}\n");
    assert!(e.starts_with("bad.yaml:1:1: the file has no `name:`"), "{e}");
}

#[test]
fn a_wrong_host_certificates_names_are_dns_names_other_than_the_hosts_own() {
    let yaml = "name: t\nmodules: [modules]\nnetwork: sealed\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n    \
                tls: {certificate: expired, names: [a.example]}\n  go.corp.example:\n    goproxy: {}\n    tls:\n      \
                certificate: wrong_host\n      names: [\"*.corp.example\", \"bad name\", sinkhole.example]\n\
                env: {GOPROXY: https://go.corp.example}\n";
    let errors = errors(&format!("{yaml}{EXPECT}"));
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].starts_with("bad.yaml:7:41: `names` applies to `certificate: wrong_host` only"), "{errors:#?}");
    assert!(errors[1].contains("`*.corp.example` covers the host `go.corp.example` itself"), "{errors:#?}");
    assert!(errors[2].contains("`bad name` is no DNS name a certificate can carry"), "{errors:#?}");
}

#[test]
fn pages_behind_a_login_need_the_login_and_a_resolver_down_or_an_ip_only_certificate_a_sealed_world() {
    let yaml = "name: t\nmodules: [modules]\nhosts:\n  corp.example:\n    git: {auth_pages: true}\n\
                env: {GOPROXY: direct}\n";
    let e = one_error(&format!("{yaml}{EXPECT}"));
    assert!(e.starts_with("bad.yaml:5:23: `auth_pages` puts the pages behind the host's `auth`"), "{e}");
    let yaml = "name: t\nmodules: [modules]\nnetwork: open\nresolver: {down: refused}\nhosts:\n  \
                proxy.corp.example:\n    goproxy: {}\nenv: {GOPROXY: https://proxy.corp.example}\n";
    let e = one_error(&format!("{yaml}{EXPECT}"));
    assert!(e.starts_with("bad.yaml:4:18: a resolver that is down needs `network: sealed`"), "{e}");
    let yaml = "name: t\nmodules: [modules]\nresolver: {down: unreachable}\nhosts:\n  proxy.corp.example:\n    \
                goproxy: {}\n    dns: [servfail: {}]\nenv: {GOPROXY: https://proxy.corp.example}\n";
    let e = one_error(&format!("{yaml}{EXPECT}"));
    assert!(
        e.starts_with("bad.yaml:3:18: the resolver is down, so the DNS faults of host `proxy.corp.example`"),
        "{e}"
    );
    let yaml = "name: t\nmodules: [modules]\nnetwork: open\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n    \
                tls: {certificate: ip_only}\nenv: {GOPROXY: https://proxy.corp.example}\n";
    let e = one_error(&format!("{yaml}{EXPECT}"));
    assert!(e.starts_with("bad.yaml:3:10: host `proxy.corp.example` has a certificate for IP addresses only"), "{e}");
    let yaml = "name: t\nmodules: [modules]\nresolver: {down: refused}\nhosts:\n  proxy.corp.example:\n    \
                goproxy: {}\nenv: {GOPROXY: https://proxy.corp.example}\nexpect:\n  exit: failure\n  dns:\n    \
                - {name: proxy.corp.example, count: 0}\n    - {name: proxy.corp.example, rcode: NOERROR}\n";
    let e = one_error(yaml);
    assert!(
        e.starts_with("bad.yaml:12:7: the resolver is down, so no query for `proxy.corp.example` can reach it"),
        "{e}"
    );
    let e = one_error("name: t\nmodules: [modules]\nresolver: {down: stopped}\nexpect: {exit: failure}\n");
    assert!(e.contains("stopped") && e.contains("refused") && e.contains("unreachable"), "{e}");
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

/// Every prefix of every shipped scenario (some 150,000 parses): the files are shared out
/// among one thread per core, since this test alone set the binary's time.
#[test]
fn truncating_any_shipped_scenario_anywhere_never_panics() {
    let scenarios = modchaos::scenario::discover(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")]).unwrap();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(file) = scenarios.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                    let text = std::fs::read_to_string(file).unwrap();
                    for cut in (0..text.len()).filter(|i| text.is_char_boundary(*i)) {
                        let _ = parse(file, text[..cut].to_string(), &LoadContext::default());
                    }
                }
            });
        }
    });
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

#[test]
fn shared_definitions_keep_their_own_file_positions_and_paths() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = fixtures();
    std::fs::create_dir(dir.path().join("shared")).unwrap();
    std::fs::write(
        dir.path().join("shared/corp.yaml"),
        format!(
            "modules: [{}]\nhosts:\n  proxy.corp.example:\n    goproxy: {{}}\n    faults:\n      - delay: soon\n",
            fixtures.display()
        ),
    )
    .unwrap();
    let scenario = |body: &str| {
        let path = dir.path().join("s.yaml");
        let text = format!(
            "name: t\ninclude: [shared/corp.yaml]\n{body}run: {{modules: [corp.example/lib@v1.0.0]}}\n{EXPECT}"
        );
        match parse(&path, text, &LoadContext::default()) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems().iter().map(|p| p.plain()).collect::<Vec<_>>(),
        }
    };
    // A problem in the shared file is located in the shared file.
    let problems = scenario("");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("shared/corp.yaml:6:16: `soon` is not a duration"), "{problems:#?}");
    // A misspelt key there says which scenario's include read it.
    std::fs::write(dir.path().join("shared/corp.yaml"), "hosts:\n  proxy.corp.example:\n    goprxy: {}\n").unwrap();
    let problems = scenario("");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("shared/corp.yaml:3:5: unknown field `goprxy`"), "{problems:#?}");
    assert!(problems[0].contains("(in a file s.yaml includes at line 2)"), "{problems:#?}");
    // Declared twice (with a kind both times): located at the scenario's declaration.
    std::fs::write(
        dir.path().join("shared/corp.yaml"),
        format!("modules: [{}]\nhosts:\n  proxy.corp.example:\n    goproxy: {{}}\n", fixtures.display()),
    )
    .unwrap();
    let problems = scenario("hosts:\n  proxy.corp.example:\n    closed: {}\n");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains("s.yaml:4:3: host `proxy.corp.example` is declared here and again in"),
        "{problems:#?}"
    );
    // Faults alone extend the shared host.
    assert!(scenario("hosts:\n  proxy.corp.example:\n    faults: [{respond: {status: 500}}]\n").is_empty());
    // A missing file is located at its include entry.
    let path = dir.path().join("s.yaml");
    let e = parse(&path, format!("name: t\ninclude: [shared/nope.yaml]\n{EXPECT}"), &LoadContext::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("s.yaml:2:11: cannot include"), "{e}");
}

/// Renders every problem of `error` as the command line prints them.
fn rendered(error: &LoadError) -> String {
    error.problems().into_iter().map(|p| format!("{:?}", miette::Report::new(p))).collect::<Vec<_>>().join("\n")
}

/// A scenario in a temp dir whose only module is the fixture file `name` there, made by
/// `make`; the error `load` gives for it.
fn fixture_error(name: &str, make: impl FnOnce(&Path), extra: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    make(&dir.path().join(name));
    let scenario = dir.path().join("s.yaml");
    std::fs::write(&scenario, format!("name: t\nmodules: [{name}]\n{extra}{EXPECT}")).unwrap();
    let started = std::time::Instant::now();
    let result = modchaos::scenario::load(&scenario, &LoadContext::default());
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "loading took {:?}", started.elapsed());
    let error = result.expect_err("the fixture was accepted");
    error.to_string()
}

#[test]
fn regression_a_fifo_fixture_is_an_error_not_a_hang() {
    let e = fixture_error(
        "corp.example_x_v1.0.0.txt",
        |p| nix::unistd::mkfifo(p, nix::sys::stat::Mode::S_IRWXU).unwrap(),
        "",
    );
    assert!(e.contains("is a FIFO (named pipe), not a regular file"), "{e}");
}

#[test]
fn regression_a_fixture_linked_to_dev_zero_is_an_error_not_a_memory_hog() {
    let e = fixture_error("corp.example_x_v1.0.0.txt", |p| std::os::unix::fs::symlink("/dev/zero", p).unwrap(), "");
    assert!(e.contains("is a character device, not a regular file"), "{e}");
}

#[test]
fn regression_validate_checks_fixture_content_fully() {
    let write = |text: &'static [u8]| move |p: &Path| std::fs::write(p, text).unwrap();
    let git = "hosts:\n  corp.example:\n    git: {}\nenv: {GOPROXY: direct}\nrun: {modules: [corp.example/x@v1.0.0]}\n";
    for (text, want, extra) in [
        (&b"-- go.mod --\nmodule corp.example/x\n"[..], "no `-- .mod --` section", ""),
        // With a git host the go.mod comes from the repository: it used to pass silently.
        (&b"-- go.mod --\nmodule corp.example/x\n-- x.go --\npackage x\n"[..], "no `-- .mod --` section", git),
        (
            &b"-- .mod --\nmodule corp.example/x\n-- .info --\n{Version: v1}\n"[..],
            "`.info` is not what a proxy serves (invalid JSON",
            "",
        ),
        (&b""[..], "the file is empty", ""),
        (&b"PK\x03\x04\x14\x00\x08\x00\x08\x00\xff\xfe\x00\x00"[..], "is binary", ""),
        (&b"-- .mod --\nmodule corp.example/x\n-- ../../x.go --\npackage x\n"[..], "malformed file path", ""),
    ] {
        let e = fixture_error("corp.example_x_v1.0.0.txt", write(text), extra);
        assert!(e.contains(want), "{want:?} not in:\n{e}");
        assert!(e.contains("s.yaml:2:11: fixture "), "{e}");
        assert!(e.contains("help: a fixture is a txtar file"), "{e}");
    }
}

#[test]
fn regression_a_non_utf8_scenario_names_the_first_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("latin1.yaml");
    std::fs::write(&file, b"name: t\nabout: caf\xe9 au lait\n").unwrap();
    let error = modchaos::scenario::load(&file, &LoadContext::default()).unwrap_err();
    let e = error.to_string();
    assert!(e.contains("latin1.yaml:2:11: byte 0xe9 at byte offset 18 is not UTF-8"), "{e}");
    assert!(e.contains("help: scenario files are UTF-8"), "{e}");
    let shown = rendered(&error);
    assert!(shown.contains("[") && shown.contains("latin1.yaml:2:11]"), "{shown}");
}

#[test]
fn regression_a_binary_file_is_named_so_and_its_bytes_print_as_marks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.out.yaml");
    std::fs::write(&file, b"\x7fELF\x02\x01\x01\x00\x00\x1b[2J\xa1\x00").unwrap();
    let error = modchaos::scenario::load(&file, &LoadContext::default()).unwrap_err();
    let e = error.to_string();
    assert!(e.contains("a.out.yaml:1:14: byte 0xa1 at byte offset 13 is not UTF-8"), "{e}");
    assert!(e.contains("help: this looks like a binary file"), "{e}");
    let shown = rendered(&error);
    assert!(!shown.chars().any(|c| c.is_control() && c != '\n'), "{shown:?}");
    assert!(shown.contains("␡ELF␂␁␁␀␀␛[2J"), "{shown}");
}

#[test]
fn regression_a_ten_megabyte_value_is_quick_and_prints_little() {
    let long = "a".repeat(10 << 20);
    for yaml in [
        format!("name: t\nnope: {long}\n{EXPECT}"),
        format!("{HEADER}env: {{GOPROXY: \"https://{long}\"}}\n{EXPECT}"),
        format!("{HEADER}env: {{GOPROXY: \"https://{}\"}}\n{EXPECT}", &long[..100_000]),
        format!("{HEADER}recover: {{playbook: {long}}}\n{EXPECT}"),
        format!("{HEADER}expect: {{exit: failure, error: '{long}'}}\n"),
    ] {
        let started = std::time::Instant::now();
        let error = parse(Path::new("big.yaml"), yaml, &LoadContext::default()).unwrap_err();
        let shown = rendered(&error);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
        assert!(shown.len() < 8_000, "{} bytes of error:\n{}", shown.len(), &shown[..2_000]);
    }
}

#[test]
fn regression_a_directory_link_to_its_parent_does_not_recurse_forever() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/a.yaml"), "name: a\n").unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("sub/loop")).unwrap();
    let found = modchaos::scenario::discover(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(found, [dir.path().join("sub/a.yaml")]);
}

#[test]
fn regression_one_file_named_two_ways_is_found_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "name: a\n").unwrap();
    let found = modchaos::scenario::discover(&[
        dir.path().join("a.yaml"),
        dir.path().join(".").join("a.yaml"),
        dir.path().to_path_buf(),
    ])
    .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn regression_variables_that_get_past_open_modes_guard_are_refused_in_open_mode() {
    let open = "name: t\nnetwork: open\nmodules: [modules]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n";
    for (env, at, what) in [
        ("  NO_PROXY: '*'\n", "bad.yaml:8:3:", "NO_PROXY sends the hosts it names around the proxy"),
        (
            "  HTTPS_PROXY: ''\n",
            "bad.yaml:8:3:",
            "HTTPS_PROXY is empty, which sends go and git straight to the network",
        ),
        ("  REQUEST_METHOD: GET\n", "bad.yaml:8:3:", "REQUEST_METHOD makes go act as a CGI program"),
        (
            "  GIT_CONFIG_KEY_0: url.https://proxy.corp.example/.insteadOf\n",
            "bad.yaml:8:3:",
            "GIT_CONFIG_KEY_0 gives git configuration",
        ),
        ("  GIT_SSH_COMMAND: ssh\n", "bad.yaml:8:3:", "GIT_SSH_COMMAND makes git's ssh connections"),
    ] {
        let e = one_error(&format!("{open}env:\n{env}{EXPECT}"));
        assert!(e.starts_with(at) && e.contains(what), "{e}");
        assert!(e.contains("which `network: open` cannot allow"), "{e}");
        assert!(
            e.contains("help: open mode keeps go in by sending every host it does not declare to a guard proxy"),
            "{e}"
        );
    }
    let e = one_error(&format!("{open}recover:\n  steps: [{{set: {{no_proxy: corp.example}}}}]\n{EXPECT}"));
    assert!(e.starts_with("bad.yaml:8:11: no_proxy sends the hosts it names around the proxy"), "{e}");
    let e =
        one_error(&format!("{open}recover: {{playbook: bypass-http-proxy, with: {{hosts: corp.example}}}}\n{EXPECT}"));
    assert!(e.starts_with("bad.yaml:7:21: NO_PROXY sends the hosts it names around the proxy"), "{e}");
}

#[test]
fn regression_dns_expectations_make_a_scenario_need_sealed_mode() {
    // An outside audit's scenario expected a query and failed its open trial ("expected at
    // least 1, got 0"): open mode has no resolver, so nothing is ever counted.
    let path = fixtures().parent().unwrap().join("t.yaml");
    let dns = "  dns: [{name: proxy.corp.example, type: A, at_least: 1}]\n";
    let yaml = format!("{HEADER}expect:\n  exit: success\n{dns}");
    let scenario = parse(&path, yaml, &LoadContext::default()).unwrap_or_else(|e| panic!("{e}"));
    match &scenario.network {
        modchaos::scenario::NetworkNeed::Sealed(why) => assert!(why.contains("`expect.dns`"), "{why}"),
        other => panic!("{other:?}"),
    }
    // Alone, it is an expectation too.
    let yaml = format!("{HEADER}expect:\n{dns}");
    assert!(parse(&path, yaml, &LoadContext::default()).is_ok());
    let e = one_error(&format!("{HEADER}network: open\nexpect:\n  exit: success\n{dns}"));
    assert!(e.starts_with("bad.yaml:9:9: DNS expectations need `network: sealed`"), "{e}");
}

#[test]
fn regression_without_a_network_such_variables_make_a_scenario_need_sealed_mode() {
    let yaml = format!("{HEADER}env:\n  NO_PROXY: '*'\n{EXPECT}");
    let path = fixtures().parent().unwrap().join("t.yaml");
    let scenario = parse(&path, yaml, &LoadContext::default()).unwrap_or_else(|e| panic!("{e}"));
    match &scenario.network {
        modchaos::scenario::NetworkNeed::Sealed(why) => assert!(why.contains("NO_PROXY sends the hosts"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn regression_a_fetch_by_name_that_open_mode_refuses_needs_sealed_mode() {
    // `GOPROXY: …,direct` with the proxy answering 404: sealed, go looks corp.example up
    // and the run is dns.nxdomain; open, go asked the guard, which refused it, and the run
    // was diagnosed as a corporate forward proxy that does not exist.
    let network = |extra: &str, env: &str| {
        let yaml = format!("{HEADER}{extra}env:\n{env}run: {{modules: [corp.example/lib@v1.0.0]}}\n{EXPECT}");
        let path = fixtures().parent().unwrap().join("t.yaml");
        parse(&path, yaml, &LoadContext::default()).unwrap_or_else(|e| panic!("{e}")).network
    };
    let fault_404 = "    faults: [{respond: {status: 404}}]\n";
    let direct = "  GOPROXY: https://proxy.corp.example,direct\n";
    match network(fault_404, direct) {
        modchaos::scenario::NetworkNeed::Sealed(why) => {
            assert!(why.contains("GOPROXY may fall through to `direct` for corp.example/lib@v1.0.0"), "{why}");
            assert!(why.contains("proxy.corp.example answers 404 or 410 for it"), "{why}");
            assert!(why.contains("from corp.example by name, which open mode's guard refuses"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    // A version the proxy lacks falls through too; GOPRIVATE sends it there at once, and so
    // does `direct` first.
    let missing = format!("{HEADER}env:\n{direct}run: {{modules: [corp.example/lib@v9.9.9]}}\n{EXPECT}");
    let path = fixtures().parent().unwrap().join("t.yaml");
    let scenario = parse(&path, missing, &LoadContext::default()).unwrap();
    assert!(matches!(scenario.network, modchaos::scenario::NetworkNeed::Sealed(_)), "{:?}", scenario.network);
    for env in [
        "  GOPROXY: https://proxy.corp.example\n  GOPRIVATE: corp.example\n",
        "  GOPROXY: direct\n",
        "  GOPROXY: https://proxy.corp.example|direct\n",
    ] {
        let extra = if env.contains('|') { "    faults: [{delay: 1s}]\n" } else { "" };
        assert!(matches!(network(extra, env), modchaos::scenario::NetworkNeed::Sealed(_)), "{env}");
    }
    // Where go never passes the module on, open mode serves the scenario as it is.
    for (extra, env) in [
        ("", direct),
        ("    faults: [{respond: {status: 500}}]\n", direct),
        ("    faults: [{respond: {status: 404}}]\n", "  GOPROXY: https://proxy.corp.example,off\n"),
        ("", "  GOPROXY: https://proxy.corp.example|direct\n"),
    ] {
        assert_eq!(network(extra, env), modchaos::scenario::NetworkNeed::Any, "{extra}{env}");
    }
}

#[test]
fn regression_urls_in_proxy_values_recovery_steps_and_playbook_parameters_must_be_declared() {
    let e = one_error(&format!("{HEADER}env:\n  HTTPS_PROXY: 1.1.1.1:80\n{EXPECT}"));
    assert!(e.starts_with("bad.yaml:7:16: HTTPS_PROXY refers to host `1.1.1.1`"), "{e}");
    let e = one_error(&format!("{HEADER}recover:\n  steps: [{{set: {{GOPROXY: 'https://93.184.216.34'}}}}]\n{EXPECT}"));
    assert!(e.contains("GOPROXY refers to host `93.184.216.34`"), "{e}");
    let e = one_error(&format!(
        "{HEADER}recover: {{playbook: use-mirror, with: {{mirror: 'https://example.com'}}}}\n{EXPECT}"
    ));
    assert!(e.contains("mirror refers to host `example.com`"), "{e}");
}

#[test]
fn regression_a_git_configuration_in_home_needs_sealed_mode() {
    // A URL-specific proxy in ~/.gitconfig outranks the http.proxy open mode gives git.
    let gitconfig =
        "sandbox:\n  home:\n    .gitconfig: \"[http \\\"https://github.com\\\"]\\n\\tproxy = \\\"\\\"\\n\"\n";
    let e = one_error(&format!("{HEADER}network: open\n{gitconfig}{EXPECT}"));
    assert!(e.contains("~/.gitconfig is a git configuration file"), "{e}");
    assert!(e.contains("cannot allow"), "{e}");
    let path = fixtures().parent().unwrap().join("t.yaml");
    let scenario = parse(&path, format!("{HEADER}{gitconfig}{EXPECT}"), &LoadContext::default()).unwrap();
    assert!(matches!(&scenario.network, modchaos::scenario::NetworkNeed::Sealed(why) if why.contains(".gitconfig")));
    let e = one_error(&format!(
        "{HEADER}network: open\nrecover:\n  steps: [{{write_file: {{in: home, file: .config/git/config, content: ''}}}}]\n{EXPECT}"
    ));
    assert!(e.contains("~/.config/git/config is a git configuration file"), "{e}");
}

#[test]
fn yaml_errors_are_told_in_plain_words_with_a_hint() {
    let cases: [(&str, &str, &str); 9] = [
        (
            "name: t\nname: twice\nexpect: {exit: failure}\n",
            "bad.yaml:2:1: `name` is written twice in the same mapping",
            "help: a mapping has one value per key",
        ),
        (
            "name: t\nexpect: {exit: failure}\n---\nname: u\nexpect: {exit: failure}\n",
            "a second YAML document starts here: a scenario file holds one document",
            "help: remove the `---` before it",
        ),
        (
            &format!("{HEADER}    faults: [{{respond: {{status: \"five hundred\"}}}}]\n{EXPECT}"),
            "bad.yaml:6:33: `\"five hundred\"` is not a whole number from 0 to 65535",
            "help: write a whole number from 0 to 65535, like 503",
        ),
        (
            &format!("{HEADER}expect:\n  exit: failure\n  requests: [{{host: proxy.corp.example, count: -1}}]\n"),
            "`-1` is not a whole number, 0 or more",
            "help: write a whole number, 0 or more",
        ),
        (
            "name: t\nhosts: []\nexpect: {exit: failure}\n",
            "bad.yaml:2:8: expected a mapping (`key: value` entries), found `[]`",
            "`{}` is an empty mapping",
        ),
        (
            &format!("{HEADER}run:\n  modules: a@v1\n{EXPECT}"),
            "expected a list, found `a@v1`",
            "help: write a list: `[a, b]` on one line",
        ),
        ("", "bad.yaml:1:1: the file is empty", "help: a scenario needs at least `name:`"),
        ("# a scenario, one day\n\n", "the file holds only comments", "help: a scenario needs at least `name:`"),
        ("\u{0}\u{1}", "a control character (U+0000) that YAML text cannot hold", "not a binary file"),
    ];
    for (yaml, message, help) in cases {
        let e = one_error(yaml);
        assert!(e.contains(message) && e.contains(help), "{yaml:?}: {e}");
        for internal in ["Options", "from_str_multiple", "invalid u", "mapping start", "sequence start", "end of input"]
        {
            assert!(!e.contains(internal), "{yaml:?} leaks `{internal}`: {e}");
        }
    }
}

#[test]
fn an_alias_bomb_is_named_without_the_readers_internals() {
    let mut yaml = String::from("anchors:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    let mut previous = 'a';
    for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h'] {
        yaml.push_str(&format!("  {name}: &{name} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"));
        previous = name;
    }
    yaml.push_str("name: t\nexpect: {exit: failure}\n");
    let e = one_error(&yaml);
    assert!(e.contains("the file is too large once its aliases are expanded"), "{e}");
    assert!(e.contains("help: aliases of aliases multiply"), "{e}");
    assert!(!e.contains("Nodes {") && !e.contains("budget"), "{e}");
}

#[test]
fn a_zero_duration_says_why_not_how_to_write_units() {
    let e = one_error(&format!("{HEADER}run:\n  timeout: 0s\n{EXPECT}"));
    assert!(e.starts_with("bad.yaml:7:12: a zero duration"), "{e}");
    assert!(e.contains("help: give a duration longer than zero") && !e.contains("with a unit"), "{e}");
}

#[test]
fn a_byte_order_mark_shifts_neither_the_location_nor_the_snippet() {
    let path = fixtures().parent().unwrap().join("bad.yaml");
    let error = parse(&path, "\u{feff}name: [t\n".to_string(), &LoadContext::default()).unwrap_err();
    let plain = error.to_string();
    let header = plain.split(": ").next().unwrap().rsplit('/').next().unwrap().to_string();
    let shown = rendered(&error);
    assert!(
        shown.contains(&format!("[{}", path.display())) && shown.contains(&format!("{header}]")),
        "{plain}\n{shown}"
    );
    let error =
        parse(&path, format!("\u{feff}{HEADER}run:\n  timeout: 0s\n{EXPECT}"), &LoadContext::default()).unwrap_err();
    let shown = rendered(&error);
    assert!(error.to_string().contains("bad.yaml:7:12: a zero duration"), "{error}");
    assert!(shown.contains("bad.yaml:7:12]"), "{shown}");
}

#[test]
fn a_scenario_that_includes_itself_is_told_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    let text = format!("name: t\ninclude: [s.yaml]\n{EXPECT}");
    std::fs::write(&path, &text).unwrap();
    let problems: Vec<String> = modchaos::scenario::load(&path, &LoadContext::default())
        .unwrap_err()
        .problems()
        .iter()
        .map(|p| p.plain())
        .collect();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("s.yaml:2:11: a scenario cannot include itself"), "{problems:#?}");
}

#[test]
fn regression_a_port_of_0_or_above_65535_in_an_env_url_is_refused_at_the_port() {
    let e = errors(&format!(
        "{HEADER}env:\n  GOPROXY: https://proxy.corp.example:0,https://proxy.corp.example:70000\n{EXPECT}"
    ));
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e[0].starts_with("bad.yaml:7:39: GOPROXY has port 0 for host `proxy.corp.example`: ports are 1 to 65535"),
        "{e:#?}"
    );
    assert!(e[0].contains("help: leave the port out"), "{e:#?}");
    assert!(e[1].starts_with("bad.yaml:7:68: GOPROXY has port 70000 for host `proxy.corp.example`"), "{e:#?}");
    let e =
        one_error(&format!("{HEADER}network: sealed\nenv:\n  HTTPS_PROXY: http://squid.corp.example:99999\n{EXPECT}"));
    assert!(e.contains("HTTPS_PROXY has port 99999"), "{e}");
    // Six digits are one port, not the first five of it.
    let e = one_error(&format!("{HEADER}env:\n  GOPROXY: https://proxy.corp.example:123456\n{EXPECT}"));
    assert!(e.contains("GOPROXY has port 123456"), "{e}");
    assert!(errors(&format!("{HEADER}env:\n  GOPROXY: https://proxy.corp.example:8443\n{EXPECT}")).is_empty());
}

#[test]
fn regression_a_key_indented_off_by_one_names_the_column_of_its_mapping() {
    // `faults` one space left of `goproxy`, its sibling: the reader said only "while
    // parsing a block mapping, did not find expected key".
    let e = one_error(&format!("{HEADER}   faults: [{{respond: {{status: 500}}}}]\n{EXPECT}"));
    assert!(
        e.starts_with(
            "bad.yaml:6:4: `faults` starts in column 4, where no mapping around it has its keys: `goproxy` (line 5) \
             starts in column 5"
        ),
        "{e}"
    );
    assert!(
        e.contains(
            "help: keys of one mapping must start in the same column: start `faults` in column 5, beside `goproxy` \
             (line 5), or in column 3, beside `proxy.corp.example` (line 4)"
        ),
        "{e}"
    );
    assert!(!e.contains("did not find expected key"), "{e}");
}

#[test]
fn regression_a_missing_playbook_parameter_is_the_only_problem_reported() {
    // The playbook's body used to be checked with `${host}` unsubstituted: a host
    // `${host}` not declared, and `host` "not a parameter" although it is one.
    let found = errors(&format!("{HEADER}recover: {{playbook: git-credentials}}\n{EXPECT}"));
    assert_eq!(found.len(), 3, "{found:#?}");
    for (error, param) in found.iter().zip(["host", "login", "password"]) {
        assert!(
            error.starts_with(&format!("bad.yaml:6:21: playbook `git-credentials` needs parameter `{param}`")),
            "{error}"
        );
    }
    // One missing of three: still nothing about the body.
    let found = errors(&format!(
        "{HEADER}recover: {{playbook: git-credentials, with: {{host: proxy.corp.example, login: ci}}}}\n{EXPECT}"
    ));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("needs parameter `password`"), "{found:#?}");
    // All given: the body is checked, with the values substituted.
    let found = errors(&format!(
        "{HEADER}recover: {{playbook: git-credentials, with: {{host: git.corp.example, login: ci, password: pw}}}}\n{EXPECT}"
    ));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("host `git.corp.example` is not declared"), "{found:#?}");
    assert!(found[0].starts_with("<builtin>/playbooks/git-credentials.yaml:9:"), "{found:#?}");
}

#[test]
fn regression_an_included_file_is_named_without_dot_dot() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("bad")).unwrap();
    std::fs::create_dir_all(dir.path().join("team-repo/scenarios/shared")).unwrap();
    std::fs::write(
        dir.path().join("team-repo/scenarios/shared/broken.yaml"),
        "hosts:\n  proxy.corp.example:\n    goproxy: {}\n    faults: [{delay: soon}]\n",
    )
    .unwrap();
    let path = dir.path().join("bad/s.yaml");
    let text = format!("name: t\ninclude: [../team-repo/scenarios/./shared/broken.yaml]\n{EXPECT}");
    let problems: Vec<String> = match parse(&path, text, &LoadContext::default()) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems().iter().map(|p| p.plain()).collect(),
    };
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let expected = format!(
        "{}:4:22: `soon` is not a duration",
        dir.path().join("team-repo/scenarios/shared/broken.yaml").display()
    );
    assert!(problems[0].starts_with(&expected), "{problems:#?}");
    // Behind a link to a directory, `..` is the link target's parent, as the OS reads it:
    // the text's shorter form would name another file, so it is not used.
    std::fs::create_dir_all(dir.path().join("real/x")).unwrap();
    std::fs::write(
        dir.path().join("real/shared.yaml"),
        "hosts:\n  p.example:\n    goproxy: {}\n    faults: [{delay: later}]\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path().join("real/x"), dir.path().join("linked")).unwrap();
    let text = format!("name: t\ninclude: [../shared.yaml]\n{EXPECT}");
    let problems: Vec<String> = match parse(&dir.path().join("linked/s.yaml"), text, &LoadContext::default()) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems().iter().map(|p| p.plain()).collect(),
    };
    assert!(problems.iter().any(|p| p.contains("`later` is not a duration")), "{problems:#?}");
}

/// The warnings of a scenario that loads.
fn warnings(yaml: &str) -> Vec<String> {
    let path = fixtures().parent().unwrap().join("warn.yaml");
    let scenario = parse(&path, yaml.to_string(), &LoadContext::default()).unwrap_or_else(|e| panic!("{e}"));
    scenario.warnings.iter().map(|w| w.plain()).collect()
}

#[test]
fn regression_a_dns_expectation_of_a_name_the_file_never_names_is_warned_about() {
    // An outside audit's `count: 0` on a misspelt name passed on queries that never come.
    let dns = |name: &str| format!("{HEADER}expect:\n  exit: success\n  dns: [{{name: '{name}', count: 0}}]\n");
    let found = warnings(&dns("proxy.crop.example"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("warn.yaml:8:16: `proxy.crop.example` is named nowhere else in the file"), "{found:#?}");
    assert!(found[0].contains("did you mean `proxy.corp.example`?"), "{found:#?}");
    for fine in ["proxy.corp.example", "*.corp.example", "proxy.golang.org"] {
        assert_eq!(warnings(&dns(fine)), Vec::<String>::new(), "{fine}");
    }
}

#[test]
fn regression_a_go_variable_in_lower_case_is_warned_about() {
    let found = warnings(&format!("{HEADER}env:\n  goproxy: https://proxy.corp.example\n{EXPECT}"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("warn.yaml:7:3: `goproxy` is not GOPROXY"), "{found:#?}");
    assert!(found[0].contains("help: write `GOPROXY`"), "{found:#?}");
    // The forward proxy's variables are read in lower case too: no warning.
    assert!(warnings(&format!("{HEADER}network: sealed\nenv:\n  no_proxy: corp.example\n{EXPECT}")).is_empty());
}

#[test]
fn regression_an_unknown_parameter_in_a_playbook_is_shown_where_it_is_written() {
    // It was placed at the step's start (`set`), with no suggestion.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("playbooks")).unwrap();
    std::fs::write(
        dir.path().join("playbooks/mine.yaml"),
        "name: mine\nparams: [url]\nfixes: [proxy.server_error]\nsteps:\n  - set: {GOPROXY: \"${ur}\"}\n",
    )
    .unwrap();
    let yaml = format!(
        "name: t\nmodules: [{}]\nhosts:\n  p.corp.example:\n    goproxy: {{}}\n{EXPECT}recover: {{playbook: mine, with: {{url: https://p.corp.example}}}}\n",
        fixtures().display()
    );
    let e = parse(&dir.path().join("s.yaml"), yaml, &LoadContext::default()).unwrap_err();
    let all: Vec<String> = e.problems().iter().map(|p| p.plain()).collect();
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(all[0].contains("mine.yaml:5:21: `${ur}` is not a parameter of this playbook"), "{all:#?}");
    assert!(all[0].contains("help: did you mean `${url}`?"), "{all:#?}");
}

#[test]
fn regression_a_lock_on_a_version_no_fixture_serves_is_warned_about() {
    // An outside audit's lock on corp.example/lib@v9.9.9 validated and blocked nothing.
    let lock = |id: &str| format!("{HEADER}cache:\n  faults: [{{lock_held: {{module: {id}}}}}]\n{EXPECT}");
    let found = warnings(&lock("corp.example/lib@v9.9.9"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("warn.yaml:7:33: `corp.example/lib@v9.9.9` is not one of the scenario's modules"),
        "{found:#?}"
    );
    assert_eq!(warnings(&lock("corp.example/lib@v1.0.0")), Vec::<String>::new());
}

#[test]
fn regression_a_git_host_no_module_path_starts_with_is_warned_about() {
    let git = |host: &str, extra: &str| {
        format!(
            "name: t\nmodules: [modules]\nhosts:\n  {host}:\n    git: {{}}\n{extra}env: {{GOPROXY: direct, GOPRIVATE: corp.example}}\nrun: {{modules: [corp.example/lib@v1.0.0]}}\n{EXPECT}"
        )
    };
    let found = warnings(&git("git.corp.example", ""));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("warn.yaml:4:3: git host `git.corp.example` serves no module of the scenario"),
        "{found:#?}"
    );
    assert!(found[0].contains("help: go derives the host from the module path"), "{found:#?}");
    assert!(found[0].contains("modules corp.example/... are served by a git host named corp.example"), "{found:#?}");
    // Named as go derives it: no warning.
    assert_eq!(warnings(&git("corp.example", "")), Vec::<String>::new());
    // The git host a vanity host's pages point at: no warning.
    let vanity = git("git.corp.example", "  corp.example:\n    git: {repos: git.corp.example}\n");
    assert_eq!(warnings(&vanity), Vec::<String>::new());
}

#[test]
fn regression_a_typo_in_run_modules_is_warned_about() {
    // `corp.example/lbi` validated and failed only at run time, as a 404 that read like
    // the fault under test.
    let asking = |modules: &str| format!("{HEADER}run: {{modules: [{modules}]}}\n{EXPECT}");
    let found = warnings(&asking("corp.example/lbi@v1.0.0"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("warn.yaml:6:17: corp.example/lbi@v1.0.0 is not among the scenario's modules"),
        "{found:#?}"
    );
    assert!(found[0].contains("help: did you mean corp.example/lib?"), "{found:#?}");
    // Asking for a module nobody has is often the point, and so is a missing version, a
    // package or a major version of a module the scenario has: no warning.
    for meant in [
        "corp.example/lib@v1.0.0",
        "corp.example/lib@v9.9.9",
        "corp.example/lib@latest",
        "corp.example/lib/v2@v2.0.0",
        "corp.example/missing@v1.0.0",
        "other.example/thing@v1.0.0",
    ] {
        assert_eq!(warnings(&asking(meant)), Vec::<String>::new(), "{meant}");
    }
}

#[test]
fn regression_no_goproxy_and_no_proxy_host_is_warned_about_unless_sealed() {
    // go's default proxy.golang.org answers nothing here: the open mode's guard refuses it,
    // and "expect: failure" passed without the declared host ever being asked.
    let scenario = |network: &str| {
        format!(
            "name: t\nmodules: [modules]\n{network}hosts:\n  p.acme.test:\n    blackhole: {{}}\nenv:\n  GOFLAGS: -mod=mod\nrun: {{modules: [corp.example/lib@v1.0.0]}}\nexpect: {{exit: failure}}\n"
        )
    };
    let found = warnings(&scenario(""));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("warn.yaml:7:3: GOPROXY is not set and no goproxy host is declared"), "{found:#?}");
    assert!(found[0].contains("help: declare a goproxy host, set GOPROXY"), "{found:#?}");
    // Sealed, reaching nothing may be the point (the canaries).
    assert_eq!(warnings(&scenario("network: sealed\n")), Vec::<String>::new());
}
