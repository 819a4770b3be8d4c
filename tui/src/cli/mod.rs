//! The command line: one file per subcommand, one place that turns errors into
//! a message and an exit code.
//!
//! Exit codes: 0 ok, 1 refused or invalid, 2 usage error.

mod audit;
mod check;
mod demo;
mod describe;
mod export;
mod generate;
mod import;
mod init;
mod inspect;
mod installation;
mod metrics;
mod outbox;
mod report;
mod request;
mod roles;
mod serve;
pub(crate) mod site;
mod status;
mod tick;
mod usage;
mod users;
pub(crate) mod util;
mod vendor;
mod verify;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use std::io::IsTerminal;

use clap::{CommandFactory, Parser, Subcommand};

pub use util::Failure;

/// Tessera: the licence console and signed licence files of an on-premise installation.
///
/// With no command, opens the console on the store.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, max_term_width = 100)]
pub struct Cli {
    /// The store directory (default: $TESSERA_STORE, else the per-user data directory).
    #[arg(
        long,
        global = true,
        env = "TESSERA_STORE",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub store: Option<PathBuf>,

    /// The service's socket (default: tessera.sock in the store directory).
    #[arg(
        long,
        global = true,
        env = "TESSERA_SOCKET",
        hide_env_values = true,
        value_name = "PATH"
    )]
    pub socket: Option<PathBuf>,

    /// Reach the service on another host (`tessera serve --listen`), over
    /// mutual TLS: give it before the command, with --tls-cert, --tls-key and --tls-ca.
    #[arg(long, value_name = "HOST:PORT", requires_all = ["tls_cert", "tls_key", "tls_ca"])]
    pub connect: Option<String>,

    /// With --connect: this client's certificate (PEM); its common name is the store user.
    #[arg(long, value_name = "FILE", requires = "connect")]
    pub tls_cert: Option<PathBuf>,

    /// With --connect: this client's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "connect")]
    pub tls_key: Option<PathBuf>,

    /// With --connect: the CA the service's certificate chains to (PEM).
    #[arg(long, value_name = "FILE", requires = "connect")]
    pub tls_ca: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The vendor's tools: keys, issuing licences, endorsing issuers.
    #[command(subcommand)]
    Vendor(vendor::Cmd),
    /// Show what any Tessera document says, without trusting it.
    Inspect(inspect::Args),
    /// Check a document: format, key, signature, endorsement, serial, dates.
    Verify(verify::Args),
    /// Create the store from the vendor's licence; you become its Owner/manager.
    Init(init::Args),
    /// Import a licence file (Owner/manager, Financial office staff).
    Import(import::Args),
    /// The installation: licence state, pools, users, metered services.
    Status(status::Args),
    /// Users, their roles, seats and add-ons.
    #[command(subcommand)]
    Users(users::Cmd),
    /// The roles' permission matrix.
    Roles(roles::Args),
    /// May this user work now? Exit 0 yes, 1 no (for the licensed product); --lease for a signed lease.
    Check(check::Args),
    /// The installation's public key (which checks leases) and the leases' lifetime.
    #[command(subcommand)]
    Installation(installation::Cmd),
    /// Record usage (for the licensed product).
    #[command(subcommand)]
    Usage(usage::Cmd),
    /// Apply what time has made due: grace ends, expiries.
    Tick(tick::Args),
    /// The action log, or `audit verify` to check it.
    Audit(audit::Args),
    /// Export the signed contracts.
    #[command(subcommand)]
    Export(export::Cmd),
    /// Make a demo store with a demo licence, users and months of history.
    Demo(demo::Args),
    /// Ask the vendor for seats, or give seats back (a signed licence request).
    #[command(subcommand)]
    Request(request::Cmd),
    /// Make a signed report for the vendor.
    #[command(subcommand)]
    Report(report::Cmd),
    /// The confirmation e-mails written to the outbox.
    Outbox(outbox::Args),
    /// Own the store and answer clients on a Unix socket (SIGTERM or SIGINT stops it cleanly).
    Serve(serve::Args),
    /// The metrics once, as Prometheus text (for the node exporter's textfile collector).
    Metrics(metrics::Args),
    /// The man page and shell completions, generated from this command line.
    #[command(subcommand, hide = true)]
    Generate(generate::Cmd),
}

