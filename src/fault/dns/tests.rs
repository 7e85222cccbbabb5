//! The resolver with its faults, against hand-made queries and the real go resolver.

use std::time::Instant;

use hickory_proto::op::Query;
use hickory_proto::rr::Name;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use super::*;
use crate::fake::DnsRecord;
use crate::fake::RequestLog;
use crate::fake::dns::{DnsServer, Zone, answer, serve};
use crate::fault::{DnsFault, FaultWhen};
use crate::vocab::PathGlob;

/// How long a test waits for an answer that must come (generous: a loaded machine).
const WAIT: Duration = Duration::from_secs(10);
/// How long a test waits to be sure an answer does not come.
const SILENCE: Duration = Duration::from_millis(300);

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// A running server; aborted when dropped.
struct Running {
    udp: SocketAddr,
    tcp: SocketAddr,
    log: Arc<RequestLog>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    fn dns(&self) -> Vec<DnsRecord> {
        self.log.snapshot_dns()
    }
}

/// The table every test uses: names in mixed case with a trailing dot, to show that
/// the table is normalized.
fn table() -> Vec<(String, Vec<IpAddr>)> {
    let mut names = vec![
        ("Proxy.Corp.Example.".to_string(), vec![ip("127.0.0.10")]),
        ("dual.example".to_string(), vec![ip("127.0.0.11"), ip("fd00::11")]),
    ];
    for (i, name) in ["slow.example", "nx.example", "fail.example", "refuse.example", "drop.example"].iter().enumerate()
    {
        names.push((name.to_string(), vec![IpAddr::from([127, 0, 0, 20 + i as u8])]));
    }
    names
}

async fn start(faults: Vec<DnsFault>) -> Running {
    let log = Arc::new(RequestLog::default());
    let server =
        Arc::new(DnsServer::new(FaultyDns::new(Zone::new(table()), FaultSchedule::new("dns", 0, faults)), log.clone()));
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (udp_addr, tcp_addr) = (udp.local_addr().unwrap(), tcp.local_addr().unwrap());
    let task = tokio::spawn(serve(udp, tcp, server));
    Running { udp: udp_addr, tcp: tcp_addr, log, task }
}

fn on(name: &str, action: DnsAction) -> DnsFault {
    DnsFault { number: 1, when: FaultWhen { path: Some(PathGlob::name(name).unwrap()), ..Default::default() }, action }
}

fn numbered(mut faults: Vec<DnsFault>) -> Vec<DnsFault> {
    for (i, fault) in faults.iter_mut().enumerate() {
        fault.number = i + 1;
    }
    faults
}

fn query(name: &str, qtype: RecordType, edns: bool) -> Message {
    let mut message = Message::query();
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    if edns {
        let mut opt = Edns::new();
        opt.set_max_payload(1232);
        message.set_edns(opt);
    }
    message
}

/// Sends `message` over UDP; the answer, or `None` if none came within `wait`.
async fn ask_udp(server: SocketAddr, message: &Message, wait: Duration) -> Option<Message> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(&message.to_vec().unwrap(), server).await.unwrap();
    let mut buffer = vec![0u8; 65_535];
    let (len, _) = tokio::time::timeout(wait, socket.recv_from(&mut buffer)).await.ok()?.unwrap();
    Some(Message::from_vec(&buffer[..len]).unwrap())
}

async fn udp(server: &Running, name: &str, qtype: RecordType) -> Message {
    let q = query(name, qtype, true);
    let answer = ask_udp(server.udp, &q, WAIT).await.expect("an answer over UDP");
    assert_eq!(answer.metadata.id, q.metadata.id, "the id is kept");
    answer
}

