//! End-to-end tests: a real loopback upstream (echo or blob), the toxic proxy in front,
//! a plain TCP client. Timing bounds are generous (a loaded 2-core machine) and compare
//! against what the toxic must add, never against absolute speed.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::*;
use crate::fake::{RequestLog, RequestRecord};

/// An upstream that echoes every byte and closes its side when the client does.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut r, mut w) = stream.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
    addr
}

fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

/// An upstream that sends `size` patterned bytes on every connection, then closes.
async fn blob_server(size: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let blob = Arc::new(pattern(size));
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let blob = blob.clone();
            tokio::spawn(async move {
                let _ = stream.write_all(&blob).await;
                let _ = stream.shutdown().await;
                let mut sink = Vec::new();
                let _ = stream.read_to_end(&mut sink).await;
            });
        }
    });
    addr
}

/// A running proxy; dropping it stops it.
struct Proxy {
    addr: SocketAddr,
    log: Arc<RequestLog>,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn proxy(upstream: SocketAddr, toxics: Vec<Toxic>) -> Proxy {
    proxy_seeded(upstream, toxics, 1).await
}

async fn proxy_seeded(upstream: SocketAddr, toxics: Vec<Toxic>, seed: u64) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(RequestLog::default());
    let set = Arc::new(ToxicSet::new("h.example", seed, toxics, Instant::now()).unwrap());
    let task = tokio::spawn(serve(listener, upstream, set, log.clone(), "h.example".into()));
    // Let the proxy apply its initial state (a `down` from the start) first.
    tokio::time::sleep(Duration::from_millis(20)).await;
    Proxy { addr, log, task }
}

fn toxic(kind: ToxicKind) -> Toxic {
    Toxic::new(1, kind)
}

fn windowed(kind: ToxicKind, after: Option<u64>, until: Option<u64>) -> Toxic {
    let mut t = toxic(kind);
    t.when.after = after.map(Duration::from_millis);
    t.when.until = until.map(Duration::from_millis);
    t
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The `n`th record (1-based), once finished.
async fn finished(log: &RequestLog, n: usize) -> RequestRecord {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(r) = log.snapshot().get(n - 1).filter(|r| r.end_ms.is_some()) {
            return r.clone();
        }
        assert!(Instant::now() < deadline, "record {n} never finished: {:#?}", log.snapshot());
        tokio::time::sleep(ms(10)).await;
    }
}

/// Round trip of one small message through an echo.
async fn round_trip(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    stream.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    started.elapsed()
}

#[tokio::test]
async fn zero_toxics_copy_both_ways_and_record_the_connection() {
    let p = proxy(echo_server().await, vec![]).await;
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    let data = pattern(300_000);
    let (mut r, mut w) = c.split();
    let send = async {
        w.write_all(&data).await.unwrap();
        w.shutdown().await.unwrap();
    };
    let mut back = Vec::new();
    let (_, read) = tokio::join!(send, r.read_to_end(&mut back));
    read.unwrap();
    assert!(back == data, "echo came back changed ({} bytes)", back.len());
    let record = finished(&p.log, 1).await;
    assert_eq!(
        (record.host.as_str(), record.method.as_str(), record.path.as_str()),
        ("h.example", "TCP", "(connection 1)")
    );
    assert!(record.faults.is_empty());
    assert_eq!(record.bytes, 300_000);
    assert_eq!(record.note.as_deref(), Some("client closed; 300000 B up, 300000 B down"));
}

#[tokio::test]
async fn a_server_reset_reaches_the_client_as_a_reset() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).await.unwrap();
        socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).unwrap();
    });
    let p = proxy(upstream, vec![]).await;
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    c.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 16];
    let err = c.read(&mut buf).await.expect_err("the server reset");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    let note = finished(&p.log, 1).await.note.unwrap();
    assert!(note.starts_with("server reset the connection"), "{note}");
}

