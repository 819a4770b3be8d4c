//! The console: Licences, Status and Users over SSH, in the manner of k9s or htop.
//!
//! Through the service when it answers; else on the store directly, answering
//! other clients on the socket itself for as long as it is open; on a freshly
//! made demo store when there is no store yet. A store held for a moment by
//! another process (a `tessera check`) is waited for. When the service goes
//! away the console says so and reconnects, to the service again or to the
//! store once it is free; a service that asks for the store the console
//! holds ([`store::handover`]) gets it, and the console goes through it.
//! Restores the terminal on every exit, on a panic,
//! and when the SSH session drops (SIGHUP).
//!
//! Built like gitui: a component per tab and popup ([`components`]), each
//! returning an [`action::Action`] from a key; one performer ([`perform`]);
//! the key bindings in one struct ([`keys`]); the store behind a trait
//! ([`port`]) so that all of it is tested without sled.

pub mod action;
pub mod app;
pub mod components;
pub mod draw;
pub mod forms;
pub mod keys;
pub mod perform;
pub mod port;
pub mod strings;
pub mod theme;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crossterm::event::{self, Event as TermEvent, KeyEventKind};
use store::client::Remote;
use store::{Api, Local, Store, StoreError, SystemClock};

use crate::cli::site;
use crate::cli::util::Failure;

/// How long the console waits for a store another process holds.
const STORE_WAIT: Duration = Duration::from_secs(10);
/// How often a lost connection is tried again.
const RECONNECT_EVERY: Duration = Duration::from_millis(400);

/// What the store's watchers tell the loop.
enum Signal {
    /// The store changed.
    Changed,
    /// The connection to the service ended.
    Lost,
}

/// What the console runs on.
struct Backend {
    /// Taken by the console; the rest stays with the loop.
    api: Option<Box<dyn Api>>,
    /// Tells the loop that the store changed or the service went away.
    signals: mpsc::Receiver<Signal>,
    /// Stops the embedded service and watchers.
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// The store this console opened itself, if it did: given up when a
    /// service asks for it ([`store::handover`]).
    holds: Option<store::Layout>,
}

impl Backend {
    /// Nothing: the console gave the store up and reconnects.
    fn none() -> Backend {
        Backend {
            api: None,
            signals: mpsc::channel().1,
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
            holds: None,
        }
    }