async fn send_tcp(stream: &mut TcpStream, message: &Message) {
    let bytes = message.to_vec().unwrap();
    let mut frame = (bytes.len() as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(&bytes);
    stream.write_all(&frame).await.unwrap();
}

async fn read_tcp(stream: &mut TcpStream, wait: Duration) -> Option<Message> {
    let read = async {
        let mut prefix = [0u8; 2];
        stream.read_exact(&mut prefix).await.unwrap();
        let mut packet = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
        stream.read_exact(&mut packet).await.unwrap();
        Message::from_vec(&packet).unwrap()
    };
    tokio::time::timeout(wait, read).await.ok()
}

async fn tcp(server: &Running, name: &str, qtype: RecordType) -> Message {
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    let q = query(name, qtype, true);
    send_tcp(&mut stream, &q).await;
    let answer = read_tcp(&mut stream, WAIT).await.expect("an answer over TCP");
    assert_eq!(answer.metadata.id, q.metadata.id);
    answer
}

fn addresses(message: &Message) -> Vec<String> {
    message
        .answers
        .iter()
        .map(|r| match &r.data {
            RData::A(a) => a.0.to_string(),
            RData::AAAA(a) => a.0.to_string(),
            other => panic!("unexpected record {other:?}"),
        })
        .collect()
}

/// A record without its timing: `udp A name → NOERROR [addresses] {faults}`.
fn brief(r: &DnsRecord) -> String {
    format!(
        "{} {} {} → {} [{}] {{{}}}",
        r.transport,
        r.qtype,
        r.name,
        r.rcode.as_deref().unwrap_or("-"),
        r.answers.join(", "),
        r.faults.join(", ")
    )
}

#[tokio::test]
async fn declared_names_resolve_and_the_rest_is_nxdomain() {
    let server = start(Vec::new()).await;
    let q = query("Proxy.CORP.example.", RecordType::A, true);
    let a = ask_udp(server.udp, &q, WAIT).await.expect("an answer");
    assert_eq!(a.metadata.id, q.metadata.id);
    assert_eq!(a.metadata.message_type, MessageType::Response);
    assert_eq!(a.metadata.response_code, ResponseCode::NoError);
    assert!(a.metadata.authoritative && a.metadata.recursion_available && a.metadata.recursion_desired);
    assert!(!a.metadata.truncation);
    assert_eq!(a.queries, q.queries, "the question is echoed as asked, case included");
    assert_eq!(addresses(&a), ["127.0.0.10"]);
    assert_eq!(a.answers[0].ttl, 1);
    assert_eq!(&a.answers[0].name, q.queries[0].name());
    assert_eq!(a.edns.as_ref().map(Edns::max_payload), Some(1232), "EDNS answered with EDNS");

    let nodata = udp(&server, "proxy.corp.example", RecordType::AAAA).await;
    assert_eq!((nodata.metadata.response_code, nodata.answers.len()), (ResponseCode::NoError, 0));
    let mx = udp(&server, "proxy.corp.example", RecordType::MX).await;
    assert_eq!((mx.metadata.response_code, mx.answers.len()), (ResponseCode::NoError, 0));
    assert_eq!(addresses(&udp(&server, "dual.example", RecordType::AAAA).await), ["fd00::11"]);
    assert_eq!(addresses(&udp(&server, "dual.example", RecordType::A).await), ["127.0.0.11"]);
    let nx = udp(&server, "sum.golang.org", RecordType::A).await;
    assert_eq!((nx.metadata.response_code, nx.answers.len()), (ResponseCode::NXDomain, 0));
    assert!(nx.metadata.authoritative, "an authoritative NXDOMAIN");

    let plain = ask_udp(server.udp, &query("dual.example", RecordType::A, false), WAIT).await.unwrap();
    assert!(plain.edns.is_none(), "no OPT record for a query without one");
    assert_eq!(addresses(&plain), ["127.0.0.11"]);

    let log = server.dns();
    let seen: Vec<String> = log.iter().map(brief).collect();
    assert_eq!(
        seen,
        [
            "udp A proxy.corp.example → NOERROR [127.0.0.10] {}",
            "udp AAAA proxy.corp.example → NOERROR [] {}",
            "udp MX proxy.corp.example → NOERROR [] {}",
            "udp AAAA dual.example → NOERROR [fd00::11] {}",
            "udp A dual.example → NOERROR [127.0.0.11] {}",
            "udp A sum.golang.org → NXDOMAIN [] {}",
            "udp A dual.example → NOERROR [127.0.0.11] {}",
        ]
    );
    assert!(log.iter().all(|r| r.end_ms.is_some() && r.faults.is_empty() && r.note.is_none()));
    assert_eq!(log.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7]);
}

