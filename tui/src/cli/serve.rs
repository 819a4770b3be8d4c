//! `tessera serve [--socket PATH] [--group NAME] [--listen HOST:PORT --tls-cert … --tls-key … --client-ca …]
//! [--metrics IP:PORT [--metrics-allow-remote]]`: own the store and answer clients (on the socket,
//! and over mutual TLS for other hosts), and serve Prometheus metrics.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::site;
use super::util::Failure;

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Give the socket to this group (mode 0660), so its members can connect.
    #[arg(long, value_name = "NAME")]
    group: Option<String>,
    /// Seconds between runs of the time-driven rules.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    tick_every: u64,
    /// The most connections one login user may hold open at once.
    #[arg(long, value_name = "N", default_value_t = store::service::Options::MAX_PER_USER as u64,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_connections_per_user: u64,
    /// Seconds a new connection may ask nothing before it is closed (one
    /// that has made a request is a client and is kept).
    #[arg(long, value_name = "SECS", default_value_t = store::service::Options::IDLE.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    idle_timeout: u64,
    /// Also listen for products on other hosts, over mutual TLS only (never
    /// plain TCP): needs --tls-cert, --tls-key and --client-ca.
    #[arg(long, value_name = "HOST:PORT", requires_all = ["tls_cert", "tls_key", "client_ca"])]
    listen: Option<String>,
    /// With --listen: the service's certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "listen")]
    tls_cert: Option<std::path::PathBuf>,
    /// With --listen: the service's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "listen")]
    tls_key: Option<std::path::PathBuf>,
    /// With --listen: the CA client certificates must chain to; a client
    /// certificate's subject common name is the store user it acts as.
    #[arg(long, value_name = "FILE", requires = "listen")]
    client_ca: Option<std::path::PathBuf>,
    /// With --listen: a revocation list of the client CA (PEM); may be repeated.
    #[arg(long, value_name = "FILE", requires = "listen")]
    client_crl: Vec<std::path::PathBuf>,
    /// Serve Prometheus metrics over HTTP at http://IP:PORT/metrics,
    /// unauthenticated (see docs/METRICS.md); a loopback address unless
    /// --metrics-allow-remote.
    #[arg(long, value_name = "IP:PORT")]
    metrics: Option<String>,
    /// With --metrics: allow an address other hosts can reach. Whoever
    /// reaches it reads the metrics without authentication: firewall it to
    /// the Prometheus server.
    #[arg(long, requires = "metrics")]
    metrics_allow_remote: bool,
}

/// Serves until SIGTERM or SIGINT.
pub fn run(ctx: &site::Ctx, args: Args) -> Result<ExitCode, Failure> {
    let group = match &args.group {
        Some(g) => Some(
            store::identity::gid_of_group(g)
                .ok_or_else(|| Failure::usage(format!("no group {g:?} in /etc/group")))?,
        ),
        None => None,
    };
    let shutdown = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, shutdown.clone())
            .map_err(|e| Failure::refused(format!("cannot handle signals: {e}")))?;
    }
    // The TLS files are read before the store is taken: a wrong file is said
    // at once, and the store is left for others.
    let tls = match (&args.listen, &args.tls_cert, &args.tls_key, &args.client_ca) {
        (Some(listen), Some(cert), Some(key), Some(ca)) => {
            let addr = resolve(listen)?;
            let config = store::tls::server_config(&store::tls::ServerFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: ca.clone(),
                crls: args.client_crl.clone(),
            })
            .map_err(|e| Failure::refused(e.to_string()))?;
            Some(store::service::TlsListen { addr, config })
        }
        (None, ..) => None,
        _ => {
            return Err(Failure::usage(
                "--listen needs --tls-cert, --tls-key and --client-ca",
            ));
        }
    };
    let metrics = match &args.metrics {
        Some(addr) => Some(store::service::MetricsListen {
            addr: metrics_addr(addr, args.metrics_allow_remote)?,
        }),
        None => None,
    };
    let log: store::service::Log = Arc::new(|line: &str| {
        let _ = writeln!(std::io::stderr(), "tessera serve: {line}");
    });
    let store = take_store(ctx, &log)?;
    let options = store::service::Options {
        socket: site::socket_path(ctx),
        group,
        tick_every: Duration::from_secs(args.tick_every),
        max_per_user: usize::try_from(args.max_connections_per_user).unwrap_or(usize::MAX),
        idle: Duration::from_secs(args.idle_timeout),
    };
    raise_descriptor_limit(&log);
    let activated = systemd_socket(&log)?;
    let extras = store::service::Extras {
        tls,
        activated,
        metrics,
    };
    store::service::serve_with(Arc::new(store), &options, extras, shutdown, log)
        .map_err(site::refused)?;
    Ok(ExitCode::SUCCESS)
}

/// How long the service waits for a store another process holds.
const STORE_WAIT: Duration = Duration::from_secs(10);

