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
//! [`WRITE_TIMEOUT`] is dropped).

use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind as IoKind, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::event::epoll;
use rustix::fd::OwnedFd;
use serde::Serialize;

use crate::Store;
use crate::api::Local;
use crate::error::{Code, Result, StoreError};
use crate::gate::Mode;
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

/// How often blocked waits look at the shutdown flag.
const POLL: Duration = Duration::from_millis(200);

/// A client whose replies make no progress for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Past this much unsent output a connection's further requests are not read
/// until the client reads its answers: a client that only sends cannot make
/// the service buffer without end.
const OUTPUT_HIGH: usize = 1024 * 1024;

/// How many requests of one connection a worker answers before it turns to the
/// others: a client that pipelines many requests does not starve the rest.
const LINES_PER_TURN: usize = 32;

/// How long a stopping service waits for its last replies to be read.
const FLUSH_ON_STOP: Duration = Duration::from_secs(2);

/// The epoll token of a worker's own wake-up eventfd.
const WAKE: u64 = u64::MAX;

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
    let io_err = |e: rustix::io::Errno| StoreError::Service(format!("epoll: {e}"));

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
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC).map_err(io_err)?;
        let wake = rustix::event::eventfd(
            0,
            rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK,
        )
        .map_err(io_err)?;
        epoll::add(
            &epoll,
            &wake,
            epoll::EventData::new_u64(WAKE),
            epoll::EventFlags::IN,
        )
        .map_err(io_err)?;
        let mailbox = Arc::new(Mailbox {
            messages: Mutex::new(Vec::new()),
            wake,
            connections: AtomicUsize::new(0),
        });
        let worker = Worker {
            epoll,
            mailbox: mailbox.clone(),
            store: store.clone(),
            pool: pool.clone(),
            shutdown: shutdown.clone(),
            conns: HashMap::new(),
            next_token: 0,
            subscriptions: Vec::new(),
            chunk: vec![0u8; 64 * 1024].into_boxed_slice(),
        };
        workers.push((mailbox, std::thread::spawn(move || worker.run())));
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

/// Checks who connected and greets them; `None` when refused or gone.
fn greet(store: &Arc<Store>, stream: UnixStream, log: &Log, serial: &str) -> Option<Conn> {
    // The greeting is the first thing written to a fresh socket, so it fits in
    // its buffer; the timeout only guards against the impossible.
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let uid = match rustix::net::sockopt::socket_peercred(&stream) {
        Ok(c) => c.uid.as_raw(),
        Err(e) => {
            log(&format!("refused a connection: no peer credentials ({e})"));
            return None;
        }
    };
    let mut stream = stream;
    let mut line = Vec::new();
    let Some(user) = crate::identity::name_of_uid(uid) else {
        log(&format!("refused uid {uid}: no login name on this host"));
        error_line(
            &mut line,
            0,
            ErrorKind::Refused,
            Code::NotPermitted,
            format!(
                "uid {uid} has no login name on this host; the service acts only for known users"
            ),
        );
        let _ = stream.write_all(&line);
        return None;
    };
    let hello = Hello {
        service: "tessera".into(),
        protocol: VERSION,
        version: env!("CARGO_PKG_VERSION").into(),
        user: user.clone(),
        serial: serial.to_string(),
    };
    if serde_json::to_writer(&mut line, &hello).is_err() {
        return None;
    }
    line.push(b'\n');
    if stream.write_all(&line).is_err() || stream.set_nonblocking(true).is_err() {
        return None;
    }
    Some(Conn {
        stream,
        api: Arc::new(Local {
            store: store.clone(),
            operator: user,
        }),
        input: Vec::new(),
        taken: 0,
        scanned: 0,
        output: Vec::new(),
        written: 0,
        stalled_since: None,
        busy: false,
        closing: false,
        eof: false,
        hup: false,
        registered: false,
        interest: epoll::EventFlags::empty(),
        subscription: None,
    })
}

// ---------------------------------------------------------------------------
// Workers

/// What other threads hand a worker.
enum Message {
    /// A greeted connection to serve.
    Adopt(Box<Conn>),
    /// The answer to a request that went to the pool; the connection may go on.
    Reply { token: u64, line: Vec<u8> },
    /// An event for a subscribed connection.
    Push { token: u64, line: Vec<u8> },
    /// Stop: finish what is in flight and return.
    Stop,
}

