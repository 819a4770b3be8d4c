//! Who connected: an accepted socket's user comes from the kernel (its peer
//! credentials), never from what the client says, and is greeted before a
//! worker takes the connection.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use super::framing::error_line;
use super::reactor::Conn;
use super::stream::Stream;
use super::{Log, WRITE_TIMEOUT};
use crate::Store;
use crate::api::Local;
use crate::error::Code;
use crate::protocol::{ErrorKind, Hello, VERSION};

/// Turns a new connection away with one line that says why (its id 0: no
/// request was read), in place of the greeting.
pub(super) fn refuse(stream: &mut impl Write, code: Code, message: String) {
    let mut line = Vec::new();
    error_line(&mut line, 0, ErrorKind::Refused, code, message);
    let _ = stream.write_all(&line);
}

/// Checks who connected and greets them; `None` when refused or gone.
pub(super) fn greet(
    store: &Arc<Store>,
    stream: UnixStream,
    log: &Log,
    serial: &str,
    per_uid: &std::sync::Arc<super::limits::PerUid>,
    spare: &mut Option<std::fs::File>,
) -> Option<Conn> {
    // The greeting is the first thing written to a fresh socket, so it fits in
    // its buffer; the timeout only guards against the impossible.
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let uid = match rustix::net::sockopt::socket_peercred(&stream) {
        Ok(c) => c.uid.as_raw(),
        Err(e) => {
            log(&format!("refused a connection: no peer credentials ({e})"));
            return None;
        }
    };
    let mut stream = stream;
    let mut looked = crate::identity::lookup_uid(uid);
    if looked.as_ref().is_err_and(|e| e.raw_os_error() == Some(24)) && spare.is_some() {
        // Out of descriptors: the reserve one lets the user database be read.
        drop(spare.take());
        looked = crate::identity::lookup_uid(uid);
        *spare = std::fs::File::open("/dev/null").ok();
    }
    let user = match looked {
        Ok(Some(user)) => user,
        Ok(None) => {
            log(&format!("refused uid {uid}: no login name on this host"));
            refuse(
                &mut stream,
                Code::NotPermitted,
                format!(
                    "uid {uid} has no login name on this host; the service acts only for known users"
                ),
            );
            return None;
        }
        // What happened, not a guess: the user database could not be read.
        Err(e) => {
            log(&format!(
                "refused uid {uid}: cannot read the user database: {e}"
            ));
            refuse(
                &mut stream,
                Code::Io,
                format!(
                    "the service cannot read the user database to know uid {uid} ({e}); try again"
                ),
            );
            return None;
        }
    };
    let Some(slot) = per_uid.take(uid) else {
        log(&format!(
            "refused uid {uid} ({user}): it holds {} connections already, the limit per user",
            per_uid.max()
        ));
        refuse(
            &mut stream,
            Code::TooManyConnections,
            format!(
                "{user} holds {} connections to the service already, the most one user may; close some and connect again",
                per_uid.max()
            ),
        );
        return None;
    };
    welcome(store, Stream::Unix(stream), serial, user, slot)
}

/// Greets a remote client the TLS handshake named `name` (its certificate's
/// common name), on its TLS `stream`; `None` when it
/// holds too many connections already or is gone.
pub(super) fn greet_named(
    store: &Arc<Store>,
    mut stream: Stream,
    log: &Log,
    serial: &str,
    name: String,
    per_uid: &std::sync::Arc<super::limits::PerUid>,
) -> Option<Conn> {
    stream.set_write_timeout(WRITE_TIMEOUT);
    let Some(slot) = per_uid.take_named(&name) else {
        log(&format!(
            "refused TLS client {name}: it holds {} connections already, the limit per user",
            per_uid.max()
        ));
        refuse(
            &mut stream,
            Code::TooManyConnections,
            format!(
                "{name} holds {} connections to the service already, the most one user may; close some and connect again",
                per_uid.max()
            ),
        );
        return None;
    };
    welcome(store, stream, serial, name, slot)
}

/// The greeting, and the connection as a worker serves it, acting as `user`.
fn welcome(
    store: &Arc<Store>,
    mut stream: Stream,
    serial: &str,
    user: String,
    slot: super::limits::Slot,
) -> Option<Conn> {
    let mut line = Vec::new();
    let hello = Hello {
        service: "tessera".into(),
        protocol: VERSION,
        version: env!("CARGO_PKG_VERSION").into(),
        user: user.clone(),
        serial: serial.to_string(),
    };
    if serde_json::to_writer(&mut line, &hello).is_err() {
        return None;
    }
    line.push(b'\n');
    if stream.write_all(&line).is_err()
        || stream.flush().is_err()
        || stream.set_nonblocking().is_err()
    {
        return None;
    }
    Some(Conn::new(
        stream,
        Arc::new(Local {
            store: store.clone(),
            operator: user,
        }),
        slot,
    ))
}
