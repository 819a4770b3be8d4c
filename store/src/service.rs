//! `tessera serve`: one process owns the store and answers on a Unix socket,
//! so that administrators, open consoles and the licensed product can all work
//! at once (sled lets one process open a store).
//!
//! Identity comes from the kernel (the socket's peer credentials), never from
//! what a client says; a thread serves each connection, so a slow or broken
//! client holds up only itself; time-driven rules run on a timer; a shutdown
//! request finishes what is in flight, syncs and returns.

use std::io::{ErrorKind as IoKind, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::Store;
use crate::api::{Api, Local};
use crate::error::{Result, StoreError};
use crate::protocol::{
    ErrorKind, Frame, Hello, MAX_FRAME, Push, Request, Response, VERSION, WireError,
};

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The socket's path.
    pub socket: PathBuf,
    /// The group the socket belongs to (mode 0660), if not the service's own.
    pub group: Option<u32>,
    /// How often the time-driven rules run.
    pub tick_every: Duration,
}

/// Something for the service's log (the binary prints it; this crate never does).
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// How often blocked reads and accepts look at the shutdown flag.
const POLL: Duration = Duration::from_millis(200);

/// A reply that takes longer than this to be read by the client drops the client.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves until `shutdown` is set, then finishes in-flight requests, syncs and returns.
pub fn serve(
    store: Arc<Store>,
    options: &Options,
    shutdown: Arc<AtomicBool>,
    log: Log,
) -> Result<()> {
    let socket = &options.socket;
    if socket.exists() {
        if UnixStream::connect(socket).is_ok() {
            return Err(StoreError::Rule(format!(
                "a service already answers on {}",
                socket.display()
            )));
        }
        // Left by a service that was killed: nobody answers on it.
        std::fs::remove_file(socket).map_err(|e| StoreError::io(socket, e))?;
    }
    let listener = UnixListener::bind(socket).map_err(|e| StoreError::io(socket, e))?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| StoreError::io(socket, e))?;
    if let Some(gid) = options.group {
        std::os::unix::fs::chown(socket, None, Some(gid)).map_err(|e| StoreError::io(socket, e))?;
    }
    // A blocking accept that gives up after POLL to look at the shutdown flag
    // (Linux honours SO_RCVTIMEO on a listening socket): a client is accepted
    // at once, not at the next turn of a polling loop.
    rustix::net::sockopt::set_socket_timeout(
        &listener,
        rustix::net::sockopt::Timeout::Recv,
        Some(POLL),
    )
    .map_err(|e| StoreError::io(socket, e.into()))?;
    let serial = store.installation()?.serial;
    log(&format!(
        "serving store {} (serial {serial}) on {}",
        store.dir().display(),
        socket.display()
    ));

    let ticker = {
        let (store, shutdown, log, every) = (
            store.clone(),
            shutdown.clone(),
            log.clone(),
            options.tick_every,
        );
        std::thread::spawn(move || {
            let mut last = Instant::now() - every;
            while !shutdown.load(Ordering::Relaxed) {
                if last.elapsed() >= every {
                    last = Instant::now();
                    match store.tick() {
                        Ok(r) => {
                            for u in &r.deactivated {
                                log(&format!(
                                    "tick: deactivated {u}: over-allocation grace ended"
                                ));
                            }
                            for n in &r.notices {
                                log(&format!("tick: {n}"));
                            }
                        }
                        Err(e) => log(&format!("tick failed: {e}")),
                    }
                }
                std::thread::sleep(POLL);
            }
        })
    };

    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    while !shutdown.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                let (store, shutdown, log, serial) =
                    (store.clone(), shutdown.clone(), log.clone(), serial.clone());
                connections.push(std::thread::spawn(move || {
                    connection(store, stream, &shutdown, &log, &serial)
                }));
                connections.retain(|h| !h.is_finished());
            }
            Err(e) if e.kind() == IoKind::WouldBlock || e.kind() == IoKind::Interrupted => {}
            Err(e) => {
                log(&format!("accept failed: {e}"));
                std::thread::sleep(POLL);
            }
        }
    }
    log("stopping: no new connections; finishing requests in flight");
    drop(listener);
    let _ = std::fs::remove_file(socket);
    for h in connections {
        let _ = h.join();
    }
    let _ = ticker.join();
    store.sync()?;
    log("stopped; the store is synced");
    Ok(())
}

