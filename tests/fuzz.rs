//! Fuzzing, run by `cargo test`: proptest properties over the inputs a hostile world
//! feeds modchaos — scenario files (text, bytes, and well-formed files with wild values),
//! module fixtures (txtar), CI logs (the diagnoser), DNS messages (the fake resolver)
//! and raw bytes on a fake host's socket (HTTP, TLS, garbage). None may panic, hang or
//! take a fake host down. Every input that ever broke one of them is kept in
//! `tests/fuzz-corpus/<target>/` and replayed here (`corpus_replays_every_crash_found`).
//!
//! The case counts keep `cargo test` quick; `PROPTEST_CASES=100000 cargo test --test
//! fuzz` fuzzes longer.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use modchaos::fake::RequestLog;
use modchaos::fake::dns::{DnsServer, Transport, Zone, answer};
use modchaos::fixture::ModuleFixture;
use modchaos::fixture::txtar::Archive;
use modchaos::scenario::{LoadContext, parse};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// The targets: each takes raw bytes, as a crash corpus stores them.
// ---------------------------------------------------------------------------

/// A scenario file's bytes, as `load` reads them: decoding, parsing, validation, and
/// what a run computes from the durations it accepted.
fn scenario_target(bytes: &[u8]) {
    let path = fixtures().parent().unwrap().join("fuzz.yaml");
    let Ok(text) = modchaos::scenario::utf8(&path, bytes.to_vec()) else { return };
    let started = Instant::now();
    let result = parse(&path, text, &LoadContext::default());
    assert!(started.elapsed() < Duration::from_secs(20), "parsing took {:?}", started.elapsed());
    match result {
        Ok(scenario) => {
            for step in &scenario.run {
                assert!(step.timeout <= modchaos::scenario::duration::MAX, "{:?}", step.timeout);
            }
            let _ = scenario.secrets();
        }
        Err(error) => {
            // Rendering every problem (snippets included) must not panic either, and
            // must stay small.
            for problem in error.problems() {
                let shown = format!("{:?}", miette::Report::new(problem));
                assert!(shown.len() < 20_000, "{} bytes of problem", shown.len());
            }
        }
    }
}

/// A module fixture's bytes: the archive, the module built from it, its defects.
fn txtar_target(bytes: &[u8]) {
    let archive = Archive::parse(bytes);
    if let Ok(module) = ModuleFixture::from_archive("fuzz.example/m", "v1.0.0", Path::new("fuzz.txt"), &archive) {
        let _ = module.defects();
        assert!(module.sum.starts_with("h1:"));
    }
}

/// A CI log: evidence read out of it, and its diagnosis, which must be the same twice.
fn log_target(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let evidence = modchaos::evidence::Evidence::from_log(&text);
    let diagnosis = modchaos::diagnose::diagnose(&evidence);
    let again = modchaos::diagnose::diagnose(&modchaos::evidence::Evidence::from_log(&text));
    assert_eq!(diagnosis.category, again.category);
    let _ = modchaos::report::diagnosis::render(&diagnosis);
}

