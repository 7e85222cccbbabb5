//! The fake DNS server of a world. In sealed mode `/etc/resolv.conf` points at it, so go
//! (its pure-Go resolver) and git (glibc) resolve every name here: declared hosts get
//! their loopback addresses and every other name is NXDOMAIN (nothing leaves the
//! sandbox). Messages are parsed and built with `hickory-proto`; the server decodes each
//! query, records it in the world's log and asks its [`DnsHandler`] for the answer — a
//! [`Zone`] of declared names, or a handler wrapping one (DNS faults, `fault::dns`),
//! in the style of hickory's request handlers.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use super::record::{DnsOutcome, DnsSlot, RequestLog};

/// TTL of every answer: short, so a resolver that caches still sees faults heal quickly.
const TTL: u32 = 1;

/// The EDNS payload size advertised in answers, the value go and most resolvers send.
const EDNS_PAYLOAD: u16 = 1232;

/// The largest UDP answer a client without EDNS accepts (RFC 1035).
const CLASSIC_UDP_LIMIT: usize = 512;

/// One question, as a handler sees it.
#[derive(Debug, Clone)]
pub struct Question {
    /// The name asked for, lower case without trailing dot (see [`normalize_name`]).
    pub name: String,
    /// The query type's mnemonic (`A`, `AAAA`, `TYPE65`).
    pub qtype: String,
    /// How the query arrived.
    pub transport: Transport,
}

/// What a handler answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// NOERROR with these addresses, of which those of the query's type are sent (none:
    /// NODATA).
    Addresses(Vec<IpAddr>),
    /// An error code without records (NXDOMAIN, SERVFAIL, REFUSED, …).
    Error(ResponseCode),
    /// An empty NOERROR answer with the TC bit: the client must ask again over TCP.
    Truncated,
    /// An empty NOERROR answer that is neither authoritative nor offers recursion: a
    /// referral from a server that should have resolved the name (go: `lame referral`).
    LameReferral,
    /// Nothing at all: the client times out.
    Dropped,
}

/// An answer, with anything unusual about it for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The answer.
    pub answer: Answer,
    /// Recorded with the query ("dropped by fault: never answered").
    pub note: Option<String>,
}

impl From<Answer> for Reply {
    fn from(answer: Answer) -> Reply {
        Reply { answer, note: None }
    }
}

/// A query's entry in the world's log, for handlers to add what they did.
pub struct QueryRecord<'a> {
    log: &'a RequestLog,
    slot: DnsSlot,
}

impl QueryRecord<'_> {
    /// Adds the label of a fault that fired ("#1 servfail").
    pub fn add_fault(&self, label: impl Into<String>) {
        self.log.add_dns_fault(self.slot, label);
    }
}

/// A reply that is still being produced (a delayed one, say).
pub type ReplyFuture<'a> = Pin<Box<dyn Future<Output = Reply> + Send + 'a>>;

/// Answers the questions of a world's resolver. A handler may wrap another (faults do).
pub trait DnsHandler: Send + Sync + 'static {
    /// The reply to `question`.
    fn answer<'a>(&'a self, question: &'a Question, record: &'a QueryRecord<'a>) -> ReplyFuture<'a>;
}

/// The declared names of a world and their addresses: A queries get the IPv4 ones, AAAA
/// queries the IPv6 ones, and every other name is NXDOMAIN.
pub struct Zone {
    /// Names, lower case without trailing dot (see [`normalize_name`]).
    pub names: HashMap<String, Vec<IpAddr>>,
}

impl Zone {
    /// A zone of `names` (normalized here, so callers may write them in any case).
    pub fn new(names: impl IntoIterator<Item = (String, Vec<IpAddr>)>) -> Zone {
        let mut table: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (name, addresses) in names {
            table.entry(normalize_name(&name)).or_default().extend(addresses);
        }
        Zone { names: table }
    }
}

impl DnsHandler for Zone {
    fn answer<'a>(&'a self, question: &'a Question, _: &'a QueryRecord<'a>) -> ReplyFuture<'a> {
        let answer = match self.names.get(&question.name) {
            Some(list) => Answer::Addresses(list.clone()),
            None => Answer::Error(ResponseCode::NXDomain),
        };
        Box::pin(std::future::ready(answer.into()))
    }
}

/// The name server of a world: its handler, and the log it records every query in.
pub struct DnsServer {
    /// Answers the questions.
    pub handler: Box<dyn DnsHandler>,
    /// Where queries are recorded, next to the HTTP requests of the same world.
    pub log: Arc<RequestLog>,
}

impl DnsServer {
    /// A server answering through `handler`, recording into `log`.
    pub fn new(handler: impl DnsHandler, log: Arc<RequestLog>) -> DnsServer {
        DnsServer { handler: Box::new(handler), log }
    }
}

/// A name as the server compares it: lower case, without the trailing dot. DNS names are
/// case-insensitive and `proxy.example.` is the same name as `proxy.example`.
pub fn normalize_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// How a query arrived; UDP answers are size-limited and can be truncated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A UDP datagram.
    Udp,
    /// A TCP connection (a retry after a truncated answer).
    Tcp,
}