#[tokio::test]
async fn tcp_carries_several_queries_per_connection() {
    let server = start(Vec::new()).await;
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    let queries = [
        query("proxy.corp.example", RecordType::A, true),
        query("dual.example", RecordType::AAAA, false),
        query("nowhere.example", RecordType::A, true),
    ];
    // All three in flight at once, as a pipelining client sends them.
    for q in &queries {
        send_tcp(&mut stream, q).await;
    }
    let mut answers = Vec::new();
    for _ in &queries {
        answers.push(read_tcp(&mut stream, WAIT).await.expect("an answer for each query"));
    }
    let by_id = |id: u16| answers.iter().find(|a| a.metadata.id == id).expect("an answer with the query's id");
    assert_eq!(addresses(by_id(queries[0].metadata.id)), ["127.0.0.10"]);
    assert_eq!(addresses(by_id(queries[1].metadata.id)), ["fd00::11"]);
    assert_eq!(by_id(queries[2].metadata.id).metadata.response_code, ResponseCode::NXDomain);
    // The connection stays usable.
    let again = query("dual.example", RecordType::A, true);
    send_tcp(&mut stream, &again).await;
    assert_eq!(addresses(&read_tcp(&mut stream, WAIT).await.unwrap()), ["127.0.0.11"]);
    let log = server.dns();
    assert_eq!(log.len(), 4);
    assert!(log.iter().all(|r| r.transport == "tcp"));
}

#[tokio::test]
async fn rcode_and_address_faults_answer_as_configured() {
    let server = start(numbered(vec![
        on("nx.example", DnsAction::Nxdomain),
        on("fail.example", DnsAction::Servfail),
        on("refuse.example", DnsAction::Refused),
        on("*.wrong.example", DnsAction::Address(vec![ip("10.9.9.9"), ip("2001:db8::9")])),
        on("proxy.corp.example", DnsAction::Address(vec![ip("10.1.1.1")])),
    ]))
    .await;
    let rcode = |m: Message| m.metadata.response_code;
    assert_eq!(rcode(udp(&server, "nx.example", RecordType::A).await), ResponseCode::NXDomain);
    assert_eq!(rcode(udp(&server, "FAIL.example", RecordType::A).await), ResponseCode::ServFail);
    assert_eq!(rcode(tcp(&server, "refuse.example", RecordType::AAAA).await), ResponseCode::Refused);
    // A wrong address works for names that do not exist, too (a hijack).
    assert_eq!(addresses(&udp(&server, "a.wrong.example", RecordType::A).await), ["10.9.9.9"]);
    assert_eq!(addresses(&udp(&server, "a.wrong.example", RecordType::AAAA).await), ["2001:db8::9"]);
    assert_eq!(addresses(&udp(&server, "proxy.corp.example", RecordType::A).await), ["10.1.1.1"]);
    let v6 = udp(&server, "proxy.corp.example", RecordType::AAAA).await;
    assert_eq!((v6.metadata.response_code, v6.answers.len()), (ResponseCode::NoError, 0), "no IPv6 in the fault");
    // Other names are untouched.
    assert_eq!(addresses(&udp(&server, "dual.example", RecordType::A).await), ["127.0.0.11"]);

    let log = server.dns();
    let seen: Vec<String> = log.iter().map(brief).collect();
    assert_eq!(
        seen,
        [
            "udp A nx.example → NXDOMAIN [] {#1 nxdomain}",
            "udp A fail.example → SERVFAIL [] {#2 servfail}",
            "tcp AAAA refuse.example → REFUSED [] {#3 refused}",
            "udp A a.wrong.example → NOERROR [10.9.9.9] {#4 address 10.9.9.9, 2001:db8::9}",
            "udp AAAA a.wrong.example → NOERROR [2001:db8::9] {#4 address 10.9.9.9, 2001:db8::9}",
            "udp A proxy.corp.example → NOERROR [10.1.1.1] {#5 address 10.1.1.1}",
            "udp AAAA proxy.corp.example → NOERROR [] {#5 address 10.1.1.1}",
            "udp A dual.example → NOERROR [127.0.0.11] {}",
        ]
    );
}

