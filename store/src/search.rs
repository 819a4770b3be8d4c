//! The users in memory, for searching, filtering and sorting them.
//!
//! A search in the console runs on every keystroke, and must count what it
//! matches (the list shows "row N of M"). Read from sled, that is every user
//! decoded on every keystroke: 120-140 ms on a 104,000-user store. The index
//! holds what a filter and an order look at — each user's searchable text in
//! lower case, state, role and seat — packed in one allocation a user (about
//! 130 bytes: 14 MB for 104,000 users), so that a keystroke is one pass over
//! memory; only the page's own users are then read from sled.
//!
//! It is built once, on the first search, and kept current by every change
//! ([`Db::commit`](crate::db) hands it the user records a change writes).
//! When it cannot be (a change of many users, a change while a search reads
//! it, the tree reopened), it is marked stale and rebuilt on the next search.
//! Nothing is decided from it alone: each user of a page is read again from
//! the store and checked against the filter.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Result;
use crate::keys;
use crate::model::{PoolKey, User, UserState};
use crate::roles::Role;
use crate::views::UserSort;

/// More user records than this in one change: the index is rebuilt on the
/// next search instead of updated under the writer lock (a new user moves
/// the entries after it: about 0.5 ms on 100,000 users, so at most some
/// 16 ms of a change's time).
pub(crate) const MOST_UPDATED: usize = 32;

/// Separates the fields of an entry's text: no field holds it (names and
/// e-mail addresses refuse control characters), so no match spans two.
const SEP: char = '\0';

/// A record a change wrote: its key, and its value (`None`: removed).
pub(crate) type Write = (Vec<u8>, Option<Vec<u8>>);

/// The index and what keeps it current, one per open store.
#[derive(Default)]
pub(crate) struct Users {
    /// Changes that wrote user records, counted: an index built or updated
    /// at a count other than this one is stale.
    changed: AtomicU64,
    index: Mutex<Option<UserIndex>>,
}

/// One user, as the index holds them.
struct Entry {
    /// The lower-case name, then e-mail, role, seat and add-ons, each after
    /// [`SEP`]: the text a search looks in, and the name the key is made of.
    text: Box<str>,
    /// Where the name ends in `text`.
    name_len: u32,
    state: UserState,
    /// The role's place on the ladder ([`Role::ALL`]).
    role: u8,
    /// The seat's pool, as an index of [`UserIndex::pools`]; [`NO_SEAT`] for none.
    seat: u32,
}

const NO_SEAT: u32 = u32::MAX;

impl Entry {
    /// The lower-case name: the store's key without its prefix.
    fn name(&self) -> &str {
        &self.text[..self.name_len as usize]
    }
}

/// A pool seen in the index.
struct Pool {
    /// Its label in lower case, to sort by.
    label: String,
}

/// The users in name order, as of a count of changes.
pub(crate) struct UserIndex {
    /// ([`Users::changed`], the tree's generation) when it was current.
    seen: (u64, u64),
    entries: Vec<Entry>,
    pools: Vec<Pool>,
    /// Pools by identity ([`keys::pool`]: a licence may change a name's case).
    pool_ids: HashMap<Vec<u8>, u32>,
    /// Orders other than by name: positions of `entries`, and each entry's
    /// place in that order. Made on first use; dropped by any update.
    orders: HashMap<UserSort, Order>,
}

struct Order {
    positions: Vec<u32>,
    rank: Vec<u32>,
}

/// What a page of users keeps: the query's filters, made once.
pub(crate) struct Filter {
    /// Lower case, not empty.
    pub search: Option<String>,
    /// "active", "inactive" or "deleted", lower case.
    pub state: Option<String>,
    /// Only users without a seat.
    pub no_licence: bool,
    /// Keep deleted users too.
    pub include_deleted: bool,
    /// Only holders of these pools ([`keys::pool`] identities).
    pub pools: Option<Vec<Vec<u8>>>,
}

/// Where a page starts, and which way it reads.
pub(crate) struct Cursor<'a> {
    /// The last name of the page before (lower case), if any.
    pub after: Option<&'a str>,
    /// Read towards the start: the `limit` users before `after`.
    pub backward: bool,
    /// The page includes the user of `after` itself.
    pub inclusive: bool,
    /// Users on a page.
    pub limit: usize,
}