/// Opens the store; while another process holds it, asks it to give the
/// store up and waits (up to [`STORE_WAIT`]).
///
/// A console holds the store when it took it over from a service that
/// stopped, and a service started again on purpose (systemd's `Restart=`,
/// an upgrade) is the owner meant: the console gives way on the mark
/// ([`store::handover`]) and reconnects through this service. A `tessera
/// check` opened directly lets go by itself in a moment; a second service
/// does not, and this one then ends saying who holds the store.
fn take_store(ctx: &site::Ctx, log: &store::service::Log) -> Result<store::Store, Failure> {
    let dir = site::store_dir(ctx.store.as_deref());
    let layout = store::Layout { dir: dir.clone() };
    let start = std::time::Instant::now();
    let mut wanted = None;
    let store = loop {
        match store::Store::open(&dir, Arc::new(store::SystemClock)) {
            Ok(store) => break store,
            Err(e @ store::StoreError::Busy { .. }) if start.elapsed() < STORE_WAIT => {
                if wanted.is_none() {
                    log(&format!(
                        "{e}; asked it to give the store up, waiting up to {} s",
                        STORE_WAIT.as_secs()
                    ));
                    // No mark, nobody gives way: end now, saying who holds the store.
                    wanted =
                        Some(store::handover::Wanted::mark(&layout).map_err(|_| site::refused(e))?);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(site::refused(e)),
        }
    };
    // The store is ours: consoles may connect (and take it again if this service stops).
    drop(wanted);
    // As every command that opens the store says it.
    if let Some(warning) = store.installation_key_warning() {
        eprintln!("tessera: warning: {warning}");
    }
    Ok(store)
}

/// The listening socket systemd passed (tessera.socket), if this process
/// was started through it: served in place of binding the socket.
fn systemd_socket(
    log: &store::service::Log,
) -> Result<Option<std::os::unix::net::UnixListener>, Failure> {
    let mut fds = listenfd::ListenFd::from_env();
    if fds.len() == 0 {
        return Ok(None);
    }
    let listener = fds.take_unix_listener(0).map_err(|e| {
        Failure::refused(format!(
            "systemd passed a socket that is not a listening Unix socket ({e}); check ListenStream= in tessera.socket"
        ))
    })?;
    if let Some(l) = &listener {
        let at = l
            .local_addr()
            .ok()
            .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
            .unwrap_or_else(|| "an unnamed socket".into());
        log(&format!(
            "socket activation: serving the socket systemd passed, {at}"
        ));
    }
    Ok(listener)
}

/// `HOST:PORT` as one address to listen on.
fn resolve(listen: &str) -> Result<std::net::SocketAddr, Failure> {
    use std::net::ToSocketAddrs as _;
    listen
        .to_socket_addrs()
        .map_err(|e| Failure::usage(format!("--listen {listen}: {e} (give HOST:PORT)")))?
        .next()
        .ok_or_else(|| Failure::usage(format!("--listen {listen}: no address")))
}

/// The address `--metrics` names, an IP address and a port (`localhost`
/// is 127.0.0.1): no name is looked up, so the address checked is the one
/// bound. Refused, before the store is taken, when other hosts could reach
/// it and the administrator did not say they may.
fn metrics_addr(metrics: &str, allow_remote: bool) -> Result<std::net::SocketAddr, Failure> {
    let addr: std::net::SocketAddr = match metrics.strip_prefix("localhost:") {
        Some(port) => port
            .parse::<u16>()
            .map(|port| std::net::SocketAddr::from(([127, 0, 0, 1], port)))
            .map_err(|_| ()),
        None => metrics.parse().map_err(|_| ()),
    }
    .map_err(|_| {
        Failure::usage(format!(
            "--metrics {metrics}: give an IP address and a port, e.g. 127.0.0.1:9431 or [::1]:9431"
        ))
    })?;
    if !allow_remote && !addr.ip().is_loopback() {
        return Err(Failure::usage(format!(
            "--metrics {metrics}: {} is not a loopback address, and the metrics are served without authentication; \
             listen on 127.0.0.1 or [::1], or add --metrics-allow-remote and firewall the port to the Prometheus server",
            addr.ip()
        )));
    }
    Ok(addr)
}

/// Raises the soft limit of open descriptors to the hard limit: every client
/// is a descriptor, and the default soft limit (1,024) is what a few hundred
/// idle connections exhaust. Says what it did, or why it could not.
fn raise_descriptor_limit(log: &store::service::Log) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let (Some(soft), hard) = (limit.current, limit.maximum) else {
        return;
    };
    let target = hard.unwrap_or(soft.max(65_536));
    if target <= soft {
        log(&format!("open descriptors: {soft} allowed"));
        return;
    }
    limit.current = Some(target);
    match setrlimit(Resource::Nofile, limit) {
        Ok(()) => log(&format!("open descriptors: raised from {soft} to {target}")),
        Err(e) => log(&format!(
            "open descriptors: {soft} allowed; raising it to {target} failed: {e}"
        )),
    }
}
