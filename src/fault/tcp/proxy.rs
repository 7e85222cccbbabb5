//! The toxic proxy of one host: accepts clients on the host's public address, connects
//! each to the real server, carries the bytes both ways through the toxics that apply,
//! and records one entry per connection in the world's log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::down::Availability;
use super::link::{Chain, Close, ConnState, Gate, Outcome, direction};
use super::{Stream, ToxicSet, connection_path};
use crate::fake::RequestLog;
use crate::fake::record::Slot;

/// Serves `host` on `listener`, forwarding each connection to `upstream` through
/// `toxics`, until the task running it is dropped or aborted, which also ends every
/// connection it carries. `down` toxics take `listener`'s address away and bind it
/// again when they heal. A host that is down from the start stops listening before this
/// returns, not when the task first runs: a client that connects in between would
/// otherwise be accepted by the kernel and then reset, not refused.
pub fn serve(
    listener: TcpListener,
    upstream: SocketAddr,
    toxics: Arc<ToxicSet>,
    log: Arc<RequestLog>,
    host: String,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut availability = Availability::new(listener);
    let _ = availability.update(&toxics);
    run(availability, upstream, toxics, log, host)
}

async fn run(
    mut availability: Availability,
    upstream: SocketAddr,
    toxics: Arc<ToxicSet>,
    log: Arc<RequestLog>,
    host: String,
) {
    // Bumped when the address goes down: live connections close.
    let (went_down, _) = watch::channel(0u64);
    let mut connections = JoinSet::new();
    loop {
        if availability.update(&toxics) {
            went_down.send_modify(|n| *n += 1);
        }
        let change = availability.next_change(&toxics);
        tokio::select! {
            accepted = availability.accept() => match accepted {
                Ok(client) => {
                    let ctx = Context {
                        toxics: toxics.clone(),
                        log: log.clone(),
                        host: host.clone(),
                        went_down: went_down.subscribe(),
                    };
                    connections.spawn(connection(client, upstream, ctx));
                }
                // Out of descriptors and the like: back off rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = super::link::sleep_until(change) => {}
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// What a connection needs from its proxy.
struct Context {
    toxics: Arc<ToxicSet>,
    log: Arc<RequestLog>,
    host: String,
    went_down: watch::Receiver<u64>,
}

/// Finishes the connection's record however the connection ends (an aborted task
/// included).
struct Record {
    log: Arc<RequestLog>,
    slot: Slot,
    state: Arc<ConnState>,
    note: Option<String>,
}

impl Record {
    fn close(&mut self, how: String) {
        self.note = Some(how);
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        let how = self.note.take().unwrap_or_else(|| "proxy stopped".into());
        let up = self.state.written[Stream::Upstream.index()].load(Ordering::Relaxed);
        let down = self.state.written[Stream::Downstream.index()].load(Ordering::Relaxed);
        let mut note = how;
        for remark in self.state.remarks() {
            note += &format!("; {remark}");
        }
        for stream in [Stream::Upstream, Stream::Downstream] {
            let dropped = self.state.dropped[stream.index()].load(Ordering::Relaxed);
            if dropped > 0 {
                note += &format!("; {dropped} B {} dropped", stream.name());
            }
        }
        note += &format!("; {up} B up, {down} B down");
        self.log.finish(self.slot, down, Some(note));
    }
}

/// Why a connection's loop stopped.
enum End {
    /// The connection is over.
    Over(Outcome),
    /// A `down` toxic took the address away.
    Down,
    /// The proxy itself is stopping.
    Stopped,
}

async fn connection(mut client: TcpStream, upstream: SocketAddr, mut ctx: Context) {
    let _ = client.set_nodelay(true);
    let (number, picked) = ctx.toxics.accept();
    let now_active: Vec<bool> = picked.iter().map(|(_, window)| window.contains(std::time::Instant::now())).collect();
    let mut fired: Vec<String> =
        picked.iter().zip(&now_active).filter(|(_, a)| **a).map(|((t, _), _)| t.label()).collect();
    fired.extend(ctx.toxics.external_labels());
    let state = Arc::new(ConnState::default());
    let mut record = Record {
        log: ctx.log.clone(),
        slot: ctx.log.begin(&ctx.host, "TCP", &connection_path(number), fired),
        state: state.clone(),
        note: None,
    };
    let mut server = match TcpStream::connect(upstream).await {
        Ok(server) => server,
        Err(e) => return record.close(format!("upstream {upstream} unreachable: {e}")),
    };
    let _ = server.set_nodelay(true);

    let mut chains: [Chain<'_>; 2] = [Vec::new(), Vec::new()];
    for ((toxic, window), logged) in picked.into_iter().zip(now_active) {
        let gate = Gate::new(window, toxic.label(), logged, &ctx.log, record.slot);
        chains[toxic.stream.index()].push((toxic, gate, ctx.toxics.rng(toxic.number, number)));
    }
    let [up_chain, down_chain] = chains;
    let outcome = {
        let (mut client_in, mut client_out) = client.split();
        let (mut server_in, mut server_out) = server.split();
        let up = direction(Stream::Upstream, &mut client_in, &mut server_out, up_chain, &state);
        let down = direction(Stream::Downstream, &mut server_in, &mut client_out, down_chain, &state);
        let both = async { tokio::join!(up, down) };
        tokio::pin!(both);
        let mut both_done = false;
        loop {
            if let Some(outcome) = state.outcome() {
                break End::Over(outcome);
            }
            if both_done {
                break End::Over(Outcome::Closed(None));
            }
            let woken = state.wake.notified();
            tokio::select! {
                _ = &mut both, if !both_done => both_done = true,
                _ = woken => {}
                changed = ctx.went_down.changed() => break if changed.is_ok() { End::Down } else { End::Stopped },
            }
        }
    };
    let how = match outcome {
        // The proxy is going away: the record says so when it drops.
        End::Stopped => return,
        End::Down => {
            let _ = client.shutdown().await;
            "proxy went down (down toxic): connection closed".to_string()
        }
        End::Over(Outcome::Closed(first)) => match first {
            Some(Stream::Downstream) => "server closed".into(),
            _ => "client closed".into(),
        },
        End::Over(Outcome::Ended(ending)) => {
            match ending.close {
                Close::Reset => {
                    for socket in [&client, &server] {
                        let _ = socket2::SockRef::from(socket).set_linger(Some(Duration::ZERO));
                    }
                }
                Close::Fin => {
                    let _ = client.shutdown().await;
                    let _ = server.shutdown().await;
                }
            }
            ending.note
        }
    };
    drop(client);
    drop(server);
    record.close(how);
}