#[tokio::test]
async fn latency_delays_each_exchange_without_reordering() {
    let latency = Latency { latency: ms(150), jitter: ms(30) };
    let p = proxy(echo_server().await, vec![toxic(ToxicKind::Latency(latency))]).await;
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    for _ in 0..3 {
        let rtt = round_trip(&mut c).await;
        assert!(rtt >= ms(115) && rtt < ms(3000), "round trip {rtt:?} with latency 150ms±30ms");
    }
    // Many small chunks, jittered side by side: they must come back in order, and the
    // whole takes about one latency, not one per chunk.
    let started = Instant::now();
    let (mut r, mut w) = c.split();
    let send = async {
        for i in 0..100u32 {
            w.write_all(&i.to_be_bytes()).await.unwrap();
            tokio::time::sleep(ms(2)).await;
        }
    };
    let mut back = vec![0u8; 400];
    let (_, read) = tokio::join!(send, r.read_exact(&mut back));
    read.unwrap();
    let numbers: Vec<u32> = back.chunks(4).map(|b| u32::from_be_bytes(b.try_into().unwrap())).collect();
    assert_eq!(numbers, (0..100).collect::<Vec<_>>());
    assert!(started.elapsed() < ms(5000), "chunks were delayed one after the other: {:?}", started.elapsed());
    drop(c);
    assert_eq!(finished(&p.log, 1).await.faults, ["#1 latency 150ms±30ms"]);
}

#[tokio::test]
async fn upstream_latency_delays_the_requests() {
    let mut t = toxic(ToxicKind::Latency(Latency { latency: ms(150), jitter: Duration::ZERO }));
    t.stream = Stream::Upstream;
    let p = proxy(echo_server().await, vec![t]).await;
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    let rtt = round_trip(&mut c).await;
    assert!(rtt >= ms(145) && rtt < ms(3000), "round trip {rtt:?}");
    drop(c);
    assert_eq!(finished(&p.log, 1).await.faults, ["#1 latency 150ms upstream"]);
}

#[tokio::test]
async fn bandwidth_holds_the_rate_over_a_megabyte() {
    let p = proxy(blob_server(1_000_000).await, vec![toxic(ToxicKind::Bandwidth(Bandwidth { rate: 1000 }))]).await;
    let started = Instant::now();
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).await.unwrap();
    let took = started.elapsed();
    assert!(got == pattern(1_000_000), "data changed ({} bytes)", got.len());
    // 1 MB at 1000 KB/s: one second, ±20 %.
    assert!(took >= ms(800) && took <= ms(1200), "1 MB at 1000 KB/s took {took:?}");
}

#[tokio::test]
async fn slow_close_holds_the_fin_back() {
    let p = proxy(blob_server(10).await, vec![toxic(ToxicKind::SlowClose(SlowClose { delay: ms(400) }))]).await;
    let started = Instant::now();
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    let mut buf = [0u8; 10];
    c.read_exact(&mut buf).await.unwrap();
    let data_at = started.elapsed();
    assert_eq!(c.read(&mut buf).await.unwrap(), 0, "then a FIN");
    let fin_at = started.elapsed();
    assert!(fin_at >= ms(390) && fin_at >= data_at + ms(200), "data at {data_at:?}, FIN at {fin_at:?}");
    drop(c);
    let note = finished(&p.log, 1).await.note.unwrap();
    assert!(note.contains("slow_close held the downstream close 400ms"), "{note}");
}

#[tokio::test]
async fn timeout_zero_holds_the_connection_silently_until_the_proxy_stops() {
    let p = proxy(echo_server().await, vec![toxic(ToxicKind::Timeout(Timeout { timeout: Duration::ZERO }))]).await;
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    c.write_all(b"hello").await.unwrap();
    // The echo's close must not get through either.
    c.shutdown().await.unwrap();
    let mut buf = [0u8; 16];
    assert!(tokio::time::timeout(ms(600), c.read(&mut buf)).await.is_err(), "no data and no close");
    p.task.abort();
    let ended = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await;
    assert!(matches!(ended, Ok(Ok(0)) | Ok(Err(_))), "stopping the proxy ends its connections: {ended:?}");
    let note = finished(&p.log, 1).await.note.unwrap();
    assert_eq!(note, "proxy stopped; 5 B downstream dropped; 5 B up, 0 B down");
}

#[tokio::test]
async fn timeout_closes_after_its_delay_without_data() {
    let p = proxy(blob_server(50_000).await, vec![toxic(ToxicKind::Timeout(Timeout { timeout: ms(300) }))]).await;
    let started = Instant::now();
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).await.expect("a FIN, not a reset");
    assert!(got.is_empty() && started.elapsed() >= ms(290), "{} bytes after {:?}", got.len(), started.elapsed());
    let note = finished(&p.log, 1).await.note.unwrap();
    assert!(note.starts_with("timeout: downstream data stopped, connection closed 300ms later"), "{note}");
    assert!(note.contains("50000 B downstream dropped"), "{note}");
}

