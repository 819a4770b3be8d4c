//! The console as an administrator meets it: the real binary in a real terminal
//! (tmux), keys sent with `send-keys`, the screen read with `capture-pane`.
//! Each test has its own tmux server (its socket in the test's directory), its
//! own HOME and a store: made by the console's first run, or by `demo` first
//! when the test needs a service, a bigger store or another date.
//!
//! Needs tmux (the Debian package `tmux`; `./test.sh` installs it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::util::{Dir, cannot_run};

/// How long the screen may take to show what a test waits for. The first frame
/// includes making the demo store with a debug build.
const WAIT: Duration = Duration::from_secs(10);
const FIRST_FRAME: Duration = Duration::from_secs(30);

/// A tmux server with one session running the console.
struct Term {
    dir: Dir,
    socket: PathBuf,
    session: &'static str,
}

/// How the console's terminal is set up.
struct Setup {
    width: u16,
    height: u16,
    /// LANG for the console (C.UTF-8 or C).
    lang: &'static str,
    no_color: bool,
}

const WIDE: Setup = Setup {
    width: 120,
    height: 40,
    lang: "C.UTF-8",
    no_color: false,
};

/// Quotes `s` for sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Term {
    /// Runs `tessera --store st` (on a store that does not exist yet) in a new
    /// tmux session, from a shell that records the terminal settings before and
    /// after, prints a marker with the exit status, and stays for more commands.
    fn start(setup: Setup) -> Term {
        Term::start_in(Dir::new(), setup)
    }

    /// [`Term::start`] in `dir`, where a store (and a service) may be already.
    fn start_in(dir: Dir, setup: Setup) -> Term {
        Term::launch(dir, setup, "", "")
    }

    /// [`Term::start_in`] with the console's clock at `when` (libfaketime,
    /// "YYYY-MM-DD HH:MM:SS" UTC), as a real clock would reach it.
    fn start_at(dir: Dir, setup: Setup, when: &str) -> Term {
        Term::launch(
            dir,
            setup,
            &format!("TZ=UTC faketime {} ", sh_quote(when)),
            "",
        )
    }

    /// Runs the console with `prefix` before the command and `args` (quoted
    /// already) before `--store st`.
    fn launch(dir: Dir, setup: Setup, prefix: &str, args: &str) -> Term {
        let home = dir.path("home");
        std::fs::create_dir_all(&home).expect("home");
        let tessera = env!("CARGO_BIN_EXE_tessera");
        let script = format!(
            "stty -g > before.stty; {prefix}{} {args} --store st; code=$?; stty -g > after.stty; \
             echo CONSOLE-EXITED $code; exec sh",
            sh_quote(tessera)
        );
        let term = Term {
            socket: dir.path("tmux.sock"),
            dir,
            session: "console",
        };
        let mut cmd = term.tmux();
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("SHELL", "/bin/sh")
            .env("PS1", "$ ")
            .env("LANG", setup.lang)
            .env("TERM", "xterm-256color");
        if setup.no_color {
            cmd.env("NO_COLOR", "1");
        }
        // -u: UTF-8 even with no client attached, when the console's locale is UTF-8.
        if setup.lang.to_ascii_lowercase().contains("utf") {
            cmd.arg("-u");
        }
        let out = cmd
            .args(["new-session", "-d", "-s", term.session])
            .args([
                "-x",
                &setup.width.to_string(),
                "-y",
                &setup.height.to_string(),
            ])
            .args(["-c", &term.dir.path("").display().to_string()])
            .args(["sh", "-c", &script])
            .output()
            .unwrap_or_else(|e| cannot_run("tmux", "tmux", &e));
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        term
    }

    /// `tmux -S SOCKET -f /dev/null`: this test's server, no configuration.
    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket).args(["-f", "/dev/null"]);
        cmd
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self.tmux().args(args).output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends keys by tmux name (Enter, Escape, Tab, BSpace, C-c) or as characters.
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", self.session, "-l", "--", text]);
    }

    /// The visible screen.
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", self.session])
    }

    /// The visible screen with its attributes as escape sequences.
    fn screen_escapes(&self) -> String {
        self.run(&["capture-pane", "-p", "-e", "-t", self.session])
    }

    /// A pane variable (`alternate_on`, `pane_pid`).
    fn pane(&self, var: &str) -> String {
        self.run(&[
            "display-message",
            "-p",
            "-t",
            self.session,
            &format!("#{{{var}}}"),
        ])
        .trim()
        .to_string()
    }

    /// Waits until every one of `needles` is on screen; returns the screen.
    fn wait_for_within(&self, needles: &[&str], limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            if start.elapsed() > limit {
                let missing: Vec<&&str> = needles.iter().filter(|n| !screen.contains(*n)).collect();
                panic!("after {limit:?}, {missing:?} not on screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `needle` is no longer on screen.
    fn wait_gone(&self, needle: &str) {
        let start = Instant::now();
        while self.screen().contains(needle) {
            assert!(start.elapsed() < WAIT, "{needle:?} stays on screen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for(&self, needles: &[&str]) -> String {
        self.wait_for_within(needles, WAIT)
    }

    /// Waits for the console's first frame (it makes the demo store first).
    fn first_frame(&self) -> String {
        // The footer is drawn last: with it on screen, the whole frame is.
        self.wait_for_within(&["Tessera", "3 Users", "q quit"], FIRST_FRAME)
    }

    /// Waits until the console has exited; returns its exit status.
    fn wait_exit(&self) -> i32 {
        let screen = self.wait_for(&["CONSOLE-EXITED"]);
        let code = screen
            .lines()
            .find_map(|l| l.trim().strip_prefix("CONSOLE-EXITED "))
            .expect("the marker line");
        code.trim().parse().expect("an exit status")
    }

    /// The console's process id: the child of the pane's shell.
    fn console_pid(&self) -> u32 {
        let shell: u32 = self.pane("pane_pid").parse().expect("pane pid");
        let start = Instant::now();
        loop {
            if let Some(pid) = children(shell).into_iter().next() {
                return pid;
            }
            assert!(start.elapsed() < WAIT, "no console process under {shell}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asserts the terminal is as it was before the console: the same tty
    /// settings, the normal screen, and a shell that echoes and runs what is typed.
    fn assert_restored(&self) {
        let before = self.dir.read("before.stty");
        let after = self.dir.read("after.stty");
        assert_eq!(before, after, "the tty settings were restored");
        assert_eq!(
            self.pane("alternate_on"),
            "0",
            "the alternate screen was left"
        );
        assert_eq!(self.pane("cursor_flag"), "1", "the cursor is visible");
        self.type_text("echo typed-$((6*7))");
        self.keys(&["Enter"]);
        self.wait_for(&["echo typed-$((6*7))", "typed-42"]);
    }

    fn store(&self) -> PathBuf {
        self.dir.path("st")
    }

    /// Starts recording every screen the console shows, from another thread,
    /// while the test does something beside it (a moment's state, such as a
    /// disconnection, is seen even when the test's own waits would miss it).
    fn watch(&self) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let (socket, session, stop2) = (self.socket.clone(), self.session, stop.clone());
        let thread = std::thread::spawn(move || {
            let mut seen: Vec<String> = Vec::new();
            while !stop2.load(Ordering::Relaxed) {
                let out = Command::new("tmux")
                    .arg("-S")
                    .arg(&socket)
                    .args(["-f", "/dev/null", "capture-pane", "-p", "-t", session])
                    .output();
                if let Ok(out) = out {
                    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
                    if seen.last() != Some(&screen) {
                        seen.push(screen);
                    }
                }
                std::thread::sleep(Duration::from_millis(15));
            }
            seen
        });
        Watch { stop, thread }
    }

    /// Waits until the console works through the service again (`since`: when
    /// that became possible) and is no longer disconnected, within `limit`;
    /// returns the screen.
    fn wait_via_service(&self, since: Instant, limit: Duration) -> String {
        loop {
            let screen = self.screen();
            if screen.contains("via service")
                && !screen.contains("disconnected")
                && screen.contains("Jobs User")
            {
                return screen;
            }
            assert!(
                since.elapsed() < limit,
                "not through the service again {limit:?} after it answered:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Adds the user `name` through the console's form (Engineer, Jobs User
    /// contracted) and waits for the console to say it was added.
    fn add_user(&self, name: &str, email: &str) {
        self.keys(&["3"]);
        self.wait_for(&["[3 Users]", "Users: "]);
        self.keys(&["n"]);
        self.wait_for(&["New user", "Username"]);
        self.type_text(name);
        // Role: Engineer (as offered); licence Jobs User, the term offered next.
        self.keys(&["Tab", "Tab", "Right", "Tab", "Right", "Tab"]);
        self.type_text(email);
        self.wait_for(&["Jobs User", email]);
        self.keys(&["Enter"]);
        self.wait_for(&[&format!("{name} added")]);
    }
}

/// Screens recorded by [`Term::watch`].
struct Watch {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<String>>,
}

impl Watch {
    /// Stops recording; every distinct screen seen, in order.
    fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the watching thread")
    }
}

/// Asserts that the screens show the disconnection at some point, and never a
/// broken connection reported as a refusal.
fn assert_disconnection_shown(seen: &[String]) {
    assert!(
        seen.iter()
            .any(|s| s.contains("disconnected") && s.contains("reconnecting")),
        "the disconnection was never shown; screens seen:\n{}",
        seen.join("\n----\n")
    );
    for screen in seen {
        for wrong in ["may not", "ermission", "roken pipe", "os error"] {
            assert!(!screen.contains(wrong), "{wrong:?} on screen:\n{screen}");
        }
    }
}

impl Term {
    /// A user added through the console is listed by `tessera users list`
    /// run beside it (through whatever owns the store); then `q` quits it.
    fn add_user_seen_beside_and_quit(&self, name: &str) {
        self.add_user(name, "zara@example.com");
        assert!(listed_users(&self.dir).contains(name));
        self.keys(&["q"]);
        assert_eq!(self.wait_exit(), 0);
    }
}

/// Users `tessera users list --json` lists beside the console (through
/// whatever owns the store).
fn listed_users(dir: &Dir) -> String {
    let out = dir
        .cmd(&["--store", "st", "users", "list", "--json"])
        .output()
        .expect("users list");
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    crate::util::stdout(&out)
}

/// The process id the store's lock file names as its holder.
fn holder_pid(dir: &Dir) -> u32 {
    dir.read("st/tessera.lock")
        .lines()
        .find_map(|l| l.strip_prefix("pid="))
        .and_then(|p| p.trim().parse().ok())
        .expect("a pid in the lock file")
}

impl Drop for Term {
    fn drop(&mut self) {
        // Ends the session; the console, if still running, gets SIGHUP.
        let _ = self.tmux().arg("kill-server").output();
    }
}

/// Processes whose parent is `parent`.
fn children(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) =
            std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat"))
        else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            out.push(pid);
        }
    }
    out
}

/// The row of the pools table for `licence` (`term`).
fn pool_row<'a>(screen: &'a str, licence: &str, term: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(licence) && l.contains(term))
        .unwrap_or_else(|| panic!("no row for {licence} ({term}):\n{screen}"))
}

#[test]
fn first_run_on_a_missing_store_makes_a_demo_store() {
    let t = Term::start(WIDE);
    assert!(!t.store().exists());
    let screen = t.first_frame();
    assert!(screen.contains(" DEMO "), "the DEMO badge:\n{screen}");
    assert!(
        screen.contains("tessera init --licence FILE"),
        "the hint to start a real store:\n{screen}"
    );
    assert!(screen.contains("DEMO-000001"), "{screen}");
    assert!(screen.contains("[1 Licences]"), "Licences first:\n{screen}");
    assert!(screen.contains("Jobs User"), "{screen}");
    assert!(t.store().is_dir(), "the store was made at --store");
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
    // The demo store stays, and the next run opens it as it is.
    let out = t
        .dir
        .cmd(&["--store", "st", "status"])
        .output()
        .expect("status");
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    assert!(crate::util::stdout(&out).contains("DEMO"));
}

#[test]
fn each_tab_shows_its_content() {
    let t = Term::start(WIDE);
    t.first_frame();
    t.wait_for(&[
        "Contract",
        "Licences",
        "Data usage",
        "Add-on modules",
        "Integrations",
    ]);
    t.keys(&["2"]);
    t.wait_for(&[
        "[2 Status]",
        "Database",
        "Metered",
        "System notifications",
        "Description",
        "User added",
    ]);
    t.keys(&["3"]);
    t.wait_for(&[
        "[3 Users]",
        "all licences",
        "alice.morgan",
        "State",
        "q quit",
    ]);
    t.keys(&["Tab"]);
    t.wait_for(&["[1 Licences]", "Contract"]);
    t.keys(&["BTab"]);
    t.wait_for(&["[3 Users]"]);
    t.keys(&["?"]);
    t.wait_for(&["Help", "switch tabs"]);
    t.keys(&["Escape"]);
    t.wait_for(&["/ filter"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn slash_filters_users_as_you_type() {
    let t = Term::start(WIDE);
    t.first_frame();
    t.keys(&["3"]);
    t.wait_for(&["alice.morgan"]);
    t.keys(&["/"]);
    t.wait_for(&["Filter:"]);
    // Each key filters at once: no Enter needed.
    t.type_text("start");
    t.wait_for(&["Filter: start"]);
    // Only matches, once the last key's read is in (earlier ones may show first).
    t.wait_gone("alice.morgan");
    t.wait_for(&["new.starter1", "Users: 4 users"]);
    t.keys(&["BSpace", "BSpace", "BSpace", "BSpace", "BSpace"]);
    t.wait_for(&["alice.morgan"]);
    t.type_text("starter");
    t.keys(&["Enter"]);
    t.wait_for(&["users matching \"starter\": Esc shows all"]);
    t.keys(&["Escape"]);
    let screen = t.wait_for(&["alice.morgan"]);
    assert!(!screen.contains("Filter:"), "{screen}");
    // With a licence filter on and an empty search, the line says the filter.
    t.keys(&["f"]);
    t.wait_for(&["showing Jobs User (contracted)"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn n_adds_a_user_through_the_form() {
    let t = Term::start(WIDE);
    t.first_frame();
    t.keys(&["3"]);
    t.wait_for(&["alice.morgan"]);
    t.keys(&["n"]);
    t.wait_for(&["New user", "Username"]);
    t.type_text("zara.e2e");
    // Role: Engineer (as offered); licence Jobs User, contracted.
    t.keys(&["Tab", "Tab", "Right", "Tab", "Right", "Tab"]);
    t.type_text("zara@example.com");
    t.wait_for(&["Jobs User", "contracted", "zara@example.com"]);
    t.keys(&["Enter"]);
    t.wait_for(&["zara.e2e added"]);
    // Others reach the store through the console while it is open.
    let listed = t
        .dir
        .cmd(&[
            "--store", "st", "users", "list", "--json", "--search", "zara",
        ])
        .output()
        .expect("users list");
    assert!(listed.status.success(), "{}", crate::util::stderr(&listed));
    let text = crate::util::stdout(&listed);
    assert!(
        text.contains("zara.e2e") && text.contains("zara@example.com"),
        "{text}"
    );
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn b_buys_seats_after_showing_the_cost() {
    let t = Term::start(WIDE);
    let screen = t.first_frame();
    let before = pool_row(&screen, "Jobs User", "contracted").to_string();
    assert!(!before.contains("pending"), "{before}");
    // The first pool is selected: Jobs User, contracted.
    t.keys(&["b"]);
    t.wait_for(&["Buy", "Count"]);
    t.keys(&["BSpace"]);
    t.type_text("2");
    t.keys(&["Enter"]);
    t.wait_for(&[
        "Save this purchase?",
        "Buy 2 of Jobs User (contracted)",
        "This is a commitment",
        "Cost breakdown",
        "Total now:",
        "y confirm",
    ]);
    t.keys(&["y"]);
    t.wait_for(&["saved; the signed request for the vendor"]);
    // The list is read again off the drawing thread: a moment later.
    let screen = t.wait_for(&["pending"]);
    let row = pool_row(&screen, "Jobs User", "contracted");
    assert!(row.contains("pending"), "{row}");
    let cols: Vec<&str> = row
        .split_whitespace()
        .skip_while(|t| *t != "contracted")
        .skip(1)
        .take(4)
        .collect();
    assert_eq!(cols.get(3), Some(&"2"), "two seats pending: {row}");
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn q_quits_and_the_terminal_works_afterwards() {
    let t = Term::start(WIDE);
    t.first_frame();
    assert_eq!(
        t.pane("alternate_on"),
        "1",
        "the console uses the alternate screen"
    );
    t.keys(&["3"]);
    t.wait_for(&["alice.morgan"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
    let screen = t.screen();
    assert!(
        !screen.contains("alice.morgan"),
        "the console's screen is gone:\n{screen}"
    );
    t.assert_restored();
}

#[test]
fn ctrl_c_quits_from_a_form() {
    let t = Term::start(WIDE);
    t.first_frame();
    t.keys(&["b"]);
    t.wait_for(&["Count"]);
    t.keys(&["C-c"]);
    assert_eq!(t.wait_exit(), 0);
    t.assert_restored();
}

#[test]
fn sighup_ends_the_console_and_restores_the_terminal() {
    let t = Term::start(WIDE);
    t.first_frame();
    let pid = t.console_pid();
    // The shell's kill: procps (/usr/bin/kill) is not on every machine.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -HUP {pid}")])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(t.wait_exit(), 0, "a hang-up is a clean end");
    t.assert_restored();
    // The store was closed properly: it opens again, and its audit holds.
    let out = t
        .dir
        .cmd(&["--store", "st", "audit", "verify"])
        .output()
        .expect("audit verify");
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
}

#[test]
fn ascii_and_no_colour_at_80x24() {
    let t = Term::start(Setup {
        width: 80,
        height: 24,
        lang: "C",
        no_color: true,
    });
    let screen = t.first_frame();
    assert!(screen.is_ascii(), "LANG=C: ASCII only:\n{screen}");
    assert!(screen.contains("+ Contract -"), "ASCII borders:\n{screen}");
    assert!(screen.lines().any(|l| l.starts_with('|')), "{screen}");
    assert!(screen.contains("###"), "ASCII bars:\n{screen}");
    assert!(
        screen.contains("OVER 2"),
        "the word beside the state:\n{screen}"
    );
    assert_no_colour(&t.screen_escapes());
    for tab in ["2", "3"] {
        t.keys(&[tab]);
        t.wait_for(&[&format!("[{tab} ")]);
        let screen = t.screen();
        assert!(screen.is_ascii(), "tab {tab}:\n{screen}");
        assert_no_colour(&t.screen_escapes());
    }
    let users = t.screen();
    assert!(
        users.contains("q quit"),
        "the footer fits 80 columns:\n{users}"
    );
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
    t.assert_restored();
}

/// The SGR parameters in `screen` that set a foreground or background colour.
fn colour_codes(screen: &str) -> Vec<String> {
    let mut out = Vec::new();
    for seq in screen.split('\x1b').skip(1) {
        let Some(params) = seq.strip_prefix('[') else {
            continue;
        };
        let Some(end) = params.find(|c: char| c.is_ascii_alphabetic()) else {
            continue;
        };
        if &params[end..end + 1] != "m" {
            continue;
        }
        for p in params[..end].split(';') {
            let n: u32 = p.parse().unwrap_or(0);
            if ((30..=49).contains(&n) && n != 39 && n != 49) || (90..=107).contains(&n) {
                out.push(params[..end].to_string());
            }
        }
    }
    out
}

fn assert_no_colour(screen: &str) {
    let codes = colour_codes(screen);
    assert!(
        codes.is_empty(),
        "colours {codes:?} with NO_COLOR set:\n{screen}"
    );
}

#[test]
fn colour_is_used_when_allowed() {
    // The counterpart of the test above: the same check finds colour here, so
    // passing it under NO_COLOR means something.
    let t = Term::start(WIDE);
    t.first_frame();
    let escapes = t.screen_escapes();
    assert!(
        !colour_codes(&escapes).is_empty(),
        "colour on screen:\n{escapes}"
    );
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

/// The store made in a fresh directory, no console: `demo --users N`.
fn demo_dir(users: usize) -> Dir {
    let dir = Dir::new();
    dir.st(&["demo", "--users", &users.to_string(), "--no-console"])
        .assert()
        .success();
    dir
}

#[test]
fn a_device_or_a_named_pipe_as_the_import_path_is_refused_at_once() {
    let t = Term::start(WIDE);
    t.first_frame();
    t.keys(&["i"]);
    t.wait_for(&["Import a licence file", "Path"]);
    t.type_text("/dev/zero");
    t.keys(&["Enter"]);
    t.wait_for(&["/dev/zero is a device, not a licence file"]);
    let fifo = t.dir.path("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    // Ctrl-U clears the field (it types no u).
    t.keys(&["C-u"]);
    t.type_text(&fifo.display().to_string());
    t.keys(&["Enter"]);
    t.wait_for(&["is a named pipe, not a licence file"]);
    // The screen answers keys: the form closes, and q quits.
    t.keys(&["Escape"]);
    t.wait_for(&["cancelled; nothing was changed"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
    t.assert_restored();
}

#[test]
fn tilde_in_an_import_path_is_the_home_directory() {
    let t = Term::start(WIDE);
    t.first_frame();
    std::fs::write(t.dir.path("home/not-a-licence.txt"), "hello").expect("write");
    t.keys(&["i"]);
    t.wait_for(&["Import a licence file"]);
    t.type_text("~/not-a");
    t.keys(&["Tab"]);
    t.wait_for(&["~/not-a-licence.txt"]);
    t.keys(&["Enter"]);
    let screen = t.wait_for(&["!"]);
    assert!(
        !screen.contains("No such file"),
        "~ was expanded:\n{screen}"
    );
    // Escape alone: followed at once by q, a terminal reads Alt-q.
    t.keys(&["Escape"]);
    t.wait_for(&["cancelled; nothing was changed"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn a_bracketed_paste_is_text_in_the_field_never_keys() {
    let t = Term::start(WIDE);
    t.first_frame();
    t.keys(&["3"]);
    t.wait_for(&["alice.morgan"]);
    t.keys(&["n"]);
    t.wait_for(&["New user", "Username"]);
    // A name copied with its line end, and keys that would act if typed.
    let buffer = t.dir.path("paste.txt");
    std::fs::write(&buffer, "ann.paste\ndy\n").expect("write");
    t.run(&["load-buffer", "-b", "p", &buffer.display().to_string()]);
    t.run(&["paste-buffer", "-p", "-b", "p", "-t", t.session]);
    t.wait_for(&["ann.paste dy", "New user"]);
    t.keys(&["Escape"]);
    t.wait_for(&["cancelled; nothing was changed"]);
    // Nothing was added or deactivated.
    let out = t
        .dir
        .cmd(&[
            "--store",
            "st",
            "users",
            "list",
            "--json",
            "--search",
            "ann.paste",
        ])
        .output()
        .expect("users list");
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    assert!(!crate::util::stdout(&out).contains("ann.paste"));
    // On the list, a paste filters: it runs no command.
    std::fs::write(&buffer, "alice\nd").expect("write");
    t.run(&["load-buffer", "-b", "p", &buffer.display().to_string()]);
    t.run(&["paste-buffer", "-p", "-b", "p", "-t", t.session]);
    let screen = t.wait_for(&["Filter: alice d"]);
    assert!(!screen.contains("Deactivate"), "{screen}");
    // Escape alone: followed at once by q, a terminal reads Alt-q.
    t.keys(&["Escape"]);
    t.wait_for(&["showing all users"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn an_80x23_pane_and_a_60x20_pane_show_the_console() {
    for (w, h) in [(80, 23), (60, 20)] {
        let t = Term::start(Setup {
            width: w,
            height: h,
            lang: "C.UTF-8",
            no_color: false,
        });
        let screen = t.wait_for_within(&["Tessera", "3 Users", "Jobs User"], FIRST_FRAME);
        assert!(!screen.contains("too small"), "{w}x{h}:\n{screen}");
        for tab in ["2", "3"] {
            t.keys(&[tab]);
            let screen = t.wait_for(&[&format!("[{tab} ")]);
            assert!(!screen.contains("too small"), "{w}x{h}:\n{screen}");
        }
        t.wait_for(&["alice.jones"]);
        t.keys(&["q"]);
        assert_eq!(t.wait_exit(), 0);
    }
}

#[test]
fn the_licences_list_takes_home_end_and_pages() {
    let t = Term::start(WIDE);
    t.first_frame();
    t.wait_for(&["1 of 7"]);
    // The add-ons and integrations follow the pools: End reaches the last
    // integration, marked, and five rows up is the last pool again.
    t.keys(&["End"]);
    t.wait_for(&["> Resource planner"]);
    t.keys(&["Up", "Up", "Up", "Up", "Up"]);
    t.wait_for(&["7 of 7"]);
    t.keys(&["Home"]);
    t.wait_for(&["1 of 7"]);
    t.keys(&["PageDown"]);
    t.wait_for(&["> Resource planner"]);
    t.keys(&["PageUp"]);
    t.wait_for(&["1 of 7"]);
    // b on the add-on opens its form; on an integration following the seats, why not.
    t.keys(&["End", "Up", "Up", "Up", "Up", "b"]);
    t.wait_for(&["Buy add-on licences", "Outlook connector"]);
    // Escape alone: followed at once by Down, a terminal may read one sequence.
    t.keys(&["Escape"]);
    t.wait_for(&["> Outlook connector"]);
    t.keys(&["Down", "Down", "b"]);
    t.wait_for(&["follows the standard seat count"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn enter_on_a_user_opens_the_detail_view() {
    let t = Term::start(WIDE);
    t.first_frame();
    t.keys(&["3"]);
    t.wait_for(&["alice.jones"]);
    t.keys(&["Enter"]);
    t.wait_for(&["User alice.jones", "E-mail", "Role", "Activated", "e edit"]);
    t.keys(&["e"]);
    t.wait_for(&["e-mail and add-ons"]);
    t.keys(&["C-u"]);
    t.type_text("alice.new@example.com");
    t.keys(&["Enter"]);
    t.wait_for(&["alice.jones changed", "alice.new@example.com"]);
    t.keys(&["Escape"]);
    t.wait_gone("User alice.jones");
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn a_service_that_goes_away_under_an_open_console_is_healed() {
    let dir = demo_dir(40);
    let mut service = crate::serve::Service::start(&dir);
    let t = Term::start_in(dir, WIDE);
    t.wait_for_within(&["via service", "Jobs User", "q quit"], FIRST_FRAME);
    service.signal_and_wait("TERM", Duration::from_secs(10));
    // The store is free: the console takes it over, within two seconds (and
    // a moment for sled to let go of its lock in the service that ended).
    let start = Instant::now();
    let healed = loop {
        let screen = t.screen();
        if !screen.contains("via service")
            && !screen.contains("disconnected")
            && screen.contains("connected again")
        {
            break screen;
        }
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "not healed:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(healed.contains("Jobs User"), "panels kept:\n{healed}");
    t.keys(&["3"]);
    t.wait_for(&["alice.morgan"]);
    // And others reach the store through the console now.
    let out = t
        .dir
        .cmd(&["--store", "st", "users", "list", "--json"])
        .output()
        .expect("users list");
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

/// A service restarted on purpose (SIGTERM, and a new `tessera serve` on the
/// same store at once, as systemd's Restart= does): whichever of the console
/// and the new service reaches the store first, the pair ends with the
/// service owning the store and the console working through it.
#[test]
fn a_service_restarted_under_an_open_console_is_reached_again() {
    let dir = demo_dir(40);
    let mut service = crate::serve::Service::start(&dir);
    let t = Term::start_in(dir, WIDE);
    t.wait_for_within(&["via service", "Jobs User", "q quit"], FIRST_FRAME);
    let watch = t.watch();
    service.signal_and_wait("TERM", Duration::from_secs(10));
    let mut service = crate::serve::Service::start(&t.dir);
    let answered = Instant::now();
    t.wait_via_service(answered, Duration::from_secs(4));
    assert_disconnection_shown(&watch.finish());
    assert_eq!(
        holder_pid(&t.dir),
        service.pid(),
        "the new service holds the store"
    );
    // Keys work, and a change made in the console is the service's.
    t.add_user_seen_beside_and_quit("zara.restart");
    let status = service.signal_and_wait("TERM", Duration::from_secs(10));
    assert!(status.success(), "{status}: {}", service.log_text());
}

/// The console took the store over when the service stopped; a service
/// started afterwards asks for it, and the console gives it up and goes
/// through the service.
#[test]
fn a_service_started_after_the_console_took_the_store_over_gets_it() {
    let dir = demo_dir(40);
    let mut service = crate::serve::Service::start(&dir);
    let t = Term::start_in(dir, WIDE);
    t.wait_for_within(&["via service", "Jobs User", "q quit"], FIRST_FRAME);
    service.signal_and_wait("TERM", Duration::from_secs(10));
    t.wait_for(&["connected again"]);
    t.wait_gone("via service");
    t.wait_gone("disconnected");
    assert_eq!(
        holder_pid(&t.dir),
        t.console_pid(),
        "the console holds the store"
    );
    let watch = t.watch();
    let started = Instant::now();
    let mut service = crate::serve::Service::start(&t.dir);
    // The console's own socket may answer first: time it from the start.
    t.wait_via_service(started, Duration::from_secs(6));
    assert_disconnection_shown(&watch.finish());
    assert_eq!(
        holder_pid(&t.dir),
        service.pid(),
        "the new service holds the store"
    );
    assert!(
        service.log_text().contains("asked it to give the store up"),
        "{}",
        service.log_text()
    );
    t.add_user_seen_beside_and_quit("zara.handover");
    let status = service.signal_and_wait("TERM", Duration::from_secs(10));
    assert!(status.success(), "{status}: {}", service.log_text());
}

/// A service killed outright (SIGKILL: its socket left behind, nothing
/// synced by it on the way out): the console takes the store over.
#[test]
fn a_service_killed_under_an_open_console_is_healed() {
    let dir = demo_dir(40);
    let mut service = crate::serve::Service::start(&dir);
    let t = Term::start_in(dir, WIDE);
    t.wait_for_within(&["via service", "Jobs User", "q quit"], FIRST_FRAME);
    let watch = t.watch();
    service.kill();
    let killed = Instant::now();
    let healed = loop {
        let screen = t.screen();
        if !screen.contains("via service")
            && !screen.contains("disconnected")
            && screen.contains("connected again")
        {
            break screen;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(4),
            "not healed:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_disconnection_shown(&watch.finish());
    assert!(healed.contains("Jobs User"), "panels kept:\n{healed}");
    let console = t.console_pid();
    assert_eq!(holder_pid(&t.dir), console, "the console holds the store");
    // Others reach the store through the console, and see its changes.
    t.add_user_seen_beside_and_quit("zara.killed");
}

/// `--connect` to a TLS service that is restarted on the same address: the
/// console shows the disconnection and reaches the new service, never this
/// host's store (the new service could not start if it had).
#[test]
fn a_tls_service_restarted_under_a_connected_console_is_reached_again() {
    let (dir, mut service, addr) = crate::tls::setup();
    let args = format!("--connect {addr} --tls-cert owner.pem --tls-key owner.key --tls-ca ca.pem");
    let t = Term::launch(dir, WIDE, "", &args);
    t.wait_for_within(&["via service", "Jobs User", "q quit"], FIRST_FRAME);
    let watch = t.watch();
    service.signal_and_wait("TERM", Duration::from_secs(10));
    // The console stays disconnected while nothing listens.
    t.wait_for(&["disconnected"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(t.screen().contains("disconnected"), "{}", t.screen());
    let mut service = crate::tls::listen(&t.dir, &addr);
    // The TLS listener is bound just after the socket answers.
    let start = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nothing listens on {addr}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    t.wait_via_service(Instant::now(), Duration::from_secs(4));
    assert_disconnection_shown(&watch.finish());
    assert_eq!(
        holder_pid(&t.dir),
        service.pid(),
        "the service holds the store"
    );
    t.add_user_seen_beside_and_quit("zara.tls");
    let status = service.signal_and_wait("TERM", Duration::from_secs(10));
    assert!(status.success(), "{status}: {}", service.log_text());
}

#[test]
fn the_console_reaches_a_service_on_another_host_over_mutual_tls() {
    let (dir, mut service, addr) = crate::tls::setup();
    // The engineer's certificate: the console acts as the store user it names.
    let args = format!("--connect {addr} --tls-cert eng.pem --tls-key eng.key --tls-ca ca.pem");
    let t = Term::launch(dir, WIDE, "", &args);
    t.wait_for_within(&["via service", "operator tcarter", "q quit"], FIRST_FRAME);
    // Roles apply exactly as over the socket: an engineer sees no licences.
    t.keys(&["3"]);
    t.wait_for(&["tcarter may not see licences", "tcarter is Engineer"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
    service.signal_and_wait("TERM", Duration::from_secs(10));
}

#[test]
fn the_console_waits_for_a_store_another_process_holds() {
    let dir = demo_dir(40);
    // A holder that answers on another socket: the console cannot reach it
    // and finds the store in use, as while `tessera check` runs directly.
    let holder = dir.path("holder.sock");
    let mut service = crate::serve::Service::start_on_socket(&dir, &holder);
    let t = Term::start_in(dir, WIDE);
    t.wait_for(&["in use", "waiting up to"]);
    std::thread::sleep(Duration::from_millis(500));
    service.signal_and_wait("TERM", Duration::from_secs(10));
    t.wait_for_within(&["Jobs User", "q quit"], FIRST_FRAME);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

const W80: Setup = Setup {
    width: 80,
    height: 24,
    lang: "C.UTF-8",
    no_color: false,
};

#[test]
fn in_grace_numbers_stay_whole_and_the_termination_date_is_shown() {
    let dir = demo_dir(40);
    let status = dir.st_json(&["status", "--json"]);
    let expires: chrono::NaiveDate = status["expires"]
        .as_str()
        .expect("a time-limited demo licence")
        .parse()
        .expect("a date");
    let when = format!("{} 10:00:00", expires + chrono::Days::new(3));
    dir.ok_at(
        &when,
        &[
            "--store",
            "st",
            "usage",
            "metered",
            "emails-sent",
            "--count",
            "100000",
        ],
    );
    let t = Term::start_at(dir, W80, &when);
    let screen = t.wait_for_within(&["Tessera", "q quit"], FIRST_FRAME);
    // The contract's state whole, its termination date included.
    assert!(screen.contains("State GRACE (expired"), "{screen}");
    assert!(screen.contains("terminated from"), "{screen}");
    assert!(!screen.contains("terminated from …"), "{screen}");
    t.keys(&["2"]);
    let screen = t.wait_for(&["[2 Status]", "Metered"]);
    assert!(screen.contains("terminates 20"), "not \"none\":\n{screen}");
    assert!(!screen.contains("Expiry   none"), "{screen}");
    // 100000 whole in its column (a fixed column once showed 10000).
    let row = screen
        .lines()
        .find(|l| l.contains("emails-sent"))
        .unwrap_or_else(|| panic!("no metered row:\n{screen}"));
    assert!(row.contains(" 100000 "), "{row}");
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn keys_are_readline_in_fields_and_ctrl_letters_are_not_letters() {
    let t = Term::start(W80);
    t.first_frame();
    t.keys(&["3"]);
    t.wait_for(&["alice.jones"]);
    // Ctrl-D and Ctrl-A on the list are not d (deactivate) and a (activate).
    t.keys(&["C-d"]);
    t.keys(&["C-a"]);
    std::thread::sleep(Duration::from_millis(300));
    let screen = t.screen();
    assert!(!screen.contains("Deactivate"), "{screen}");
    assert!(!screen.contains("activated"), "{screen}");
    t.keys(&["n"]);
    t.wait_for(&["New user"]);
    t.type_text("jon");
    t.keys(&["Left", "Left"]);
    t.type_text("h");
    t.wait_for(&["jhon"]);
    t.keys(&["Home", "DC"]);
    t.wait_for(&["hon"]);
    t.keys(&["C-e"]);
    t.type_text(".doe");
    t.wait_for(&["hon.doe"]);
    t.keys(&["C-w"]);
    t.wait_gone("hon.doe");
    t.keys(&["C-u"]);
    t.type_text("zed");
    let screen = t.wait_for(&["> Username zed"]);
    assert!(!screen.contains("uzed"), "Ctrl-U types no u:\n{screen}");
    t.keys(&["Escape"]);
    t.wait_for(&["cancelled"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn the_written_request_is_named_whole_on_the_status_line() {
    let t = Term::start(W80);
    t.first_frame();
    t.keys(&["b"]);
    t.wait_for(&["Count"]);
    t.keys(&["Enter"]);
    t.wait_for(&["y confirm"]);
    t.keys(&["y"]);
    let screen = t.wait_for(&["saved; the signed request"]);
    let out = t
        .dir
        .cmd(&["--store", "st", "outbox", "--json"])
        .output()
        .expect("outbox");
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    // The file's name, whole, somewhere in the status line's lines.
    let joined: String = screen.lines().collect::<Vec<_>>().join("");
    let outbox = t.dir.path("st/outbox");
    let newest = std::fs::read_dir(&outbox)
        .expect("the outbox")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| joined.contains(n.as_str()))
        .count();
    assert_eq!(newest, 1, "the e-mail's file name whole:\n{screen}");
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn long_lists_end_at_once_and_every_notification_and_holder_is_reachable() {
    let dir = Dir::new();
    dir.st(&["demo", "--users", "3000", "--months", "12", "--no-console"])
        .assert()
        .success();
    let t = Term::start_in(dir, WIDE);
    t.wait_for_within(&["Tessera", "q quit"], FIRST_FRAME);
    t.keys(&["3"]);
    let screen = t.wait_for(&["Users: "]);
    let total: String = screen
        .split("Users: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .expect("a count")
        .to_string();
    let start = Instant::now();
    t.keys(&["End"]);
    t.wait_for_within(&[&format!("{total} of {total}")], Duration::from_secs(2));
    assert!(start.elapsed() < Duration::from_secs(2));
    t.keys(&["Home"]);
    t.wait_for(&[&format!("1 of {total}")]);
    // Notifications: more than 200, the oldest reachable.
    t.keys(&["2"]);
    t.wait_for(&["System notifications", "Description"]);
    // tmux may capture a frame half drawn: read the position once it is still.
    std::thread::sleep(Duration::from_millis(300));
    let screen = t.screen();
    let events: usize = screen
        .lines()
        .skip_while(|l| !l.contains("System notifications"))
        .find_map(|l| l.split(" 1 of ").nth(1))
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a position:\n{screen}"));
    assert!(events > 200, "{events} notifications");
    t.keys(&["End"]);
    t.wait_for(&[&format!("{events} of {events}")]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn the_add_on_holders_popup_scrolls_to_the_last_holder() {
    // Enough CRM module licences (600) to give 80 of them.
    let dir = demo_dir(3000);
    let page = dir.st_json(&["users", "list", "--json", "--limit", "120"]);
    let names: Vec<String> = page["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| u["state"] == "active")
        .filter_map(|u| u["name"].as_str().map(str::to_string))
        .collect();
    // More holders than the popup has rows at 80x24.
    let given: Vec<&String> = names.iter().take(80).collect();
    for n in &given {
        dir.st(&["users", "set", n, "--add-on", "CRM module"])
            .assert()
            .success();
    }
    let t = Term::start_in(dir, W80);
    t.wait_for_within(&["Tessera", "q quit"], FIRST_FRAME);
    t.keys(&["3"]);
    t.wait_for(&["[3 Users]"]);
    t.keys(&["m"]);
    let first = t.wait_for(&["Add-on module licences"]);
    t.keys(&["End"]);
    std::thread::sleep(Duration::from_millis(300));
    let last = t.screen();
    assert_ne!(first, last, "the popup scrolled:\n{last}");
    let newest = given.last().expect("a name");
    assert!(
        last.contains(newest.as_str()) || first.contains(newest.as_str()),
        "{newest} reachable:\n{last}"
    );
    t.keys(&["Escape"]);
    t.wait_gone("Add-on module licences");
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

const SMALL: Setup = Setup {
    width: 80,
    height: 24,
    lang: "C.UTF-8",
    no_color: false,
};

#[test]
fn the_roles_view_shows_each_ladder_and_writes_the_csv_asking_before_replacing() {
    let t = Term::start(SMALL);
    t.first_frame();
    t.keys(&["3"]);
    t.wait_for(&["[3 Users]", "alice.jones"]);
    t.keys(&["R"]);
    t.wait_for(&[
        "Roles: Jobs ladder (1 of 3)",
        "Owner/manager",
        "Feature",
        "RWUD",
        "e CSV",
    ]);
    t.keys(&["Right"]);
    t.wait_for(&["Roles: Sales ladder (2 of 3)"]);
    t.keys(&["e"]);
    t.wait_for(&["Write the roles' matrices as CSV", "~/roles.csv"]);
    t.keys(&["Enter"]);
    t.wait_for(&["wrote the roles' matrices to"]);
    let csv = t.dir.path("home/roles.csv");
    let text = std::fs::read_to_string(&csv).expect("the CSV, at ~");
    assert!(
        text.starts_with("ladder,level,role,area,feature,read,write,update,delete\r\n"),
        "{text}"
    );
    assert!(text.contains("Jobs,1,Engineer,"), "{text}");
    assert!(text.contains("Sales,"), "{text}");
    // Again: the file is there, so the console asks; n keeps it as it was.
    std::fs::write(&csv, "mine").expect("write");
    t.keys(&["e"]);
    t.wait_for(&["Write the roles' matrices as CSV"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Replace the file?", "is already there"]);
    t.keys(&["n"]);
    t.wait_for(&["cancelled; nothing was changed"]);
    assert_eq!(std::fs::read_to_string(&csv).expect("kept"), "mine");
    t.keys(&["e"]);
    t.wait_for(&["Write the roles' matrices as CSV"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Replace the file?"]);
    t.keys(&["y"]);
    t.wait_for(&["wrote the roles' matrices to"]);
    assert_eq!(std::fs::read_to_string(&csv).expect("replaced"), text);
    t.keys(&["Escape"]);
    t.wait_gone("Roles:");
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn the_charts_read_at_80x24_without_colour() {
    let t = Term::start(Setup {
        width: 80,
        height: 24,
        lang: "C",
        no_color: true,
    });
    t.first_frame();
    t.keys(&["2"]);
    t.wait_for(&["[2 Status]", "c charts"]);
    t.keys(&["c"]);
    let screen = t.wait_for(&[
        "Charts 1/4: Metered services",
        "the last 12 months",
        "overage so far",
        "Dec",
        "Esc close",
    ]);
    assert!(screen.is_ascii(), "{screen}");
    assert!(screen.contains('#'), "bars:\n{screen}");
    assert!(screen.contains("threshold "), "the line:\n{screen}");
    assert!(screen.contains(" ---"), "the line:\n{screen}");
    assert_no_colour(&t.screen_escapes());
    t.keys(&["Down"]);
    t.wait_for(&["Service 2 of"]);
    t.keys(&["Right"]);
    t.wait_for(&["Charts 2/4: Seats in use", "seats licensed today"]);
    t.keys(&["Right"]);
    t.wait_for(&[
        "Charts 3/4: Charged user-days",
        "user-days charged each day",
    ]);
    t.keys(&["Right"]);
    let screen = t.wait_for(&["Charts 4/4: Storage", "Allowance", "allowance "]);
    assert!(!screen.contains("too small"), "{screen}");
    t.keys(&["Escape"]);
    t.wait_gone("Charts");
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn a_purchase_shows_the_contract_month_by_month_and_scrolls() {
    let t = Term::start(SMALL);
    t.first_frame();
    t.keys(&["b"]);
    t.wait_for(&["Buy", "Count"]);
    t.keys(&["Enter"]);
    t.wait_for(&[
        "Save this purchase?",
        "Contract month by month",
        "days",
        "commitment",
        "y confirm",
    ]);
    t.keys(&["End"]);
    t.wait_for(&["Committed: ", "Saving records the request"]);
    t.keys(&["Home"]);
    t.wait_for(&["Cost breakdown"]);
    // n: nothing is saved.
    t.keys(&["n"]);
    let screen = t.wait_for(&["cancelled; nothing was changed"]);
    assert!(!pool_row(&screen, "Jobs User", "contracted").contains("pending"));
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn a_users_charged_days_this_month_are_the_stores() {
    let dir = demo_dir(40);
    let out = dir
        .st(&["users", "list", "--term", "daily", "--json"])
        .output()
        .expect("users list");
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let page: serde_json::Value = serde_json::from_str(&crate::util::stdout(&out)).expect("JSON");
    // A daily user charged this month if the demo has one (it charges
    // about half the weekdays), so the line has days to show.
    let counted: Vec<(String, usize)> = page["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .take(10)
        .map(|name| {
            let out = dir.st(&["users", "show", name]).output().expect("show");
            let count = crate::util::stdout(&out)
                .lines()
                .find_map(|l| l.strip_prefix("Charged this month: "))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .expect("the CLI's count");
            (name.to_string(), count)
        })
        .collect();
    let (name, count) = counted
        .iter()
        .find(|(_, c)| *c > 0)
        .or(counted.first())
        .cloned()
        .expect("a daily user in the demo");
    let t = Term::start_in(dir, SMALL);
    t.first_frame();
    t.keys(&["3"]);
    t.wait_for(&["[3 Users]"]);
    t.keys(&["/"]);
    t.type_text(&name);
    t.keys(&["Enter"]);
    t.wait_for(&["1 of 1"]);
    t.keys(&["Enter"]);
    let want = match count {
        0 => "no days this month".to_string(),
        1 => "1 day this month".to_string(),
        n => format!("{n} days this month"),
    };
    // Waited for whole: a capture may catch a frame half written.
    t.wait_for(&[&format!("User {name}"), "Charged", &want]);
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), 0);
}
