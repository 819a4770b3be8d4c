//! `tessera serve`: one process owns the store and answers on a Unix socket,
//! so that administrators, open consoles and the licensed product can all work
//! at once (sled lets one process open a store).
//!
//! Identity comes from the kernel (the socket's peer credentials), never from
//! what a client says; time-driven rules run on a timer; a shutdown request
//! finishes what is in flight, syncs and returns.
//!
//! How connections are served, and why: a few worker threads (half the cores,
//! at least one and at most four) each own a set of connections and wait on them with epoll. A
//! worker answers at once, on its own thread, what is answered by reading
//! (`check`, a repeated `record_usage`, the installation, one user); anything
//! that may wait (a write waits for its sync, and reports and audits take a
//! while) goes to a pool of threads, and the worker reads no further from that
//! connection until the answer is back, so each connection is still answered
//! in order. A thread a connection, as before, put fifty or more threads in
//! the run queue of a two-core machine: the latency of a `check` was mostly
//! waiting to be scheduled. Sockets are non-blocking and every reply is
//! buffered, so a client that sends garbage, stops half-way, or never reads its
//! answers holds up only itself (a client whose answers make no progress for
//! `WRITE_TIMEOUT`, 10 s, is dropped).
//!
//! Where each part lives:
//! - here: the options, the accept loop, the timer, and stopping;
//! - `accept`: who connected (peer credentials) and the greeting;
//! - `reactor`: the epoll workers, their mailboxes, and each connection's turns;
//! - `framing`: lines in (at most [`crate::protocol::MAX_FRAME`] bytes; bad
//!   requests) and lines out;
//! - `dispatch`: what a request becomes, answered at once or sent to the pool,
//!   as the table of operations says ([`crate::gate::Op::mode`]);
//! - `pool`: the threads for requests that may wait;
//! - `subscriptions`: the threads that stream events to subscribed connections;
//! - `counters`: what the service counts for its metrics;
//! - `http`: the metrics over HTTP (`serve --metrics`), on threads of its own.

mod accept;
mod counters;
mod dispatch;
mod framing;
mod http;
mod limits;
mod pool;
mod reactor;
mod stream;
mod subscriptions;
mod systemd;

use std::io::ErrorKind as IoKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use dispatch::respond;
pub use http::{HANDLERS, HEAD_DEADLINE, MAX_HEAD, MetricsListen, QUEUE};

use self::accept::greet;
use self::pool::Pool;
use self::reactor::{Message, Worker};
use crate::Store;
use crate::error::{Result, StoreError};

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The socket's path.
    pub socket: PathBuf,
    /// The group the socket belongs to (mode 0660), if not the service's own.
    pub group: Option<u32>,
    /// How often the time-driven rules run.
    pub tick_every: Duration,
    /// The most connections one login user may hold open at once.
    pub max_per_user: usize,
    /// A connection that has sent no request for this long since it
    /// connected is closed (one that has asked something is a client, and is
    /// kept; it still counts against its user's limit).
    pub idle: Duration,
}

/// Where and how the service listens for TLS clients (mutual TLS only;
/// [`crate::tls`]).
#[derive(Debug, Clone)]
pub struct TlsListen {
    /// The address to listen on.
    pub addr: std::net::SocketAddr,
    /// The server's configuration: its certificate, the client CA, the CRLs.
    pub config: Arc<rustls::ServerConfig>,
}

/// TLS connections being set up or carried at once, at most: each holds a
/// thread.
const MAX_TLS_CONNECTIONS: usize = 512;

impl Options {
    /// The most connections one login user holds open by default: far more
    /// than a console, a product and a few scripts need, far fewer than the
    /// descriptors the service has.
    pub const MAX_PER_USER: usize = 64;
    /// How long a new connection may ask nothing before it is closed, by default.
    pub const IDLE: Duration = Duration::from_secs(60);
}

/// Something for the service's log (the binary prints it; this crate never does).
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// How often blocked waits look at the shutdown flag.
const POLL: Duration = Duration::from_millis(200);

