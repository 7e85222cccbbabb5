//! The one blocking call: deleting a proxy from a `Drop`, where nothing can be awaited
//! (see [`super::hosts`] for why not a spawned task). A bare HTTP/1.1 request on a
//! std socket with short timeouts: at worst a dead server delays the drop by a few
//! seconds, it never hangs it.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::client::segment;

/// Longest wait to connect, and for each read or write.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Sends `DELETE /proxies/{name}` to the API at `authority` (`host:port`) and returns
/// the status it answered.
pub(crate) fn delete_proxy(authority: &str, name: &str) -> io::Result<u16> {
    let addr = authority
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{authority} has no address")))?;
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let request = format!(
        "DELETE /proxies/{} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: modchaos/{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        segment(name),
        env!("CARGO_PKG_VERSION")
    );
    stream.write_all(request.as_bytes())?;
    // The status line is all that is needed: `HTTP/1.1 204 No Content`.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") && head.len() < 256 {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("not an HTTP answer: {line:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_a_delete_and_reads_the_status() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !got.ends_with(b"\r\n\r\n") {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0, "request ended early");
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
            String::from_utf8(got).unwrap()
        });
        assert_eq!(delete_proxy(&authority, "modchaos-1 x").unwrap(), 204);
        let request = server.join().unwrap();
        assert!(request.starts_with("DELETE /proxies/modchaos-1%20x HTTP/1.1\r\n"), "{request}");
    }

    #[test]
    fn nothing_listening_is_an_error_not_a_hang() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        drop(listener);
        assert!(delete_proxy(&authority, "x").is_err());
    }
}