/// A worker's inbox, and the eventfd that wakes it.
struct Mailbox {
    messages: Mutex<Vec<Message>>,
    wake: OwnedFd,
    /// Connections the worker holds (for choosing the least busy).
    connections: AtomicUsize,
}

impl Mailbox {
    fn lock(&self) -> MutexGuard<'_, Vec<Message>> {
        self.messages.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn post(&self, message: Message) {
        let mut m = self.lock();
        let was_empty = m.is_empty();
        m.push(message);
        drop(m);
        // One wake-up covers everything posted until the worker drains the box.
        if was_empty {
            let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
        }
    }

    fn take(&self) -> Vec<Message> {
        let mut buf = [0u8; 8];
        let _ = rustix::io::read(&self.wake, &mut buf);
        std::mem::take(&mut *self.lock())
    }
}

/// One client connection, owned by one worker.
struct Conn {
    stream: UnixStream,
    api: Arc<Local<Arc<Store>>>,
    /// Bytes read and not yet taken as requests.
    input: Vec<u8>,
    /// Where the input not yet taken as requests starts.
    taken: usize,
    /// How far `input` is known to hold no newline.
    scanned: usize,
    /// Replies not yet written, from `written` on.
    output: Vec<u8>,
    written: usize,
    /// Since when replies are waiting without the client reading any.
    stalled_since: Option<Instant>,
    /// A request of this connection is with the pool.
    busy: bool,
    /// Close once the output is written (an oversized line was answered).
    closing: bool,
    /// The client will send no more.
    eof: bool,
    /// Epoll said the client hung up (or the socket failed).
    hup: bool,
    /// Whether the socket is in the worker's epoll set, and for what.
    registered: bool,
    interest: epoll::EventFlags,
    subscription: Option<Arc<AtomicBool>>,
}

impl Conn {
    fn pending_output(&self) -> usize {
        self.output.len() - self.written
    }

