//! The pool for requests that may wait.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// A request handed to the pool, with what to do with its answer.
pub(super) type Job = Box<dyn FnOnce() + Send>;

/// Threads for requests that may block (writes wait for their sync). It grows
/// when every thread is busy, so that many writers waiting on one sync do not
/// queue behind each other (that is what lets one sync cover them all); idle
/// threads leave after a while. Each connection has at most one request here.
pub(super) struct Pool {
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
    pub(super) fn new() -> Arc<Pool> {
        Arc::new(Pool {
            state: Mutex::new(PoolState::default()),
            work: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn run(self: &Arc<Self>, job: Job) {
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
    pub(super) fn join(&self) {
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