#[tokio::test]
async fn timeout_drops_the_query_and_blocks_nothing_else() {
    let server = start(vec![on("drop.example", DnsAction::Timeout)]).await;
    assert!(ask_udp(server.udp, &query("drop.example", RecordType::A, true), SILENCE).await.is_none());
    // Over TCP, the dropped query leaves the connection open for the next one.
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    send_tcp(&mut stream, &query("drop.example", RecordType::A, true)).await;
    let next = query("dual.example", RecordType::A, true);
    send_tcp(&mut stream, &next).await;
    let answer = read_tcp(&mut stream, WAIT).await.expect("the second query is answered");
    assert_eq!(answer.metadata.id, next.metadata.id);
    assert!(read_tcp(&mut stream, SILENCE).await.is_none(), "the dropped query is never answered");

    let log = server.dns();
    assert_eq!(log.len(), 3);
    for dropped in [&log[0], &log[1]] {
        assert_eq!((dropped.name.as_str(), dropped.rcode.as_deref(), dropped.end_ms), ("drop.example", None, None));
        assert_eq!(dropped.faults, ["#1 timeout"]);
        assert_eq!(dropped.note.as_deref(), Some("dropped by fault: never answered"));
    }
    assert_eq!((log[0].transport.as_str(), log[1].transport.as_str()), ("udp", "tcp"));
    assert_eq!(log[2].rcode.as_deref(), Some("NOERROR"));
}

#[tokio::test]
async fn delay_holds_only_its_own_answer_and_later_faults_still_apply() {
    let delay = Duration::from_millis(800);
    let server = start(numbered(vec![
        on("slow.example", DnsAction::Delay(delay)),
        on("fail.example", DnsAction::Delay(Duration::from_millis(200))),
        on("fail.example", DnsAction::Servfail),
    ]))
    .await;
    let started = Instant::now();
    let slow_query = query("slow.example", RecordType::A, true);
    let udp_addr = server.udp;
    let slow = tokio::spawn(async move {
        let answer = ask_udp(udp_addr, &slow_query, WAIT).await;
        (answer, started.elapsed())
    });
    // Let the slow query arrive first, then ask something else.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let quick = udp(&server, "dual.example", RecordType::A).await;
    let quick_elapsed = started.elapsed();
    let (slow_answer, slow_elapsed) = slow.await.unwrap();
    assert_eq!(addresses(&quick), ["127.0.0.11"]);
    assert_eq!(addresses(&slow_answer.expect("the delayed answer comes")), ["127.0.0.20"]);
    assert!(slow_elapsed >= delay, "answered after {slow_elapsed:?}, before the {delay:?} delay");
    assert!(quick_elapsed < slow_elapsed, "the quick query waited for the slow one ({quick_elapsed:?})");

    let before = Instant::now();
    let failed = udp(&server, "fail.example", RecordType::A).await;
    assert!(before.elapsed() >= Duration::from_millis(200));
    assert_eq!(failed.metadata.response_code, ResponseCode::ServFail);

    let log = server.dns();
    let slow_record = log.iter().find(|r| r.name == "slow.example").unwrap();
    assert_eq!(slow_record.faults, ["#1 delay 800ms"]);
    let spent = slow_record.end_ms.unwrap() - slow_record.start_ms;
    assert!(spent >= 790.0, "the record shows the delay ({spent} ms)");
    let failed_record = log.iter().find(|r| r.name == "fail.example").unwrap();
    assert_eq!(failed_record.faults, ["#2 delay 200ms", "#3 servfail"]);
    assert_eq!(failed_record.rcode.as_deref(), Some("SERVFAIL"));
}

#[tokio::test]
async fn truncate_sends_tc_over_udp_and_the_real_answer_over_tcp() {
    let server = start(vec![on("proxy.corp.example", DnsAction::Truncate)]).await;
    let q = query("proxy.corp.example.", RecordType::A, true);
    let cut = ask_udp(server.udp, &q, WAIT).await.unwrap();
    assert!(cut.metadata.truncation, "TC set");
    assert_eq!((cut.metadata.response_code, cut.answers.len()), (ResponseCode::NoError, 0));
    assert_eq!(cut.queries, q.queries);
    let full = tcp(&server, "proxy.corp.example", RecordType::A).await;
    assert!(!full.metadata.truncation);
    assert_eq!(addresses(&full), ["127.0.0.10"]);

    let log = server.dns();
    assert_eq!((log[0].transport.as_str(), log[0].truncated), ("udp", true));
    assert_eq!(log[0].faults, ["#1 truncate"]);
    assert_eq!((log[1].transport.as_str(), log[1].truncated), ("tcp", false));
    assert!(log[1].faults.is_empty(), "{:?}", log[1].faults);
    assert_eq!(log[1].note.as_deref(), Some("fault #1 truncate does not apply over TCP"));
    assert_eq!(log[1].answers, ["127.0.0.10"]);
}