/// A DNS message to the fake resolver, over UDP and TCP.
fn dns_target(bytes: &[u8]) {
    let server = DnsServer::new(
        Zone::new([("proxy.corp.example".to_string(), vec!["127.0.0.10".parse().unwrap()])]),
        Arc::new(RequestLog::default()),
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for transport in [Transport::Udp, Transport::Tcp] {
        if let Some(reply) = runtime.block_on(answer(&server, bytes, transport)) {
            let parsed = hickory_proto::op::Message::from_vec(&reply).expect("the fake resolver's reply parses");
            let asked = hickory_proto::op::Message::from_vec(bytes).expect("only queries that parse are answered");
            assert_eq!(parsed.metadata.id, asked.metadata.id);
        }
    }
}

/// Raw bytes on a fresh connection to one of a world's fakes; afterwards the fake must
/// still answer a well-formed request.
fn http_target(bytes: &[u8]) {
    let world = http_world();
    let target = world.addresses[bytes.first().map_or(0, |b| usize::from(*b)) % world.addresses.len()];
    if let Ok(mut stream) = TcpStream::connect_timeout(&target, Duration::from_secs(5)) {
        let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
        let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
        let _ = stream.write_all(bytes);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut sink = Vec::new();
        let _ = stream.take(1 << 20).read_to_end(&mut sink);
    }
    for address in &world.addresses {
        let answer = get(*address, "/corp.example/lib/@v/list");
        assert!(answer.starts_with("HTTP/1.1 "), "{address} stopped answering after {bytes:?}: {answer:?}");
    }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// `PROPTEST_CASES` if set (a longer campaign), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules")
}

/// A world of fakes running for the whole test binary: a module proxy with
/// credentials and a fault, a checksum database and the open mode's guard.
struct HttpWorld {
    addresses: Vec<SocketAddr>,
    _world: modchaos::world::World,
    _runtime: tokio::runtime::Runtime,
}

fn http_world() -> &'static HttpWorld {
    static WORLD: OnceLock<HttpWorld> = OnceLock::new();
    WORLD.get_or_init(|| {
        let yaml = format!(
            "name: fuzz\nmodules: [{}]\nhosts:\n  proxy.corp.example:\n    goproxy: {{auth: {{user: ci, password: pw}}, sumdb: true}}\n    faults: [{{when: {{path: '*.zip', first: 1}}, respond: {{status: 500}}}}]\n  sum.corp.example:\n    sumdb: {{name: sum.corp.example}}\n  open.corp.example:\n    goproxy: {{}}\nenv: {{GOPROXY: 'https://proxy.corp.example'}}\nexpect: {{exit: failure}}\n",
            fixtures().display()
        );
        let scenario = parse(Path::new("fuzz.yaml"), yaml, &LoadContext::default()).unwrap_or_else(|e| panic!("{e}"));
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let world = runtime
            .block_on(modchaos::world::World::start(&scenario, modchaos::vocab::NetworkMode::Open))
            .unwrap();
        let mut addresses: Vec<SocketAddr> = world.map.hosts.iter().map(|h| h.addr).collect();
        addresses.extend(world.map.guard);
        HttpWorld { addresses, _world: world, _runtime: runtime }
    })
}

/// A plain HTTP/1.1 GET; the response head, or what went wrong.
fn get(address: SocketAddr, path: &str) -> String {
    let attempt = || -> std::io::Result<String> {
        let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 64];
        let n = stream.read(&mut head)?;
        Ok(String::from_utf8_lossy(&head[..n]).into_owned())
    };
    attempt().unwrap_or_else(|e| e.to_string())
}

/// Every shipped scenario file, as seeds to mutate.
fn shipped_scenarios() -> Vec<Vec<u8>> {
    let files = modchaos::scenario::discover(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")]).unwrap();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// Logs of the labelled corpus (every `.txt` under `tests/corpus`, whatever its layout),
/// as seeds to mutate.
fn corpus_logs() -> Vec<Vec<u8>> {
    static LOGS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let mut files = Vec::new();
        let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "txt") {
                    files.push(path);
                }
            }
        }
        files.sort();
        // Every seventh is plenty of variety, and keeps each case cheap.
        let logs: Vec<Vec<u8>> = files.iter().step_by(7).map(|f| std::fs::read(f).unwrap_or_default()).collect();
        assert!(!logs.is_empty(), "no corpus logs under tests/corpus to mutate");
        logs
    })
    .clone()
}

/// `seed` with `edits` applied: insertions of characters that matter to the format,
/// deletions, and duplications of a slice.
fn mutate(seed: &[u8], edits: &[(usize, u8)], nasty: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for &(at, byte) in edits {
        let at = at % (bytes.len() + 1);
        match byte % 4 {
            0 => bytes.insert(at, nasty[usize::from(byte) % nasty.len()]),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            2 => {
                let end = (at + usize::from(byte)).min(bytes.len());
                let slice = bytes[at..end].to_vec();
                bytes.splice(at..at, slice);
            }
            _ => bytes.insert(at, byte),
        }
    }
    bytes
}

/// A DNS query for `name` of type `qtype` with `id`, optionally with EDNS.
fn dns_query(id: u16, name: &str, qtype: u16, edns: bool) -> Option<Vec<u8>> {
    use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
    use hickory_proto::rr::{Name, RecordType};
    let mut message = Message::query();
    message.metadata.id = id;
    message.metadata.message_type = MessageType::Query;
    message.metadata.op_code = OpCode::Query;
    message.add_query(Query::query(Name::from_ascii(name).ok()?, RecordType::from(qtype)));
    if edns {
        message.set_edns(Edns::new());
    }
    message.to_vec().ok()
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

/// A duration as a scenario might write one, sensible or not.
fn duration_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<u64>(), prop::sample::select(vec!["ns", "us", "ms", "s", "m", "h", "d", "w", "y", ""]))
            .prop_map(|(n, unit)| format!("{n}{unit}")),
        "[0-9]{1,30}(ms|s|h)",
        "\\PC{0,12}",
    ]
}