    /// Stops the watchers and the embedded service, waiting for them a
    /// bounded time: a wait inside sled that never wakes (a clock moved under
    /// libfaketime, say) must not keep the console from ending. Every change
    /// was synced when it was made, and the kernel releases the store's lock.
    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + Duration::from_secs(2);
        for t in self.threads {
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// Connects to the service, or opens the store. `wait`: a store held by
/// another process is waited for (up to [`STORE_WAIT`]), saying so on the
/// terminal before the console starts.
fn connect(ctx: &site::Ctx, wait: bool) -> Result<Backend, Failure> {
    let dir = site::store_dir(ctx.store.as_deref());
    let layout = store::Layout { dir: dir.clone() };
    if wait && ctx.connect.is_none() {
        // A service waiting for the store will own it in a moment: go
        // through it rather than race it for the store. Bounded: a service
        // waits [`STORE_WAIT`] at most before it gives up.
        let start = Instant::now();
        while store::handover::wanted(&layout) && start.elapsed() < STORE_WAIT {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let socket = site::socket_path(ctx);
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    // `--connect`: the service on another host, over mutual TLS, and never
    // this host's store instead.
    let service: Option<Box<dyn Fn() -> store::Result<Remote>>> = match &ctx.connect {
        Some((addr, files)) => {
            let (addr, files) = (addr.clone(), files.clone());
            Some(Box::new(move || store::tls::connect_remote(&addr, &files)))
        }
        None if socket.exists() => {
            let socket = socket.clone();
            Some(Box::new(move || Remote::connect(&socket)))
        }
        None => None,
    };
    let remote = match &service {
        Some(open) => match open() {
            Ok(remote) => Some(remote),
            Err(e) if ctx.connect.is_some() => {
                return Err(Failure::Store {
                    code: store::Code::Unreachable,
                    message: format!("cannot reach the service: {e}"),
                });
            }
            Err(_) => None,
        },
        None => None,
    };
    if let (Some(remote), Some(open)) = (remote, &service) {
        // A second connection carries the events, so requests never wait behind them.
        let mut threads = Vec::new();
        match open() {
            Ok(events) if events.subscribe(None).is_ok() => {
                let stop2 = stop.clone();
                threads.push(std::thread::spawn(move || {
                    while !stop2.load(Ordering::Relaxed) {
                        match events.next_event(Duration::from_millis(300)) {
                            Ok(Some(_)) => {
                                if tx.send(Signal::Changed).is_err() {
                                    return;
                                }
                            }
                            Ok(None) => {}
                            Err(_) => {
                                let _ = tx.send(Signal::Lost);
                                return;
                            }
                        }
                    }
                }));
            }
            _ => {}
        }
        return Ok(Backend {
            api: Some(Box::new(remote)),
            signals: rx,
            stop,
            threads,
            holds: None,
        });
    }
    if !wait && store::handover::wanted(&layout) {
        // Reconnecting, and a service waits for the store (the console
        // gave it up to it, or it is restarting): taking the store now
        // would turn that service away. Try again until it answers.
        return Err(Failure::Store {
            code: store::Code::Unreachable,
            message: "a service is taking the store; waiting for it to answer".into(),
        });
    }
    let store = if layout.exists() {
        open_waiting(&dir, wait)?
    } else {
        // The first `tessera` on a machine: a demo store that looks like a real site.
        store::demo::create_demo(&dir, 60, 5, &site::operator(), Arc::new(SystemClock))
            .map_err(site::refused)?
    };
    let store = Arc::new(store);
    let mut threads = Vec::new();
    // While the console holds the store, others reach it through the console.
    {
        let (store, stop) = (store.clone(), stop.clone());
        let options = store::service::Options {
            socket,
            group: None,
            tick_every: Duration::from_secs(60),
            max_per_user: store::service::Options::MAX_PER_USER,
            idle: store::service::Options::IDLE,
        };
        let log: store::service::Log = Arc::new(|_line: &str| {});
        threads.push(std::thread::spawn(move || {
            let _ = store::service::serve(store, &options, stop, log);
        }));
    }
    {
        let (store, stop) = (store.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            let mut watch = store.watch_events();
            while !stop.load(Ordering::Relaxed) {
                if watch.next(&store, Duration::from_millis(300)).is_some()
                    && tx.send(Signal::Changed).is_err()
                {
                    return;
                }
            }
        }));
    }
    Ok(Backend {
        api: Some(Box::new(Local {
            store,
            operator: site::operator(),
        })),
        signals: rx,
        stop,
        threads,
        holds: Some(layout),
    })
}

/// Opens the store; while another process holds it (a `tessera check`, a
/// report), waits for it when `wait`, saying so once.
fn open_waiting(dir: &std::path::Path, wait: bool) -> Result<Store, Failure> {
    let start = Instant::now();
    let mut said = false;
    loop {
        match Store::open(dir, Arc::new(SystemClock)) {
            Ok(s) => return Ok(s),
            Err(e @ StoreError::Busy { .. }) if wait && start.elapsed() < STORE_WAIT => {
                if !said {
                    eprintln!(
                        "tessera: {e}; waiting up to {} s for it to be free (Ctrl-C to stop)",
                        STORE_WAIT.as_secs()
                    );
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(site::refused(e)),
        }
    }
}

/// Leaves the terminal as it was: bracketed paste off, the screen restored.
fn restore() {
    let _ = crossterm::execute!(io::stdout(), event::DisableBracketedPaste);
    ratatui::restore();
}

/// Opens the console; returns when the administrator quits or the session drops.
pub fn run(ctx: &site::Ctx) -> Result<std::process::ExitCode, Failure> {
    let mut backend = connect(ctx, true)?;
    let hangup = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGHUP, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, hangup.clone());
    }
    // crossterm spins inside its own read when the terminal has gone (end of
    // file, forever), so a watchdog ends the process instead: every change was
    // synced when it was made, and the kernel releases the store's lock.
    {
        let hangup = hangup.clone();
        std::thread::spawn(move || {
            let mut since_hangup = 0;
            loop {
                std::thread::sleep(Duration::from_millis(500));
                if terminal_gone() {
                    std::process::exit(0);
                }
                if hangup.load(Ordering::Relaxed) {
                    since_hangup += 1;
                    if since_hangup > 4 {
                        restore();
                        std::process::exit(0);
                    }
                }
            }
        });
    }
    let api = backend
        .api
        .take()
        .ok_or_else(|| Failure::refused("no connection to the store".to_string()))?;
    let mut app = app::App::new(Arc::new(port::Real(api)), theme::Theme::from_env());
    app.worker = Some(perform::Worker::start());
    let mut terminal = ratatui::try_init()
        .map_err(|e| Failure::refused(format!("cannot use this terminal: {e}")))?;
    // A paste arrives as one event, text for the focused field, never keys.
    let _ = crossterm::execute!(io::stdout(), event::EnableBracketedPaste);
    let result = event_loop(&mut terminal, &mut app, backend, ctx, &hangup);
    restore();
    result.map_err(|e| Failure::refused(format!("terminal error: {e}")))?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// A connection being made again, off the drawing thread.
type Attempt = mpsc::Receiver<Result<Backend, String>>;

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut app::App,
    mut backend: Backend,
    ctx: &site::Ctx,
    hangup: &AtomicBool,
) -> io::Result<()> {
    let mut dirty = true;
    let mut attempt: Option<Attempt> = None;
    let mut last_attempt = Instant::now() - RECONNECT_EVERY;
    let mut reload_wanted = false;
    let result = loop {
        if app.quit || hangup.load(Ordering::Relaxed) || terminal_gone() {
            break Ok(());
        }
        if dirty {
            if let Err(e) = terminal.draw(|f| draw::draw(f, app)) {
                break Err(e);
            }
            dirty = false;
        }
        let animating = app.busy > 0 || app.data.disconnected.is_some();
        let wait = if animating { 100 } else { 250 };
        match event::poll(Duration::from_millis(wait)) {
            Ok(true) => match event::read() {
                Ok(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => {
                    app.on_key(k);
                    dirty = true;
                }
                Ok(TermEvent::Paste(text)) => {
                    app.on_paste(&text);
                    dirty = true;
                }
                Ok(TermEvent::Resize(_, _)) => dirty = true,
                Ok(_) => {}
                Err(e) => break Err(e),
            },
            Ok(false) => {}
            Err(e) => break Err(e),
        }
        if app.poll_worker() {
            dirty = true;
        }
        while let Ok(signal) = backend.signals.try_recv() {
            match signal {
                Signal::Changed => reload_wanted = true,
                Signal::Lost => {
                    app.data.disconnected = Some("the service closed the connection".into());
                    dirty = true;
                }
            }
        }
        if reload_wanted && app.busy == 0 && app.data.disconnected.is_none() {
            reload_wanted = false;
            app.run(action::Job::Reload);
            dirty = true;
        }
        // A service started on this store (a restart, systemd's Restart=,
        // or an administrator starting it while this console held the store)
        // asks for it. The service is the owner meant: it is what the licensed
        // product and other administrators reach, and it would otherwise fail
        // to start. So the console gives the store up and goes through it,
        // rather than keeping the store and leaving the service down.
        if backend.holds.as_ref().is_some_and(store::handover::wanted) {
            let old = std::mem::replace(&mut backend, Backend::none());
            app.handed_over("a service asked for the store");
            // Stopping the embedded service takes up to a poll interval: off
            // this thread, so that the disconnection is drawn at once. The
            // store is closed when the last of its users lets go of it.
            std::thread::spawn(move || old.stop());
            dirty = true;
        }
        // Lost: try again, to the service or to the store once it is free.
        if app.data.disconnected.is_some() {
            if let Some(rx) = &attempt {
                match rx.try_recv() {
                    Ok(Ok(mut fresh)) => {
                        attempt = None;
                        if let Some(api) = fresh.api.take() {
                            let old = std::mem::replace(&mut backend, fresh);
                            old.stop();
                            app.reconnected(Arc::new(port::Real(api)));
                            dirty = true;
                        }
                    }
                    Ok(Err(_)) | Err(mpsc::TryRecvError::Disconnected) => attempt = None,
                    Err(mpsc::TryRecvError::Empty) => {}
                }
            } else if last_attempt.elapsed() >= RECONNECT_EVERY {
                last_attempt = Instant::now();
                let (tx, rx) = mpsc::channel();
                let ctx = ctx.clone();
                std::thread::spawn(move || {
                    let _ = tx.send(connect(&ctx, false).map_err(|e| format!("{e:?}")));
                });
                attempt = Some(rx);
            }
        }
        if animating {
            app.frame_count = app.frame_count.wrapping_add(1);
            dirty = true;
        }
    };
    drop(app.worker.take());
    backend.stop();
    result
}

/// Whether the terminal went away without a SIGHUP reaching the console (a
/// closed tmux pane, a dropped session whose hang-up went elsewhere): standard
/// input reports hang-up or an error. Without this a console whose terminal is
/// gone would spin reading end-of-file, holding the store.
fn terminal_gone() -> bool {
    use std::io::IsTerminal;

    use rustix::event::{PollFd, PollFlags, Timespec};
    let stdin = io::stdin();
    // A hung-up terminal answers its ioctls with EIO: it is no longer a terminal.
    if !stdin.is_terminal() {
        return true;
    }
    let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match rustix::event::poll(&mut fds, Some(&now)) {
        Ok(_) => fds[0]
            .revents()
            .intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL),
        Err(_) => true,
    }
}
