//! The toxiproxy backend against a REAL toxiproxy server.
//!
//! The server is built from source once with `go install` (pinned version, hermetic
//! GOPATH/GOMODCACHE/GOCACHE under `target/tmp/`, reused afterwards; about 20 s on a
//! cold machine, most of it downloading modules and compiling) — or taken from
//! `$MODCHAOS_TOXIPROXY_SERVER`. It is started on a free 127.0.0.1 port for this test
//! binary and killed at the end (and by the kernel if this process dies first). Where
//! it cannot be installed or started, every trial that needs it is ignored, loudly.
//!
//! Trials: the client against the server (create, every toxic kind with its units,
//! toxicity, disable, delete, errors, reset on a server of its own), what the units
//! mean on the wire, time windows and `reset_peer`'s RST on a live connection, the
//! world's cleanup (stop, drop, parallel worlds), the skips, and every scenario in
//! `scenarios/tcp/` run with the toxiproxy backend in open mode, with the diagnosis it
//! expects. At the end no proxy may be left on the server.
//!
//! Every trial is named `real_toxiproxy/…`: `cargo test -- --skip real_toxiproxy` leaves
//! them out, and then nothing is installed or started.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use modchaos::fault::tcp::{Bandwidth, Latency, ResetPeer, Toxic, ToxicKind};
use modchaos::fault::toxiproxy::{ApiToxic, Client, NewProxy, ToxicBackend, ToxiproxyHosts};
use modchaos::gobin::GoBinary;
use modchaos::judge::{Status, run_scenario};
use modchaos::report::text::failure_details;
use modchaos::runner::{NoEvents, RunOptions};
use modchaos::scenario::{LoadContext, Scenario, discover, load, parse};
use modchaos::vocab::NetworkMode;
use modchaos::world::World;
use serde_json::json;

#[path = "support/toxiproxy_server.rs"]
mod toxiproxy_server;
use toxiproxy_server::ToxiproxyServer;

/// Every trial's name starts with this, so that `cargo test -- --skip real_toxiproxy`
/// leaves the whole file out (and with it the install and the server).
const PREFIX: &str = "real_toxiproxy/";

/// Trials that need the server (besides every `scenarios/tcp/` one).
/// A check against the running server.
type ServerCheck = fn(&Client) -> Result<(), Failed>;

const SERVER_TRIALS: [(&str, ServerCheck); 8] = [
    ("client/version", client_version),
    ("client/create_every_toxic_disable_delete", client_lifecycle),
    ("client/errors_carry_status_and_message", client_errors),
    ("units/latency_is_milliseconds", latency_is_milliseconds),
    ("units/bandwidth_is_kilobytes_per_second", bandwidth_is_kb_per_second),
    ("windows/added_removed_and_down_on_time", windows_on_time),
    ("windows/reset_peer_resets_a_live_connection", reset_peer_on_live_connection),
    ("world/stop_and_drop_delete_the_proxies", world_cleanup),
];

