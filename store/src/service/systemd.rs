//! Telling systemd how the service stands (`sd_notify`): `READY=1` once the
//! store is open and the socket takes connections, `STOPPING=1` when it
//! begins to stop. The unit is `Type=notify`, so that a client that started
//! the service through its socket is answered by a service that is ready.

use std::os::unix::net::UnixDatagram;

/// Sends `state` to the socket in `$NOTIFY_SOCKET`, if there is one; a
/// service not started by systemd has none, and a failure to tell is not the
/// service's failure.
pub(super) fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(socket) = UnixDatagram::unbound() else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    let _ = match bytes.strip_prefix(b"@") {
        // An abstract socket (Linux): named without the leading '@'.
        Some(name) => {
            use std::os::linux::net::SocketAddrExt as _;
            match std::os::unix::net::SocketAddr::from_abstract_name(name) {
                Ok(addr) => socket.send_to_addr(state.as_bytes(), &addr),
                Err(e) => Err(e),
            }
        }
        None => socket.send_to(state.as_bytes(), &path),
    };
}