#[tokio::test]
async fn a_lame_referral_is_empty_and_neither_authoritative_nor_recursive() {
    let server = start(vec![on("proxy.corp.example", DnsAction::LameReferral)]).await;
    let q = query("proxy.corp.example.", RecordType::A, true);
    let lame = ask_udp(server.udp, &q, WAIT).await.unwrap();
    assert_eq!((lame.metadata.response_code, lame.answers.len()), (ResponseCode::NoError, 0));
    assert!(!lame.metadata.authoritative && !lame.metadata.recursion_available);
    assert!(lame.edns.is_none(), "no additional record, not even OPT: go would follow it");
    assert_eq!(lame.queries, q.queries);
    let other = tcp(&server, "dual.example", RecordType::A).await;
    assert!(other.metadata.authoritative && other.metadata.recursion_available, "other names resolve as ever");
    let log = server.dns();
    assert_eq!(
        (log[0].faults.as_slice(), log[0].rcode.as_deref()),
        (&["#1 lame referral".to_string()][..], Some("NOERROR"))
    );
}

#[tokio::test]
async fn first_two_queries_fail_then_the_name_heals() {
    let mut fault = on("proxy.corp.example", DnsAction::Servfail);
    fault.when.first = Some(2);
    let server = start(vec![fault]).await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(udp(&server, "proxy.corp.example", RecordType::A).await.metadata.response_code);
    }
    assert_eq!(codes, [ResponseCode::ServFail, ResponseCode::ServFail, ResponseCode::NoError]);
    let faults: Vec<usize> = server.dns().iter().map(|r| r.faults.len()).collect();
    assert_eq!(faults, [1, 1, 0]);
}

#[tokio::test]
async fn query_type_conditions_select_a_or_aaaa() {
    let mut fault = on("dual.example", DnsAction::Servfail);
    fault.when.method = Some("AAAA".into());
    let server = start(vec![fault]).await;
    assert_eq!(udp(&server, "dual.example", RecordType::A).await.metadata.response_code, ResponseCode::NoError);
    assert_eq!(udp(&server, "dual.example", RecordType::AAAA).await.metadata.response_code, ResponseCode::ServFail);
}

#[tokio::test]
async fn answers_too_large_for_udp_are_truncated_by_the_client_limit() {
    let many: Vec<IpAddr> = (0..60u8).map(|i| IpAddr::from([10, 0, 0, i])).collect();
    let server = start(vec![on("proxy.corp.example", DnsAction::Address(many))]).await;
    let classic = ask_udp(server.udp, &query("proxy.corp.example", RecordType::A, false), WAIT).await.unwrap();
    assert!(classic.metadata.truncation && classic.answers.is_empty(), "960 bytes of answers exceed 512");
    let edns = udp(&server, "proxy.corp.example", RecordType::A).await;
    assert!(!edns.metadata.truncation);
    assert_eq!(edns.answers.len(), 60, "they fit in the 1232 bytes the client accepts");
    assert_eq!(tcp(&server, "proxy.corp.example", RecordType::A).await.answers.len(), 60);
    let log = server.dns();
    assert!(log[0].truncated && log[0].note.as_deref().unwrap_or("").contains("exceeds the client's UDP limit of 512"));
    assert!(!log[1].truncated && log[1].answers.len() == 60);
}

