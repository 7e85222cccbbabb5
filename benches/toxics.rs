//! TCP toxics side by side with a real toxiproxy: in one run, with the same client and
//! the same load, alternating so that machine load hits all alike, on loopback:
//!   direct:    client → server;
//!   modchaos:  client → modchaos's in-process toxic proxy (`modchaos::fault::tcp::serve`)
//!              → server;
//!   toxiproxy: client → a toxiproxy server (installed at bench time as
//!              `tests/toxiproxy.rs` does it: `go install` of a pinned release into
//!              `target/tmp/`, or `$MODCHAOS_TOXIPROXY_SERVER`, or an already running
//!              server named by `MODCHAOS_BENCH_TOXIPROXY=http://HOST:PORT`) → server;
//! it measures
//!   - a zero-toxic hop: the median round trip of 64-byte exchanges (one connection per
//!     round) and the throughput of a 64 MiB server → client transfer;
//!   - a `latency` toxic of 50 ms downstream: the median round trip through it minus the
//!     direct one in the same round (goal: within ±2 ms of 50 ms);
//!   - a `bandwidth` toxic of 4,000 KB/s downstream: the rate a 2 MB transfer gets;
//!
//! It prints modchaos's hop against toxiproxy's (goals: at least 2× its throughput, at
//! most half its added round trip).
//!
//! Then, in the same run, how closely an injected `latency` matches what go
//! itself observes: `go mod download -x` of one module runs as a scenario (parsed with
//! `modchaos::scenario::parse`, run with `modchaos::runner::run_scenario`, open mode,
//! in-process toxics, and also through the toxiproxy server when there is one)
//! against a proxy with no toxics and with a `latency` toxic of L (0, 50 and 200 ms;
//! 0 shows the toxic's own floor), alternating, and go's own per-request times are read
//! from its `-x` trace (`# get URL: 200 OK (0.012s)`). go's timer runs from the start of
//! the request to the response headers, so like is compared with like, per URL and round:
//!   - the first request (`.info`) also dials and does the TLS handshake: with a
//!     downstream latency it pays L for the server's handshake flight and L for the
//!     response, so 2·L is expected;
//!   - later requests (`.mod`, `.zip`) reuse the kept-alive HTTP/2 connection and pay
//!     one downstream chunk, L: their median added time is the figure (goal ±5 ms).
//!
//! `cargo bench --bench toxics [-- ROUNDS]` (default 10 rounds of each).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use modchaos::fake::RequestLog;
use modchaos::fault::tcp::{Bandwidth, Latency, Toxic, ToxicKind, ToxicSet, serve};
use modchaos::fault::toxiproxy::{ApiToxic, Client, ToxicBackend};
use modchaos::gobin::GoBinary;
use modchaos::judge::{Status, run_scenario};
use modchaos::runner::{NoEvents, RunOptions};
use modchaos::scenario::{LoadContext, Scenario, parse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Exchanges per round.
const EXCHANGES: usize = 2000;
/// Size of each request and response.
const MESSAGE: usize = 64;
/// Bytes of each bulk transfer.
const BULK: usize = 64 * 1024 * 1024;
/// Injected latencies compared with go's timing, in ms.
/// (0 shows the toxic's own floor: the timer it waits on.)
const LATENCIES_MS: [u64; 3] = [0, 50, 200];
/// Largest acceptable error of the median added time of later requests.
const GOAL_MS: f64 = 5.0;
/// The latency toxic of the side-by-side comparison, in ms.
const LATENCY_MS: u64 = 50;
/// Exchanges through it per round.
const LATENCY_EXCHANGES: usize = 20;
/// The bandwidth toxic's rate, in KB (1000 B) per second.
const BANDWIDTH_KBPS: u64 = 4000;
/// Bytes sent through it per round (half a second's worth).
const BANDWIDTH_BYTES: usize = 2_000_000;

#[path = "../tests/support/toxiproxy_server.rs"]
mod toxiproxy_server;

fn main() {
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // A toxiproxy server: one already running, else one installed and started here.
    let mut server = None;
    let toxiproxy_url = match std::env::var("MODCHAOS_BENCH_TOXIPROXY").ok().filter(|u| !u.is_empty()) {
        Some(url) => Some(url),
        None => match toxiproxy_server::ToxiproxyServer::provide() {
            Ok(started) => {
                let url = started.url.clone();
                server = Some(started);
                Some(url)
            }
            Err(why) => {
                println!("*** toxiproxy is left out of this run: {why} ***\n");
                None
            }
        },
    };
    let client = toxiproxy_url.as_deref().map(|u| Client::new(u).expect("a toxiproxy URL"));
    runtime.block_on(side_by_side(rounds, client.as_ref()));
    runtime.block_on(timer_lateness());
    runtime.block_on(latency_against_go(rounds, ToxicBackend::InProcess));
    if let Some(url) = &toxiproxy_url {
        match format!("toxiproxy={url}").parse() {
            Ok(backend) => runtime.block_on(latency_against_go(rounds, backend)),
            Err(e) => println!("\nlatency vs go through toxiproxy: SKIPPED, {e}"),
        }
    }
    drop(server);
}

/// How late tokio's timer fires a 50 ms sleep on this runtime: the latency toxic waits
/// on it, so this is the floor of its error.
async fn timer_lateness() {
    let mut late: Vec<f64> = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        tokio::time::sleep_until((started + Duration::from_millis(50)).into()).await;
        late.push((started.elapsed().as_secs_f64() - 0.050) * 1e3);
    }
    println!("\ntokio timer: a 50 ms sleep ends a median {:+.2} ms late (20 samples)", median(&mut late));
}

