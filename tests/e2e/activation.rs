//! Socket activation, as tessera.socket does it: something else listens on
//! the socket (here `systemd-socket-activate`, systemd's own tool), the first
//! connection starts `tessera serve` with the listening socket passed in,
//! and the service tells the notify socket READY=1 once it answers and
//! STOPPING=1 when SIGTERM stops it. The product's `check` went through the
//! service all along, and says so.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Dir, STORE, cannot_run, stderr};

/// The next state sent to the notify socket, waiting up to 20 s.
fn next_state(notify: &UnixDatagram) -> String {
    notify
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut buf = [0u8; 256];
    let n = notify.recv(&mut buf).expect("a state from the service");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn the_first_connection_starts_the_service_on_the_socket_it_was_given() {
    let d = Dir::new();
    d.site();
    let socket = d.path("activated.sock");
    let notify_path = d.path("notify");
    let notify = UnixDatagram::bind(&notify_path).expect("the notify socket");
    let mut activator = match Command::new("systemd-socket-activate")
        .current_dir(d.path(""))
        .arg("--listen")
        .arg(&socket)
        .arg(format!("--setenv=NOTIFY_SOCKET={}", notify_path.display()))
        .arg(env!("CARGO_BIN_EXE_tessera"))
        .args(["--store", STORE, "--socket"])
        .arg(&socket)
        .args(["serve", "--tick-every", "60"])
        .env_remove("TESSERA_STORE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => cannot_run("systemd-socket-activate", "systemd", &e),
    };
    // Listening, and nothing started yet.
    let start = Instant::now();
    while !socket.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "no socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The product's check: the connection starts the service, which answers it.
    let out = d
        .cmd(&[
            "--socket",
            socket.to_str().expect("utf-8"),
            "--store",
            STORE,
        ])
        .args(["check", "root", "--json"])
        .output()
        .expect("run check");
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(v["answered_by"], "service", "{v:#}");
    assert_eq!(next_state(&notify), "READY=1");
    // SIGTERM: STOPPING=1, then a clean exit; the socket is left to its owner.
    let pid = activator.id().to_string();
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -s TERM {pid}")])
        .status()
        .expect("kill");
    assert!(killed.success());
    assert_eq!(next_state(&notify), "STOPPING=1");
    let status = activator.wait().expect("wait");
    let mut log = String::new();
    if let Some(mut e) = activator.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut log);
    }
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("socket activation"), "{log}");
    assert!(
        socket.exists(),
        "the activated socket is not the service's to remove"
    );
}