    /// Writes what it can without blocking; false when the client is gone.
    fn flush(&mut self) -> bool {
        let before = self.written;
        while self.written < self.output.len() {
            match self.stream.write(&self.output[self.written..]) {
                Ok(0) => return false,
                Ok(n) => self.written += n,
                Err(e) if e.kind() == IoKind::WouldBlock => break,
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        if self.written == self.output.len() {
            self.output.clear();
            self.written = 0;
            self.stalled_since = None;
        } else if self.written > before || self.stalled_since.is_none() {
            self.stalled_since = Some(Instant::now());
        }
        true
    }

    /// Whether more requests may be taken from this connection now.
    fn may_take(&self) -> bool {
        !self.busy && !self.closing && self.pending_output() < OUTPUT_HIGH
    }

    fn wanted(&self) -> epoll::EventFlags {
        let mut f = epoll::EventFlags::empty();
        if self.may_take() && !self.eof {
            f |= epoll::EventFlags::IN;
        }
        if self.pending_output() > 0 {
            f |= epoll::EventFlags::OUT;
        }
        f
    }
}

struct Worker {
    epoll: OwnedFd,
    mailbox: Arc<Mailbox>,
    store: Arc<Store>,
    pool: Arc<Pool>,
    shutdown: Arc<AtomicBool>,
    conns: HashMap<u64, Conn>,
    next_token: u64,
    subscriptions: Vec<JoinHandle<()>>,
    /// Where reads land before they are appended to a connection's input:
    /// one buffer for the worker, not one zeroed for every read.
    chunk: Box<[u8]>,
}

/// What became of a connection after a turn.
enum Turn {
    /// Nothing more to do until it is ready again.
    Idle,
    /// Complete requests are left in its buffer (its turn ended).
    More,
    /// Close it.
    Close,
}

impl Worker {
    fn run(mut self) {
        let mut events: Vec<epoll::Event> = Vec::with_capacity(256);
        // Connections with complete requests still buffered.
        let mut again: Vec<u64> = Vec::new();
        let mut stopping: Option<Instant> = None;
        let mut swept = Instant::now();
        loop {
            events.clear();
            let timeout = if again.is_empty() {
                rustix::event::Timespec {
                    tv_sec: 0,
                    tv_nsec: POLL.as_nanos() as _,
                }
            } else {
                rustix::event::Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                }
            };
            match epoll::wait(
                &self.epoll,
                rustix::buffer::spare_capacity(&mut events),
                Some(&timeout),
            ) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                // Nothing a worker can do about a broken epoll but stop taking requests.
                Err(_) => stopping = stopping.or(Some(Instant::now())),
            }
            let mut ready: Vec<u64> = std::mem::take(&mut again);
            for e in &events {
                let token = e.data.u64();
                if token == WAKE {
                    for m in self.mailbox.take() {
                        match m {
                            Message::Adopt(conn) => {
                                if stopping.is_some() {
                                    self.mailbox.connections.fetch_sub(1, Ordering::Relaxed);
                                } else if let Some(t) = self.adopt(*conn) {
                                    ready.push(t);
                                }
                            }
                            Message::Reply { token, line } => {
                                if let Some(c) = self.conns.get_mut(&token) {
                                    c.busy = false;
                                    c.output.extend_from_slice(&line);
                                    ready.push(token);
                                }
                            }
                            Message::Push { token, line } => {
                                if let Some(c) = self.conns.get_mut(&token) {
                                    c.output.extend_from_slice(&line);
                                    ready.push(token);
                                }
                            }
                            Message::Stop => stopping = stopping.or(Some(Instant::now())),
                        }
                    }
                } else {
                    let flags = e.flags;
                    if flags.intersects(epoll::EventFlags::HUP | epoll::EventFlags::ERR)
                        && let Some(c) = self.conns.get_mut(&token)
                    {
                        c.hup = true;
                    }
                    ready.push(token);
                }
            }
            if self.shutdown.load(Ordering::Relaxed) {
                stopping = stopping.or(Some(Instant::now()));
            }
            ready.sort_unstable();
            ready.dedup();
            for token in ready {
                match self.turn(token, stopping.is_some()) {
                    Turn::Idle => {}
                    Turn::More => again.push(token),
                    Turn::Close => self.close(token),
                }
            }
            // Often enough for a timeout of seconds, not on every turn.
            if swept.elapsed() >= POLL {
                swept = Instant::now();
                self.drop_stalled();
            }
            if let Some(since) = stopping {
                // In flight: requests with the pool, and replies not yet read.
                let busy = self.conns.values().any(|c| c.busy);
                let unread = self.conns.values().any(|c| c.pending_output() > 0);
                if !busy && (!unread || since.elapsed() > FLUSH_ON_STOP) {
                    break;
                }
                again.clear();
            }
        }
        let tokens: Vec<u64> = self.conns.keys().copied().collect();
        for t in tokens {
            self.close(t);
        }
        for h in self.subscriptions.drain(..) {
            let _ = h.join();
        }
    }

    fn adopt(&mut self, mut conn: Conn) -> Option<u64> {
        let token = self.next_token;
        self.next_token += 1;
        let wanted = conn.wanted();
        if !self.watch(token, &mut conn, wanted) {
            self.mailbox.connections.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        self.conns.insert(token, conn);
        Some(token)
    }

    /// Makes epoll watch the connection for `wanted`; false if it cannot.
    fn watch(&self, token: u64, conn: &mut Conn, wanted: epoll::EventFlags) -> bool {
        let data = epoll::EventData::new_u64(token);
        // Epoll reports a hang-up whatever it watches for: a connection that
        // waits only for the pool is taken off, or the worker would spin.
        if wanted.is_empty() && (conn.eof || conn.hup) {
            if conn.registered {
                let _ = epoll::delete(&self.epoll, &conn.stream);
                conn.registered = false;
            }
            return true;
        }
        if !conn.registered {
            if epoll::add(&self.epoll, &conn.stream, data, wanted).is_err() {
                return false;
            }
            conn.registered = true;
        } else if wanted != conn.interest
            && epoll::modify(&self.epoll, &conn.stream, data, wanted).is_err()
        {
            return false;
        }
        conn.interest = wanted;
        true
    }

    fn close(&mut self, token: u64) {
        if let Some(conn) = self.conns.remove(&token) {
            if conn.registered {
                let _ = epoll::delete(&self.epoll, &conn.stream);
            }
            if let Some(alive) = &conn.subscription {
                alive.store(false, Ordering::Relaxed);
            }
            self.mailbox.connections.fetch_sub(1, Ordering::Relaxed);
            // A request still with the pool answers into the void: its Reply
            // finds no connection.
        }
        self.subscriptions.retain(|h| !h.is_finished());
    }

    /// Drops clients that have not read their replies for [`WRITE_TIMEOUT`].
    fn drop_stalled(&mut self) {
        let stalled: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.stalled_since.is_some_and(|t| t.elapsed() > WRITE_TIMEOUT))
            .map(|(t, _)| *t)
            .collect();
        for t in stalled {
            self.close(t);
        }
    }