#[tokio::test]
async fn reset_peer_resets_after_the_first_data() {
    let p = proxy(echo_server().await, vec![toxic(ToxicKind::ResetPeer(ResetPeer { timeout: ms(200) }))]).await;
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    let started = Instant::now();
    c.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 16];
    let err = c.read(&mut buf).await.expect_err("an RST, no data");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    assert!(started.elapsed() >= ms(190), "reset after {:?}", started.elapsed());
    let record = finished(&p.log, 1).await;
    assert_eq!(record.faults, ["#1 reset_peer after 200ms"]);
    let note = record.note.unwrap();
    assert!(note.starts_with("reset_peer: connection reset (RST) 200ms after the first downstream data"), "{note}");
}

#[tokio::test]
async fn reset_peer_upstream_resets_at_once_and_only_the_first_connection() {
    let mut t = toxic(ToxicKind::ResetPeer(ResetPeer { timeout: Duration::ZERO }));
    t.stream = Stream::Upstream;
    t.when.first = Some(1);
    let p = proxy(echo_server().await, vec![t]).await;
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    c.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(c.read(&mut buf).await.expect_err("reset").kind(), ErrorKind::ConnectionReset);
    let mut second = TcpStream::connect(p.addr).await.unwrap();
    round_trip(&mut second).await;
    drop(second);
    assert_eq!(finished(&p.log, 1).await.bytes, 0);
    let record = finished(&p.log, 2).await;
    assert!(record.faults.is_empty());
    assert_eq!(record.note.as_deref(), Some("client closed; 4 B up, 4 B down"));
}

