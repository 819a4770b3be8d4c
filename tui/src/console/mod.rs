//! The console: Licences, Status and Users over SSH, in the manner of k9s or htop.
//!
//! Through the service when it answers; else on the store directly, answering
//! other clients on the socket itself for as long as it is open; on a freshly
//! made demo store when there is no store yet. Restores the terminal on every
//! exit, on a panic, and when the SSH session drops (SIGHUP).

pub mod app;
pub mod draw;
pub mod strings;
pub mod theme;

#[cfg(test)]
mod tests;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use crossterm::event::{self, Event as TermEvent, KeyEventKind};
use store::client::Remote;
use store::{Api, Local, Store, SystemClock};

use crate::cli::site;
use crate::cli::util::Failure;

/// What the console runs on.
struct Backend {
    api: Box<dyn Api>,
    /// Tells the loop that the store changed.
    changes: mpsc::Receiver<()>,
    /// Stops the embedded service and watchers.
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

fn connect(ctx: &site::Ctx) -> Result<Backend, Failure> {
    let socket = site::socket_path(ctx);
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    if socket.exists()
        && let Ok(remote) = Remote::connect(&socket)
    {
        // A second connection carries the events, so requests never wait behind them.
        let mut threads = Vec::new();
        if let Ok(events) = Remote::connect(&socket)
            && events.subscribe(None).is_ok()
        {
            let stop2 = stop.clone();
            threads.push(std::thread::spawn(move || {
                while !stop2.load(Ordering::Relaxed) {
                    match events.next_event(Duration::from_millis(300)) {
                        Ok(Some(_)) => {
                            if tx.send(()).is_err() {
                                return;
                            }
                        }
                        Ok(None) => {}
                        Err(_) => return,
                    }
                }
            }));
        }
        return Ok(Backend {
            api: Box::new(remote),
            changes: rx,
            stop,
            threads,
        });
    }
    let dir = site::store_dir(ctx.store.as_deref());
    let layout = store::Layout { dir: dir.clone() };
    let store = if layout.exists() {
        Store::open(&dir, Arc::new(SystemClock)).map_err(site::refused)?
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
                if watch.next(&store, Duration::from_millis(300)).is_some() && tx.send(()).is_err()
                {
                    return;
                }
            }
        }));
    }
    Ok(Backend {
        api: Box::new(Local {
            store,
            operator: site::operator(),
        }),
        changes: rx,
        stop,
        threads,
    })
}

/// Opens the console; returns when the administrator quits or the session drops.
pub fn run(ctx: &site::Ctx) -> Result<std::process::ExitCode, Failure> {
    let backend = connect(ctx)?;
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
                        ratatui::restore();
                        std::process::exit(0);
                    }
                }
            }
        });
    }
    let mut app = app::App::new(backend.api, theme::Theme::from_env());
    let mut terminal = ratatui::try_init()
        .map_err(|e| Failure::refused(format!("cannot use this terminal: {e}")))?;
    let result = event_loop(&mut terminal, &mut app, &backend.changes, &hangup);
    ratatui::restore();
    backend.stop.store(true, Ordering::Relaxed);
    for t in backend.threads {
        let _ = t.join();
    }
    result.map_err(|e| Failure::refused(format!("terminal error: {e}")))?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut app::App,
    changes: &mpsc::Receiver<()>,
    hangup: &AtomicBool,
) -> io::Result<()> {
    let mut dirty = true;
    while !app.quit && !hangup.load(Ordering::Relaxed) && !terminal_gone() {
        if dirty {
            let size = terminal.size()?;
            app.page_rows = usize::from(size.height.saturating_sub(8)).max(1);
            terminal.draw(|f| draw::draw(f, app))?;
            dirty = false;
        }
        if event::poll(Duration::from_millis(250))? {
            match event::read()? {
                TermEvent::Key(k) if k.kind != KeyEventKind::Release => {
                    app.on_key(k);
                    dirty = true;
                }
                TermEvent::Resize(_, _) => dirty = true,
                _ => {}
            }
        }
        let mut changed = false;
        while changes.try_recv().is_ok() {
            changed = true;
        }
        if changed {
            app.reload();
            dirty = true;
        }
    }
    Ok(())
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