    /// Reads what the connection sent, answers what it can, writes the replies.
    fn turn(&mut self, token: u64, stopping: bool) -> Turn {
        let Some(mut conn) = self.conns.remove(&token) else {
            return Turn::Idle;
        };
        let mut more = false;
        let mut alive = true;
        // Read only when no whole request is waiting: what the client sends
        // stays in the socket until it is wanted, so a client that only sends
        // fills its own socket, not the service's memory.
        if !stopping && conn.may_take() && !conn.eof && !has_line(&mut conn) {
            alive = read_some(&mut conn, &mut self.chunk);
        }
        if alive && !stopping {
            let mut answered = 0;
            while conn.may_take() {
                if answered == LINES_PER_TURN {
                    more = true;
                    break;
                }
                match next_line(&mut conn) {
                    Some(Ok((start, end))) => {
                        answered += 1;
                        self.request(token, &mut conn, start, end);
                    }
                    Some(Err(())) => {
                        // The rest of the line cannot be told from the next
                        // request: answer, and hang up once that is written.
                        error_line(
                            &mut conn.output,
                            0,
                            ErrorKind::BadRequest,
                            Code::BadRequest,
                            format!(
                                "request line longer than {MAX_FRAME} bytes; the connection is closed"
                            ),
                        );
                        conn.closing = true;
                        conn.input.clear();
                        conn.taken = 0;
                        conn.scanned = 0;
                    }
                    None => break,
                }
            }
            compact(&mut conn);
        }
        if alive {
            alive = conn.flush();
        }
        let done = (conn.closing || conn.eof) && !conn.busy && conn.pending_output() == 0;
        if !alive || done {
            self.conns.insert(token, conn);
            return Turn::Close;
        }
        let wanted = if stopping {
            conn.wanted() - epoll::EventFlags::IN
        } else {
            conn.wanted()
        };
        if !self.watch(token, &mut conn, wanted) {
            self.conns.insert(token, conn);
            return Turn::Close;
        }
        self.conns.insert(token, conn);
        if more { Turn::More } else { Turn::Idle }
    }

    /// Answers one request line, `conn.input[start..end]`.
    fn request(&mut self, token: u64, conn: &mut Conn, start: usize, end: usize) {
        let bytes = &conn.input[start..end];
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let frame: Frame = match serde_json::from_slice(bytes) {
            Ok(f) => f,
            // Read as before this service had workers: bytes that are not
            // UTF-8 become U+FFFD, and the errors are those of that text.
            Err(_) => {
                let text = String::from_utf8_lossy(bytes);
                match serde_json::from_str(&text) {
                    Ok(f) => f,
                    Err(e) => {
                        let id = serde_json::from_str::<serde_json::Value>(&text)
                            .ok()
                            .and_then(|v| v.get("id").and_then(|i| i.as_u64()))
                            .unwrap_or(0);
                        error_line(
                            &mut conn.output,
                            id,
                            ErrorKind::BadRequest,
                            Code::BadRequest,
                            format!("not a request: {e}"),
                        );
                        return;
                    }
                }
            }
        };
        if frame.v != VERSION {
            error_line(
                &mut conn.output,
                frame.id,
                ErrorKind::BadRequest,
                Code::BadRequest,
                format!(
                    "protocol version {} is not spoken here; this service speaks {VERSION}",
                    frame.v
                ),
            );
            return;
        }
        let id = frame.id;
        let request = frame.request;
        // What is answered here and what goes to the pool is the table's
        // choice ([`crate::gate::Op::mode`]); who may ask is the gate's.
        match request.op().mode() {
            Mode::Connection => {
                // A subscription streams the action log: authorised like `events`.
                if let Err(e) = self.store.authorise(&conn.api.operator, &request) {
                    failed(&mut conn.output, id, &e);
                    return;
                }
                let Request::Subscribe { after } = request else {
                    return;
                };
                if conn.subscription.is_none() {
                    let alive = Arc::new(AtomicBool::new(true));
                    conn.subscription = Some(alive.clone());
                    let (store, mailbox) = (self.store.clone(), self.mailbox.clone());
                    // Watching starts before the answer goes out: an event of a
                    // change made right after the client hears "subscribed" is
                    // never missed, however late the thread starts.
                    let watch = self.store.watch_events();
                    self.subscriptions.push(std::thread::spawn(move || {
                        subscribe(&store, &mailbox, token, after, &alive, watch)
                    }));
                }
                ok_line(&mut conn.output, id, &());
            }
            Mode::AtOnce | Mode::AtOnceUnlessNew => {
                match self.store.execute_at_once(&conn.api.operator, &request) {
                    Ok(Some(reply)) => ok_line(&mut conn.output, id, &reply),
                    Err(e) => failed(&mut conn.output, id, &e),
                    // A new charge: a write, which waits for its sync.
                    Ok(None) => self.to_pool(token, conn, id, request),
                }
            }
            Mode::Slow | Mode::Write => self.to_pool(token, conn, id, request),
        }
    }

