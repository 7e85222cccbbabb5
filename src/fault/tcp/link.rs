//! The plumbing of one proxied connection: per direction, a reader cutting the source
//! socket into chunks, a chain of toxic stages joined by small channels, and a writer;
//! plus the state the stages share to end the connection. Everything of a connection
//! runs as futures of one task, so dropping that task drops every socket it holds.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, mpsc};

use super::{Rng, Stream, Toxic, ToxicKind, Window};
use crate::fake::RequestLog;
use crate::fake::record::Slot;

/// Buffer of a direction without toxics: large, so a bulk transfer costs few syscalls.
const COPY_BUFFER: usize = 256 * 1024;
/// Most a reader hands to the first stage at once.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting between two stages: little, so backpressure reaches the sender.
const CHANNEL: usize = 4;

/// A toxic as a stage of a direction's chain: it takes chunks from `link.input`, gives
/// (possibly changed, delayed or no) chunks to `link.output`, and returns when it has no
/// more to give, which the next stage sees as the end of the stream. A stage that ends
/// the whole connection calls [`Link::end`].
pub(crate) trait Stage: Sync {
    /// Runs the stage until the input ends or the connection does.
    fn pipe<'a>(&'a self, link: Link<'a>) -> impl Future<Output = ()> + Send + 'a;
}

/// What a stage works with.
pub(crate) struct Link<'a> {
    /// Chunks from the previous stage (or the socket); `None` is the end of the stream.
    pub input: mpsc::Receiver<Bytes>,
    /// Chunks to the next stage (or the socket).
    pub output: mpsc::Sender<Bytes>,
    /// The toxic's time window, which also logs when the toxic first acts.
    pub gate: Gate<'a>,
    /// Randomness for this toxic on this connection.
    pub rng: Rng,
    /// The direction.
    pub stream: Stream,
    /// The connection.
    pub conn: &'a ConnState,
}

impl Link<'_> {
    /// The next chunk, or `None` at the end of the stream.
    pub async fn recv(&mut self) -> Option<Bytes> {
        self.input.recv().await
    }

    /// Passes a chunk on; false when nothing downstream reads any more.
    pub async fn send(&self, chunk: Bytes) -> bool {
        chunk.is_empty() || self.output.send(chunk).await.is_ok()
    }

    /// Passes everything on unchanged until the end of the stream.
    pub async fn pass(mut self) {
        while let Some(chunk) = self.recv().await {
            if !self.send(chunk).await {
                return;
            }
        }
    }

    /// Counts bytes thrown away (reported in the connection's note).
    pub fn discard(&self, bytes: usize) {
        self.conn.dropped[self.stream.index()].fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Ends the whole connection now and never returns: the connection drops every stage.
    pub async fn end(&self, close: Close, note: String) {
        self.conn.end(Ending { close, note, after_drain: None });
        std::future::pending::<()>().await;
    }

    /// Ends the whole connection once what this stage has passed on has been written
    /// (and the direction closed with a FIN); the stage returns right after.
    pub fn end_after_drain(&self, note: String) {
        self.conn.end(Ending { close: Close::Fin, note, after_drain: Some(self.stream) });
    }

    /// Adds a remark to the connection's note ("slow_close held the close 1s").
    pub fn remark(&self, remark: String) {
        self.conn.lock().remarks.push(remark);
    }
}

/// A toxic's time window on one connection. Asking whether it is active also records,
/// the first time it is, that the toxic acted on the connection.
pub(crate) struct Gate<'a> {
    window: Window,
    label: String,
    logged: bool,
    log: &'a RequestLog,
    slot: Slot,
}

impl<'a> Gate<'a> {
    /// A gate for a toxic listed as `label` on the connection recorded in `slot`;
    /// `logged` when the record already lists it.
    pub fn new(window: Window, label: String, logged: bool, log: &'a RequestLog, slot: Slot) -> Gate<'a> {
        Gate { window, label, logged, log, slot }
    }

    /// True while the window is open.
    pub fn active(&mut self) -> bool {
        let active = self.window.contains(Instant::now());
        if active && !self.logged {
            self.logged = true;
            self.log.add_fault(self.slot, self.label.clone());
        }
        active
    }

    /// When the window next opens or heals, if ever.
    pub fn next_change(&self) -> Option<Instant> {
        self.window.next_change(Instant::now())
    }
}

/// How a connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Close {
    /// FIN to both sides.
    Fin,
    /// RST to both sides (SO_LINGER 0, then close).
    Reset,
}

