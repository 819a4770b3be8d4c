//! What a request becomes: answered at once on the worker's thread, handed to
//! the pool, or a subscription. The choice is not made here but read from the
//! one table of operations ([`crate::gate::Op::mode`], in `gate/ops.rs`);
//! [`Worker::request`] is the one place that acts on it.

use crate::Store;
use crate::gate::Mode;
use crate::protocol::Request;

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
                    let (alive, handle) =
                        subscriptions::start(&self.store, &self.mailbox, token, after);
                    conn.subscription = Some(alive);
                    self.subscriptions.push(handle);
                }
                ok_line(&mut conn.output, id, &());
            }
            Mode::AtOnce => respond(
                &self.store,
                &conn.api.operator,
                id,
                request,
                &mut conn.output,
            ),
            Mode::AtOnceUnlessNew => {
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

/// Carries out one request as `login` and appends its response line to `out`.
pub fn respond(store: &Store, login: &str, id: u64, request: Request, out: &mut Vec<u8>) {
    match store.execute(login, request) {
        Ok(reply) => ok_line(out, id, &reply),
        Err(e) => failed(out, id, &e),
    }
}
