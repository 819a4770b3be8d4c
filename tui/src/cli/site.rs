//! What the site's commands share: finding the store, talking to the service
//! when it answers, and who the operator is.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use store::client::Remote;
use store::{Api, Local, Store, StoreError, SystemClock};

use super::util::Failure;

/// Where the store and its service are.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// `--store`.
    pub store: Option<PathBuf>,
    /// `--socket`.
    pub socket: Option<PathBuf>,
    /// `--connect HOST:PORT` with its TLS files: the service on another host.
    pub connect: Option<(String, store::tls::ClientFiles)>,
}

/// The store directory: `--store`, `TESSERA_STORE`, or the default.
pub fn store_dir(arg: Option<&Path>) -> PathBuf {
    arg.map(Path::to_path_buf)
        .unwrap_or_else(store::default_dir)
}

/// The system store, and the socket the packaged service answers on for it.
const SYSTEM_STORE: &str = "/var/lib/tessera";
const SYSTEM_SOCKET: &str = "/run/tessera/tessera.sock";

/// The service's socket: `--socket`, `TESSERA_SOCKET`, `/run/tessera/tessera.sock` for the
/// system store (its directory is the service's own, mode 0700), or `tessera.sock` in the store directory.
pub fn socket_path(ctx: &Ctx) -> PathBuf {
    if let Some(s) = &ctx.socket {
        return s.clone();
    }
    let dir = store_dir(ctx.store.as_deref());
    if dir == Path::new(SYSTEM_STORE) {
        PathBuf::from(SYSTEM_SOCKET)
    } else {
        dir.join("tessera.sock")
    }
}

/// A store opened for one command, never torn down.
///
/// Every change is flushed and synced before it is reported, so at the end of
/// a command there is nothing left to write; tearing down sled's in-memory page
/// table would cost a sixth of a short command's time, so the process exits
/// without it (the kernel releases the lock file).
pub type Opened = std::mem::ManuallyDrop<Store>;

/// Opens the store directly, on the machine's clock.
pub fn open_direct(ctx: &Ctx) -> Result<Opened, Failure> {
    let dir = store_dir(ctx.store.as_deref());
    let store = Store::open(&dir, Arc::new(SystemClock)).map_err(refused)?;
    // Every command that opens the store has the installation key within reach.
    if let Some(warning) = store.installation_key_warning() {
        eprintln!("tessera: warning: {warning}");
    }
    Ok(std::mem::ManuallyDrop::new(store))
}

/// The store through `tessera serve` when it answers, else directly.
///
/// A socket this user may not open is said so, with the group it admits,
/// rather than falling through to the store directory (which such a user can
/// rarely read either, and "no store" would send them the wrong way).
pub fn connect(ctx: &Ctx) -> Result<Box<dyn Api>, Failure> {
    connect_by(ctx).map(|(api, _)| api)
}

/// Which way a command reached the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Through the service's socket (`tessera serve`, or an open console).
    Service,
    /// The store opened directly by this process.
    Direct,
}

impl Route {
    /// The word `--json` gives it.
    pub fn word(self) -> &'static str {
        match self {
            Route::Service => "service",
            Route::Direct => "store",
        }
    }
}

/// [`connect`], and which way it went.
pub fn connect_by(ctx: &Ctx) -> Result<(Box<dyn Api>, Route), Failure> {
    // Another host's service, or nothing: never this host's store instead.
    if let Some((addr, files)) = &ctx.connect {
        let remote = store::tls::connect_remote(addr, files).map_err(|e| match e {
            // The service answered and refused us: that is its word.
            e @ StoreError::Remote { .. } => refused(e),
            e => Failure::Store {
                code: store::Code::Unreachable,
                message: format!("cannot reach the service at {addr}: {e}"),
            },
        })?;
        return Ok((Box::new(remote), Route::Service));
    }
    let socket = socket_path(ctx);
    let mut shut_out = None;
    match std::fs::symlink_metadata(&socket) {
        Ok(_) => match Remote::connect(&socket) {
            Ok(remote) => return Ok((Box::new(remote), Route::Service)),
            // The service answered and refused us: that is its word.
            Err(e @ StoreError::Remote { .. }) => return Err(refused(e)),
            Err(StoreError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                shut_out = Some(socket_refusal(&socket));
            }
            // Nobody answers (a stale socket): go direct.
            Err(_) => {}
        },
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            shut_out = Some(socket_refusal(&socket));
        }
        Err(_) => {}
    }
    match open_direct(ctx) {
        Ok(store) => Ok((
            Box::new(Local {
                store,
                operator: operator(),
            }),
            Route::Direct,
        )),
        Err(direct) => match shut_out {
            Some(message) => Err(Failure::Store {
                code: store::Code::NotPermitted,
                message,
            }),
            None => Err(direct),
        },
    }
}

/// Why this user cannot use the socket, and who may: the group of the socket
/// (or of the nearest directory above it that can be seen).
fn socket_refusal(socket: &Path) -> String {
    use std::os::unix::fs::MetadataExt as _;
    let user = operator();
    let group = socket
        .ancestors()
        .find_map(|p| {
            std::fs::metadata(p)
                .ok()
                .map(|m| (p.to_path_buf(), m.gid()))
        })
        .map(|(p, gid)| {
            (
                p,
                store::identity::name_of_gid(gid).unwrap_or_else(|| gid.to_string()),
            )
        });
    match group {
        Some((p, g)) => {
            let whose = if p == socket {
                "it admits".to_string()
            } else {
                format!("its directory {} admits", p.display())
            };
            format!(
                "the service's socket {} refused {user} (permission denied): {whose} the members of group {g}; ask an administrator to add you (`usermod -aG {g} {user}`), then log in again",
                socket.display()
            )
        }
        None => format!(
            "the service's socket {} refused {user} (permission denied); ask an administrator for access",
            socket.display()
        ),
    }
}

/// The operator: the store user named like the login user.
pub fn operator() -> String {
    store::identity::login_name()
}

/// A store error as a refusal (exit 1), with its code and what to do at the
/// command line (the library names no command or flag; this adds them).
pub fn refused(e: StoreError) -> Failure {
    let code = e.code();
    let mut message = e.to_string();
    if let Some(hint) = hint(code) {
        message.push_str("; ");
        message.push_str(hint);
    }
    Failure::Store { code, message }
}

/// What to do about a refusal, at the command line.
pub fn hint(code: store::Code) -> Option<&'static str> {
    use store::Code;
    Some(match code {
        Code::NoStore => "create one with `tessera init --licence FILE` (or `tessera demo`)",
        Code::StoreBusy => {
            "wait for it to finish, or run `tessera serve` so that several clients can work at once"
        }
        Code::UnknownUser => "`tessera users list` shows who there is",
        Code::Corrupt => "run `tessera audit verify`, and restore from backup if it fails",
        Code::NewerStore => "install the newer Tessera again (`tessera --version` shows this one)",
        Code::AmbiguousLicence | Code::TermNotOffered => "say which with --licence and --term",
        _ => return None,
    })
}
