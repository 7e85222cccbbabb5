//! What does a toxic proxy without toxics cost? In one run, alternating A/B so that
//! machine load hits both alike, this measures on loopback:
//!   direct: client → server;
//!   proxy:  client → zero-toxic proxy (`modchaos::toxic::serve`) → server;
//! the median round trip of small request/response exchanges (64 bytes each way, one
//! connection per round), and the throughput of a 64 MiB server → client transfer.
//! It prints both side by side with the ratios.
//!
//! `cargo bench --bench toxics [-- ROUNDS]` (default 10 rounds of each).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use modchaos::fake::RequestLog;
use modchaos::toxic::{ToxicSet, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Exchanges per round.
const EXCHANGES: usize = 2000;
/// Size of each request and response.
const MESSAGE: usize = 64;
/// Bytes of each bulk transfer.
const BULK: usize = 64 * 1024 * 1024;

fn main() {
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(bench(rounds));
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
