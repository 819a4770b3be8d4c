//! The console in-process on a demo store of `TESSERA_BENCH_USERS` users
//! (default 100,000): the first frame (loading the console's state and drawing
//! it), one Down key on the Users tab redrawn, and the bytes each writes to the
//! terminal, at 200x50.
//!
//! `cargo bench --manifest-path bench/Cargo.toml --bench console`. The store is
//! made once per run in a temporary directory (about 20 s for 100,000 users), or
//! `TESSERA_BENCH_STORE=DIR` opens one made before
//! (`tessera --store DIR demo --users 100000 --no-console`).
//! Targets: first frame under 200 ms from start (the whole process is measured
//! by bench/console-figures.sh), a keypress redrawn in under 16 ms, under 4 KB
//! written for one step down the Users list.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use store::{Local, Store, SystemClock};

// The console's own modules, compiled into the bench at its root (the `tessera`
// package is a binary; these refer only to each other, through `super`, and
// the components' directory comes with its mod.rs). Their unit tests compile
// here under `--all-targets` without a harness to run them: hence the allows.
#[allow(dead_code, unused_imports)]
#[path = "../../tui/src/console/action.rs"]
mod action;
#[allow(dead_code, unused_imports)]
#[path = "../../tui/src/console/app.rs"]
mod app;
#[allow(dead_code, unused_imports)]
#[path = "../../tui/src/console/components/mod.rs"]
mod components;
#[allow(dead_code, unused_imports)]
#[path = "../../tui/src/console/draw.rs"]
mod draw;
#[allow(dead_code, unused_imports)]
#[path = "../../tui/src/console/forms.rs"]
mod forms;
#[allow(dead_code, unused_imports)]
#[path = "../../tui/src/console/keys.rs"]
mod keys;
#[allow(dead_code, unused_imports)]
#[path = "../../tui/src/console/perform.rs"]
mod perform;
#[allow(dead_code, unused_imports)]
#[path = "../../tui/src/console/port.rs"]
mod port;
#[allow(dead_code, unused_imports)]
#[path = "../../tui/src/console/strings.rs"]
mod strings;
#[allow(dead_code, unused_imports)]
#[path = "../../tui/src/console/theme.rs"]
mod theme;

use action::Tab;
use app::App;
use theme::Theme;

const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;

/// A terminal that counts what is written to it.
#[derive(Clone, Default)]
struct CountingWriter(Arc<AtomicUsize>);

impl CountingWriter {
    fn take(&self) -> usize {
        self.0.swap(0, Ordering::Relaxed)
    }
}

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

type Term = Terminal<CrosstermBackend<CountingWriter>>;

fn terminal(out: &CountingWriter) -> Term {
    // A fixed viewport: no terminal to ask for its size.
    Terminal::with_options(
        CrosstermBackend::new(out.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, WIDTH, HEIGHT)),
        },
    )
    .expect("terminal")
}

fn app(store: &Arc<Store>, operator: &str) -> App {
    let api = Local {
        store: store.clone(),
        operator: operator.to_string(),
    };
    // Jobs run at once here (no worker thread): each key's store work is timed with it.
    App::new(
        Arc::new(port::Real(Box::new(api))),
        Theme {
            colour: true,
            unicode: true,
        },
    )
}

