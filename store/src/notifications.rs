//! The Status screen's system notifications (seed 004: Event, Status,
//! Message, Activated, Activated by, Finished, Type), a page at a time.
//!
//! Notifications are the action log's events, newest first. Their sequence
//! numbers run from 1 without gaps (the log is append-only), so a page is one
//! range read whether it is asked for by offset or by cursor, and the total
//! is the newest sequence number: nothing is ever counted by scanning, and
//! every notification stays reachable however long the log grows.

use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::Result;
use crate::keys;
use crate::model::{EventKind, EventStatus};

/// The most notifications one page carries; the total is never capped.
pub const MAX_PAGE: u32 = 1_000;

/// Which page of notifications to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationQuery {
    /// Start below this sequence number (a previous page's
    /// [`NotificationsPage::next_before`]); `None` starts at the newest.
    #[serde(default)]
    pub before: Option<u64>,
    /// Notifications to skip from where the page starts (newest first): with
    /// no `before`, the position in the whole list, so the console can jump
    /// to any row.
    #[serde(default)]
    pub offset: u64,
    /// Page size, 1 to [`MAX_PAGE`] (0 means 1; more means [`MAX_PAGE`]).
    pub limit: u32,
}

/// One notification as the Status screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Its sequence number in the action log, from 1.
    pub seq: u64,
    /// Event: a short name, e.g. "Licence imported".
    pub name: String,
    /// Status.
    pub status: EventStatus,
    /// Message: one line.
    pub message: String,
    /// The description shown below the list.
    pub description: String,
    /// Activated: when it started (seconds since the epoch, UTC).
    pub activated_at: i64,
    /// Activated by: a username, or "system".
    pub activated_by: String,
    /// Finished: when it finished or is expected to (seconds), if known.
    pub finished_at: Option<i64>,
    /// Type: system or user.
    pub kind: EventKind,
}

/// A page of notifications, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationsPage {
    /// Every notification in the store (not only this page's).
    pub total: u64,
    /// The position of this page's first row in the whole list (0: the newest).
    pub offset: u64,
    /// The rows.
    pub items: Vec<Notification>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<u64>,
}

/// The sequence number the page starts at (inclusive), newest first, or
/// `None` when the page is past the oldest notification.
pub fn page_start(total: u64, before: Option<u64>, offset: u64) -> Option<u64> {
    let top = match before {
        Some(b) => b.saturating_sub(1).min(total),
        None => total,
    };
    let start = top.checked_sub(offset)?;
    (start >= 1).then_some(start)
}

impl Store {
    /// How many events the action log holds: the newest one's sequence number.
    pub fn event_total(&self) -> Result<u64> {
        let tree = self.db.tree()?;
        let Some(kv) = tree.scan_prefix(keys::EVENTS).next_back() else {
            return Ok(0);
        };
        let (k, _) = kv?;
        Ok(k.get(keys::EVENTS.len()..)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    /// A page of notifications: at most `limit` from the position asked for,
    /// newest first, with the total. Reads the page's events and no others.
    pub fn notifications(&self, q: &NotificationQuery) -> Result<NotificationsPage> {
        let total = self.event_total()?;
        let limit = u64::from(q.limit.clamp(1, MAX_PAGE));
        let Some(start) = page_start(total, q.before, q.offset) else {
            return Ok(NotificationsPage {
                total,
                offset: total,
                items: Vec::new(),
                next_before: None,
            });
        };
        let low = start.saturating_sub(limit - 1).max(1);
        let mut items = Vec::with_capacity((start - low + 1) as usize);
        let tree = self.db.tree()?;
        for kv in tree.range(keys::event(low)..=keys::event(start)).rev() {
            let (_, v) = kv?;
            let e = crate::events::decode_event(&v)?;
            items.push(Notification {
                seq: e.seq,
                name: e.name,
                status: e.status,
                message: e.message,
                description: e.description,
                activated_at: e.activated_at,
                activated_by: e.activated_by,
                finished_at: e.finished_at,
                kind: e.kind,
            });
        }
        Ok(NotificationsPage {
            total,
            offset: total - start,
            next_before: items.last().map(|n| n.seq).filter(|&s| s > 1),
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_starts_where_asked_and_stops_at_the_oldest() {
        assert_eq!(page_start(10, None, 0), Some(10));
        assert_eq!(page_start(10, None, 9), Some(1));
        assert_eq!(page_start(10, None, 10), None);
        assert_eq!(page_start(10, Some(4), 0), Some(3));
        assert_eq!(page_start(10, Some(4), 2), Some(1));
        assert_eq!(page_start(10, Some(1), 0), None);
        // A cursor past the newest is the newest.
        assert_eq!(page_start(10, Some(u64::MAX), 0), Some(10));
        assert_eq!(page_start(0, None, 0), None);
        assert_eq!(page_start(10, None, u64::MAX), None);
    }
}
