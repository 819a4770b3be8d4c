//! `serve --metrics ADDR`: the metrics over HTTP/1.1 for Prometheus, and
//! nothing else.
//!
//! A listener of its own, apart from the socket's workers: a scrape never
//! takes a worker's turn from a `check`. It is deliberately small and
//! strict, since whoever can reach the port can talk to it unauthenticated:
//! one request a connection (`Connection: close`), its head at most
//! [`MAX_HEAD`] bytes within [`HEAD_DEADLINE`], answered by one of
//! [`HANDLERS`] threads; a connection that finds them all busy and
//! [`QUEUE`] waiting is closed at once. So a slow or hostile client ties up
//! at most one handler for a few seconds, and no number of them makes a
//! thread more.

use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::counters::Counters;
use super::{Log, POLL};
use crate::Store;
use crate::error::{Result, StoreError};
use crate::gate::{Op, Reply, Request};
use crate::metrics::{self, Outcome};

/// The most bytes of a request line and headers together.
pub const MAX_HEAD: usize = 8 * 1024;
/// How long a client has, from the moment it was accepted (time in the
/// queue counts), to send its request line and headers.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(5);
/// How long an answer may take to be taken by the client.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Threads answering scrapes: one Prometheus, a textfile job and an
/// administrator's curl at once, with one to spare.
pub const HANDLERS: usize = 4;
/// Connections accepted and waiting for a handler, at most.
pub const QUEUE: usize = 16;

/// Where the metrics are served.
#[derive(Debug, Clone)]
pub struct MetricsListen {
    /// The address to listen on (loopback unless the administrator chose otherwise).
    pub addr: SocketAddr,
}

/// The running listener: its threads, to be joined once `shutdown` is set.
pub(super) struct Running {
    accept: JoinHandle<()>,
    handlers: Vec<JoinHandle<()>>,
}

impl Running {
    /// Waits for the listener's threads (after `shutdown` was set).
    pub(super) fn join(self) {
        let _ = self.accept.join();
        for h in self.handlers {
            let _ = h.join();
        }
    }
}

/// Binds `listen.addr` and serves the metrics until `shutdown` is set.
pub(super) fn start(
    listen: &MetricsListen,
    store: &Arc<Store>,
    counters: &Arc<Counters>,
    log: &Log,
    shutdown: &Arc<AtomicBool>,
) -> Result<Running> {
    let listener = TcpListener::bind(listen.addr).map_err(|e| {
        StoreError::Service(format!("cannot serve metrics on {}: {e}", listen.addr))
    })?;
    // A blocking accept that looks at the shutdown flag every POLL.
    rustix::net::sockopt::set_socket_timeout(
        &listener,
        rustix::net::sockopt::Timeout::Recv,
        Some(POLL),
    )
    .map_err(|e| StoreError::Service(format!("metrics listener: {e}")))?;
    let addr = listener.local_addr().unwrap_or(listen.addr);
    log(&format!(
        "serving metrics on http://{addr}/metrics (unauthenticated: whoever reaches this address reads them)"
    ));
    let (tx, rx) = sync_channel::<(TcpStream, Instant)>(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    let mut handlers = Vec::with_capacity(HANDLERS);
    for _ in 0..HANDLERS {
        let (rx, store, counters, log, shutdown) = (
            rx.clone(),
            store.clone(),
            counters.clone(),
            log.clone(),
            shutdown.clone(),
        );
        let h = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || handle_queue(&rx, &store, &counters, &log, &shutdown))
            .map_err(|e| StoreError::Service(format!("metrics listener: no thread: {e}")))?;
        handlers.push(h);
    }
    let (log, shutdown) = (log.clone(), shutdown.clone());
    let accept = std::thread::Builder::new()
        .name("metrics-accept".into())
        .spawn(move || accept_loop(&listener, tx, &log, &shutdown))
        .map_err(|e| StoreError::Service(format!("metrics listener: no thread: {e}")))?;
    Ok(Running { accept, handlers })
}