#[tokio::test]
async fn slicer_delivers_the_data_in_small_pieces() {
    let slicer = Slicer { average_size: 500, size_variation: 100, delay: ms(5) };
    let p = proxy(blob_server(20_000).await, vec![toxic(ToxicKind::Slicer(slicer))]).await;
    let started = Instant::now();
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    let mut got = Vec::new();
    let mut reads = 0;
    let mut buf = vec![0u8; 65536];
    loop {
        let n = c.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        reads += 1;
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got == pattern(20_000), "data changed");
    // About 40 pieces, 5 ms apart; a busy client may read several at once.
    assert!(reads >= 10, "only {reads} reads");
    assert!(started.elapsed() >= ms(150), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn limit_data_closes_normally_after_the_limit() {
    let p = proxy(blob_server(100_000).await, vec![toxic(ToxicKind::LimitData(LimitData { bytes: 20_000 }))]).await;
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).await.expect("a FIN, not a reset");
    assert!(got == pattern(20_000), "got {} bytes", got.len());
    let record = finished(&p.log, 1).await;
    assert_eq!(record.bytes, 20_000);
    assert!(record.note.unwrap().starts_with("limit_data: closed after 20000 bytes downstream"));
}

#[tokio::test]
async fn down_without_window_refuses_every_connection() {
    let p = proxy(echo_server().await, vec![toxic(ToxicKind::Down)]).await;
    for _ in 0..2 {
        let err = TcpStream::connect(p.addr).await.expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    }
    assert!(p.log.snapshot().is_empty());
}

#[tokio::test]
async fn regression_a_host_down_from_the_start_refuses_before_its_task_first_runs() {
    // A client connecting before the proxy's task was first polled was accepted by the
    // kernel, then reset when the task took the listener away: "connection reset by
    // peer" where the scenario expects "connection refused" (a flake the soak found).
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let set = Arc::new(ToxicSet::new("h.example", 1, vec![toxic(ToxicKind::Down)], Instant::now()).unwrap());
    let server = serve(listener, echo_server().await, set, Arc::new(RequestLog::default()), "h.example".into());
    // Not spawned, never polled: the address must already refuse.
    let err = std::net::TcpStream::connect(addr).expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    drop(server);
}

#[tokio::test]
async fn down_window_refuses_then_heals() {
    let started = Instant::now();
    let p = proxy(echo_server().await, vec![windowed(ToxicKind::Down, None, Some(400))]).await;
    assert_eq!(TcpStream::connect(p.addr).await.expect_err("refused").kind(), ErrorKind::ConnectionRefused);
    let mut c = loop {
        match TcpStream::connect(p.addr).await {
            Ok(c) => break c,
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused),
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never came back");
        tokio::time::sleep(ms(20)).await;
    };
    assert!(started.elapsed() >= ms(390), "listening again after {:?}", started.elapsed());
    round_trip(&mut c).await;
}

#[tokio::test]
async fn down_window_closes_live_connections() {
    let started = Instant::now();
    let p = proxy(echo_server().await, vec![windowed(ToxicKind::Down, Some(300), Some(2000))]).await;
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    round_trip(&mut c).await;
    let mut buf = [0u8; 16];
    let closed = c.read(&mut buf).await;
    assert!(matches!(closed, Ok(0)), "closed when the address went down: {closed:?}");
    assert!(started.elapsed() >= ms(290), "closed after {:?}", started.elapsed());
    assert_eq!(TcpStream::connect(p.addr).await.expect_err("refused").kind(), ErrorKind::ConnectionRefused);
    let note = finished(&p.log, 1).await.note.unwrap();
    assert!(note.starts_with("proxy went down"), "{note}");
}

#[tokio::test]
async fn windows_act_on_live_connections() {
    let started = Instant::now();
    let reset = windowed(ToxicKind::ResetPeer(ResetPeer { timeout: Duration::ZERO }), Some(300), None);
    let p = proxy(echo_server().await, vec![reset]).await;
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    round_trip(&mut c).await;
    assert!(p.log.snapshot()[0].faults.is_empty(), "not active yet");
    let err = loop {
        tokio::time::sleep(ms(30)).await;
        c.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        if let Err(e) = c.read_exact(&mut buf).await {
            break e;
        }
        assert!(started.elapsed() < ms(1500), "never reset");
    };
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    assert!(started.elapsed() >= ms(290), "reset after {:?}", started.elapsed());
    assert_eq!(finished(&p.log, 1).await.faults, ["#1 reset_peer"]);
}

#[tokio::test]
async fn a_healed_timeout_lets_data_flow_again() {
    let timeout = windowed(ToxicKind::Timeout(Timeout { timeout: Duration::ZERO }), None, Some(400));
    let started = Instant::now();
    let p = proxy(echo_server().await, vec![timeout]).await;
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    c.write_all(b"lost").await.unwrap();
    let mut buf = [0u8; 4];
    assert!(tokio::time::timeout(ms(200), c.read_exact(&mut buf)).await.is_err(), "dropped while active");
    tokio::time::sleep_until((started + ms(450)).into()).await;
    round_trip(&mut c).await;
}

#[test]
fn connections_are_picked_by_count_and_seeded_toxicity() {
    let latency = ToxicKind::Latency(Latency { latency: ms(1), jitter: Duration::ZERO });
    let mut second = Toxic::new(1, latency.clone());
    second.when.nth = Some(2);
    let mut coin = Toxic::new(2, latency);
    coin.toxicity = 0.5;
    let picks = |seed| {
        let set = ToxicSet::new("h", seed, vec![second.clone(), coin.clone()], Instant::now()).unwrap();
        (1..=200u64)
            .map(|n| {
                let (number, picked) = set.accept();
                assert_eq!(number, n);
                picked.iter().map(|(t, _)| t.number).collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    };
    let run = picks(7);
    assert_eq!(run, picks(7), "same seed, same connections");
    assert_ne!(run, picks(8));
    assert!(run.iter().enumerate().all(|(i, p)| p.contains(&1) == (i == 1)), "#1 only on connection 2");
    let coins = run.iter().filter(|p| p.contains(&2)).count();
    assert!((70..130).contains(&coins), "toxicity 0.5 applied to {coins} of 200");
}

#[test]
fn impossible_toxics_are_refused() {
    let check = |t: Toxic| ToxicSet::new("h", 0, vec![t], Instant::now()).map(|_| ()).unwrap_err().to_string();
    let slicer = Slicer { average_size: 10, size_variation: 10, delay: Duration::ZERO };
    assert!(check(Toxic::new(1, ToxicKind::Slicer(slicer))).contains("size_variation < average_size"));
    let mut t = Toxic::new(2, ToxicKind::Down);
    t.toxicity = 0.5;
    assert!(check(t).contains("not `toxicity`"));
    let mut t = Toxic::new(3, ToxicKind::Down);
    t.when.nth = Some(1);
    assert!(check(t).contains("not `nth`"));
    let mut t = Toxic::new(4, ToxicKind::LimitData(LimitData { bytes: 1 }));
    t.when.path = Some(crate::vocab::PathGlob::new("*.zip").unwrap());
    assert!(check(t).contains("`path` selects HTTP requests"));
    let mut t = Toxic::new(5, ToxicKind::LimitData(LimitData { bytes: 1 }));
    t.toxicity = 1.5;
    assert!(check(t).contains("between 0 and 1"));
    let t = windowed(ToxicKind::Down, Some(500), Some(100));
    assert!(check(t).contains("`until` must come after `after`"));
}