fn main() {
    let mut args = Arguments::from_args();
    // The trials mostly wait (on the server, on go's 10 s TLS handshake timeout): at one
    // per CPU, the longest waited behind the others (13.7 s instead of 10.2 s here).
    args.test_threads.get_or_insert(8);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tcp = root.join("scenarios").join("tcp");
    let tcp_files = discover(std::slice::from_ref(&tcp)).expect("scenarios/tcp is readable");
    let tcp_name =
        |file: &Path| format!("{PREFIX}scenarios/tcp/{}", file.file_stem().unwrap_or_default().to_string_lossy());
    // The server is installed and started only when a trial that needs it is selected.
    let mut server_names: Vec<String> = SERVER_TRIALS.iter().map(|(n, _)| format!("{PREFIX}{n}")).collect();
    server_names.push(format!("{PREFIX}client/reset_on_a_server_of_its_own"));
    server_names.extend(tcp_files.iter().map(|f| tcp_name(f)));
    let server = if server_names.iter().any(|n| selected(&args, n)) {
        match ToxiproxyServer::provide() {
            Ok(server) => Some(server),
            Err(why) => {
                eprintln!("\n*** toxiproxy tests that need the server are IGNORED: {why} ***\n");
                None
            }
        }
    } else {
        None
    };
    let url = server.as_ref().map(|s| s.url.clone());
    let go = GoBinary::find(None).ok();
    if go.is_none() {
        eprintln!("\n*** toxiproxy scenario trials are IGNORED: no go command ***\n");
    }

    let mut trials = Vec::new();
    for (name, test) in SERVER_TRIALS {
        let client = url.as_deref().map(|u| Client::new(u).expect("the server's URL is valid"));
        let ignored = client.is_none();
        trials.push(
            Trial::test(format!("{PREFIX}{name}"), move || test(&client.expect("ignored without a server")))
                .with_ignored_flag(ignored),
        );
    }
    let reset_binary = server.as_ref().map(|s| s.binary.clone());
    trials.push(
        Trial::test(format!("{PREFIX}client/reset_on_a_server_of_its_own"), move || {
            client_reset(reset_binary.as_deref().expect("ignored without a server"))
        })
        .with_ignored_flag(server.is_none()),
    );
    trials.push(Trial::test(format!("{PREFIX}skips/nth_and_first"), skips_counting));
    trials.push(Trial::test(format!("{PREFIX}skips/sealed_scenarios"), skips_sealed));

    for file in tcp_files {
        let name = tcp_name(&file);
        let options = match (&go, &url) {
            (Some(go), Some(url)) => Some(
                RunOptions::open(go.clone(), "toxiproxy trial")
                    .with_toxics(url_backend(url).expect("the server's URL is valid")),
            ),
            _ => None,
        };
        let ignored = options.is_none();
        trials.push(
            Trial::test(name, move || run_with_toxiproxy(&file, options.expect("ignored without server or go")))
                .with_ignored_flag(ignored),
        );
    }

    let conclusion = libtest_mimic::run(&args, trials);
    let leftovers = url.as_deref().and_then(|u| leftover_proxies(u).err());
    drop(server);
    if let Some(leftovers) = leftovers {
        eprintln!("\n*** toxiproxy proxies were left behind: {leftovers} ***\n");
        std::process::exit(101);
    }
    conclusion.exit();
}

/// Whether libtest-mimic would run a trial named `name` given `args`' filter and skips.
fn selected(args: &Arguments, name: &str) -> bool {
    let matches = |pattern: &str| if args.exact { name == pattern } else { name.contains(pattern) };
    args.filter.as_deref().is_none_or(matches) && !args.skip.iter().any(|s| matches(s))
}

fn url_backend(url: &str) -> Result<ToxicBackend, String> {
    format!("toxiproxy={url}").parse().map_err(|e: modchaos::fault::toxiproxy::BackendSpecError| e.to_string())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), Failed> {
    if ok { Ok(()) } else { Err(what().into()) }
}

/// Every proxy this run created is gone.
fn leftover_proxies(url: &str) -> Result<(), String> {
    let client = Client::new(url).map_err(|e| e.to_string())?;
    let proxies = runtime().block_on(client.proxies()).map_err(|e| e.to_string())?;
    if proxies.is_empty() { Ok(()) } else { Err(proxies.keys().cloned().collect::<Vec<_>>().join(", ")) }
}

// ---------------------------------------------------------------------------------
// Small servers behind the proxies.

/// Echoes every byte back.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || stream.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// On every connection: `first`, then after `pause` `second`, then waits for the
/// client to close.
fn two_part_server(first: &'static [u8], pause: Duration, second: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let _ = stream.write_all(first);
                std::thread::sleep(pause);
                let _ = stream.write_all(second);
                let mut sink = [0u8; 64];
                while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
    });
    addr
}

/// Sends `count` bytes on every connection, then closes.
fn bulk_server(count: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let _ = stream.write_all(&vec![0x42u8; count]);
            });
        }
    });
    addr
}

fn unique(name: &str) -> String {
    format!("modchaos-test-{}-{name}", std::process::id())
}

fn api_toxic(name: &str, kind: &str, stream: &str, attributes: serde_json::Value) -> ApiToxic {
    ApiToxic {
        name: name.into(),
        kind: kind.into(),
        stream: stream.into(),
        toxicity: 1.0,
        attributes: serde_json::from_value(attributes).expect("an object"),
    }
}

/// A proxy to `upstream` on a port toxiproxy picks; returns its address.
async fn proxy(client: &Client, name: &str, upstream: SocketAddr) -> Result<SocketAddr, Failed> {
    Ok(toxiproxy_server::create_proxy(client, name, upstream).await?)
}