/// A client whose replies make no progress for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves until `shutdown` is set, then finishes in-flight requests, syncs and returns.
pub fn serve(
    store: Arc<Store>,
    options: &Options,
    shutdown: Arc<AtomicBool>,
    log: Log,
) -> Result<()> {
    serve_with(store, options, Extras::default(), shutdown, log)
}

/// What `tessera serve` may add to a plain service.
#[derive(Debug, Default)]
pub struct Extras {
    /// A TLS listener beside the socket, for products on other hosts.
    pub tls: Option<TlsListen>,
    /// The listening socket systemd passed (socket activation): served
    /// instead of binding `Options::socket`, and left in place at the end
    /// (it is systemd's).
    pub activated: Option<UnixListener>,
    /// Where to serve the metrics over HTTP (`serve --metrics`).
    pub metrics: Option<MetricsListen>,
}

/// [`serve`], with what `extras` adds.
pub fn serve_with(
    store: Arc<Store>,
    options: &Options,
    extras: Extras,
    shutdown: Arc<AtomicBool>,
    log: Log,
) -> Result<()> {
    let Extras {
        tls,
        activated,
        metrics,
    } = extras;
    let socket = &options.socket;
    if let Some(warning) = store.installation_key_warning() {
        log(&format!("warning: {warning}"));
    }
    let (listener, ours) = match activated {
        // systemd made it, with its owner and mode: nothing to clear or bind.
        Some(listener) => (listener, None),
        None => {
            remove_stale(socket)?;
            let (listener, ours) = bind_private(socket, options.group)?;
            (listener, Some(ours))
        }
    };
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
    let pool = Pool::new();
    let counters = Arc::new(counters::Counters::new(store.now()?.timestamp()));
    // Half the cores: the licensed product, whose requests these are, runs on
    // the same host, and a worker that has to share its core with the
    // clients' threads is preempted with all its connections waiting (on two
    // cores, one worker answered the load benchmark with p99 0.9-1.3 ms where
    // two gave 1.3-1.9 ms; docs/PERFORMANCE.md section 6). One worker answers
    // over 100,000 reads a second; what is slow goes to the pool anyway.
    let count = std::thread::available_parallelism()
        .map(|n| n.get() / 2)
        .unwrap_or(1)
        .clamp(1, 4);
    let mut workers = Vec::with_capacity(count);
    for _ in 0..count {
        workers.push(Worker::start(
            &store,
            &pool,
            &counters,
            &shutdown,
            options.idle,
        )?);
    }
    counters.set_mailboxes(workers.iter().map(|(m, _)| m.clone()).collect());
    log(&format!(
        "serving store {} (serial {serial}) on {} ({count} workers)",
        store.dir().display(),
        socket.display()
    ));
    let per_uid = limits::PerUid::new(options.max_per_user);
    let tls = match &tls {
        Some(listen) => Some(tls_listener(
            listen,
            &store,
            &serial,
            &log,
            &per_uid,
            Handoff {
                mailboxes: workers.iter().map(|(m, _)| m.clone()).collect(),
                counters: counters.clone(),
            },
            &shutdown,
        )?),
        None => None,
    };
    let metrics = match &metrics {
        Some(listen) => Some(http::start(listen, &store, &counters, &log, &shutdown)?),
        None => None,
    };
    // Ready: the store is open and every listener takes connections
    // (systemd's Type=notify; nothing when not started by systemd).
    systemd::notify("READY=1");

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

    // One descriptor kept in reserve: when the process runs out, it is let go
    // so that a new client can still be accepted and told why it is turned
    // away, instead of finding its connection reset.
    let mut spare = std::fs::File::open("/dev/null").ok();
    while !shutdown.load(Ordering::Relaxed) {
        match listener.accept() {
            // Stopping already (the workers are closing their connections):
            // a client greeted now would be dropped a moment later, and
            // would take the greeting for a service that answers. Closed
            // unanswered, it tries again, and finds the next owner.
            Ok(_) if shutdown.load(Ordering::Relaxed) => {}
            Ok((stream, _)) => {
                if let Some(conn) = greet(&store, stream, &log, &serial, &per_uid, &mut spare) {
                    // The worker with the fewest connections takes it.
                    if let Some((mailbox, _)) = workers
                        .iter()
                        .min_by_key(|(m, _)| m.connections.load(Ordering::Relaxed))
                    {
                        mailbox.connections.fetch_add(1, Ordering::Relaxed);
                        counters.connection();
                        mailbox.post(Message::Adopt(Box::new(conn)));
                    }
                }
            }
            Err(e) if e.kind() == IoKind::WouldBlock || e.kind() == IoKind::Interrupted => {}
            Err(e) if matches!(e.raw_os_error(), Some(24 | 23)) && spare.is_some() => {
                // EMFILE or ENFILE: out of descriptors.
                drop(spare.take());
                if let Ok((mut stream, _)) = listener.accept() {
                    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
                    accept::refuse(
                        &mut stream,
                        crate::error::Code::TooManyConnections,
                        "the service has no descriptors left for another connection; try again shortly".into(),
                    );
                }
                let open: usize = workers
                    .iter()
                    .map(|(m, _)| m.connections.load(Ordering::Relaxed))
                    .sum();
                log(&format!(
                    "out of descriptors ({e}) with {open} connections open: a new client was refused"
                ));
                spare = std::fs::File::open("/dev/null").ok();
                if spare.is_none() {
                    std::thread::sleep(POLL);
                }
            }
            Err(e) => {
                log(&format!("accept failed: {e}"));
                std::thread::sleep(POLL);
            }
        }
    }
    systemd::notify("STOPPING=1");
    log("stopping: no new connections; finishing requests in flight");
    drop(listener);
    // Only the socket this service made: never a file put there since.
    if let Some(ours) = ours
        && std::fs::symlink_metadata(socket).is_ok_and(|m| (m.dev(), m.ino()) == ours)
    {
        let _ = std::fs::remove_file(socket);
    }
    for (mailbox, handle) in workers {
        mailbox.post(Message::Stop);
        let _ = handle.join();
    }
    pool.join();
    let _ = ticker.join();
    if let Some(t) = tls {
        let _ = t.join();
    }
    if let Some(m) = metrics {
        m.join();
    }
    store.sync()?;
    log("stopped; the store is synced");
    Ok(())
}