/// A request to end the connection.
#[derive(Debug, Clone)]
pub(crate) struct Ending {
    /// How.
    pub close: Close,
    /// Why, for the request log.
    pub note: String,
    /// Wait until this direction's writer has finished first.
    pub after_drain: Option<Stream>,
}

/// How a connection ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// Both directions reached the end of their stream; the one that did first.
    Closed(Option<Stream>),
    /// A stage or an I/O error ended it.
    Ended(Ending),
}

/// What the parts of one connection share.
#[derive(Default)]
pub(crate) struct ConnState {
    inner: Mutex<ConnInner>,
    /// Woken whenever an ending is asked for or a direction finishes.
    pub wake: Notify,
    /// Bytes written to the far side, per direction (upstream: to the server).
    pub written: [AtomicU64; 2],
    /// Bytes thrown away by toxics, per direction.
    pub dropped: [AtomicU64; 2],
}

#[derive(Default)]
struct ConnInner {
    ending: Option<Ending>,
    /// The writer of each direction has closed its side (FIN sent).
    finished: [bool; 2],
    /// The direction whose source closed first.
    first_eof: Option<Stream>,
    remarks: Vec<String>,
}

impl ConnState {
    fn lock(&self) -> std::sync::MutexGuard<'_, ConnInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks for the connection to end; the first request wins.
    pub fn end(&self, ending: Ending) {
        let mut inner = self.lock();
        if inner.ending.is_none() {
            inner.ending = Some(ending);
        }
        drop(inner);
        self.wake.notify_one();
    }

    /// How the connection ended, once it has.
    pub fn outcome(&self) -> Option<Outcome> {
        let inner = self.lock();
        if let Some(ending) = &inner.ending
            && ending.after_drain.is_none_or(|s| inner.finished[s.index()])
        {
            return Some(Outcome::Ended(ending.clone()));
        }
        (inner.finished == [true, true]).then_some(Outcome::Closed(inner.first_eof))
    }

    /// Remarks added by stages.
    pub fn remarks(&self) -> Vec<String> {
        self.lock().remarks.clone()
    }

    fn source_closed(&self, stream: Stream) {
        self.lock().first_eof.get_or_insert(stream);
    }

    /// The writer of `stream` reached the end: closes that side unless the connection is
    /// being ended some other way (a reset must not be preceded by a FIN).
    async fn finish<W: AsyncWrite + Unpin>(&self, stream: Stream, to: &mut W) {
        let ending_elsewhere = self.lock().ending.as_ref().is_some_and(|e| e.after_drain != Some(stream));
        if ending_elsewhere {
            return std::future::pending().await;
        }
        let _ = to.shutdown().await;
        self.lock().finished[stream.index()] = true;
        self.wake.notify_one();
    }