/// Accepts until shutdown; each connection to a handler, or closed when all
/// are busy and the queue is full. Dropping `tx` at the end stops the handlers.
fn accept_loop(
    listener: &TcpListener,
    tx: SyncSender<(TcpStream, Instant)>,
    log: &Log,
    shutdown: &AtomicBool,
) {
    let mut turned_away: u64 = 0;
    while !shutdown.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, peer)) => match tx.try_send((stream, Instant::now())) {
                Ok(()) => {}
                Err(TrySendError::Full((stream, _))) => {
                    turned_away += 1;
                    // Said once in a while, not once a connection: a flood
                    // must not flood the log too.
                    if turned_away.is_power_of_two() {
                        log(&format!(
                            "metrics: {peer} turned away, every handler busy ({turned_away} so far)"
                        ));
                    }
                    busy(stream);
                }
                Err(TrySendError::Disconnected(_)) => return,
            },
            Err(e) if e.kind() == IoKind::WouldBlock || e.kind() == IoKind::Interrupted => {}
            Err(e) => {
                log(&format!("metrics: accept failed: {e}"));
                std::thread::sleep(POLL);
            }
        }
    }
}

/// Tells a client turned away so, without waiting for it.
fn busy(stream: TcpStream) {
    if stream.set_nonblocking(true).is_ok() {
        let mut stream = stream;
        let _ = stream.write_all(&response(
            "503 Service Unavailable",
            "text/plain; charset=utf-8",
            b"busy: try again\n",
            true,
        ));
    }
}

fn handle_queue(
    rx: &Mutex<Receiver<(TcpStream, Instant)>>,
    store: &Store,
    counters: &Counters,
    log: &Log,
    shutdown: &AtomicBool,
) {
    loop {
        let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok((stream, accepted)) = next else {
            return;
        };
        if shutdown.load(Ordering::Relaxed) {
            // Stopping: what waits in the queue is closed unanswered.
            continue;
        }
        handle(
            stream,
            accepted + HEAD_DEADLINE,
            store,
            counters,
            log,
            shutdown,
        );
    }
}

/// What a request head asks for.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Asked {
    /// GET or HEAD of /metrics (`head`: without the body).
    Metrics { head: bool },
    /// Another path.
    NotFound,
    /// Another method.
    MethodNotAllowed,
    /// Not an HTTP/1.x request line.
    BadRequest,
}

/// Reads a request head: the request line, headers, and the empty line.
/// `Ok(None)` when the client gave up or took too long (nothing to answer),
/// `Err(())` when the head is larger than [`MAX_HEAD`]. Gives up when the
/// service stops, too: a client that sends nothing does not hold up a stop.
fn read_head(
    stream: &mut TcpStream,
    deadline: Instant,
    shutdown: &AtomicBool,
) -> std::result::Result<Option<Vec<u8>>, ()> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero()
            || shutdown.load(Ordering::Relaxed)
            || stream.set_read_timeout(Some(left.min(POLL))).is_err()
        {
            return Ok(None);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => {
                let from = head.len().saturating_sub(3);
                head.extend_from_slice(&chunk[..n]);
                if let Some(end) = end_of_head(&head[from..]) {
                    head.truncate(from + end);
                    return Ok(Some(head));
                }
                if head.len() > MAX_HEAD {
                    return Err(());
                }
            }
            // A wait of POLL ended: look at the deadline and the shutdown flag.
            Err(e)
                if matches!(
                    e.kind(),
                    IoKind::Interrupted | IoKind::WouldBlock | IoKind::TimedOut
                ) => {}
            Err(_) => return Ok(None),
        }
    }
}

/// Where the head ends (after its empty line), if it does in `bytes`.
fn end_of_head(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| bytes.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
}

/// What the request line asks for.
pub(super) fn parse(head: &[u8]) -> Asked {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Ok(line) = std::str::from_utf8(line) else {
        return Asked::BadRequest;
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Asked::BadRequest;
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Asked::BadRequest;
    }
    let path = target.split('?').next().unwrap_or(target);
    if path != "/metrics" {
        return Asked::NotFound;
    }
    match method {
        "GET" => Asked::Metrics { head: false },
        "HEAD" => Asked::Metrics { head: true },
        _ => Asked::MethodNotAllowed,
    }
}

/// A whole response; `Connection: close` always (one request a connection).
fn response(status: &str, content_type: &str, body: &[u8], with_body: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    )
    .into_bytes();
    if status.starts_with("405") {
        out.extend_from_slice(b"Allow: GET, HEAD\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if with_body {
        out.extend_from_slice(body);
    }
    out
}

