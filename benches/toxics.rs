//! What does a toxic proxy without toxics cost? In one run, alternating A/B so that
//! machine load hits both alike, this measures on loopback:
//!   direct: client → server;
//!   proxy:  client → zero-toxic proxy (`modchaos::fault::tcp::serve`) → server;
//! the median round trip of small request/response exchanges (64 bytes each way, one
//! connection per round), and the throughput of a 64 MiB server → client transfer.
//! It prints both side by side with the ratios.
//!
//! Then, in the same run, how closely an injected `latency` toxic matches what go
//! itself observes: `go mod download -x` of one module runs as a scenario (parsed with
//! `modchaos::scenario::parse`, run with `modchaos::runner::run_scenario`, open mode,
//! in-process toxics, and also through a toxiproxy server when
//! `MODCHAOS_BENCH_TOXIPROXY=http://HOST:PORT` names one) against a proxy with no
//! toxics and with a `latency` toxic of L (0, 50 and 200 ms; 0 shows the toxic's own
//! floor), alternating, and go's own per-request times are read from its `-x` trace
//! (`# get URL: 200 OK (0.012s)`). go's timer runs from the start of the request to
//! the response headers, so like is compared with like, per URL and round:
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
use modchaos::fault::tcp::{ToxicSet, serve};
use modchaos::fault::toxiproxy::ToxicBackend;
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

fn main() {
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(bench(rounds));
    runtime.block_on(timer_lateness());
    runtime.block_on(latency_against_go(rounds, ToxicBackend::InProcess));
    // The same through a toxiproxy server, when one is given.
    if let Some(url) = std::env::var("MODCHAOS_BENCH_TOXIPROXY").ok().filter(|u| !u.is_empty()) {
        match format!("toxiproxy={url}").parse() {
            Ok(backend) => runtime.block_on(latency_against_go(rounds, backend)),
            Err(e) => println!("\nlatency vs go through toxiproxy: SKIPPED, MODCHAOS_BENCH_TOXIPROXY: {e}"),
        }
    }
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

async fn bench(rounds: usize) {
    let started = Instant::now();
    let echo = echo_server().await;
    let bulk = bulk_server().await;
    let echo_proxy = proxy(echo).await;
    let bulk_proxy = proxy(bulk).await;

    let mut rtt = [Vec::new(), Vec::new()];
    let mut throughput = [Vec::new(), Vec::new()];
    // Warm-up, not counted.
    for target in [echo, echo_proxy] {
        round_trips(target, 200).await;
    }
    for round in 0..rounds {
        // ABBA order: neither side always goes first.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let target = [echo, echo_proxy][which];
            rtt[which].extend(round_trips(target, EXCHANGES).await);
        }
        for which in order {
            let target = [bulk, bulk_proxy][which];
            throughput[which].push(transfer(target).await);
        }
    }

    let rtt_direct = median(&mut rtt[0]);
    let rtt_proxy = median(&mut rtt[1]);
    let mbps_direct = median(&mut throughput[0]);
    let mbps_proxy = median(&mut throughput[1]);
    println!("toxics: zero-toxic proxy hop vs direct loopback, {rounds} alternating rounds");
    println!("{:<34} {:>12} {:>12} {:>9}", "", "direct", "proxy", "ratio");
    println!(
        "{:<34} {:>9.1} µs {:>9.1} µs {:>8.2}×",
        format!("median round trip ({MESSAGE} B, {} samples)", rtt[0].len()),
        rtt_direct * 1e6,
        rtt_proxy * 1e6,
        rtt_proxy / rtt_direct
    );
    println!(
        "{:<34} {:>7.0} MiB/s {:>7.0} MiB/s {:>8.2}×",
        format!("median throughput ({} MiB)", BULK >> 20),
        mbps_direct,
        mbps_proxy,
        mbps_proxy / mbps_direct
    );
    println!("(whole run {:.1} s)", started.elapsed().as_secs_f64());
}

/// A proxy with no toxics in front of `upstream`.
async fn proxy(upstream: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let toxics = Arc::new(ToxicSet::new("bench.example", 0, Vec::new(), Instant::now()).unwrap());
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

/// Sends `BULK` bytes on every connection, then closes.
async fn bulk_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let block = Arc::new(vec![0x5Au8; 256 * 1024]);
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let block = block.clone();
            tokio::spawn(async move {
                let mut left = BULK;
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

/// MiB/s of one bulk transfer, connect to last byte.
async fn transfer(target: SocketAddr) -> f64 {
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
    assert_eq!(got, BULK, "the whole transfer arrives");
    let took = started.elapsed().max(Duration::from_micros(1));
    (BULK as f64 / (1024.0 * 1024.0)) / took.as_secs_f64()
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