    /// An I/O error on a socket ends the connection; a reset travels on as a reset.
    fn failed(&self, stream: Stream, reading: bool, error: io::Error) {
        // Upstream reads from the client and writes to the server; downstream the reverse.
        let side = if (stream == Stream::Upstream) == reading { "client" } else { "server" };
        let (close, what) = match error.kind() {
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                (Close::Reset, format!("{side} reset the connection"))
            }
            io::ErrorKind::BrokenPipe => (Close::Reset, format!("{side} went away")),
            _ => (Close::Fin, format!("{side} error: {error}")),
        };
        self.end(Ending { close, note: what, after_drain: None });
    }

    fn wrote(&self, stream: Stream, bytes: usize) {
        self.written[stream.index()].fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// One direction's stages: the toxic, its gate and its randomness.
pub(crate) type Chain<'a> = Vec<(&'a Toxic, Gate<'a>, Rng)>;

/// Carries `stream` from `from` to `to` through `chain` until both ends are done.
pub(crate) async fn direction<R, W>(stream: Stream, from: &mut R, to: &mut W, chain: Chain<'_>, conn: &ConnState)
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
{
    if chain.is_empty() {
        return copy(stream, from, to, conn).await;
    }
    let mut parts: Vec<Pin<Box<dyn Future<Output = ()> + Send + '_>>> = Vec::new();
    let (tx, mut rx) = mpsc::channel(CHANNEL);
    parts.push(Box::pin(read_chunks(stream, from, tx, conn)));
    for (toxic, gate, rng) in chain {
        let (tx, next) = mpsc::channel(CHANNEL);
        let link = Link { input: rx, output: tx, gate, rng, stream, conn };
        parts.push(stage(&toxic.kind, link));
        rx = next;
    }
    parts.push(Box::pin(write_chunks(stream, to, rx, conn)));
    join_all(parts).await;
}

fn stage<'a>(kind: &'a ToxicKind, link: Link<'a>) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
    match kind {
        ToxicKind::Latency(t) => Box::pin(t.pipe(link)),
        ToxicKind::Bandwidth(t) => Box::pin(t.pipe(link)),
        ToxicKind::SlowClose(t) => Box::pin(t.pipe(link)),
        ToxicKind::Timeout(t) => Box::pin(t.pipe(link)),
        ToxicKind::ResetPeer(t) => Box::pin(t.pipe(link)),
        ToxicKind::Slicer(t) => Box::pin(t.pipe(link)),
        ToxicKind::LimitData(t) => Box::pin(t.pipe(link)),
        ToxicKind::Down => Box::pin(link.pass()),
    }
}

/// The zero-toxic path: a straight copy with a large buffer.
async fn copy<R, W>(stream: Stream, from: &mut R, to: &mut W, conn: &ConnState)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buffer = vec![0u8; COPY_BUFFER];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => return conn.failed(stream, true, e),
        };
        if let Err(e) = to.write_all(&buffer[..n]).await {
            return conn.failed(stream, false, e);
        }
        conn.wrote(stream, n);
    }
    conn.source_closed(stream);
    conn.finish(stream, to).await;
}

async fn read_chunks<R: AsyncRead + Unpin>(stream: Stream, from: &mut R, tx: mpsc::Sender<Bytes>, conn: &ConnState) {
    let mut buffer = BytesMut::new();
    loop {
        buffer.reserve(CHUNK);
        match (&mut *from).take(CHUNK as u64).read_buf(&mut buffer).await {
            Ok(0) => return conn.source_closed(stream),
            Ok(_) => {
                if tx.send(buffer.split().freeze()).await.is_err() {
                    return;
                }
            }
            Err(e) => return conn.failed(stream, true, e),
        }
    }
}

async fn write_chunks<W: AsyncWrite + Unpin>(
    stream: Stream,
    to: &mut W,
    mut rx: mpsc::Receiver<Bytes>,
    conn: &ConnState,
) {
    while let Some(chunk) = rx.recv().await {
        if let Err(e) = to.write_all(&chunk).await {
            return conn.failed(stream, false, e);
        }
        conn.wrote(stream, chunk.len());
    }
    conn.finish(stream, to).await;
}

/// Runs futures of one task side by side until all are done, dropping each as it ends
/// (so a stage that returns closes its output at once).
async fn join_all(parts: Vec<Pin<Box<dyn Future<Output = ()> + Send + '_>>>) {
    let mut parts: Vec<_> = parts.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in parts.iter_mut() {
            if let Some(part) = slot {
                if part.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await
}

/// Sleeps until `deadline`, or forever when there is none.
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Paces events on an absolute schedule, so that timer granularity (a millisecond in
/// tokio) and late wake-ups on a loaded machine do not add up over many waits.
pub(crate) struct Pacer {
    next: Instant,
}

impl Pacer {
    /// How far behind schedule the pacer may fall and still catch up; beyond it (an idle
    /// link), the schedule restarts from now instead of bursting.
    const SLACK: Duration = Duration::from_millis(100);

    /// A schedule starting now.
    pub fn new() -> Pacer {
        Pacer { next: Instant::now() }
    }

    /// Waits until `step` after the previous deadline.
    pub async fn wait(&mut self, step: Duration) {
        let now = Instant::now();
        if self.next + Self::SLACK < now {
            self.next = now;
        }
        self.next += step;
        tokio::time::sleep_until(self.next.into()).await;
    }

    /// Forgets the schedule (the toxic stopped acting).
    pub fn reset(&mut self) {
        self.next = Instant::now();
    }
}
