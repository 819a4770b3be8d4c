//! What a request becomes: answered at once on the worker's thread, handed to
//! the pool, or a subscription. The choice is not made here but read from the
//! one table of operations ([`crate::gate::Op::mode`], in `gate/ops.rs`);
//! [`Worker::request`] is the one place that acts on it.

use std::time::Instant;

use crate::Store;
use crate::error::Result;
use crate::gate::{Mode, Reply};
use crate::metrics::Outcome;
use crate::protocol::Request;

use super::counters::Counters;

use super::framing::{self, failed, ok_line};
use super::reactor::{Conn, Message, Worker};
use super::subscriptions;

impl Worker {
    /// Answers one request line, `conn.input[start..end]`.
    ///
    /// Its [`Mode`] (the table in `gate/ops.rs`) says where it is answered:
    /// - [`Mode::Connection`]: here, by the connection itself (`subscribe`);
    /// - [`Mode::AtOnce`]: here, by reading;
    /// - [`Mode::AtOnceUnlessNew`]: here when it writes nothing, else (a new
    ///   charge) in the pool;
    /// - [`Mode::Slow`], [`Mode::Write`]: in the pool ([`Worker::to_pool`]).
    pub(super) fn request(&mut self, token: u64, conn: &mut Conn, start: usize, end: usize) {
        let Some(frame) = framing::parse(&conn.input[start..end], &mut conn.output) else {
            return;
        };
        let id = frame.id;
        let request = frame.request;
        let started = Instant::now();
        // What is answered here and what goes to the pool is the table's
        // choice ([`crate::gate::Op::mode`]); who may ask is the gate's.
        match request.op().mode() {
            Mode::Connection => {
                // A subscription streams the action log: authorised like `events`.
                let authorised = self.store.authorise(&conn.api.operator, &request);
                self.counters
                    .record(request.op(), Outcome::of(&authorised), started.elapsed());
                if let Err(e) = authorised {
                    failed(&mut conn.output, id, &e);
                    return;
                }
                let Request::Subscribe { after } = request else {
                    return;
                };
                if conn.subscription.is_none() {
                    let (alive, handle) =
                        subscriptions::start(&self.store, &self.mailbox, token, after);
                    conn.subscription = Some(alive);
                    self.subscriptions.push(handle);
                }
                ok_line(&mut conn.output, id, &());
            }
            Mode::AtOnce => {
                let op = request.op();
                let result = answer(&self.store, &self.counters, &conn.api.operator, request);
                self.counters
                    .record(op, Outcome::of(&result), started.elapsed());
                write_result(&mut conn.output, id, result);
            }
            Mode::AtOnceUnlessNew => {
                match self.store.execute_at_once(&conn.api.operator, &request) {
                    Ok(Some(reply)) => {
                        self.counters
                            .record(request.op(), Outcome::Ok, started.elapsed());
                        ok_line(&mut conn.output, id, &reply);
                    }
                    Err(e) => {
                        let result = Err(e);
                        self.counters
                            .record(request.op(), Outcome::of(&result), started.elapsed());
                        write_result(&mut conn.output, id, result);
                    }
                    // A new charge: a write, which waits for its sync.
                    Ok(None) => self.to_pool(token, conn, id, request, started),
                }
            }
            Mode::Slow | Mode::Write => self.to_pool(token, conn, id, request, started),
        }
    }

    /// Hands a request that may wait to the pool; the connection waits for
    /// it. Its latency counts from `started`, when it was read: the wait for
    /// a thread of the pool is part of what the client waits.
    fn to_pool(&self, token: u64, conn: &mut Conn, id: u64, request: Request, started: Instant) {
        conn.busy = true;
        let (api, mailbox, counters) = (
            conn.api.clone(),
            self.mailbox.clone(),
            self.counters.clone(),
        );
        self.pool.run(Box::new(move || {
            let mut line = Vec::new();
            let op = request.op();
            let result = answer(&api.store, &counters, &api.operator, request);
            counters.record(op, Outcome::of(&result), started.elapsed());
            write_result(&mut line, id, result);
            mailbox.post(Message::Reply { token, line });
        }));
    }
}

/// Carries out one request as `login`; the metrics get the service's own
/// counters beside the store's facts (the gate authorised the request).
pub(super) fn answer(
    store: &Store,
    counters: &Counters,
    login: &str,
    request: Request,
) -> Result<Reply> {
    let mut reply = store.execute(login, request)?;
    if let Reply::Metrics(m) = &mut reply {
        m.service = Some(counters.snapshot(store));
    }
    Ok(reply)
}

/// Appends the response line of `result` to `out`.
fn write_result(out: &mut Vec<u8>, id: u64, result: Result<Reply>) {
    match result {
        Ok(reply) => ok_line(out, id, &reply),
        Err(e) => failed(out, id, &e),
    }
}

/// Carries out one request as `login` and appends its response line to `out`.
pub fn respond(store: &Store, login: &str, id: u64, request: Request, out: &mut Vec<u8>) {
    match store.execute(login, request) {
        Ok(reply) => ok_line(out, id, &reply),
        Err(e) => failed(out, id, &e),
    }
}
