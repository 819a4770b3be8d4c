//! A client connection's bytes as a worker reads and writes them: the Unix
//! socket's, or a TLS connection spoken in the worker itself.
//!
//! TLS is spoken in the reactor rather than relayed through a thread and a
//! socket pair: a relay wakes two more threads for every request, which
//! halved what the service answers over TLS (docs/PERFORMANCE.md, 12).

use std::io::{self, ErrorKind as IoKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A connection's transport.
pub(crate) enum Stream {
    /// The service's socket.
    Unix(UnixStream),
    /// A client of the TLS listener, past its handshake.
    Tls(Box<TlsStream>),
}

/// A server-side TLS connection on its TCP socket. Non-blocking once the
/// worker adopts it: reads and writes say `WouldBlock` as a socket's do.
pub(crate) struct TlsStream {
    conn: rustls::ServerConnection,
    tcp: TcpStream,
    /// The listener's count of open TLS connections, given back on drop.
    live: Arc<AtomicUsize>,
}

impl TlsStream {
    /// Takes a handshaken connection; `live` was counted up for it.
    pub(crate) fn new(
        conn: rustls::ServerConnection,
        tcp: TcpStream,
        live: Arc<AtomicUsize>,
    ) -> TlsStream {
        TlsStream { conn, tcp, live }
    }

    /// Writes the records rustls holds, until the socket would block.
    fn push(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.tcp) {
                Ok(0) => return Err(io::Error::from(IoKind::WriteZero)),
                Ok(_) => {}
                Err(e) if e.kind() == IoKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                // No plaintext yet: more records from the socket.
                Err(e) if e.kind() == IoKind::WouldBlock => {}
                // The peer closed the socket without close_notify: an end
                // all the same, as it is on the Unix socket.
                Err(e) if e.kind() == IoKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            match self.conn.read_tls(&mut self.tcp) {
                Ok(0) => return Ok(0),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
            if let Err(e) = self.conn.process_new_packets() {
                // The alert that says why, if it can be sent.
                let _ = self.push();
                return Err(io::Error::new(IoKind::InvalidData, e));
            }
            // Whatever the peer's records asked for (a key update's answer).
            self.push()?;
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // What was sealed before goes first; rustls holds at most one
        // write's worth more than the socket took.
        self.push()?;
        if self.conn.wants_write() {
            return Err(io::Error::from(IoKind::WouldBlock));
        }
        let n = self.conn.writer().write(buf)?;
        self.push()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.push()
    }
}

impl Drop for TlsStream {
    fn drop(&mut self) {
        self.conn.send_close_notify();
        let _ = self.push();
        let _ = self.tcp.shutdown(std::net::Shutdown::Both);
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Stream {
    /// Sealed bytes waiting for the socket (TLS records rustls holds).
    pub(crate) fn wants_write(&self) -> bool {
        match self {
            Stream::Unix(_) => false,
            Stream::Tls(t) => t.conn.wants_write(),
        }
    }

    /// Writes what waits in [`Stream::wants_write`]; an error when the
    /// connection broke.
    pub(crate) fn push(&mut self) -> io::Result<()> {
        match self {
            Stream::Unix(_) => Ok(()),
            Stream::Tls(t) => t.push(),
        }
    }

    /// Whether plaintext already decrypted waits to be read: the socket may
    /// have nothing more to say, so epoll would not wake the worker for it.
    pub(crate) fn buffered(&mut self) -> bool {
        match self {
            Stream::Unix(_) => false,
            Stream::Tls(t) => t
                .conn
                .process_new_packets()
                .is_ok_and(|s| s.plaintext_bytes_to_read() > 0),
        }
    }

    /// Non-blocking from now on (the greeting was written blocking).
    pub(crate) fn set_nonblocking(&self) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_nonblocking(true),
            Stream::Tls(t) => t.tcp.set_nonblocking(true),
        }
    }

    /// Bounds a blocking write (the greeting, a refusal).
    pub(crate) fn set_write_timeout(&self, timeout: std::time::Duration) {
        let _ = match self {
            Stream::Unix(s) => s.set_write_timeout(Some(timeout)),
            Stream::Tls(t) => t.tcp.set_write_timeout(Some(timeout)),
        };
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.flush(),
            Stream::Tls(t) => t.flush(),
        }
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Unix(s) => s.as_fd(),
            Stream::Tls(t) => t.tcp.as_fd(),
        }
    }
}