impl Transport {
    /// `udp` or `tcp`, as the log writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// Serves DNS on `udp` and `tcp` (normally the same address, port 53) until the task
/// running it is dropped or aborted, which also ends every connection and every pending
/// answer. Each query is answered in its own task, so a delayed or dropped query never
/// holds up another.
pub async fn serve(udp: UdpSocket, tcp: TcpListener, server: Arc<DnsServer>) {
    let udp = Arc::new(udp);
    let mut tasks = JoinSet::new();
    // The largest UDP payload there is; anything shorter arrives whole.
    let mut buffer = vec![0u8; 65_535];
    loop {
        tokio::select! {
            received = udp.recv_from(&mut buffer) => match received {
                Ok((len, peer)) => {
                    let packet = buffer[..len].to_vec();
                    tasks.spawn(answer_udp(udp.clone(), peer, packet, server.clone()));
                }
                // A transient socket error (an ICMP error reported late, …): carry on.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            accepted = tcp.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tasks.spawn(serve_tcp(stream, server.clone()));
                }
                // Out of descriptors and the like: back off rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
}

async fn answer_udp(socket: Arc<UdpSocket>, peer: SocketAddr, packet: Vec<u8>, server: Arc<DnsServer>) {
    if let Some(reply) = answer(&server, &packet, Transport::Udp).await {
        // The client may be gone; UDP has nobody to tell.
        let _ = socket.send_to(&reply, peer).await;
    }
}

/// One TCP connection: queries framed by a 2-byte length, any number of them, answered
/// in any order (each carries its id).
async fn serve_tcp(stream: TcpStream, server: Arc<DnsServer>) {
    let (mut reader, writer) = stream.into_split();
    let writer = Arc::new(Mutex::new(writer));
    let mut queries = JoinSet::new();
    loop {
        let mut prefix = [0u8; 2];
        if reader.read_exact(&mut prefix).await.is_err() {
            break;
        }
        let mut packet = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
        if reader.read_exact(&mut packet).await.is_err() {
            break;
        }
        let (server, writer) = (server.clone(), writer.clone());
        queries.spawn(async move {
            if let Some(reply) = answer(&server, &packet, Transport::Tcp).await {
                write_framed(&writer, &reply).await;
            }
        });
        while queries.try_join_next().is_some() {}
    }
    // The client closed its side: let pending (delayed) answers go out before closing.
    while queries.join_next().await.is_some() {}
}

async fn write_framed(writer: &Mutex<OwnedWriteHalf>, reply: &[u8]) {
    let Ok(len) = u16::try_from(reply.len()) else { return };
    let mut frame = Vec::with_capacity(reply.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(reply);
    // The client may have gone away; nothing to do about it.
    let _ = writer.lock().await.write_all(&frame).await;
}

/// Handles one query: decodes it, records it, asks the handler and returns the encoded
/// answer, or `None` when nothing is to be sent.
pub async fn answer(server: &DnsServer, packet: &[u8], transport: Transport) -> Option<Vec<u8>> {
    let log = &server.log;
    let request = match Message::from_vec(packet) {
        Ok(request) => request,
        Err(e) => {
            let slot = log.begin_dns(transport.as_str(), "", "", Vec::new());
            let note = Some(format!("malformed query ({} bytes), ignored: {e}", packet.len()));
            log.finish_dns(slot, DnsOutcome { note, ..Default::default() });
            return None;
        }
    };
    if request.metadata.message_type != MessageType::Query {
        let slot = log.begin_dns(transport.as_str(), "", "", Vec::new());
        let note = Some("a response, not a query: ignored".to_string());
        log.finish_dns(slot, DnsOutcome { note, ..Default::default() });
        return None;
    }
    let [query] = request.queries.as_slice() else {
        // Resolvers send exactly one question; anything else is a format error.
        let slot = log.begin_dns(transport.as_str(), "", "", Vec::new());
        let note = format!("{} questions in one query", request.queries.len());
        return reply(log, slot, &request, transport, ResponseCode::FormErr, Vec::new(), Some(note));
    };
    let name = normalize_name(&query.name().to_ascii());
    let qtype = qtype_name(query.query_type());
    if request.metadata.op_code != OpCode::Query {
        // NOTIFY, UPDATE, …: nothing a resolver sends; faults are about lookups.
        let slot = log.begin_dns(transport.as_str(), &name, &qtype, Vec::new());
        let note = Some(format!("opcode {:?} not implemented", request.metadata.op_code));
        return reply(log, slot, &request, transport, ResponseCode::NotImp, Vec::new(), note);
    }
    let slot = log.begin_dns(transport.as_str(), &name, &qtype, Vec::new());
    let question = Question { name, qtype, transport };
    let record = QueryRecord { log, slot };
    let Reply { answer, note } = server.handler.answer(&question, &record).await;
    match answer {
        Answer::Dropped => {
            log.finish_dns(slot, DnsOutcome { note, ..Default::default() });
            None
        }
        Answer::Truncated => truncated(log, slot, &request, note),
        Answer::LameReferral => lame_referral(log, slot, &request, note),
        Answer::Error(rcode) => reply(log, slot, &request, transport, rcode, Vec::new(), note),
        Answer::Addresses(list) => {
            let answers = matching(&list, query.query_type());
            reply(log, slot, &request, transport, ResponseCode::NoError, answers, note)
        }
    }
}

/// The addresses of `list` that answer a query of type `qtype` (none for types other
/// than A and AAAA: a known name then gets NODATA).
fn matching(list: &[IpAddr], qtype: RecordType) -> Vec<IpAddr> {
    list.iter()
        .copied()
        .filter(|a| match qtype {
            RecordType::A => a.is_ipv4(),
            RecordType::AAAA => a.is_ipv6(),
            _ => false,
        })
        .collect()
}

/// A response header for `request`: its id, opcode and RD echoed, authoritative, with
/// recursion available (go treats an answer with neither AA nor RA as a lame referral),
/// the question echoed and an OPT record when the query had one.
fn response_to(request: &Message, rcode: ResponseCode) -> Message {
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.metadata.authoritative = true;
    response.metadata.response_code = rcode;
    response.add_queries(request.queries.iter().cloned());
    if request.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_PAYLOAD);
        response.set_edns(edns);
    }
    response
}

/// Encodes the answer, records it and returns it; over UDP, an answer larger than the
/// client accepts is replaced by a truncated one, as a real server does.
fn reply(
    log: &RequestLog,
    slot: DnsSlot,
    request: &Message,
    transport: Transport,
    rcode: ResponseCode,
    addresses: Vec<IpAddr>,
    note: Option<String>,
) -> Option<Vec<u8>> {
    let mut response = response_to(request, rcode);
    if let Some(query) = request.queries.first() {
        for address in &addresses {
            let data = match address {
                IpAddr::V4(v4) => RData::A(A(*v4)),
                IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
            };
            response.add_answer(Record::from_rdata(query.name().clone(), TTL, data));
        }
    }
    let bytes = match response.to_vec() {
        Ok(bytes) => bytes,
        Err(e) => {
            let note = Some(format!("could not encode the answer: {e}"));
            log.finish_dns(slot, DnsOutcome { note, ..Default::default() });
            return None;
        }
    };
    let limit =
        request.edns.as_ref().map_or(CLASSIC_UDP_LIMIT, |e| usize::from(e.max_payload()).max(CLASSIC_UDP_LIMIT));
    if transport == Transport::Udp && bytes.len() > limit {
        let why = format!("answer of {} bytes exceeds the client's UDP limit of {limit}", bytes.len());
        return truncated(log, slot, request, Some(why));
    }
    let answers = addresses.iter().map(IpAddr::to_string).collect();
    log.finish_dns(slot, DnsOutcome { rcode: Some(rcode_name(rcode)), answers, truncated: false, note });
    Some(bytes)
}

/// An empty NOERROR answer with the TC bit: the client must ask again over TCP.
fn truncated(log: &RequestLog, slot: DnsSlot, request: &Message, note: Option<String>) -> Option<Vec<u8>> {
    let mut response = response_to(request, ResponseCode::NoError);
    response.metadata.truncation = true;
    empty_answer(log, slot, &response, true, note)
}

/// An empty NOERROR answer without AA or RA, and with no additional records (go takes
/// any, an OPT record too, as a referral worth following): what a server that does not
/// recurse (an authoritative-only server in resolv.conf, a forwarder whose upstream is
/// gone) sends.
fn lame_referral(log: &RequestLog, slot: DnsSlot, request: &Message, note: Option<String>) -> Option<Vec<u8>> {
    let mut response = response_to(request, ResponseCode::NoError);
    response.metadata.authoritative = false;
    response.metadata.recursion_available = false;
    response.edns = None;
    empty_answer(log, slot, &response, false, note)
}

/// Encodes and records an answer without records.
fn empty_answer(
    log: &RequestLog,
    slot: DnsSlot,
    response: &Message,
    truncated: bool,
    note: Option<String>,
) -> Option<Vec<u8>> {
    match response.to_vec() {
        Ok(bytes) => {
            let outcome =
                DnsOutcome { rcode: Some(rcode_name(ResponseCode::NoError)), truncated, note, ..Default::default() };
            log.finish_dns(slot, outcome);
            Some(bytes)
        }
        Err(e) => {
            let note = Some(format!("could not encode the answer: {e}"));
            log.finish_dns(slot, DnsOutcome { note, ..Default::default() });
            None
        }
    }
}

/// The mnemonic of a query type (`A`, `AAAA`, `TYPE65` for types hickory does not name),
/// as fault conditions and reports write it.
fn qtype_name(qtype: RecordType) -> String {
    match qtype {
        RecordType::Unknown(code) => format!("TYPE{code}"),
        known => known.to_string(),
    }
}

/// The mnemonic of a response code, as `dig` prints it.
fn rcode_name(rcode: ResponseCode) -> String {
    match rcode {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}