    /// Hands a request that may wait to the pool; the connection waits for it.
    fn to_pool(&self, token: u64, conn: &mut Conn, id: u64, request: Request) {
        conn.busy = true;
        let (api, mailbox) = (conn.api.clone(), self.mailbox.clone());
        self.pool.run(Box::new(move || {
            let mut line = Vec::new();
            respond(&api.store, &api.operator, id, request, &mut line);
            mailbox.post(Message::Reply { token, line });
        }));
    }
}

/// Reads what is there without blocking, through the worker's `chunk`; false
/// when the connection broke.
fn read_some(conn: &mut Conn, chunk: &mut [u8]) -> bool {
    loop {
        match conn.stream.read(chunk) {
            Ok(0) => {
                conn.eof = true;
                return true;
            }
            Ok(n) => {
                conn.input.extend_from_slice(&chunk[..n]);
                // Level-triggered: what is left is read on the next turn.
                return true;
            }
            Err(e) if e.kind() == IoKind::WouldBlock => return true,
            Err(e) if e.kind() == IoKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// The next complete line in the input as a range (newline included), or
/// `Err` when more than [`MAX_FRAME`] bytes hold no newline.
fn next_line(conn: &mut Conn) -> Option<std::result::Result<(usize, usize), ()>> {
    let from = conn.scanned.max(conn.taken);
    match conn.input[from..].iter().position(|b| *b == b'\n') {
        Some(i) => {
            let (start, end) = (conn.taken, from + i + 1);
            conn.taken = end;
            conn.scanned = end;
            Some(Ok((start, end)))
        }
        None => {
            // Not scanned again when more arrives.
            conn.scanned = conn.input.len();
            (conn.input.len() - conn.taken > MAX_FRAME).then_some(Err(()))
        }
    }
}

/// Whether a whole line is waiting in the input.
fn has_line(conn: &mut Conn) -> bool {
    let from = conn.scanned.max(conn.taken);
    if conn.input[from..].contains(&b'\n') {
        return true;
    }
    conn.scanned = conn.input.len();
    false
}

/// Drops the lines taken from the front of the input.
fn compact(conn: &mut Conn) {
    if conn.taken > 0 {
        conn.input.drain(..conn.taken);
        conn.scanned -= conn.taken;
        conn.taken = 0;
    }
}

fn subscribe(
    store: &Store,
    mailbox: &Mailbox,
    token: u64,
    after: Option<u64>,
    alive: &AtomicBool,
    mut watch: crate::views::EventWatch,
) {
    let push = |event| {
        let mut line = Vec::new();
        if serde_json::to_writer(&mut line, &Push { event }).is_ok() {
            line.push(b'\n');
            mailbox.post(Message::Push { token, line });
        }
    };
    // Watching began before this thread did; the backlog is read after, so
    // that nothing falls between the two.
    let mut last = after.unwrap_or(u64::MAX);
    if let Some(after) = after {
        let mut backlog = store.events(10_000, None).unwrap_or_default();
        backlog.retain(|e| e.seq > after);
        backlog.reverse();
        for event in backlog {
            last = event.seq;
            push(event);
        }
    }
    while alive.load(Ordering::Relaxed) {
        if let Some(event) = watch.next(POLL) {
            if last != u64::MAX && event.seq <= last {
                continue;
            }
            last = event.seq;
            push(event);
        }
    }
}

// ---------------------------------------------------------------------------
// The pool for requests that may wait

type Job = Box<dyn FnOnce() + Send>;

/// Threads for requests that may block (writes wait for their sync). It grows
/// when every thread is busy, so that many writers waiting on one sync do not
/// queue behind each other (that is what lets one sync cover them all); idle
/// threads leave after a while. Each connection has at most one request here.
struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

#[derive(Default)]
struct PoolState {
    jobs: VecDeque<Job>,
    idle: usize,
    threads: Vec<JoinHandle<()>>,
    stopping: bool,
}

/// How long an idle pool thread waits for work before it leaves.
const POOL_IDLE: Duration = Duration::from_secs(30);

impl Pool {
    fn new() -> Arc<Pool> {
        Arc::new(Pool {
            state: Mutex::new(PoolState::default()),
            work: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn run(self: &Arc<Self>, job: Job) {
        let mut s = self.lock();
        s.jobs.push_back(job);
        // Threads told of a job count as idle until they wake: spawn only when
        // the idle ones cannot cover the queue.
        if s.idle >= s.jobs.len() {
            drop(s);
            self.work.notify_one();
            return;
        }
        s.threads.retain(|h| !h.is_finished());
        let pool = self.clone();
        s.threads.push(std::thread::spawn(move || pool.work_loop()));
    }

    fn work_loop(&self) {
        let mut s = self.lock();
        loop {
            if let Some(job) = s.jobs.pop_front() {
                drop(s);
                job();
                s = self.lock();
                continue;
            }
            if s.stopping {
                return;
            }
            s.idle += 1;
            let (next, timeout) = self
                .work
                .wait_timeout(s, POOL_IDLE)
                .unwrap_or_else(|p| p.into_inner());
            s = next;
            s.idle -= 1;
            if timeout.timed_out() && s.jobs.is_empty() {
                return;
            }
        }
    }

    /// Lets the queued jobs finish, then joins every thread.
    fn join(&self) {
        let threads = {
            let mut s = self.lock();
            s.stopping = true;
            std::mem::take(&mut s.threads)
        };
        self.work.notify_all();
        for h in threads {
            let _ = h.join();
        }
    }
}

// ---------------------------------------------------------------------------
// Replies

/// Appends `{"id":…,"ok":true,"result":…}` and a newline. The result is
/// written straight from its type, not through a `serde_json::Value`.
fn ok_line<T: Serialize + ?Sized>(out: &mut Vec<u8>, id: u64, result: &T) {
    let start = out.len();
    // `write!` to a Vec cannot fail.
    let _ = write!(out, "{{\"id\":{id},\"ok\":true,\"result\":");
    match serde_json::to_writer(&mut *out, result) {
        Ok(()) => out.extend_from_slice(b"}\n"),
        Err(e) => {
            out.truncate(start);
            error_line(
                out,
                id,
                ErrorKind::Internal,
                Code::Unknown,
                format!("cannot encode the result: {e}"),
            );
        }
    }
}

/// Appends an error response and a newline.
fn error_line(out: &mut Vec<u8>, id: u64, kind: ErrorKind, code: Code, message: String) {
    let response = Response {
        id,
        ok: false,
        result: None,
        error: Some(WireError {
            kind,
            code,
            message,
        }),
    };
    // Strings and numbers always encode.
    let _ = serde_json::to_writer(&mut *out, &response);
    out.push(b'\n');
}

fn failed(out: &mut Vec<u8>, id: u64, e: &StoreError) {
    let kind = if e.is_refusal() {
        ErrorKind::Refused
    } else {
        ErrorKind::Internal
    };
    error_line(out, id, kind, e.code(), e.to_string());
}

/// Carries out one request as `login` and appends its response line to `out`.
pub fn respond(store: &Store, login: &str, id: u64, request: Request, out: &mut Vec<u8>) {
    match store.execute(login, request) {
        Ok(reply) => ok_line(out, id, &reply),
        Err(e) => failed(out, id, &e),
    }
}