/// A page as the index found it: the users' keys, in the order asked.
pub(crate) struct Found {
    /// Store keys of the page's users, first to last in the order.
    pub keys: Vec<Vec<u8>>,
    /// Every user the filter keeps.
    pub total: u64,
    /// Whether more users follow the page in the direction read.
    pub more: bool,
}

impl Users {
    /// Called with the user records a change wrote, once it is applied
    /// (under the writer lock, so changes arrive in order). `None` for a
    /// change of more than [`MOST_UPDATED`] users.
    pub(crate) fn changed(&self, writes: Option<Vec<Write>>, generation: u64) {
        let before = self.changed.fetch_add(1, Ordering::AcqRel);
        // Never wait for a search here: the writer lock is held. A search in
        // progress leaves the index stale, to be rebuilt by the next one.
        let Ok(mut g) = self.index.try_lock() else {
            return;
        };
        let Some(ix) = g.as_mut() else { return };
        let current = ix.seen == (before, generation);
        let updated = current
            && writes.is_some_and(|w| {
                w.into_iter()
                    .all(|(k, v)| ix.update(&k, v.as_deref()).is_ok())
            });
        if updated {
            ix.seen = (before + 1, generation);
        } else {
            *g = None;
        }
    }

    /// Runs `f` on the index, built first when missing or stale. `read`
    /// walks every user record of the store (for building).
    pub(crate) fn with<R>(
        &self,
        generation: u64,
        read: impl FnOnce(&mut dyn FnMut(&[u8], &[u8]) -> Result<()>) -> Result<()>,
        f: impl FnOnce(&mut UserIndex) -> R,
    ) -> Result<R> {
        let mut g = self.index.lock().unwrap_or_else(|p| p.into_inner());
        // Read before building: a change applied while building makes the
        // result stale at once, never current with the change missing.
        let now = (self.changed.load(Ordering::Acquire), generation);
        let mut ix = match g.take() {
            Some(ix) if ix.seen == now => ix,
            _ => {
                let mut ix = UserIndex::empty(now);
                read(&mut |_, v| {
                    let u: User = crate::model::decode(v, "user")?;
                    let e = ix.entry(&u);
                    ix.entries.push(e);
                    Ok(())
                })?;
                ix
            }
        };
        let out = f(&mut ix);
        *g = Some(ix);
        Ok(out)
    }
}

impl UserIndex {
    fn empty(seen: (u64, u64)) -> UserIndex {
        UserIndex {
            seen,
            entries: Vec::new(),
            pools: Vec::new(),
            pool_ids: HashMap::new(),
            orders: HashMap::new(),
        }
    }

    /// The pools of `ids` this index has seen (others have no holders).
    fn interned(&self, ids: &[Vec<u8>]) -> Vec<u32> {
        ids.iter()
            .filter_map(|id| self.pool_ids.get(id).copied())
            .collect()
    }

    fn entry(&mut self, u: &User) -> Entry {
        let name = u.name.to_lowercase();
        let mut text = String::with_capacity(name.len() + u.email.len() + 48);
        text.push_str(&name);
        for field in [u.email.as_str(), u.role.name()] {
            text.push(SEP);
            text.push_str(&field.to_lowercase());
        }
        let seat = match &u.seat {
            Some(p) => {
                let label = p.label().to_lowercase();
                text.push(SEP);
                text.push_str(&label);
                self.pool(p, label)
            }
            None => NO_SEAT,
        };
        for a in &u.add_ons {
            text.push(SEP);
            text.push_str(&a.to_lowercase());
        }
        Entry {
            name_len: u32::try_from(name.len()).unwrap_or(u32::MAX),
            text: text.into_boxed_str(),
            state: u.state,
            role: role_rank(u.role),
            seat,
        }
    }

    fn pool(&mut self, p: &PoolKey, label: String) -> u32 {
        let id = keys::pool(p);
        if let Some(i) = self.pool_ids.get(&id) {
            return *i;
        }
        let i = u32::try_from(self.pools.len()).unwrap_or(NO_SEAT);
        self.pools.push(Pool { label });
        self.pool_ids.insert(id, i);
        i
    }

    /// Where the user of store key `key` is, or would be.
    fn find(&self, key: &[u8]) -> std::result::Result<usize, usize> {
        let name = key.strip_prefix(keys::USERS).unwrap_or(key);
        self.entries
            .binary_search_by(|e| e.name().as_bytes().cmp(name))
    }