#[tokio::test]
async fn malformed_packets_are_recorded_and_ignored() {
    let server = start(Vec::new()).await;
    let good = query("proxy.corp.example", RecordType::A, true).to_vec().unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for junk in [&b""[..], &[0xff; 5][..], &good[..good.len() - 3]] {
        socket.send_to(junk, server.udp).await.unwrap();
    }
    // A response is not a query either.
    let mut response = query("proxy.corp.example", RecordType::A, false);
    response.metadata.message_type = MessageType::Response;
    socket.send_to(&response.to_vec().unwrap(), server.udp).await.unwrap();
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    stream.write_all(&[0, 0]).await.unwrap();
    send_tcp(&mut stream, &query("dual.example", RecordType::A, true)).await;
    assert_eq!(addresses(&read_tcp(&mut stream, WAIT).await.expect("the server survived")), ["127.0.0.11"]);
    assert!(ask_udp(server.udp, &query("dual.example", RecordType::A, true), WAIT).await.is_some());

    let log = server.dns();
    let ignored: Vec<&DnsRecord> = log.iter().filter(|r| r.rcode.is_none()).collect();
    assert_eq!(ignored.len(), 5, "{log:#?}");
    assert!(ignored.iter().all(|r| r.note.as_deref().is_some_and(|n| n.contains("ignored"))), "{ignored:#?}");
    assert_eq!(ignored.iter().filter(|r| r.note.as_deref().unwrap().starts_with("malformed")).count(), 4);

    // Every cut of a real query is either refused cleanly or answered, never a panic.
    let direct = DnsServer::new(Zone::new(table()), Arc::new(RequestLog::default()));
    for len in 0..good.len() {
        assert!(answer(&direct, &good[..len], Transport::Udp).await.is_none(), "a {len}-byte cut was answered");
    }
    assert!(answer(&direct, &good, Transport::Udp).await.is_some());
}

#[tokio::test]
async fn several_questions_are_a_format_error() {
    let server = start(Vec::new()).await;
    let mut q = query("proxy.corp.example", RecordType::A, true);
    q.add_query(Query::query(Name::from_ascii("dual.example").unwrap(), RecordType::A));
    let a = ask_udp(server.udp, &q, WAIT).await.unwrap();
    assert_eq!((a.metadata.response_code, a.answers.len()), (ResponseCode::FormErr, 0));
    assert_eq!(server.dns()[0].rcode.as_deref(), Some("FORMERR"));
}

/// The Go program of the test below: `lookup <timeout|0> <udp addr> <tcp addr> names…`
/// looks each name up with the pure-Go resolver, dialing our server whatever server
/// resolv.conf names, and prints one line per name: `name<TAB>OK<TAB>addresses` or
/// `name<TAB>ERR<TAB>error`.
const GO_LOOKUP: &str = r#"package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	timeout, err := time.ParseDuration(os.Args[1])
	if err != nil {
		panic(err)
	}
	udp, tcp := os.Args[2], os.Args[3]
	net.DefaultResolver.PreferGo = true
	net.DefaultResolver.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		if strings.HasPrefix(network, "tcp") {
			return d.DialContext(ctx, network, tcp)
		}
		return d.DialContext(ctx, network, udp)
	}
	for _, name := range os.Args[4:] {
		ctx, cancel := context.Background(), func() {}
		if timeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, timeout)
		}
		addrs, err := net.DefaultResolver.LookupHost(ctx, name)
		cancel()
		if err != nil {
			fmt.Printf("%s\tERR\t%v\n", name, err)
		} else {
			fmt.Printf("%s\tOK\t%s\n", name, strings.Join(addrs, ","))
		}
	}
}
"#;