/// The three ways to the servers.
const VIAS: [&str; 3] = ["direct", "modchaos", "toxiproxy"];

/// Where each way connects for one kind of load (`None`: toxiproxy is not there).
type Targets = [Option<SocketAddr>; 3];

async fn side_by_side(rounds: usize, toxiproxy: Option<&Client>) {
    let started = Instant::now();
    let echo = echo_server().await;
    let bulk = bulk_server(BULK).await;
    let trickle = bulk_server(BANDWIDTH_BYTES).await;
    let latency = ToxicKind::Latency(Latency { latency: Duration::from_millis(LATENCY_MS), jitter: Duration::ZERO });
    let bandwidth = ToxicKind::Bandwidth(Bandwidth { rate: BANDWIDTH_KBPS });
    let mut made = Vec::new();
    let mut hops = |upstream: SocketAddr, toxic: Option<ToxicKind>| {
        let toxic = toxic.clone();
        let name = format!("modchaos-bench-{}-{}", std::process::id(), made.len());
        made.push(name.clone());
        async move {
            let ours = Some(proxy(upstream, toxic.clone().into_iter().collect()).await);
            let theirs = match toxiproxy {
                Some(client) => match toxiproxy_proxy(client, &name, upstream, toxic.as_ref()).await {
                    Ok(addr) => Some(addr),
                    Err(e) => {
                        println!("*** toxiproxy proxy {name}: {e} ***");
                        None
                    }
                },
                None => None,
            };
            [ours, theirs]
        }
    };
    let [m, t] = hops(echo, None).await;
    let plain_echo: Targets = [Some(echo), m, t];
    let [m, t] = hops(bulk, None).await;
    let plain_bulk: Targets = [Some(bulk), m, t];
    let [m, t] = hops(echo, Some(latency)).await;
    let slow_echo: Targets = [None, m, t];
    let [m, t] = hops(trickle, Some(bandwidth)).await;
    let narrow: Targets = [None, m, t];

    let mut rtt: [Vec<f64>; 3] = Default::default();
    let mut throughput: [Vec<f64>; 3] = Default::default();
    let mut added_latency: [Vec<f64>; 3] = Default::default();
    let mut rate: [Vec<f64>; 3] = Default::default();
    // Warm-up, not counted.
    for target in plain_echo.iter().flatten() {
        round_trips(*target, 200).await;
    }
    for round in 0..rounds {
        // Rotate the order, so that none always goes first.
        let order: Vec<usize> = (0..3).map(|k| (round + k) % 3).collect();
        let mut direct_rtt = 0.0;
        for &which in &order {
            if let Some(target) = plain_echo[which] {
                let mut samples = round_trips(target, EXCHANGES).await;
                if which == 0 {
                    direct_rtt = median(&mut samples.clone());
                }
                rtt[which].append(&mut samples);
            }
        }
        for &which in &order {
            if let Some(target) = plain_bulk[which] {
                throughput[which].push(transfer(target, BULK).await);
            }
        }
        for &which in &order {
            if let Some(target) = slow_echo[which] {
                let mut samples = round_trips(target, LATENCY_EXCHANGES).await;
                added_latency[which].push((median(&mut samples) - direct_rtt) * 1e3);
            }
            if let Some(target) = narrow[which] {
                let mib_per_s = transfer(target, BANDWIDTH_BYTES).await;
                rate[which].push(mib_per_s * 1024.0 * 1024.0 / 1000.0);
            }
        }
    }
    if let Some(client) = toxiproxy {
        for name in &made {
            let _ = client.delete_proxy(name).await;
        }
    }

    let med = |v: &mut Vec<f64>| if v.is_empty() { None } else { Some(median(v)) };
    let rtt_m: Vec<Option<f64>> = rtt.iter_mut().map(med).collect();
    let tput_m: Vec<Option<f64>> = throughput.iter_mut().map(med).collect();
    let lat_m: Vec<Option<f64>> = added_latency.iter_mut().map(med).collect();
    let rate_m: Vec<Option<f64>> = rate.iter_mut().map(med).collect();
    let cell = |v: Option<f64>, unit: &str, scale: f64, digits: usize| {
        v.map_or("-".to_string(), |v| format!("{:.*} {unit}", digits, v * scale))
    };
    println!(
        "toxics side by side: same client, same load, {rounds} rotating rounds{}",
        if toxiproxy.is_some() { "" } else { " (toxiproxy absent)" }
    );
    println!("{:<40} {:>14} {:>14} {:>14}", "", VIAS[0], VIAS[1], VIAS[2]);
    println!(
        "{:<40} {:>14} {:>14} {:>14}",
        format!("round trip, {MESSAGE} B (median)"),
        cell(rtt_m[0], "µs", 1e6, 1),
        cell(rtt_m[1], "µs", 1e6, 1),
        cell(rtt_m[2], "µs", 1e6, 1)
    );
    let added = |i: usize| Some(rtt_m[i]? - rtt_m[0]?);
    println!(
        "{:<40} {:>14} {:>14} {:>14}",
        "  added by the hop",
        "-",
        cell(added(1), "µs", 1e6, 1),
        cell(added(2), "µs", 1e6, 1)
    );
    println!(
        "{:<40} {:>14} {:>14} {:>14}",
        format!("throughput, {} MiB (median)", BULK >> 20),
        cell(tput_m[0], "MiB/s", 1.0, 0),
        cell(tput_m[1], "MiB/s", 1.0, 0),
        cell(tput_m[2], "MiB/s", 1.0, 0)
    );
    println!(
        "{:<40} {:>14} {:>14} {:>14}",
        format!("latency {LATENCY_MS} ms: added round trip"),
        "-",
        cell(lat_m[1], "ms", 1.0, 2),
        cell(lat_m[2], "ms", 1.0, 2)
    );
    println!(
        "{:<40} {:>14} {:>14} {:>14}",
        format!("bandwidth {BANDWIDTH_KBPS} KB/s: achieved"),
        "-",
        cell(rate_m[1], "KB/s", 1.0, 0),
        cell(rate_m[2], "KB/s", 1.0, 0)
    );
    if let (Some(ours), Some(theirs)) = (tput_m[1], tput_m[2]) {
        let ratio = ours / theirs;
        println!("modchaos / toxiproxy throughput: {ratio:.2}x (goal >= 2x: {})", verdict(ratio >= 2.0));
    }
    if let (Some(ours), Some(theirs)) = (added(1), added(2)) {
        let ratio = ours / theirs;
        println!("modchaos / toxiproxy added round trip: {ratio:.2}x (goal <= 0.5x: {})", verdict(ratio <= 0.5));
    }
    for (i, name) in VIAS.iter().enumerate().skip(1) {
        if let Some(added) = lat_m[i] {
            let error = added - LATENCY_MS as f64;
            println!("{name} latency error: {error:+.2} ms (goal within ±2 ms: {})", verdict(error.abs() <= 2.0));
        }
        if let Some(achieved) = rate_m[i] {
            println!("{name} bandwidth: {:.1} % of the rate", achieved / BANDWIDTH_KBPS as f64 * 100.0);
        }
    }
    println!("(side by side {:.1} s)", started.elapsed().as_secs_f64());
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// A toxiproxy proxy named `name` to `upstream` with `toxic` (downstream) if any.
async fn toxiproxy_proxy(
    client: &Client,
    name: &str,
    upstream: SocketAddr,
    toxic: Option<&ToxicKind>,
) -> Result<SocketAddr, String> {
    let listen = toxiproxy_server::create_proxy(client, name, upstream).await?;
    let (kind, attributes) = match toxic {
        None => return Ok(listen),
        Some(ToxicKind::Latency(l)) => {
            ("latency", serde_json::json!({"latency": l.latency.as_millis() as u64, "jitter": 0}))
        }
        Some(ToxicKind::Bandwidth(b)) => ("bandwidth", serde_json::json!({"rate": b.rate})),
        Some(other) => return Err(format!("the bench does not use {}", other.name())),
    };
    let toxic = ApiToxic {
        name: kind.into(),
        kind: kind.into(),
        stream: "downstream".into(),
        toxicity: 1.0,
        attributes: serde_json::from_value(attributes).map_err(|e| e.to_string())?,
    };
    client.add_toxic(name, &toxic).await.map_err(|e| e.to_string())?;
    Ok(listen)
}

/// modchaos's toxic proxy in front of `upstream`, with `toxics` (downstream).
async fn proxy(upstream: SocketAddr, toxics: Vec<ToxicKind>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let toxics = toxics.into_iter().enumerate().map(|(i, kind)| Toxic::new(i + 1, kind)).collect();
    let toxics = Arc::new(ToxicSet::new("bench.example", 0, toxics, Instant::now()).unwrap());
    tokio::spawn(serve(listener, upstream, toxics, Arc::new(RequestLog::default()), "bench.example".into()));
    addr
}

/// Answers every `MESSAGE`-byte request with as many bytes.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; MESSAGE];
                while stream.read_exact(&mut buf).await.is_ok() {
                    if stream.write_all(&buf).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// Sends `bytes` bytes on every connection, then closes.
async fn bulk_server(bytes: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let block = Arc::new(vec![0x5Au8; 256 * 1024]);
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let block = block.clone();
            tokio::spawn(async move {
                let mut left = bytes;
                while left > 0 {
                    let n = left.min(block.len());
                    if stream.write_all(&block[..n]).await.is_err() {
                        return;
                    }
                    left -= n;
                }
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

/// Seconds per exchange, one connection.
async fn round_trips(target: SocketAddr, count: usize) -> Vec<f64> {
    let mut stream = TcpStream::connect(target).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let request = [7u8; MESSAGE];
    let mut response = [0u8; MESSAGE];
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        stream.write_all(&request).await.unwrap();
        stream.read_exact(&mut response).await.unwrap();
        samples.push(started.elapsed().as_secs_f64());
    }
    samples
}

/// MiB/s of one transfer of `bytes`, connect to last byte.
async fn transfer(target: SocketAddr, bytes: usize) -> f64 {
    let started = Instant::now();
    let mut stream = TcpStream::connect(target).await.unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0;
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        got += n;
    }
    assert_eq!(got, bytes, "the whole transfer arrives");
    let took = started.elapsed().max(Duration::from_micros(1));
    (bytes as f64 / (1024.0 * 1024.0)) / took.as_secs_f64()
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// go's view of an injected latency, per the module docs.
async fn latency_against_go(rounds: usize, backend: ToxicBackend) {
    let go = match GoBinary::find(None) {
        Ok(go) => go,
        Err(e) => {
            println!("\nlatency vs go: SKIPPED, no go toolchain ({e})");
            return;
        }
    };
    let started = Instant::now();
    let configs: Vec<Option<u64>> = std::iter::once(None).chain(LATENCIES_MS.map(Some)).collect();
    let scenarios: Vec<Scenario> = configs.iter().map(|l| latency_scenario(&go, *l)).collect();
    let options = RunOptions::open(go, "benchmark").with_toxics(backend.clone());
    // Warm-up (go's build cache of the work module, page cache), not counted.
    go_request_times(&scenarios[0], &options).await;
    // Per config: the first request's times, and later requests' times keyed by round
    // and URL so that each can be paired with the same request without toxics.
    let mut first: Vec<Vec<(usize, f64)>> = vec![Vec::new(); configs.len()];
    let mut later: Vec<Vec<((usize, String), f64)>> = vec![Vec::new(); configs.len()];
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..configs.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for which in order {
            let times = go_request_times(&scenarios[which], &options).await;
            for (index, (url, seconds)) in times.into_iter().enumerate() {
                if index == 0 {
                    first[which].push((round, seconds));
                } else {
                    later[which].push(((round, url), seconds));
                }
            }
        }
    }
    println!(
        "\nlatency vs go: `go mod download -x` of one module over https, latency toxic {}, {rounds} alternating rounds",
        match &backend {
            ToxicBackend::InProcess => "in process".to_string(),
            ToxicBackend::Toxiproxy(client) => format!("through toxiproxy at {}", client.url()),
        }
    );
    println!(
        "go's own times from its -x trace (request start → response headers); added = with latency L − without toxics, same round and URL"
    );
    println!("{:<48} {:>10} {:>14} {:>10} {:>9}", "", "L", "median added", "expected", "error");
    let base_first = median(&mut first[0].iter().map(|x| x.1).collect::<Vec<_>>());
    let base_later = median(&mut later[0].iter().map(|x| x.1).collect::<Vec<_>>());
    println!(
        "{:<48} {:>10} {:>11.1} ms {:>10} {:>9}",
        format!("first request, no toxics (median of {})", first[0].len()),
        "0",
        base_first * 1e3,
        "-",
        "-"
    );
    println!(
        "{:<48} {:>10} {:>11.1} ms {:>10} {:>9}",
        format!("later requests, no toxics (median of {})", later[0].len()),
        "0",
        base_later * 1e3,
        "-",
        "-"
    );
    let mut verdicts = Vec::new();
    for (which, latency) in configs.iter().enumerate().skip(1) {
        let l = latency.expect("configs after the first have a latency") as f64;
        let mut added_first: Vec<f64> = first[which]
            .iter()
            .filter_map(|(round, t)| first[0].iter().find(|(r, _)| r == round).map(|(_, b)| (t - b) * 1e3))
            .collect();
        let mut added_later: Vec<f64> = later[which]
            .iter()
            .filter_map(|(key, t)| later[0].iter().find(|(k, _)| k == key).map(|(_, b)| (t - b) * 1e3))
            .collect();
        let first_ms = median(&mut added_first);
        let later_ms = median(&mut added_later);
        println!(
            "{:<48} {:>7} ms {:>+11.1} ms {:>7} ms {:>+6.1} ms",
            format!("first request: dial, TLS, request ({} pairs)", added_first.len()),
            l,
            first_ms,
            2.0 * l,
            first_ms - 2.0 * l
        );
        println!(
            "{:<48} {:>7} ms {:>+11.1} ms {:>7} ms {:>+6.1} ms",
            format!("later requests: kept-alive connection ({} pairs)", added_later.len()),
            l,
            later_ms,
            l,
            later_ms - l
        );
        verdicts.push(format!(
            "L={l} ms: {} ({:+.1} ms)",
            if (later_ms - l).abs() <= GOAL_MS { "within" } else { "OUTSIDE" },
            later_ms - l
        ));
    }
    println!("goal ±{GOAL_MS} ms on later requests: {}", verdicts.join(", "));
    println!("(go prints its times in whole milliseconds, so every figure is quantised to 1 ms)");
    println!("(latency part {:.1} s)", started.elapsed().as_secs_f64());
}

/// A scenario downloading one module from a proxy with no toxics, or with a latency of
/// `latency_ms` on its responses.
fn latency_scenario(go: &GoBinary, latency_ms: Option<u64>) -> Scenario {
    let tcp = match latency_ms {
        Some(l) => format!("    tcp:\n      - latency: {{latency: {l}ms}}\n"),
        None => String::new(),
    };
    let name = latency_ms.map_or("no toxics".to_string(), |l| format!("latency {l}ms"));
    let text = format!(
        "name: benchmark, {name}\nmodules: [../fixtures/modules]\nhosts:\n  proxy.corp.example:\n    goproxy: {{}}\n{tcp}run:\n  modules: [corp.example/lib@v1.0.0]\n  timeout: 60s\nexpect:\n  exit: success\n  verified: false\n"
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches").join("latency.yaml");
    parse(&path, text, &LoadContext::new(Some(go.clone()))).unwrap_or_else(|e| panic!("the benchmark scenario: {e}"))
}

/// Runs the scenario and returns go's own times of its successful requests, in order.
async fn go_request_times(scenario: &Scenario, options: &RunOptions) -> Vec<(String, f64)> {
    let report = run_scenario(scenario, options, &NoEvents).await;
    assert_eq!(report.status, Status::Passed, "{}: {:?} {:?}", scenario.name, report.reason, report.failures);
    let stderr = report.run.map(|r| r.evidence.stderr).unwrap_or_default();
    let times = trace_times(&stderr);
    assert!(times.len() >= 3, "go fetched .info, .mod and .zip: {stderr}");
    times
}

/// `# get URL: 200 OK (0.012s)` lines of a `-x` trace: (URL, seconds).
fn trace_times(stderr: &str) -> Vec<(String, f64)> {
    stderr
        .lines()
        .filter_map(|line| {
            let (url, rest) = line.strip_prefix("# get ")?.split_once(": 200 OK (")?;
            Some((url.to_string(), rest.strip_suffix("s)")?.parse().ok()?))
        })
        .collect()
}