    /// Puts one user record written by a change (`None`: removed).
    fn update(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        self.orders.clear();
        let at = self.find(key);
        match (value, at) {
            (None, Ok(i)) => {
                self.entries.remove(i);
            }
            (None, Err(_)) => {}
            (Some(v), at) => {
                let u: User = crate::model::decode(v, "user")?;
                let e = self.entry(&u);
                match at {
                    Ok(i) => self.entries[i] = e,
                    Err(i) => self.entries.insert(i, e),
                }
            }
        }
        Ok(())
    }

    /// Makes the order asked for if it is not made yet (by name is the
    /// entries' own order and needs none).
    fn make_order(&mut self, sort: UserSort) {
        if sort != UserSort::Name && !self.orders.contains_key(&sort) {
            let mut positions: Vec<u32> = (0..self.entries.len() as u32).collect();
            let entries = &self.entries;
            let pools = &self.pools;
            // Entries are in name order already: a stable sort keeps names
            // in order within a role, a licence or a state.
            match sort {
                UserSort::Name => {}
                UserSort::Role => positions.sort_by_key(|i| entries[*i as usize].role),
                UserSort::State => {
                    positions.sort_by_key(|i| state_rank(entries[*i as usize].state))
                }
                UserSort::Licence => positions.sort_by(|a, b| {
                    let label = |i: &u32| {
                        pools
                            .get(entries[*i as usize].seat as usize)
                            .map(|p| p.label.as_str())
                    };
                    // Users without a seat last.
                    match (label(a), label(b)) {
                        (Some(x), Some(y)) => x.cmp(y),
                        (Some(_), None) => std::cmp::Ordering::Less,
                        (None, Some(_)) => std::cmp::Ordering::Greater,
                        (None, None) => std::cmp::Ordering::Equal,
                    }
                }),
            }
            let mut rank = vec![0u32; positions.len()];
            for (r, i) in positions.iter().enumerate() {
                rank[*i as usize] = r as u32;
            }
            self.orders.insert(sort, Order { positions, rank });
        }
    }

    /// The page `cursor` names of the users `filter` keeps, in `sort`'s order.
    pub(crate) fn page(&mut self, filter: &Filter, sort: UserSort, cursor: &Cursor<'_>) -> Found {
        let pools: Option<Vec<u32>> = filter.pools.as_ref().map(|ids| self.interned(ids));
        let n = self.entries.len();
        // Where the cursor is in the order: reading forward starts after it,
        // backward ends before it.
        let cursor_at = |ix: &UserIndex, order: Option<&Order>| -> usize {
            let Some(after) = cursor.after else {
                return if cursor.backward { n } else { 0 };
            };
            let key = keys::user(after);
            // Forwards the page starts after the cursor, backwards it ends
            // before it; `inclusive` moves either past the cursor's own row.
            let past = usize::from(cursor.inclusive == cursor.backward);
            match (order, ix.find(&key)) {
                (None, Ok(i)) => i + past,
                (None, Err(i)) => i,
                (Some(o), Ok(i)) => o.rank[i] as usize + past,
                // Gone since the page before: read from the end it came from.
                (Some(_), Err(_)) => {
                    if cursor.backward {
                        n
                    } else {
                        0
                    }
                }
            }
        };
        self.make_order(sort);
        let order = self.orders.get(&sort);
        let at = cursor_at(self, order);
        let entry = |pos: usize| -> &Entry {
            match order {
                Some(o) => &self.entries[o.positions[pos] as usize],
                None => &self.entries[pos],
            }
        };
        let keeps = |e: &Entry| filter.keeps(e, pools.as_deref());
        let mut keys = Vec::new();
        let mut more = false;
        let limit = cursor.limit.max(1);
        if cursor.backward {
            for pos in (0..at).rev() {
                let e = entry(pos);
                if keeps(e) {
                    if keys.len() == limit {
                        more = true;
                        break;
                    }
                    keys.push(keys::user(e.name()));
                }
            }
            keys.reverse();
        } else {
            for pos in at..n {
                let e = entry(pos);
                if keeps(e) {
                    if keys.len() == limit {
                        more = true;
                        break;
                    }
                    keys.push(keys::user(e.name()));
                }
            }
        }
        let total = self.entries.iter().filter(|e| keeps(e)).count() as u64;
        Found { keys, total, more }
    }
}