/// Seconds for one 64-byte echo exchange on a fresh connection.
fn echo_time(addr: SocketAddr) -> Result<f64, Failed> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let started = Instant::now();
    stream.write_all(&[7u8; 64])?;
    let mut got = [0u8; 64];
    stream.read_exact(&mut got)?;
    Ok(started.elapsed().as_secs_f64())
}

// ---------------------------------------------------------------------------------
// The client against the server.

fn client_version(client: &Client) -> Result<(), Failed> {
    let version = runtime().block_on(client.version())?;
    check(!version.is_empty() && !version.contains('{'), || format!("version {version:?}"))
}

fn client_lifecycle(client: &Client) -> Result<(), Failed> {
    let name = unique("lifecycle");
    let echo = echo_server();
    runtime().block_on(async {
        let addr = proxy(client, &name, echo).await?;
        check(addr.port() != 0, || "toxiproxy says where it really listens".into())?;
        let toxics = [
            api_toxic("l", "latency", "downstream", json!({"latency": 5, "jitter": 1})),
            api_toxic("b", "bandwidth", "upstream", json!({"rate": 1000})),
            api_toxic("sc", "slow_close", "downstream", json!({"delay": 10})),
            api_toxic("t", "timeout", "upstream", json!({"timeout": 2000})),
            api_toxic("r", "reset_peer", "downstream", json!({"timeout": 3})),
            api_toxic("s", "slicer", "downstream", json!({"average_size": 64, "size_variation": 8, "delay": 100})),
            api_toxic("ld", "limit_data", "downstream", json!({"bytes": 100000})),
        ];
        for toxic in &toxics {
            let added = client.add_toxic(&name, &ApiToxic { toxicity: 0.0, ..toxic.clone() }).await?;
            check(added.attributes == toxic.attributes && added.kind == toxic.kind, || format!("{added:?}"))?;
        }
        let shown = client.proxy(&name).await?;
        check(shown.toxics.len() == toxics.len(), || format!("{shown:?}"))?;
        for toxic in &toxics {
            let found = shown.toxics.iter().find(|t| t.name == toxic.name);
            check(found.is_some_and(|t| t.attributes == toxic.attributes && t.stream == toxic.stream), || {
                format!("{} as shown: {found:?}", toxic.name)
            })?;
        }
        let updated = client.set_toxicity(&name, "l", 0.25).await?;
        check((updated.toxicity - 0.25).abs() < 1e-6, || format!("{updated:?}"))?;
        for toxic in &toxics {
            client.remove_toxic(&name, &toxic.name).await?;
        }
        check(client.proxy(&name).await?.toxics.is_empty(), || "every toxic removed".into())?;
        // Toxicity 0 toxics passed data; now with none, an exchange works.
        tokio::task::spawn_blocking(move || echo_time(addr)).await??;

        let down = client.set_enabled(&name, false).await?;
        check(!down.enabled, || format!("{down:?}"))?;
        let refused = TcpStream::connect(addr);
        check(refused.is_err(), || "a disabled proxy refuses connections".into())?;
        let up = client.set_enabled(&name, true).await?;
        check(up.enabled && up.listen == addr.to_string(), || format!("back on the same address: {up:?}"))?;
        tokio::task::spawn_blocking(move || echo_time(addr)).await??;

        client.delete_proxy(&name).await?;
        let gone = client.proxy(&name).await.expect_err("a deleted proxy is gone");
        check(gone.status() == Some(404), || format!("{gone}"))
    })
}

