//! The service's client: the same [`Api`] over the socket.
//!
//! Any program on the host can use it (the licensed product, a script); the
//! service decides who the caller is from the kernel's peer credentials.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::api::Api;
use crate::error::{Result, StoreError};
use crate::gate::Reply;
use crate::model::Event;
use crate::protocol::{ErrorKind, Frame, Hello, MAX_FRAME, Push, Request, Response, VERSION};

/// A connection to `tessera serve`.
pub struct Remote {
    conn: Mutex<Conn>,
    next_id: AtomicU64,
    hello: Hello,
}

struct Conn {
    /// Read through the buffer; written through `get_mut`, which leaves
    /// what the buffer holds alone.
    stream: BufReader<Box<dyn Transport>>,
}

/// A connected byte stream the protocol runs over: the service's Unix
/// socket, or a TLS connection to its `--listen` address spoken in this
/// process ([`crate::tls::connect_remote`]).
pub trait Transport: Read + Write + Send {
    /// Bounds how long a read waits (`None`: for ever).
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()>;
}

impl Transport for UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        UnixStream::set_read_timeout(self, timeout)
    }
}

fn service_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Service(e.to_string())
}

fn read_line(reader: &mut BufReader<Box<dyn Transport>>) -> Result<String> {
    let mut line = String::new();
    let n = reader
        .by_ref()
        .take(MAX_FRAME as u64 * 64)
        .read_line(&mut line)
        .map_err(service_err)?;
    if n == 0 {
        return Err(StoreError::Service(
            "the service closed the connection".into(),
        ));
    }
    Ok(line)
}

impl Remote {
    /// Connects, and reads the service's greeting.
    pub fn connect(socket: &Path) -> Result<Remote> {
        let stream = UnixStream::connect(socket).map_err(|e| {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                // Not the service's word but the socket's permissions: the
                // caller can say who the socket admits.
                StoreError::io(socket, e)
            } else {
                StoreError::Service(format!("{}: {e}", socket.display()))
            }
        })?;
        Remote::over(stream, &socket.display().to_string())
    }

    /// Speaks the protocol over `stream`, already connected to the service
    /// (`what` names it in messages): a local socket, or the plaintext end
    /// of a TLS connection ([`crate::tls::connect`]).
    pub fn over(stream: UnixStream, what: &str) -> Result<Remote> {
        let _ = what;
        Remote::over_transport(Box::new(stream))
    }

    /// Speaks the protocol over any [`Transport`] already connected to the
    /// service, and reads its greeting.
    pub fn over_transport(stream: Box<dyn Transport>) -> Result<Remote> {
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .map_err(service_err)?;
        let mut reader = BufReader::new(stream);
        let first = read_line(&mut reader)?;
        let hello: Hello = match serde_json::from_str(&first) {
            Ok(h) => h,
            Err(_) => {
                // A refusal comes as an error response instead of a greeting.
                let r: Response = serde_json::from_str(&first)
                    .map_err(|e| StoreError::Service(format!("not a Tessera service: {e}")))?;
                let e = r.error.unwrap_or(crate::protocol::WireError {
                    kind: ErrorKind::Refused,
                    code: crate::error::Code::NotPermitted,
                    message: "refused".into(),
                });
                return Err(StoreError::Remote {
                    code: e.code,
                    message: e.message,
                });
            }
        };
        if hello.protocol != VERSION {
            return Err(StoreError::Service(format!(
                "the service speaks protocol {}, this client {VERSION}",
                hello.protocol
            )));
        }
        Ok(Remote {
            conn: Mutex::new(Conn { stream: reader }),
            next_id: AtomicU64::new(1),
            hello,
        })
    }

    /// The service's greeting (who it takes the caller to be).
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// Sends a request and waits for its response.
    pub fn call<T: DeserializeOwned>(&self, request: Request) -> Result<T> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut line = serde_json::to_vec(&Frame {
            v: VERSION,
            id,
            request,
        })
        .map_err(service_err)?;
        line.push(b'\n');
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let writer = conn.stream.get_mut();
        writer.write_all(&line).map_err(service_err)?;
        // A TLS stream holds what was written until flushed.
        writer.flush().map_err(service_err)?;
        loop {
            let text = read_line(&mut conn.stream)?;
            if serde_json::from_str::<Push>(&text).is_ok() {
                continue;
            }
            let r: Response = serde_json::from_str(&text)
                .map_err(|e| StoreError::Service(format!("unreadable response: {e}")))?;
            if r.id != id && r.id != 0 {
                continue;
            }
            if r.ok {
                let v = r.result.unwrap_or(serde_json::Value::Null);
                return serde_json::from_value(v)
                    .map_err(|e| StoreError::Service(format!("unexpected result: {e}")));
            }
            let e = r.error.unwrap_or(crate::protocol::WireError {
                kind: ErrorKind::Internal,
                code: crate::error::Code::Unknown,
                message: "failed".into(),
            });
            return Err(match e.kind {
                ErrorKind::Refused => StoreError::Remote {
                    code: e.code,
                    message: e.message,
                },
                // A failure the service names (its store's I/O, say) keeps its code.
                _ if e.code != crate::error::Code::Unknown => StoreError::Remote {
                    code: e.code,
                    message: e.message,
                },
                _ => StoreError::Service(e.message),
            });
        }
    }

    /// Subscribes this connection to events after `after`; then [`Remote::next_event`] yields them.
    pub fn subscribe(&self, after: Option<u64>) -> Result<()> {
        self.call::<serde_json::Value>(Request::Subscribe { after })
            .map(|_| ())
    }

    /// The next pushed event, waiting up to `timeout`; `None` when none came.
    pub fn next_event(&self, timeout: Duration) -> Result<Option<Event>> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        conn.stream
            .get_ref()
            .set_read_timeout(Some(timeout))
            .map_err(service_err)?;
        let mut line = String::new();
        let got = conn.stream.read_line(&mut line);
        let _ = conn
            .stream
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(120)));
        match got {
            Ok(0) => Err(StoreError::Service(
                "the service closed the connection".into(),
            )),
            Ok(_) => Ok(serde_json::from_str::<Push>(&line).ok().map(|p| p.event)),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(service_err(e)),
        }
    }
}

impl Api for Remote {
    fn operator(&self) -> String {
        self.hello.user.clone()
    }
    fn is_remote(&self) -> bool {
        true
    }
    fn execute(&self, request: Request) -> Result<Reply> {
        let op = request.op();
        let value: serde_json::Value = self.call(request)?;
        Reply::decode(op, value)
            .map_err(|e| StoreError::Service(format!("unexpected result of {}: {e}", op.name())))
    }
}