impl Filter {
    /// Whether `u`, as read again from the store, is kept.
    pub(crate) fn keeps_user(&self, u: &User) -> bool {
        let mut one = UserIndex::empty((0, 0));
        let e = one.entry(u);
        let pools: Option<Vec<u32>> = self.pools.as_ref().map(|ids| one.interned(ids));
        self.keeps(&e, pools.as_deref())
    }

    /// The one test of a user against a query's filters.
    fn keeps(&self, e: &Entry, pools: Option<&[u32]>) -> bool {
        let state = e.state.word();
        let deleted_asked = self.state.as_deref() == Some("deleted");
        if e.state == UserState::Deleted && !self.include_deleted && !deleted_asked {
            return false;
        }
        if self.state.as_deref().is_some_and(|s| s != state) {
            return false;
        }
        if self.no_licence && e.seat != NO_SEAT {
            return false;
        }
        if let Some(pools) = pools
            && !pools.contains(&e.seat)
        {
            return false;
        }
        match &self.search {
            // A search with the separator in it would match across fields.
            Some(s) => !s.contains(SEP) && e.text.contains(s.as_str()),
            None => true,
        }
    }
}

fn role_rank(r: Role) -> u8 {
    Role::ALL
        .iter()
        .position(|x| *x == r)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

fn state_rank(s: UserState) -> u8 {
    match s {
        UserState::Active => 0,
        UserState::Inactive => 1,
        UserState::Deleted => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> Vec<u8> {
        crate::model::encode(&User {
            name: name.into(),
            email: String::new(),
            role: Role::ALL[0],
            seat: None,
            add_ons: Vec::new(),
            state: UserState::Active,
            created_at: 0,
            activated_at: 0,
            activation: 0,
            over_allocated_since: None,
            deactivated_reason: String::new(),
        })
        .unwrap()
    }

    /// Counts the builds, and gives the names of `users` as the store's records.
    fn names(users: &Users, store: &[&str], builds: &mut u32) -> Vec<String> {
        let filter = Filter {
            search: None,
            state: None,
            no_licence: false,
            include_deleted: false,
            pools: None,
        };
        let cursor = Cursor {
            after: None,
            backward: false,
            inclusive: false,
            limit: 100,
        };
        users
            .with(
                0,
                |visit| {
                    *builds += 1;
                    for n in store {
                        visit(&keys::user(n), &user(n))?;
                    }
                    Ok(())
                },
                |ix| ix.page(&filter, UserSort::Name, &cursor),
            )
            .unwrap()
            .keys
            .iter()
            .map(|k| String::from_utf8_lossy(&k[keys::USERS.len()..]).into_owned())
            .collect()
    }

    #[test]
    fn a_change_updates_the_index_without_reading_every_user_again() {
        let users = Users::default();
        let mut builds = 0;
        assert_eq!(names(&users, &["a", "c"], &mut builds), ["a", "c"]);
        users.changed(Some(vec![(keys::user("b"), Some(user("B")))]), 0);
        users.changed(Some(vec![(keys::user("a"), None)]), 0);
        // The store's records are not read again: what it gives is the index.
        assert_eq!(names(&users, &[], &mut builds), ["b", "c"]);
        assert_eq!(builds, 1);
    }

    #[test]
    fn a_change_of_many_users_or_during_a_search_or_a_reopened_tree_rebuilds_it() {
        let users = Users::default();
        let mut builds = 0;
        names(&users, &["a"], &mut builds);
        users.changed(None, 0);
        assert_eq!(names(&users, &["a", "b"], &mut builds), ["a", "b"]);
        assert_eq!(builds, 2);
        // A search holds the index: the change cannot wait for it.
        {
            let _held = users.index.lock().unwrap();
            users.changed(Some(vec![(keys::user("c"), Some(user("c")))]), 0);
        }
        assert_eq!(
            names(&users, &["a", "b", "c"], &mut builds),
            ["a", "b", "c"]
        );
        assert_eq!(builds, 3);
        // The tree reopened from the disk (generation 1): built again.
        let got = users.with(1, |_| Ok(()), |ix| ix.entries.len()).unwrap();
        assert_eq!(got, 0);
    }
}