fn client_errors(client: &Client) -> Result<(), Failed> {
    let name = unique("errors");
    runtime().block_on(async {
        proxy(client, &name, echo_server()).await?;
        let again = NewProxy {
            name: name.clone(),
            listen: "127.0.0.1:0".into(),
            upstream: "127.0.0.1:1".into(),
            enabled: true,
        };
        let e = client.create_proxy(&again).await.expect_err("a taken name");
        check(e.status() == Some(409) && e.to_string().contains("proxy already exists"), || e.to_string())?;
        let e =
            client.add_toxic(&name, &api_toxic("x", "nonsense", "downstream", json!({}))).await.expect_err("bad type");
        check(e.status() == Some(400) && e.to_string().contains("invalid toxic type"), || e.to_string())?;
        let e =
            client.add_toxic(&name, &api_toxic("x", "latency", "sideways", json!({}))).await.expect_err("bad stream");
        check(e.status() == Some(400) && e.to_string().contains("stream was invalid"), || e.to_string())?;
        let latency = api_toxic("x", "latency", "downstream", json!({"latency": 1}));
        client.add_toxic(&name, &latency).await?;
        let e = client.add_toxic(&name, &latency).await.expect_err("a taken toxic name");
        check(e.status() == Some(409), || e.to_string())?;
        let e = client.remove_toxic(&name, "absent").await.expect_err("no such toxic");
        check(e.status() == Some(404) && e.to_string().contains("toxic not found"), || e.to_string())?;
        client.delete_proxy(&name).await?;
        let e = client.delete_proxy(&name).await.expect_err("no such proxy");
        check(e.status() == Some(404) && e.to_string().contains("proxy not found"), || e.to_string())?;
        let e = client.set_enabled(&name, false).await.expect_err("no such proxy");
        check(e.status() == Some(404), || e.to_string())
    })
}

