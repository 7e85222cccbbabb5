//! `down`: the host's address refuses connections (toxiproxy's `enabled: false`). While
//! a `down` window is open nothing listens on the address, so clients get "connection
//! refused"; connections open when it starts are closed, as toxiproxy does when a proxy
//! is disabled. When the window heals the same address is bound again (SO_REUSEADDR,
//! so connections lingering in TIME_WAIT do not block it). A `down` without a window
//! means the address never listens.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

use super::ToxicSet;

/// Pause before trying again when the address cannot be bound back.
const REBIND_RETRY: Duration = Duration::from_millis(50);

/// The proxy's listening socket, which `down` toxics take away and give back.
pub(super) struct Availability {
    /// Where to listen again; `None` if the original listener could not tell.
    address: Option<SocketAddr>,
    listener: Option<TcpListener>,
    /// When to try binding again after a failure.
    retry_at: Option<Instant>,
}

impl Availability {
    /// Starts with `listener` up; [`Availability::update`] takes it down when due.
    pub fn new(listener: TcpListener) -> Availability {
        Availability { address: listener.local_addr().ok(), listener: Some(listener), retry_at: None }
    }

    /// Brings the socket in line with the toxics; true when the address just went down.
    pub fn update(&mut self, toxics: &ToxicSet) -> bool {
        let now = Instant::now();
        if toxics.is_down_at(now) {
            self.retry_at = None;
            return self.listener.take().is_some();
        }
        if self.listener.is_none() && self.retry_at.is_none_or(|at| now >= at) {
            match self.address.map(rebind) {
                Some(Ok(listener)) => {
                    self.listener = Some(listener);
                    self.retry_at = None;
                }
                Some(Err(_)) => self.retry_at = Some(now + REBIND_RETRY),
                None => self.retry_at = None,
            }
        }
        false
    }

    /// When [`Availability::update`] next has something to do.
    pub fn next_change(&self, toxics: &ToxicSet) -> Option<Instant> {
        [toxics.next_down_change(Instant::now()), self.retry_at].into_iter().flatten().min()
    }

    /// The next client; never returns while the address is down.
    pub async fn accept(&self) -> io::Result<TcpStream> {
        match &self.listener {
            Some(listener) => listener.accept().await.map(|(stream, _)| stream),
            None => std::future::pending().await,
        }
    }
}

fn rebind(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(address), socket2::Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}