/// Where a TLS client's connection goes: the workers' mailboxes, and the
/// counters that count it.
struct Handoff {
    mailboxes: Vec<Arc<reactor::Mailbox>>,
    counters: Arc<counters::Counters>,
}

/// Listens for TLS clients on `listen.addr` on a thread of its own: each
/// client's handshake on a thread, its certificate's name as its user, its
/// connection handed to the least busy worker as a socket pair.
fn tls_listener(
    listen: &TlsListen,
    store: &Arc<Store>,
    serial: &str,
    log: &Log,
    per_uid: &Arc<limits::PerUid>,
    handoff: Handoff,
    shutdown: &Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>> {
    let Handoff {
        mailboxes,
        counters,
    } = handoff;
    let listener = std::net::TcpListener::bind(listen.addr).map_err(|e| {
        StoreError::Service(format!("cannot listen for TLS on {}: {e}", listen.addr))
    })?;
    rustix::net::sockopt::set_socket_timeout(
        &listener,
        rustix::net::sockopt::Timeout::Recv,
        Some(POLL),
    )
    .map_err(|e| StoreError::Service(format!("TLS listener: {e}")))?;
    let addr = listener.local_addr().unwrap_or(listen.addr);
    log(&format!(
        "listening for TLS clients on {addr} (mutual TLS: a client certificate of the client CA, its common name the store user)"
    ));
    let (config, store, serial, log, per_uid, shutdown) = (
        listen.config.clone(),
        store.clone(),
        serial.to_string(),
        log.clone(),
        per_uid.clone(),
        shutdown.clone(),
    );
    let live = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mailboxes = Arc::new(mailboxes);
    Ok(std::thread::spawn(move || {
        while !shutdown.load(Ordering::Relaxed) {
            let (mut tcp, peer) = match listener.accept() {
                // Stopping: closed unanswered, as on the socket.
                Ok(_) if shutdown.load(Ordering::Relaxed) => continue,
                Ok(x) => x,
                Err(e) if e.kind() == IoKind::WouldBlock || e.kind() == IoKind::Interrupted => {
                    continue;
                }
                Err(e) => {
                    log(&format!("TLS accept failed: {e}"));
                    std::thread::sleep(POLL);
                    continue;
                }
            };
            if live.load(Ordering::Relaxed) >= MAX_TLS_CONNECTIONS {
                log(&format!(
                    "refused TLS client {peer}: {MAX_TLS_CONNECTIONS} TLS connections open already"
                ));
                continue;
            }
            live.fetch_add(1, Ordering::Relaxed);
            let counters = counters.clone();
            let (config, store, serial, conn_log, per_uid, mailboxes, live) = (
                config.clone(),
                store.clone(),
                serial.clone(),
                log.clone(),
                per_uid.clone(),
                mailboxes.clone(),
                live.clone(),
            );
            let spawned = std::thread::Builder::new()
                .name("tls".into())
                .spawn(move || {
                    let log = conn_log;
                    let _ = tcp.set_nodelay(true);
                    match crate::tls::accept(config, &mut tcp) {
                        Err(e) => {
                            log(&format!("refused TLS client {peer}: {e}"));
                            live.fetch_sub(1, Ordering::Relaxed);
                        }
                        Ok((conn, name)) => {
                            // From here the stream gives `live` back when it is dropped.
                            let stream = stream::Stream::Tls(Box::new(stream::TlsStream::new(
                                conn, tcp, live,
                            )));
                            if let Some(c) =
                                accept::greet_named(&store, stream, &log, &serial, name, &per_uid)
                                && let Some(m) = mailboxes
                                    .iter()
                                    .min_by_key(|m| m.connections.load(Ordering::Relaxed))
                            {
                                m.connections.fetch_add(1, Ordering::Relaxed);
                                counters.connection();
                                m.post(Message::Adopt(Box::new(c)));
                            }
                        }
                    }
                });
            if spawned.is_err() {
                log(&format!("refused TLS client {peer}: no thread for it"));
            }
        }
    }))
}

/// Clears the way for the socket at `path`: nothing there, or a stale socket
/// that nobody answers on (left by a service that was killed), which is
/// removed. Anything else is refused and left alone: a service that answers,
/// and above all a file, a directory or a link that is not a socket (a
/// mistyped path must never delete the installation key).
fn remove_stale(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io(path, e)),
    };
    if !meta.file_type().is_socket() {
        return Err(StoreError::refused(
            crate::error::Code::FileExists,
            format!(
                "{} exists and is not a socket; it is left as it is: choose another socket path",
                path.display()
            ),
        ));
    }
    if UnixStream::connect(path).is_ok() {
        return Err(StoreError::Rule(format!(
            "a service already answers on {}",
            path.display()
        )));
    }
    std::fs::remove_file(path).map_err(|e| StoreError::io(path, e))
}