/// `/reset` touches every proxy on a server, so it gets a server of its own.
fn client_reset(binary: &Path) -> Result<(), Failed> {
    let server = ToxiproxyServer::start(binary)?;
    let client = Client::new(&server.url)?;
    runtime().block_on(async {
        proxy(&client, "reset-me", echo_server()).await?;
        client.add_toxic("reset-me", &api_toxic("l", "latency", "downstream", json!({"latency": 1}))).await?;
        client.set_enabled("reset-me", false).await?;
        client.reset().await?;
        let after = client.proxy("reset-me").await?;
        check(after.enabled && after.toxics.is_empty(), || format!("{after:?}"))?;
        client.delete_proxy("reset-me").await?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------
// What the units mean on the wire: toxics from the model, through the backend's own
// conversion, measured against the same proxy without them.

fn host_with(
    client: &Client,
    toxics: Vec<Toxic>,
    upstream: SocketAddr,
) -> Result<(ToxiproxyHosts, SocketAddr), Failed> {
    let mut hosts = ToxiproxyHosts::new(client.clone());
    let (addr, _) = runtime().block_on(hosts.add_host("units.example", &toxics, upstream, Instant::now()))?;
    Ok((hosts, addr))
}

fn latency_is_milliseconds(client: &Client) -> Result<(), Failed> {
    let echo = echo_server();
    let latency =
        Toxic::new(1, ToxicKind::Latency(Latency { latency: Duration::from_millis(150), jitter: Duration::ZERO }));
    let (bare_hosts, bare) = host_with(client, Vec::new(), echo)?;
    let (slow_hosts, slow) = host_with(client, vec![latency], echo)?;
    let base = (0..3).map(|_| echo_time(bare)).collect::<Result<Vec<_>, _>>()?;
    let delayed = (0..3).map(|_| echo_time(slow)).collect::<Result<Vec<_>, _>>()?;
    let min = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
    let added = min(&delayed) - min(&base);
    drop((bare_hosts, slow_hosts));
    // 150 ms on the response: not 150 µs, not 150 s.
    check((0.140..1.5).contains(&added), || format!("latency 150ms added {:.1} ms", added * 1000.0))
}

fn bandwidth_is_kb_per_second(client: &Client) -> Result<(), Failed> {
    let bytes = 60_000;
    let bulk = bulk_server(bytes);
    let rate = Toxic::new(1, ToxicKind::Bandwidth(Bandwidth { rate: 100 }));
    let (_hosts, addr) = host_with(client, vec![rate], bulk)?;
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut got = Vec::new();
    stream.read_to_end(&mut got)?;
    let took = started.elapsed().as_secs_f64();
    check(got.len() == bytes, || format!("{} of {bytes} bytes", got.len()))?;
    // 60 000 B at 100 KB/s (1000-byte KB) is 0.6 s; at 100 KiB/s 0.59 s, so only the
    // order of magnitude is checked: not 100 B/s (10 min), not 100 MB/s (ms).
    check((0.45..6.0).contains(&took), || format!("60 kB at rate 100 took {took:.2}s"))
}

// ---------------------------------------------------------------------------------
// Windows.

fn windowed(number: usize, kind: ToxicKind, after: Option<u64>, until: Option<u64>) -> Toxic {
    let mut t = Toxic::new(number, kind);
    t.when.after = after.map(Duration::from_millis);
    t.when.until = until.map(Duration::from_millis);
    t
}

fn windows_on_time(client: &Client) -> Result<(), Failed> {
    let latency = ToxicKind::Latency(Latency { latency: Duration::from_millis(1), jitter: Duration::ZERO });
    let toxics = vec![windowed(1, latency, None, Some(1000)), windowed(2, ToxicKind::Down, Some(500), Some(1500))];
    let started = Instant::now();
    runtime().block_on(async {
        let mut hosts = ToxiproxyHosts::new(client.clone());
        let (addr, labels) = hosts.add_host("windows.example", &toxics, echo_server(), started).await?;
        let name = hosts.proxy_names()[0].clone();
        // (at, latency installed, enabled, connectable)
        let expected = [(250, true, true), (750, true, false), (1250, false, false), (2000, false, true)];
        for (at, latency, enabled) in expected {
            tokio::time::sleep_until((started + Duration::from_millis(at)).into()).await;
            let shown = client.proxy(&name).await?;
            let has_latency = shown.toxics.iter().any(|t| t.kind == "latency");
            check(has_latency == latency && shown.enabled == enabled, || {
                format!("at {at} ms expected latency {latency}, enabled {enabled}; got {shown:?}")
            })?;
            let connects = TcpStream::connect(addr).is_ok();
            check(connects == enabled, || format!("at {at} ms connecting: {connects}"))?;
            let listed = labels.lock().map(|l| l.clone()).unwrap_or_default();
            check(listed.iter().any(|l| l.contains("latency")) == latency, || format!("labels at {at}: {listed:?}"))?;
        }
        let problems = hosts.close().await;
        check(problems.is_empty(), || format!("{problems:?}"))?;
        let gone = client.proxy(&name).await.expect_err("closed");
        check(gone.status() == Some(404), || gone.to_string())
    })
}

/// A `reset_peer` whose window opens on a live connection resets it (RST), as the
/// in-process toxic does; a toxic merely added then would close it with a FIN.
fn reset_peer_on_live_connection(client: &Client) -> Result<(), Failed> {
    let upstream = two_part_server(b"hello", Duration::from_millis(800), b"world");
    let reset = windowed(1, ToxicKind::ResetPeer(ResetPeer { timeout: Duration::ZERO }), Some(300), None);
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let mut hosts = ToxiproxyHosts::new(client.clone());
    let (addr, _) = rt.block_on(hosts.add_host("reset.example", &[reset], upstream, started))?;
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut first = [0u8; 5];
    stream.read_exact(&mut first)?;
    check(&first == b"hello", || "data flows before the window".into())?;
    check(started.elapsed() < Duration::from_millis(300), || "the test machine is too slow for this trial".into())?;
    let mut rest = Vec::new();
    let outcome = stream.read_to_end(&mut rest);
    let problems = rt.block_on(hosts.close());
    check(problems.is_empty(), || format!("{problems:?}"))?;
    match outcome {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(()),
        other => Err(format!("expected a reset once the window opened, got {other:?} with {rest:?}").into()),
    }
}

// ---------------------------------------------------------------------------------
// Worlds.

fn tcp_scenario(file: &str) -> Result<Scenario, Failed> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join("tcp").join(file);
    load(&path, &LoadContext::new(None)).map_err(|e| format!("{e}").into())
}

fn world_cleanup(client: &Client) -> Result<(), Failed> {
    let scenario = tcp_scenario("latency-within-deadline.yaml")?;
    let backend = ToxicBackend::Toxiproxy(client.clone());
    let exists = |name: &str| runtime().block_on(client.proxy(name)).is_ok();
    // Two worlds of the same scenario at once do not collide.
    let rt = runtime();
    let mut a = rt.block_on(World::start_with(&scenario, NetworkMode::Open, &backend))?;
    let b = rt.block_on(World::start_with(&scenario, NetworkMode::Open, &backend))?;
    let names = |w: &World| w.toxiproxy().map(|t| t.proxy_names().to_vec()).unwrap_or_default();
    let (names_a, names_b) = (names(&a), names(&b));
    check(names_a.len() == 1 && names_b.len() == 1 && names_a != names_b, || format!("{names_a:?} {names_b:?}"))?;
    check(names_a.iter().chain(&names_b).all(|n| exists(n)), || "both worlds' proxies exist".into())?;
    // The host's public address is toxiproxy's listener.
    let host = a.map.get("proxy.corp.example").ok_or("the host is mapped")?;
    let shown = rt.block_on(client.proxy(&names_a[0]))?;
    check(shown.listen == host.addr.to_string(), || format!("{} vs {}", shown.listen, host.addr))?;
    // stop() deletes and reports; dropping a world deletes, even as its runtime goes.
    let problems = rt.block_on(a.stop());
    check(problems.is_empty(), || format!("{problems:?}"))?;
    check(!exists(&names_a[0]), || "stop() deleted the proxy".into())?;
    drop(a);
    drop(b);
    drop(rt);
    check(!exists(&names_b[0]), || "dropping the world deleted the proxy".into())
}

// ---------------------------------------------------------------------------------
// Skips, which need neither server nor go.

fn scenario_text(extra_toxic_lines: &str, top: &str) -> String {
    format!(
        "name: skip test\n{top}modules: [../../fixtures/modules]\nhosts:\n  proxy.corp.example:\n    goproxy: {{}}\n    tcp:\n      - reset_peer: {{timeout: 0}}\n{extra_toxic_lines}run:\n  modules: [corp.example/lib@v1.0.0]\nexpect:\n  exit: failure\n"
    )
}

fn run_skipped(text: String) -> Result<String, Failed> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join("tcp").join("skip-test.yaml");
    let scenario = parse(&path, text, &LoadContext::new(None)).map_err(|e| format!("{e}"))?;
    let go = GoBinary { path: PathBuf::from("/nonexistent/go") };
    let options = RunOptions::open(go, "test").with_toxics(url_backend("http://127.0.0.1:9")?);
    let report = runtime().block_on(run_scenario(&scenario, &options, &NoEvents));
    check(report.status == Status::Skipped, || format!("{:?}: {:?}", report.status, report.reason))?;
    Ok(report.reason.unwrap_or_default())
}

fn skips_counting() -> Result<(), Failed> {
    for field in ["nth: 2", "first: 1"] {
        let reason = run_skipped(scenario_text(&format!("        when: {{{field}}}\n"), ""))?;
        check(reason.contains("toxiproxy has no per-connection counting"), || reason.clone())?;
        check(reason.contains(&format!("`{}`", &field[..field.find(':').unwrap_or(0)])), || reason.clone())?;
    }
    Ok(())
}

fn skips_sealed() -> Result<(), Failed> {
    let reason = run_skipped(scenario_text("", "network: sealed\n"))?;
    check(reason.contains("needs sealed networking") && reason.contains("works in open mode only"), || reason)
}

// ---------------------------------------------------------------------------------
// The scenario suite's TCP scenarios through toxiproxy.

fn run_with_toxiproxy(file: &Path, options: RunOptions) -> Result<(), Failed> {
    let relative = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(file);
    let ctx = LoadContext::new(Some(options.go.clone()));
    let scenario = load(relative, &ctx).or_else(|_| load(file, &ctx)).map_err(|e| format!("invalid scenario: {e}"))?;
    let report = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run_scenario(&scenario, &options, &NoEvents));
    if report.status != Status::Passed {
        return Err(failure_details(&report).into());
    }
    let diagnosed = report.run.as_ref().map(|r| r.diagnosis.category);
    check(scenario.expect.diagnosis.is_none() || diagnosed == scenario.expect.diagnosis, || {
        format!("diagnosed {diagnosed:?}, in-process scenario expects {:?}", scenario.expect.diagnosis)
    })?;
    check(report.sandbox_removed, || "the sandbox was left behind".into())?;
    // The relay behind toxiproxy records the connections, listing the toxics acting
    // from the start (those whose window opens later act on live connections).
    let requests = report.run.as_ref().map(|r| r.evidence.requests.clone()).unwrap_or_default();
    for host in &scenario.hosts {
        for toxic in host.toxics.iter().filter(|t| t.kind != ToxicKind::Down) {
            let label = format!("toxiproxy {}", toxic.label());
            let connections = requests.iter().filter(|q| q.host == host.name && q.method == "TCP");
            let listed = connections.clone().any(|q| q.faults.contains(&label));
            check(connections.count() > 0 && (toxic.when.after.is_some() || listed), || {
                format!("{}: no recorded connection lists `{label}`: {requests:#?}", host.name)
            })?;
        }
    }
    Ok(())
}