/// Reads newline-ended frames of at most [`MAX_FRAME`] bytes.
struct Lines {
    stream: UnixStream,
    buf: Vec<u8>,
}

enum Line {
    Frame(Vec<u8>),
    TooLarge,
    Idle,
    Closed,
}

impl Lines {
    fn next(&mut self) -> Line {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                return Line::Frame(line);
            }
            if self.buf.len() > MAX_FRAME {
                return Line::TooLarge;
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Line::Closed,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        IoKind::WouldBlock | IoKind::TimedOut | IoKind::Interrupted
                    ) =>
                {
                    return Line::Idle;
                }
                Err(_) => return Line::Closed,
            }
        }
    }
}

fn send(writer: &Mutex<UnixStream>, value: &impl serde::Serialize) -> bool {
    let Ok(mut line) = serde_json::to_vec(value) else {
        return false;
    };
    line.push(b'\n');
    let Ok(mut w) = writer.lock() else {
        return false;
    };
    w.write_all(&line).and_then(|_| w.flush()).is_ok()
}

fn error(id: u64, kind: ErrorKind, message: String) -> Response {
    Response {
        id,
        ok: false,
        result: None,
        error: Some(WireError { kind, message }),
    }
}

fn connection(
    store: Arc<Store>,
    stream: UnixStream,
    shutdown: &AtomicBool,
    log: &Log,
    serial: &str,
) {
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let writer = Arc::new(Mutex::new(write_half));
    let uid = match rustix::net::sockopt::socket_peercred(&stream) {
        Ok(c) => c.uid.as_raw(),
        Err(e) => {
            log(&format!("refused a connection: no peer credentials ({e})"));
            return;
        }
    };
    let Some(user) = crate::identity::name_of_uid(uid) else {
        log(&format!("refused uid {uid}: no login name on this host"));
        send(
            &writer,
            &error(
                0,
                ErrorKind::Refused,
                format!(
                    "uid {uid} has no login name on this host; the service acts only for known users"
                ),
            ),
        );
        return;
    };
    let api = Local {
        store: store.clone(),
        operator: user.clone(),
    };
    let hello = Hello {
        service: "tessera".into(),
        protocol: VERSION,
        version: env!("CARGO_PKG_VERSION").into(),
        user: user.clone(),
        serial: serial.to_string(),
    };
    if !send(&writer, &hello) {
        return;
    }
    let mut lines = Lines {
        stream,
        buf: Vec::new(),
    };
    let mut subscription: Option<JoinHandle<()>> = None;
    let alive = Arc::new(AtomicBool::new(true));
    loop {
        // Stopping: what was in flight has been answered; a client that keeps
        // sending must not keep the service up.
        if shutdown.load(Ordering::Relaxed) {
            break;
        }
        match lines.next() {
            Line::Closed => break,
            Line::Idle => {
                if shutdown.load(Ordering::Relaxed) {
                    break;
                }
            }
            Line::TooLarge => {
                // The rest of the line cannot be told from the next request: answer and hang up.
                send(
                    &writer,
                    &error(
                        0,
                        ErrorKind::BadRequest,
                        format!(
                            "request line longer than {MAX_FRAME} bytes; the connection is closed"
                        ),
                    ),
                );
                break;
            }
            Line::Frame(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                if text.trim().is_empty() {
                    continue;
                }
                let frame: Frame = match serde_json::from_str(&text) {
                    Ok(f) => f,
                    Err(e) => {
                        let id = serde_json::from_str::<serde_json::Value>(&text)
                            .ok()
                            .and_then(|v| v.get("id").and_then(|i| i.as_u64()))
                            .unwrap_or(0);
                        if !send(
                            &writer,
                            &error(id, ErrorKind::BadRequest, format!("not a request: {e}")),
                        ) {
                            break;
                        }
                        continue;
                    }
                };
                if frame.v != VERSION {
                    send(
                        &writer,
                        &error(
                            frame.id,
                            ErrorKind::BadRequest,
                            format!(
                                "protocol version {} is not spoken here; this service speaks {VERSION}",
                                frame.v
                            ),
                        ),
                    );
                    continue;
                }
                if let Request::Subscribe { after } = frame.request {
                    if subscription.is_none() {
                        let (store, writer, alive) = (store.clone(), writer.clone(), alive.clone());
                        subscription = Some(std::thread::spawn(move || {
                            subscribe(&store, &writer, after, &alive)
                        }));
                    }
                    if !send(
                        &writer,
                        &Response {
                            id: frame.id,
                            ok: true,
                            result: Some(serde_json::Value::Null),
                            error: None,
                        },
                    ) {
                        break;
                    }
                    continue;
                }
                let response = match dispatch(&api, frame.request) {
                    Ok(result) => Response {
                        id: frame.id,
                        ok: true,
                        result: Some(result),
                        error: None,
                    },
                    Err(e) => error(
                        frame.id,
                        if e.is_refusal() {
                            ErrorKind::Refused
                        } else {
                            ErrorKind::Internal
                        },
                        e.to_string(),
                    ),
                };
                if !send(&writer, &response) {
                    break;
                }
            }
        }
    }
    alive.store(false, Ordering::Relaxed);
    if let Some(h) = subscription {
        let _ = h.join();
    }
}