/// A value of an environment variable, URL-ish or not.
fn env_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "(https?|socks5|file)://([a-z0-9:@._-]{0,40})(/[a-z0-9/@._!-]{0,20})?([,|](direct|off))?",
        "[a-z0-9.:@_*,|-]{0,60}",
        "\\PC{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(200), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn scenario_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        scenario_target(&bytes);
    }

    #[test]
    fn well_formed_scenarios_with_wild_values_never_panic(
        timeout in duration_text(),
        delay in duration_text(),
        status in any::<u32>(),
        nth in any::<u64>(),
        var in "[A-Za-z_][A-Za-z0-9_]{0,20}",
        value in env_value(),
        latency in any::<u64>(),
        network in prop::sample::select(vec!["", "network: open\n", "network: sealed\n"]),
    ) {
        let yaml = format!(
            "name: wild\n{network}modules: [modules]\nhosts:\n  proxy.corp.example:\n    goproxy: {{}}\n    faults:\n      - {{when: {{nth: {nth}}}, respond: {{status: {status}}}}}\n      - delay: \"{delay}\"\n    tcp: [{{latency: {{latency: {latency}}}}}]\nenv:\n  {var}: {value:?}\nrun: {{modules: [corp.example/lib@v1.0.0], timeout: \"{timeout}\"}}\nexpect: {{exit: failure}}\n"
        );
        scenario_target(yaml.as_bytes());
    }

    #[test]
    fn scenarios_with_every_section_and_wild_values_never_panic(
        after in duration_text(),
        until in duration_text(),
        probability in any::<f64>(),
        module in "[a-z.]{0,12}/?[a-z]{0,6}@v?[0-9.]{0,8}[a-z+-]{0,6}",
        dns_address in "[0-9.:a-f]{0,20}",
        regex in "\\PC{0,16}",
        glob in "[*/a-z.{}\\[\\]!?-]{0,16}",
        file in "[a-z./]{0,16}",
        step in prop::sample::select(vec![
            "set: {GOPROXY: VALUE}", "append: {var: GOFLAGS, value: VALUE}", "netrc: {host: proxy.corp.example, login: VALUE, password: VALUE}",
            "replace: {var: GOPROXY, from: VALUE, to: VALUE}", "trust: [VALUE]", "unset: [VALUE]", "clean_cache: {}", "move_cache: {}",
        ]),
        value in env_value(),
        attempts in any::<i64>(),
        count in any::<i64>(),
    ) {
        let step = step.replace("VALUE", &format!("{value:?}"));
        let yaml = format!(
            "name: every section\nmodules: [modules, {{module: {module:?}}}]\nresolver: {{timeout: \"{after}\", attempts: {attempts}}}\nhosts:\n  proxy.corp.example:\n    goproxy: {{modules: [{glob:?}]}}\n    faults: [{{when: {{path: {glob:?}, after: \"{after}\", until: \"{until}\", probability: {probability}}}, hang: {{}}}}]\n    dns: [{{address: [{dns_address:?}]}}]\ncache:\n  faults: [{{lock_held: {{module: {module:?}}}}}, {{disk_full: {{}}}}]\nfiles: {{{file:?}: x}}\nrun: {{modules: [{module:?}], timeout: \"{until}\"}}\nexpect: {{exit: failure, error: {regex:?}, requests: [{{host: proxy.corp.example, path: {glob:?}, count: {count}}}]}}\nrecover:\n  steps: [{{{step}}}]\n"
        );
        scenario_target(yaml.as_bytes());
    }

    #[test]
    fn mutated_shipped_scenarios_never_panic(
        seed in 0usize..1000,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..10),
    ) {
        let seeds = shipped_scenarios();
        scenario_target(&mutate(&seeds[seed % seeds.len()], &edits, b" :-[{}]'\"\n\t#&*!|>%@`\xff\x00"));
    }

    #[test]
    fn txtar_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..800)) {
        txtar_target(&bytes);
    }

    #[test]
    fn txtar_archives_round_trip(files in proptest::collection::vec(("[a-z./_!-]{1,12}", "[ -~\n]{0,40}"), 0..6)) {
        let mut text = String::from("comment\n");
        for (name, content) in &files {
            text += &format!("-- {name} --\n{content}");
            if !content.is_empty() && !content.ends_with('\n') {
                text.push('\n');
            }
        }
        let archive = Archive::parse(text.as_bytes());
        // A content line that looks like a marker starts another file: only compare
        // archives without such lines.
        prop_assume!(files.iter().all(|(_, c)| !c.lines().any(|l| l.starts_with("-- ") && l.ends_with(" --"))));
        prop_assert_eq!(archive.files.len(), files.len());
        for (file, (name, _)) in archive.files.iter().zip(&files) {
            prop_assert_eq!(&file.name, name.trim());
        }
        txtar_target(text.as_bytes());
    }

    #[test]
    fn mutated_fixtures_never_panic(seed in 0usize..100, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..12)) {
        let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(fixtures()).unwrap().flatten().map(|e| std::fs::read(e.path()).unwrap()).collect();
        seeds.sort();
        txtar_target(&mutate(&seeds[seed % seeds.len()], &edits, b"-- .mod.info/\n\x00\xff!"));
    }

    #[test]
    fn log_text_never_panics(text in "\\PC{0,600}") {
        log_target(text.as_bytes());
    }

    #[test]
    fn mutated_corpus_logs_never_panic(seed in 0usize..1000, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..16)) {
        let seeds = corpus_logs();
        log_target(&mutate(&seeds[seed % seeds.len()], &edits, b"\x1b[\r\n\t\"{}:#@/ GOPROXY=https://x\xff"));
    }

    #[test]
    fn dns_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        dns_target(&bytes);
    }

    #[test]
    fn dns_queries_get_answers_with_their_id(
        id in any::<u16>(),
        name in "([a-z0-9-]{1,20}\\.){0,4}[a-z]{1,10}\\.?",
        qtype in any::<u16>(),
        edns in any::<bool>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
    ) {
        if let Some(query) = dns_query(id, &name, qtype, edns) {
            dns_target(&query);
            dns_target(&mutate(&query, &edits, b"\x00\xff\xc0\x3f"));
        }
    }
}