/// Answers one connection, whose head must be in by `deadline`.
fn handle(
    mut stream: TcpStream,
    deadline: Instant,
    store: &Store,
    counters: &Counters,
    log: &Log,
    shutdown: &AtomicBool,
) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let plain = "text/plain; charset=utf-8";
    let answer = match read_head(&mut stream, deadline, shutdown) {
        Ok(None) => return,
        Err(()) => response(
            "431 Request Header Fields Too Large",
            plain,
            format!("the request line and headers are limited to {MAX_HEAD} bytes\n").as_bytes(),
            true,
        ),
        Ok(Some(head)) => match parse(&head) {
            Asked::Metrics { head } => {
                let started = Instant::now();
                let result = scrape(store, counters);
                counters.record(Op::Metrics, Outcome::of(&result), started.elapsed());
                match result {
                    Ok(text) => response("200 OK", metrics::CONTENT_TYPE, text.as_bytes(), !head),
                    Err(e) => {
                        log(&format!("metrics: {e}"));
                        response(
                            "500 Internal Server Error",
                            plain,
                            b"the store could not be read; the service's log says why\n",
                            !head,
                        )
                    }
                }
            }
            Asked::NotFound => response(
                "404 Not Found",
                plain,
                b"the metrics are at /metrics\n",
                true,
            ),
            Asked::MethodNotAllowed => response(
                "405 Method Not Allowed",
                plain,
                b"only GET and HEAD\n",
                true,
            ),
            Asked::BadRequest => {
                response("400 Bad Request", plain, b"not an HTTP/1.x request\n", true)
            }
        },
    };
    if stream.write_all(&answer).is_err() {
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    // What the client sent beyond the head is read and dropped for a moment,
    // bounded: closing with it unread would reset the connection, and the
    // client might lose the answer.
    let until = Instant::now() + Duration::from_millis(500);
    let mut sink = [0u8; 4096];
    let mut drained = 0usize;
    while drained < 256 * 1024 {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// The metrics text, through the gate as the published endpoint.
fn scrape(store: &Store, counters: &Counters) -> Result<String> {
    match store.execute_published(Request::Metrics)? {
        Reply::Metrics(mut m) => {
            m.service = Some(counters.snapshot(store));
            Ok(metrics::render(&m))
        }
        other => Err(StoreError::Service(format!(
            "the answer to metrics was {:?}",
            other.op()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_are_read_strictly() {
        assert_eq!(
            parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Asked::Metrics { head: false }
        );
        assert_eq!(
            parse(b"HEAD /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Asked::Metrics { head: true }
        );
        assert_eq!(parse(b"GET / HTTP/1.1\r\n\r\n"), Asked::NotFound);
        assert_eq!(parse(b"GET /metricsx HTTP/1.1\r\n\r\n"), Asked::NotFound);
        assert_eq!(
            parse(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Asked::MethodNotAllowed
        );
        for bad in [
            &b"GET /metrics\r\n\r\n"[..],
            b"GET  /metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics HTTP/2\r\n\r\n",
            b"GET metrics HTTP/1.1\r\n\r\n",
            b"\xff /metrics HTTP/1.1\r\n\r\n",
            b"\r\n\r\n",
        ] {
            assert_eq!(parse(bad), Asked::BadRequest, "{bad:?}");
        }
    }

    #[test]
    fn the_end_of_a_head_is_found_with_either_line_ending() {
        assert_eq!(end_of_head(b"GET / HTTP/1.1\r\n\r\nrest"), Some(18));
        assert_eq!(end_of_head(b"GET / HTTP/1.1\n\nrest"), Some(16));
        assert_eq!(end_of_head(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
    }

    #[test]
    fn responses_say_their_length_and_close() {
        let r = response("405 Method Not Allowed", "text/plain", b"no\n", true);
        let text = String::from_utf8(r).expect("text");
        assert!(text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
        assert!(text.contains("Content-Length: 3\r\n"));
        assert!(text.contains("Connection: close\r\n"));
        assert!(text.contains("Allow: GET, HEAD\r\n"));
        assert!(text.ends_with("\r\n\r\nno\n"));
        let head = response("200 OK", "text/plain", b"body", false);
        assert!(
            String::from_utf8(head)
                .expect("text")
                .ends_with("Content-Length: 4\r\nConnection: close\r\n\r\n")
        );
    }
}