fn draw(term: &mut Term, app: &App) {
    term.draw(|f| draw::draw(f, app)).expect("draw");
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn users() -> usize {
    std::env::var("TESSERA_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, operator, label) = match std::env::var_os("TESSERA_BENCH_STORE") {
        Some(path) => {
            let store = Store::open(path.as_ref(), Arc::new(SystemClock)).expect("open the store");
            let owner = store.installation().expect("installation").owner;
            (store, owner, "given store".to_string())
        }
        None => {
            let n = users();
            let made = Instant::now();
            let store = store::demo::create_demo(
                &dir.path().join("store"),
                n,
                12,
                "owner",
                Arc::new(SystemClock),
            )
            .expect("demo store");
            eprintln!("demo store of {n} users made in {:?}", made.elapsed());
            (store, "owner".to_string(), format!("{n} users"))
        }
    };
    let store = Arc::new(store);

    // The figures, once, before criterion's repetitions.
    let out = CountingWriter::default();
    let start = Instant::now();
    let mut a = app(&store, &operator);
    let loaded = start.elapsed();
    let mut term = terminal(&out);
    draw(&mut term, &a);
    let first = start.elapsed();
    eprintln!(
        "first frame ({label}): state loaded in {loaded:?}, drawn by {first:?}, {} bytes",
        out.take()
    );
    key(&mut a, KeyCode::Char('3'));
    draw(&mut term, &a);
    eprintln!("switch to Users: {} bytes", out.take());
    // Rows of users on screen: less the title (two lines on a demo store), the
    // tabs, the footer, the table's borders and its header.
    let demo = a.data.demo();
    let visible = usize::from(HEIGHT) - if demo { 7 } else { 6 };
    let mut within = Vec::new();
    let mut scrolling = Vec::new();
    for _ in 0..visible + 10 {
        let t = Instant::now();
        key(&mut a, KeyCode::Down);
        draw(&mut term, &a);
        let took = t.elapsed();
        // Past the rows on screen, each step scrolls the table.
        if a.users.sel < visible {
            within.push((out.take(), took));
        } else {
            scrolling.push((out.take(), took));
        }
    }
    let summary = |v: &[(usize, Duration)]| {
        let mut bytes: Vec<usize> = v.iter().map(|x| x.0).collect();
        bytes.sort_unstable();
        let max_t = v.iter().map(|x| x.1).max().unwrap_or_default();
        format!(
            "bytes min {} median {} max {}, slowest {max_t:?}",
            bytes.first().unwrap_or(&0),
            bytes.get(bytes.len() / 2).unwrap_or(&0),
            bytes.last().unwrap_or(&0)
        )
    };
    eprintln!("Down within the screen: {}", summary(&within));
    eprintln!("Down that scrolls the table: {}", summary(&scrolling));
    // Across the end of a fetched page (200 users): the next page is read.
    a.users.sel = a.users.rows.len().saturating_sub(1);
    draw(&mut term, &a);
    out.take();
    let t = Instant::now();
    key(&mut a, KeyCode::Down);
    draw(&mut term, &a);
    eprintln!(
        "Down onto the next page of users: {:?}, {} bytes",
        t.elapsed(),
        out.take()
    );
    // End: the last page read from the store's end, never paged through.
    let t = Instant::now();
    key(&mut a, KeyCode::End);
    draw(&mut term, &a);
    eprintln!(
        "End of the Users list (row {} of {:?}): {:?}, {} bytes",
        a.users.sel + 1,
        a.users.total,
        t.elapsed(),
        out.take()
    );
    // A live filter: `/` then a name typed a key at a time, each key's
    // store read (the filtered first page) and redraw timed with it.
    key(&mut a, KeyCode::Home);
    draw(&mut term, &a);
    // `/` makes the search ready (the index of users in memory): timed on
    // its own, since a person takes longer than this to type a letter.
    let t = Instant::now();
    key(&mut a, KeyCode::Char('/'));
    draw(&mut term, &a);
    eprintln!("`/` (the search made ready): {:?}", t.elapsed());
    out.take();
    let mut typed = Vec::new();
    for ch in "alice".chars() {
        let t = Instant::now();
        key(&mut a, KeyCode::Char(ch));
        draw(&mut term, &a);
        typed.push(t.elapsed());
    }
    let slowest = typed.iter().max().copied().unwrap_or_default();
    eprintln!(
        "live filter, a keystroke each of \"alice\": {typed:?}, slowest {slowest:?}, {} rows",
        a.users.rows.len()
    );
    key(&mut a, KeyCode::Esc);
    draw(&mut term, &a);
    out.take();
    // Sorted by role (the order made from the index), then End in that order.
    let t = Instant::now();
    key(&mut a, KeyCode::Char('s'));
    draw(&mut term, &a);
    let sorted = t.elapsed();
    let t = Instant::now();
    key(&mut a, KeyCode::End);
    draw(&mut term, &a);
    eprintln!(
        "s (sorted by {}): {sorted:?}; End in that order: {:?}",
        a.users.sort.word(),
        t.elapsed()
    );
    key(&mut a, KeyCode::Char('S'));
    key(&mut a, KeyCode::Char('s'));
    key(&mut a, KeyCode::Char('s'));
    key(&mut a, KeyCode::Char('s'));
    draw(&mut term, &a);
    out.take();

    let mut group = c.benchmark_group(format!("console-{label}"));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));

    group.bench_function("first_frame_200x50", |b| {
        b.iter(|| {
            let a = app(&store, &operator);
            let mut term = terminal(&out);
            draw(&mut term, &a);
            a
        })
    });

    // One step down and its redraw, from a screen already drawn; the step back
    // up is not timed. Near the top: the selection moves, the table does not scroll.
    let mut a = app(&store, &operator);
    key(&mut a, KeyCode::Char('3'));
    let mut term = terminal(&out);
    draw(&mut term, &a);
    a.users.sel = 5;
    draw(&mut term, &a);
    group.bench_function("down_redraw_users_200x50", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                key(&mut a, KeyCode::Down);
                draw(&mut term, &a);
                timed += t.elapsed();
                key(&mut a, KeyCode::Up);
                draw(&mut term, &a);
            }
            timed
        })
    });
    // Past the first screen: every step scrolls the table by a row.
    a.users.sel = 100;
    draw(&mut term, &a);
    group.bench_function("down_redraw_users_scrolling_200x50", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                key(&mut a, KeyCode::Down);
                draw(&mut term, &a);
                timed += t.elapsed();
                key(&mut a, KeyCode::Up);
                draw(&mut term, &a);
            }
            timed
        })
    });
    group.finish();
    assert_eq!(a.tab, Tab::Users);
    drop(dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