/// The real go resolver against the server: the error strings go prints for each
/// fault are what the diagnosis rules match. Each lookup is cut at 1 s by a context,
/// so a dropped query ends as `dial udp …: i/o timeout` (go's second attempt finds the
/// deadline passed); without the context, as in cmd/go, go waits resolv.conf's
/// `timeout` × `attempts` (5 s × 2 by default) and prints
/// `read udp 127.0.0.1:P->127.0.0.1:53: i/o timeout`.
#[tokio::test]
async fn the_go_resolver_sees_each_fault_as_in_the_field() {
    let go = match crate::gobin::GoBinary::find(None) {
        Ok(go) => go,
        Err(e) => {
            eprintln!("SKIPPED the_go_resolver_sees_each_fault_as_in_the_field: {e}");
            return;
        }
    };
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    std::fs::write(dir.join("go.mod"), "module lookup\n\ngo 1.21\n").unwrap();
    std::fs::write(dir.join("main.go"), GO_LOOKUP).unwrap();
    crate::fsutil::disable_go_telemetry(&dir.join(".config")).unwrap();
    let binary = dir.join("lookup");
    let build = tokio::process::Command::new(&go.path)
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        // The build cache the tests' Go tools share (target/tmp/go-build-cache): the
        // standard library's net and crypto packages compile once per checkout.
        .env(
            "GOCACHE",
            crate::fsutil::cargo_target_tmp().map_or_else(|| dir.join("gocache"), |t| t.join("go-build-cache")),
        )
        .env("GOPATH", dir.join("gopath"))
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .env("GOENV", "off")
        .env("CGO_ENABLED", "0")
        .current_dir(dir)
        .output()
        .await
        .unwrap();
    assert!(build.status.success(), "go build failed:\n{}", String::from_utf8_lossy(&build.stderr));

    let server = start(numbered(vec![
        on("fail.example", DnsAction::Servfail),
        on("refuse.example", DnsAction::Refused),
        on("drop.example", DnsAction::Timeout),
        on("nx.example", DnsAction::Nxdomain),
        on("proxy.corp.example", DnsAction::Truncate),
        on("wrong.example", DnsAction::Address(vec![ip("10.9.9.9")])),
        on("lame.example", DnsAction::LameReferral),
    ]))
    .await;
    let names = [
        "dual.example",
        "nowhere.example",
        "nx.example",
        "fail.example",
        "refuse.example",
        "drop.example",
        "wrong.example",
        "proxy.corp.example",
        "lame.example",
    ];
    let run = tokio::process::Command::new(&binary)
        .arg("1s")
        .arg(server.udp.to_string())
        .arg(server.tcp.to_string())
        .args(names)
        .env_clear()
        .current_dir(dir)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    eprintln!("go printed:\n{stdout}{}", String::from_utf8_lossy(&run.stderr));
    let results: HashMap<&str, (&str, &str)> = stdout
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            Some((parts.next()?, (parts.next()?, parts.next()?)))
        })
        .collect();
    let result = |name: &str| *results.get(name).unwrap_or_else(|| panic!("no result for {name} in:\n{stdout}"));
    let error = |name: &str, wanted: &str| {
        let (status, text) = result(name);
        assert_eq!(status, "ERR", "{name}: {text}");
        assert!(text.starts_with(&format!("lookup {name} on ")), "{name}: {text}");
        assert!(text.ends_with(wanted), "{name}: wanted …{wanted}, go said {text}");
    };
    let mut dual: Vec<&str> = result("dual.example").1.split(',').collect();
    dual.sort();
    assert_eq!((result("dual.example").0, dual), ("OK", vec!["127.0.0.11", "fd00::11"]));
    error("nowhere.example", ": no such host");
    error("nx.example", ": no such host");
    error("fail.example", ": server misbehaving");
    error("refuse.example", ": server misbehaving");
    error("drop.example", ": i/o timeout");
    error("lame.example", ": lame referral");
    assert_eq!(result("wrong.example"), ("OK", "10.9.9.9"));
    assert_eq!(result("proxy.corp.example"), ("OK", "127.0.0.10"), "go retried over TCP");

    let log = server.dns();
    for line in log.iter().map(DnsRecord::line) {
        eprintln!("{line}");
    }
    let over = |name: &str, transport: &str| log.iter().filter(|r| r.name == name && r.transport == transport).count();
    assert!(over("proxy.corp.example", "tcp") >= 1, "the truncated answer sent go to TCP");
    assert!(log.iter().all(|r| r.note.as_deref().is_none_or(|n| !n.contains("malformed"))), "go's queries parse");
}
#[test]
fn dns_actions_label_and_delay() {
    assert_eq!(DnsAction::Servfail.label(), "servfail");
    assert_eq!(
        DnsAction::Address(vec!["10.0.0.1".parse().unwrap(), "::1".parse().unwrap()]).label(),
        "address 10.0.0.1, ::1"
    );
    assert_eq!(DnsAction::Delay(Duration::from_millis(1500)).label(), "delay 1s 500ms");
    assert_eq!(DnsAction::Delay(Duration::from_secs(2)).as_delay(), Some(Duration::from_secs(2)));
    assert_eq!(DnsAction::Truncate.as_delay(), None);
}