/// Binds the socket with no access for anyone but the owner (and `group`)
/// from its first instant: it is made in a new directory of mode 0700 beside
/// its place, given mode 0660 and its group there, and only then linked into
/// place (never over anything). Returns the listener and the socket's
/// (device, inode).
fn bind_private(path: &std::path::Path, group: Option<u32>) -> Result<(UnixListener, (u64, u64))> {
    use std::os::unix::fs::DirBuilderExt;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce)
        .map_err(|e| StoreError::io(&parent, std::io::Error::other(e.to_string())))?;
    let private = parent.join(format!(
        ".tessera-socket-{}",
        nonce.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&private)
        .map_err(|e| StoreError::io(&private, e))?;
    let inner = private.join("s");
    let made = (|| {
        let listener = UnixListener::bind(&inner).map_err(|e| StoreError::io(&inner, e))?;
        std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o660))
            .map_err(|e| StoreError::io(&inner, e))?;
        if let Some(gid) = group {
            std::os::unix::fs::chown(&inner, None, Some(gid))
                .map_err(|e| StoreError::io(&inner, e))?;
        }
        std::fs::hard_link(&inner, path).map_err(|e| StoreError::io(path, e))?;
        let meta = std::fs::symlink_metadata(path).map_err(|e| StoreError::io(path, e))?;
        Ok((listener, (meta.dev(), meta.ino())))
    })();
    let _ = std::fs::remove_file(&inner);
    let _ = std::fs::remove_dir(&private);
    made
}
