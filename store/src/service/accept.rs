//! Who connected: an accepted socket's user comes from the kernel (its peer
//! credentials), never from what the client says, and is greeted before a
//! worker takes the connection.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use super::framing::error_line;
use super::reactor::Conn;
use super::{Log, WRITE_TIMEOUT};
use crate::Store;
use crate::api::Local;
use crate::error::Code;
use crate::protocol::{ErrorKind, Hello, VERSION};

/// Checks who connected and greets them; `None` when refused or gone.
pub(super) fn greet(
    store: &Arc<Store>,
    stream: UnixStream,
    log: &Log,
    serial: &str,
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
    let mut line = Vec::new();
    let Some(user) = crate::identity::name_of_uid(uid) else {
        log(&format!("refused uid {uid}: no login name on this host"));
        error_line(
            &mut line,
            0,
            ErrorKind::Refused,
            Code::NotPermitted,
            format!(
                "uid {uid} has no login name on this host; the service acts only for known users"
            ),
        );
        let _ = stream.write_all(&line);
        return None;
    };
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
    if stream.write_all(&line).is_err() || stream.set_nonblocking(true).is_err() {
        return None;
    }
    Some(Conn::new(
        stream,
        Arc::new(Local {
            store: store.clone(),
            operator: user,
        }),
    ))
}