fn subscribe(store: &Store, writer: &Mutex<UnixStream>, after: Option<u64>, alive: &AtomicBool) {
    // Watch first, then send the backlog, so that nothing falls between the two.
    let mut watch = store.watch_events();
    let mut last = after.unwrap_or(u64::MAX);
    if let Some(after) = after {
        let mut backlog = store.events(10_000, None).unwrap_or_default();
        backlog.retain(|e| e.seq > after);
        backlog.reverse();
        for event in backlog {
            last = event.seq;
            if !send(writer, &Push { event }) {
                return;
            }
        }
    }
    while alive.load(Ordering::Relaxed) {
        if let Some(event) = watch.next(POLL) {
            if last != u64::MAX && event.seq <= last {
                continue;
            }
            last = event.seq;
            if !send(writer, &Push { event }) {
                return;
            }
        }
    }
}

fn value<T: serde::Serialize>(r: Result<T>) -> Result<serde_json::Value> {
    let v = r?;
    serde_json::to_value(v)
        .map_err(|e| StoreError::Service(format!("cannot encode the result: {e}")))
}

/// Carries out one request as the connection's user.
pub fn dispatch(api: &dyn Api, request: Request) -> Result<serde_json::Value> {
    match request {
        Request::Installation => value(api.installation()),
        Request::RequireLicenceReader => value(api.require_licence_reader()),
        Request::Status => value(api.status()),
        Request::Licences => value(api.licences()),
        Request::UsersPage(q) => value(api.users_page(&q)),
        Request::User { name } => value(api.user(&name)),
        Request::AddUser(new) => value(api.add_user(&new)),
        Request::SetUser { name, change } => value(api.set_user(&name, &change)),
        Request::Deactivate { name } => value(api.deactivate(&name)),
        Request::Activate { name } => value(api.activate(&name)),
        Request::DeleteUser { name } => value(api.delete_user(&name)),
        Request::AddOnHolders { module } => value(api.add_on_holders(&module)),
        Request::Check { user } => value(api.check(&user)),
        Request::RecordUsage { user, kind, day } => value(api.record_usage(&user, kind, day)),
        Request::RecordStorage { bytes } => value(api.record_storage(bytes)),
        Request::RecordMetered { service, count } => value(api.record_metered(&service, count)),
        Request::Import { licence } => value(api.import(licence.as_bytes())),
        Request::Tick => value(api.tick()),
        Request::Events { limit, before } => value(api.events(limit.min(10_000), before)),
        Request::AuditVerify => value(api.audit_verify()),
        Request::QuoteSeats {
            licence,
            term,
            action,
            count,
        } => value(api.quote_seats(&licence, &term, action, count)),
        Request::RequestSeats {
            licence,
            term,
            action,
            count,
            note,
        } => value(api.request_seats(&licence, &term, action, count, &note)),
        Request::UsageReport { month } => value(api.usage_report(month)),
        Request::Outbox => value(api.outbox()),
        Request::ExportContracts => value(
            api.export_contracts()
                .map(|(n, b)| (n, base64::engine::general_purpose::STANDARD.encode(b))),
        ),
        Request::Subscribe { .. } => Err(StoreError::Rule(
            "subscribe is answered by the connection, not dispatched".into(),
        )),
    }
}
