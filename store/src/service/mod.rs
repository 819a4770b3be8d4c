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
//! - `subscriptions`: the threads that stream events to subscribed connections.

mod accept;
mod dispatch;
mod framing;
mod pool;
mod reactor;
mod subscriptions;

use std::io::ErrorKind as IoKind;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use dispatch::respond;

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
    let pool = Pool::new();
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
        workers.push(Worker::start(&store, &pool, &shutdown)?);
    }
    log(&format!(
        "serving store {} (serial {serial}) on {} ({count} workers)",
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

    while !shutdown.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Some(conn) = greet(&store, stream, &log, &serial) {
                    // The worker with the fewest connections takes it.
                    if let Some((mailbox, _)) = workers
                        .iter()
                        .min_by_key(|(m, _)| m.connections.load(Ordering::Relaxed))
                    {
                        mailbox.connections.fetch_add(1, Ordering::Relaxed);
                        mailbox.post(Message::Adopt(Box::new(conn)));
                    }
                }
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
    for (mailbox, handle) in workers {
        mailbox.post(Message::Stop);
        let _ = handle.join();
    }
    pool.join();
    let _ = ticker.join();
    store.sync()?;
    log("stopped; the store is synced");
    Ok(())
}