/// Parses the command line, runs it and returns the exit code.
pub fn main() -> ExitCode {
    // A clock before 1970 (or past 9999) cannot date anything: say so before
    // any command reads it. Help and the version need no clock.
    let asks_for_help = std::env::args()
        .nth(1)
        .is_some_and(|a| matches!(a.as_str(), "-h" | "--help" | "help" | "-V" | "--version"));
    if !asks_for_help && let Some(problem) = store::clock::system_clock_problem() {
        report(&problem);
        json_error(store::Code::Clock.as_str(), &problem);
        return ExitCode::from(3);
    }
    if let Some(code) = fast_path() {
        return code;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes; everything else is a usage error.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let st = cli.store.as_deref();
    let connect = match cli.connect.clone() {
        Some(addr) => match (&cli.tls_cert, &cli.tls_key, &cli.tls_ca) {
            (Some(cert), Some(key), Some(ca)) => Some((
                addr,
                store::tls::ClientFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    ca: ca.clone(),
                },
            )),
            _ => {
                let msg = "--connect needs --tls-cert, --tls-key and --tls-ca: the service on another host speaks mutual TLS only";
                report(msg);
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let ctx = site::Ctx {
        store: cli.store.clone(),
        socket: cli.socket.clone(),
        connect,
    };
    let result = match cli.command {
        None if console_possible() => crate::console::run(&ctx),
        None => print_overview(),
        Some(Command::Vendor(cmd)) => vendor::run(cmd),
        Some(Command::Inspect(args)) => inspect::run(args),
        Some(Command::Verify(args)) => verify::run(args),
        Some(Command::Init(args)) => init::run(st, args),
        Some(Command::Import(args)) => import::run(&ctx, args),
        Some(Command::Status(args)) => status::run(&ctx, args),
        Some(Command::Users(cmd)) => users::run(&ctx, cmd),
        Some(Command::Roles(args)) => roles::run(args),
        Some(Command::Installation(cmd)) => installation::run(&ctx, cmd),
        Some(Command::Check(args)) => check::run(&ctx, args),
        Some(Command::Usage(cmd)) => usage::run(&ctx, cmd),
        Some(Command::Tick(args)) => tick::run(&ctx, args),
        Some(Command::Audit(args)) => audit::run(&ctx, args),
        Some(Command::Export(cmd)) => export::run(&ctx, cmd),
        Some(Command::Demo(args)) => demo::run(&ctx, args),
        Some(Command::Request(cmd)) => request::run(&ctx, cmd),
        Some(Command::Report(cmd)) => report::run(&ctx, cmd),
        Some(Command::Outbox(args)) => outbox::run(&ctx, args),
        Some(Command::Serve(args)) => serve::run(&ctx, args),
        Some(Command::Metrics(args)) => metrics::run(&ctx, args),
        Some(Command::Generate(cmd)) => generate::run(cmd),
    };
    finish(result)
}

/// Turns a command's outcome into a message and an exit code.
fn finish(result: Result<ExitCode, Failure>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            report(&msg);
            ExitCode::from(2)
        }
        Err(Failure::Refused(msg)) => {
            report(&msg);
            json_error("refused", &msg);
            ExitCode::from(1)
        }
        Err(Failure::Store { code, message }) => {
            report(&message);
            json_error(code.as_str(), &message);
            ExitCode::from(1)
        }
        Err(Failure::Coded { code, message }) => {
            report(&message);
            json_error(code, &message);
            ExitCode::from(1)
        }
    }
}

/// `verify` and `check` run for every file checked and every login: they parse
/// with their own arguments only, because building the parser of every
/// subcommand costs several times the work itself. Anything unusual (an error,
/// `--help`, global options first) falls through to the full parser, so
/// messages and help are exactly the same.
fn fast_path() -> Option<ExitCode> {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let rest = || std::iter::once(argv[0].clone()).chain(argv[2..].iter().cloned());
    match argv.get(1)?.to_str()? {
        "verify" => {
            let args = verify::Args::plain(&argv[2..])?;
            Some(finish(verify::run(args)))
        }
        "check" => {
            #[derive(Debug, Parser)]
            #[command(name = "tessera check")]
            struct Fast {
                #[command(flatten)]
                args: check::Args,
                #[arg(long, env = "TESSERA_STORE", hide_env_values = true)]
                store: Option<PathBuf>,
                #[arg(long, env = "TESSERA_SOCKET", hide_env_values = true)]
                socket: Option<PathBuf>,
            }
            let fast = Fast::try_parse_from(rest()).ok()?;
            let ctx = site::Ctx {
                store: fast.store,
                socket: fast.socket,
                connect: None,
            };
            Some(finish(check::run(&ctx, fast.args)))
        }
        _ => None,
    }
}

/// With `--json`, a failure is also a JSON object on standard output, so
/// that a program reads its stable code: `{"error":{"code":…,"message":…}}`.
fn json_error(code: &str, message: &str) {
    if !std::env::args().any(|a| a == "--json") {
        return;
    }
    let value = serde_json::json!({ "error": { "code": code, "message": message } });
    let _ = writeln!(io::stdout().lock(), "{value}");
}

pub(crate) fn report(msg: &str) {
    let _ = writeln!(io::stderr().lock(), "tessera: {msg}");
}

/// The console needs a terminal on both ends; scripts and pipes get the overview.
pub(crate) fn console_possible() -> bool {
    io::stdin().is_terminal() && io::stdout().is_terminal()
}

/// Without a terminal, `tessera` alone shows what it can do.
fn print_overview() -> Result<ExitCode, Failure> {
    let mut help = Cli::command().render_long_help().to_string();
    help.push_str("\n(The console opens when tessera runs in a terminal.)\n");
    util::print(&help)?;
    Ok(ExitCode::SUCCESS)
}