proptest! {
    // Each case opens connections to live fakes: fewer of them.
    #![proptest_config(ProptestConfig { cases: cases(48), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn raw_bytes_never_take_a_fake_host_down(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        http_target(&bytes);
    }

    #[test]
    fn mangled_requests_never_take_a_fake_host_down(
        method in prop::sample::select(vec!["GET", "POST", "CONNECT", "HEAD", "PRI", "G\0T", ""]),
        path in "[/a-z0-9@!%.:?*#-]{0,60}",
        headers in proptest::collection::vec(("[A-Za-z-]{0,12}", "\\PC{0,30}"), 0..5),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        version in prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9", ""]),
        target in any::<u8>(),
    ) {
        let mut request = Vec::new();
        let mut text = format!("{method} {path} {version}\r\n");
        for (name, value) in &headers {
            text += &format!("{name}: {value}\r\n");
        }
        text += &format!("Content-Length: {}\r\n\r\n", body.len());
        request.extend_from_slice(text.as_bytes());
        request.extend_from_slice(&body);
        // The first byte picks the host in http_target; keep the request intact.
        let world = http_world();
        let address = world.addresses[usize::from(target) % world.addresses.len()];
        if let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(5)) {
            let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
            let _ = stream.write_all(&request);
            let mut sink = Vec::new();
            let _ = stream.take(1 << 20).read_to_end(&mut sink);
        }
        http_target(&[target]);
    }
}

// ---------------------------------------------------------------------------
// The crash corpus
// ---------------------------------------------------------------------------

/// Files of a corpus directory that are not inputs (`.gitkeep`).
fn hidden(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_none_or(|n| n.starts_with('.'))
}

#[test]
fn corpus_replays_every_crash_found() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    type Target = fn(&[u8]);
    let targets: [(&str, Target); 5] = [
        ("scenario", scenario_target),
        ("txtar", txtar_target),
        ("log", log_target),
        ("dns", dns_target),
        ("http", http_target),
    ];
    let mut replayed = 0;
    for (name, target) in targets {
        let dir = root.join(name);
        assert!(dir.is_dir(), "{} is missing", dir.display());
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).filter(|p| !hidden(p)).collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            let started = Instant::now();
            target(&bytes);
            assert!(started.elapsed() < Duration::from_secs(30), "{} took {:?}", file.display(), started.elapsed());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "the corpus is empty: nothing is replayed");
}
