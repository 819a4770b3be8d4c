//! The workers: each owns a set of connections, waits on them and on its
//! mailbox with epoll, and gives each ready connection a turn (read, answer
//! what it can, write). Connections come from the accept loop and answers
//! from the pool and subscriptions, all through the worker's [`Mailbox`].

use std::collections::HashMap;
use std::io::{ErrorKind as IoKind, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::event::epoll;
use rustix::fd::OwnedFd;

use super::framing::{compact, has_line, next_line, read_some, refuse_oversized};
use super::pool::Pool;
use super::stream::Stream;
use super::{POLL, WRITE_TIMEOUT};
use crate::Store;
use crate::api::Local;
use crate::error::{Result, StoreError};

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

/// What other threads hand a worker.
pub(super) enum Message {
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
pub(super) struct Mailbox {
    messages: Mutex<Vec<Message>>,
    /// Something was posted and not yet taken: checked between connections,
    /// so that a reply from the pool is not held for a whole round.
    posted: AtomicBool,
    wake: OwnedFd,
    /// Connections the worker holds (for choosing the least busy).
    pub(super) connections: AtomicUsize,
}

impl Mailbox {
    fn lock(&self) -> MutexGuard<'_, Vec<Message>> {
        self.messages.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn post(&self, message: Message) {
        let mut m = self.lock();
        let was_empty = m.is_empty();
        m.push(message);
        self.posted.store(true, Ordering::Release);
        drop(m);
        // One wake-up covers everything posted until the worker drains the box.
        if was_empty {
            let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
        }
    }

    fn take(&self) -> Vec<Message> {
        let mut buf = [0u8; 8];
        let _ = rustix::io::read(&self.wake, &mut buf);
        let mut m = self.lock();
        self.posted.store(false, Ordering::Release);
        std::mem::take(&mut *m)
    }

    /// Whether messages wait (a hint: read without the lock).
    fn waiting(&self) -> bool {
        self.posted.load(Ordering::Acquire)
    }
}

/// One client connection, owned by one worker.
pub(super) struct Conn {
    pub(super) stream: Stream,
    pub(super) api: Arc<Local<Arc<Store>>>,
    /// Bytes read and not yet taken as requests.
    pub(super) input: Vec<u8>,
    /// Where the input not yet taken as requests starts.
    pub(super) taken: usize,
    /// How far `input` is known to hold no newline.
    pub(super) scanned: usize,
    /// Replies not yet written, from `written` on.
    pub(super) output: Vec<u8>,
    written: usize,
    /// Since when replies are waiting without the client reading any.
    stalled_since: Option<Instant>,
    /// A request of this connection is with the pool.
    pub(super) busy: bool,
    /// Close once the output is written (an oversized line was answered).
    pub(super) closing: bool,
    /// The client will send no more.
    pub(super) eof: bool,
    /// Epoll said the client hung up (or the socket failed).
    hup: bool,
    /// Whether the socket is in the worker's epoll set, and for what.
    registered: bool,
    interest: epoll::EventFlags,
    pub(super) subscription: Option<Arc<AtomicBool>>,
    /// When the client last sent anything.
    pub(super) last_input: Instant,
    /// Whether it ever sent a whole request line. A client that has is a
    /// client (a console left open on a screen for an hour); one that
    /// connected and never asked anything is held open for nothing.
    asked: bool,
    /// Its place in its user's count of connections.
    _slot: super::limits::Slot,
}

impl Conn {
    /// A greeted connection (its socket non-blocking), acting for `api`'s operator.
    pub(super) fn new(
        stream: Stream,
        api: Arc<Local<Arc<Store>>>,
        slot: super::limits::Slot,
    ) -> Conn {
        Conn {
            last_input: Instant::now(),
            asked: false,
            _slot: slot,
            stream,
            api,
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
        }
    }

    fn pending_output(&self) -> usize {
        self.output.len() - self.written
    }

    /// Writes what it can without blocking; false when the client is gone.
    fn flush(&mut self) -> bool {
        // TLS records sealed on an earlier turn go before anything new.
        if self.stream.push().is_err() {
            return false;
        }
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
        if self.pending_output() > 0 || self.stream.wants_write() {
            f |= epoll::EventFlags::OUT;
        }
        f
    }
}

pub(super) struct Worker {
    epoll: OwnedFd,
    pub(super) mailbox: Arc<Mailbox>,
    pub(super) store: Arc<Store>,
    pub(super) pool: Arc<Pool>,
    /// The service's counters, for its metrics.
    pub(super) counters: Arc<super::counters::Counters>,
    shutdown: Arc<AtomicBool>,
    conns: HashMap<u64, Conn>,
    next_token: u64,
    pub(super) subscriptions: Vec<JoinHandle<()>>,
    /// Where reads land before they are appended to a connection's input:
    /// one buffer for the worker, not one zeroed for every read.
    chunk: Box<[u8]>,
    /// How long a connection may send nothing before it is closed.
    idle: Duration,
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
    /// Starts a worker on a thread of its own; its mailbox is how it is handed
    /// connections and told to stop.
    pub(super) fn start(
        store: &Arc<Store>,
        pool: &Arc<Pool>,
        counters: &Arc<super::counters::Counters>,
        shutdown: &Arc<AtomicBool>,
        idle: Duration,
    ) -> Result<(Arc<Mailbox>, JoinHandle<()>)> {
        let io_err = |e: rustix::io::Errno| StoreError::Service(format!("epoll: {e}"));
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
            posted: AtomicBool::new(false),
            wake,
            connections: AtomicUsize::new(0),
        });
        let worker = Worker {
            epoll,
            mailbox: mailbox.clone(),
            store: store.clone(),
            pool: pool.clone(),
            counters: counters.clone(),
            shutdown: shutdown.clone(),
            conns: HashMap::new(),
            next_token: 0,
            subscriptions: Vec::new(),
            chunk: vec![0u8; 64 * 1024].into_boxed_slice(),
            idle,
        };
        Ok((mailbox, std::thread::spawn(move || worker.run())))
    }

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
                    self.deliver(&mut stopping, &mut ready);
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
            let mut late: Vec<u64> = Vec::new();
            for token in ready {
                // A reply from the pool (a synced write) is written as soon as
                // it comes, not after every other ready connection's turn:
                // under load a round is a millisecond or more.
                if self.mailbox.waiting() {
                    self.deliver(&mut stopping, &mut late);
                    for t in late.drain(..) {
                        self.take_turn(t, stopping.is_some(), &mut again);
                    }
                }
                self.take_turn(token, stopping.is_some(), &mut again);
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

    /// Takes the mailbox's messages; the connections they concern are
    /// pushed onto `ready`.
    fn deliver(&mut self, stopping: &mut Option<Instant>, ready: &mut Vec<u64>) {
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
                Message::Stop => *stopping = stopping.or(Some(Instant::now())),
            }
        }
    }

    /// One turn of a connection; one with more to do is kept in `again`.
    fn take_turn(&mut self, token: u64, stopping: bool, again: &mut Vec<u64>) {
        match self.turn(token, stopping) {
            Turn::Idle => {}
            Turn::More => again.push(token),
            Turn::Close => self.close(token),
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
            .filter(|(_, c)| {
                c.stalled_since.is_some_and(|t| t.elapsed() > WRITE_TIMEOUT)
                    // Idle: connected and never asked anything for a while.
                    || (!c.asked
                        && c.subscription.is_none()
                        && !c.busy
                        && c.pending_output() == 0
                        && c.last_input.elapsed() > self.idle)
            })
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
                        conn.asked = true;
                        self.request(token, &mut conn, start, end);
                    }
                    Some(Err(())) => refuse_oversized(&mut conn),
                    None => break,
                }
            }
            compact(&mut conn);
            // Plaintext a TLS stream decrypted already: the socket may have
            // nothing more, so epoll would not call for it.
            if conn.may_take() && !conn.eof && conn.stream.buffered() {
                more = true;
            }
        }
        if alive {
            alive = conn.flush();
        }
        let done = (conn.closing || conn.eof)
            && !conn.busy
            && conn.pending_output() == 0
            && !conn.stream.wants_write();
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
}
