//! How the connection-ending faults end a connection, read at the socket: `close` with
//! a FIN after the bytes it lets through, even with bytes of the client unread; `reset`
//! with an RST.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};

use super::{Faulty, HttpAction};
use crate::fake::RequestLog;
use crate::fake::http::{BackendHandler, HostServer, Reply, RequestInfo, serve};
use crate::fault::{Fault, FaultSchedule, FaultWhen};

/// A server whose every answer is `0123456789` behind `action`, and a connection to it
/// that has sent one request and more bytes than the server reads while it answers (as
/// an HTTP/2 client's window updates may be).
async fn answered_through(action: HttpAction) -> (OwnedReadHalf, tokio::task::JoinHandle<()>) {
    let fault = Fault { number: 1, when: FaultWhen::default(), action };
    let handler = Faulty::new(
        BackendHandler::new(|_: &RequestInfo| Reply::text(200, "0123456789")),
        FaultSchedule::new("cut.test", 0, vec![fault]),
        0,
    );
    let host = HostServer::with_handler("cut.test", handler, Arc::new(RequestLog::default()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener, Arc::new(host)));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /x HTTP/1.1\r\nHost: cut.test\r\n\r\n").await.unwrap();
    // Written beside the reads (a server that closes may refuse the rest), and not
    // waited for: how much the kernel takes before the server closes varies.
    let (reader, mut writer) = stream.into_split();
    tokio::spawn(async move {
        let _ = writer.write_all(&[b'x'; UNREAD]).await;
        // Kept open: the client's FIN would end the server's reading early.
        std::future::pending::<()>().await;
    });
    (reader, server)
}

/// More than the server's read buffer holds: some stays in the kernel's.
const UNREAD: usize = 1 << 20;

/// Everything the connection delivers until it ends, and how it ended.
async fn read_to_end(stream: &mut OwnedReadHalf) -> (String, std::io::Result<()>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(0)) => break Ok(()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => break Err(e),
            Err(_) => panic!("the connection neither ended nor delivered: {got:?}"),
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), ended)
}

#[tokio::test]
async fn close_ends_the_body_early_with_a_fin_though_bytes_are_unread() {
    let (mut stream, server) = answered_through(HttpAction::Close { after_bytes: Some(4) }).await;
    let (got, ended) = read_to_end(&mut stream).await;
    server.abort();
    assert!(ended.is_ok(), "a FIN, not {ended:?}");
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(got.contains("content-length: 10"), "the length promised more: {got}");
    assert!(got.ends_with("\r\n\r\n0123"), "4 of the 10 body bytes: {got}");
}

#[tokio::test]
async fn close_before_any_response_sends_nothing() {
    let (mut stream, server) = answered_through(HttpAction::Close { after_bytes: None }).await;
    let (got, ended) = read_to_end(&mut stream).await;
    server.abort();
    assert!(ended.is_ok(), "a FIN, not {ended:?}");
    assert_eq!(got, "");
}

#[tokio::test]
async fn reset_ends_the_body_early_with_an_rst() {
    let (mut stream, server) = answered_through(HttpAction::Reset { after_bytes: Some(4) }).await;
    let (_, ended) = read_to_end(&mut stream).await;
    server.abort();
    let kind = ended.expect_err("an RST").kind();
    assert_eq!(kind, std::io::ErrorKind::ConnectionReset);
}
