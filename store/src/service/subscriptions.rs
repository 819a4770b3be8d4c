//! Subscriptions: a connection that asked for `subscribe` is sent the action
//! log's events as they are appended, by a thread of its own that posts each
//! one to the connection's worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use super::POLL;
use super::reactor::{Mailbox, Message};
use crate::Store;
use crate::protocol::Push;

/// Starts streaming events after `after` (or only new ones) to connection
/// `token`; the stream stops once the returned flag is cleared.
pub(super) fn start(
    store: &Arc<Store>,
    mailbox: &Arc<Mailbox>,
    token: u64,
    after: Option<u64>,
) -> (Arc<AtomicBool>, JoinHandle<()>) {
    let alive = Arc::new(AtomicBool::new(true));
    let (store, mailbox, flag) = (store.clone(), mailbox.clone(), alive.clone());
    // Watching starts before the answer goes out: an event of a change made
    // right after the client hears "subscribed" is never missed, however late
    // the thread starts.
    let watch = store.watch_events();
    let handle =
        std::thread::spawn(move || subscribe(&store, &mailbox, token, after, &flag, watch));
    (alive, handle)
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
        if let Some(event) = watch.next(store, POLL) {
            if last != u64::MAX && event.seq <= last {
                continue;
            }
            last = event.seq;
            push(event);
        }
    }
}
