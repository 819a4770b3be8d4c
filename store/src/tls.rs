//! Products on other hosts: the service's protocol over mutual TLS.
//!
//! Mutual TLS only, never plain TCP: the client presents a certificate that
//! chains to the client CA the site chose, and its subject's common name is
//! the store user it acts as (roles apply exactly as over the Unix socket,
//! where the kernel names the login user). A client without a certificate,
//! or with one of another CA, expired or revoked, is refused during the
//! handshake, before a byte of the protocol is read.
//!
//! Each TLS connection is carried to the service as a Unix socket pair: one
//! end goes to the service's workers like any local client (with the
//! certificate's name as its user), and a thread moves bytes between the
//! other end and the TLS stream. The service's reactor stays one kind of
//! connection; TLS costs a thread per remote client, which is what a handful
//! of application servers need.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName};

use crate::error::{Result, StoreError};

/// How long a TLS handshake may take before the connection is dropped: a
/// client that connects and says nothing must not hold a thread.
pub const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

/// The files the service's TLS listener is made from.
#[derive(Debug, Clone)]
pub struct ServerFiles {
    /// The service's certificate chain (PEM), its own first.
    pub cert: PathBuf,
    /// The service's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// The CA client certificates must chain to (PEM; one or more).
    pub client_ca: PathBuf,
    /// Certificate revocation lists of that CA (PEM), if any.
    pub crls: Vec<PathBuf>,
}

/// The files a client connects with.
#[derive(Debug, Clone)]
pub struct ClientFiles {
    /// The client's certificate chain (PEM); its common name is the store user.
    pub cert: PathBuf,
    /// The client's private key (PEM).
    pub key: PathBuf,
    /// The CA the service's certificate chains to (PEM).
    pub ca: PathBuf,
}

fn bad_file(path: &Path, what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Service(format!("{}: not a usable {what}: {detail}", path.display()))
}

fn certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad_file(path, what, e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad_file(path, what, e))?;
    if certs.is_empty() {
        return Err(bad_file(path, what, "no CERTIFICATE in it"));
    }
    Ok(certs)
}

fn key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| bad_file(path, "private key (PEM)", e))
}

fn roots(path: &Path, what: &str) -> Result<Arc<rustls::RootCertStore>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs(path, what)? {
        roots.add(cert).map_err(|e| bad_file(path, what, e))?;
    }
    Ok(Arc::new(roots))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_err(what: &str, e: rustls::Error) -> StoreError {
    StoreError::Service(format!("{what}: {e}"))
}

/// The service's TLS configuration: its certificate, and client
/// certificates required, chaining to the client CA and not revoked.
pub fn server_config(files: &ServerFiles) -> Result<Arc<rustls::ServerConfig>> {
    let provider = provider();
    let client_roots = roots(&files.client_ca, "client CA certificate (PEM)")?;
    let mut crls = Vec::new();
    for path in &files.crls {
        for crl in CertificateRevocationListDer::pem_file_iter(path)
            .map_err(|e| bad_file(path, "certificate revocation list (PEM)", e))?
        {
            crls.push(crl.map_err(|e| bad_file(path, "certificate revocation list (PEM)", e))?);
        }
    }
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(client_roots, provider.clone())
            .with_crls(crls)
            .build()
            .map_err(|e| {
                StoreError::Service(format!("the client CA or its revocation lists: {e}"))
            })?;
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err("TLS versions", e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            certs(&files.cert, "certificate chain (PEM)")?,
            key(&files.key)?,
        )
        .map_err(|e| {
            StoreError::Service(format!(
                "{} and {} do not make a certificate and its key: {e}",
                files.cert.display(),
                files.key.display()
            ))
        })?;
    Ok(Arc::new(config))
}

/// A client's TLS configuration: the service's CA trusted, the client's
/// certificate presented.
pub fn client_config(files: &ClientFiles) -> Result<Arc<rustls::ClientConfig>> {
    let provider = provider();
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err("TLS versions", e))?
        .with_root_certificates(roots(&files.ca, "CA certificate (PEM)")?)
        .with_client_auth_cert(
            certs(&files.cert, "certificate chain (PEM)")?,
            key(&files.key)?,
        )
        .map_err(|e| {
            StoreError::Service(format!(
                "{} and {} do not make a certificate and its key: {e}",
                files.cert.display(),
                files.key.display()
            ))
        })?;
    Ok(Arc::new(config))
}

/// The subject's common name of a certificate (DER), if it has one that is text.
pub fn common_name(cert: &[u8]) -> Option<String> {
    use x509_cert::der::Decode as _;
    let cert = x509_cert::Certificate::from_der(cert).ok()?;
    // id-at-commonName, 2.5.4.3.
    let cn = x509_cert::der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");
    for rdn in cert.tbs_certificate.subject.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid == cn {
                let value = &atv.value;
                if let Ok(s) = value.decode_as::<x509_cert::der::asn1::Utf8StringRef<'_>>() {
                    return Some(s.as_str().to_string());
                }
                if let Ok(s) = value.decode_as::<x509_cert::der::asn1::PrintableStringRef<'_>>() {
                    return Some(s.as_str().to_string());
                }
                return None;
            }
        }
    }
    None
}

/// Completes the server side of a handshake on `tcp` within
/// [`HANDSHAKE_LIMIT`]: the connection and the client certificate's common
/// name (the store user).
pub fn accept(
    config: Arc<rustls::ServerConfig>,
    tcp: &mut TcpStream,
) -> Result<(rustls::ServerConnection, String)> {
    let mut conn =
        rustls::ServerConnection::new(config).map_err(|e| tls_err("a TLS connection", e))?;
    handshake(&mut conn, tcp)?;
    let name = conn
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|c| common_name(c.as_ref()))
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            StoreError::Service(
                "the client certificate names no store user (no subject common name)".into(),
            )
        })?;
    Ok((conn, name))
}

fn handshake<D>(conn: &mut rustls::ConnectionCommon<D>, tcp: &mut TcpStream) -> Result<()> {
    let start = Instant::now();
    let io = |e: io::Error| StoreError::Service(format!("TLS handshake: {e}"));
    while conn.is_handshaking() {
        let left = HANDSHAKE_LIMIT
            .checked_sub(start.elapsed())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| StoreError::Service("TLS handshake: too slow".into()))?;
        tcp.set_read_timeout(Some(left)).map_err(io)?;
        tcp.set_write_timeout(Some(left)).map_err(io)?;
        conn.complete_io(tcp).map_err(io)?;
    }
    // Alerts and the last flight of the handshake, written now.
    while conn.wants_write() {
        conn.write_tls(tcp).map_err(io)?;
    }
    Ok(())
}

/// Connects to `addr` (`HOST:PORT`) over TLS, presenting the client's
/// certificate, and returns the plaintext end of a socket pair that carries
/// the connection (a thread moves the bytes), for a caller that needs a
/// socket (one it polls, say). [`connect_remote`] speaks TLS in the caller's
/// own thread instead, with no thread and no socket pair between.
pub fn connect(addr: &str, files: &ClientFiles) -> Result<UnixStream> {
    let (conn, tcp) = open(addr, files)?;
    let (ours, theirs) = UnixStream::pair().map_err(|e| StoreError::Service(e.to_string()))?;
    std::thread::Builder::new()
        .name("tls-client".into())
        .spawn(move || pump(rustls::Connection::Client(conn), tcp, theirs))
        .map_err(|e| StoreError::Service(format!("cannot start the TLS thread: {e}")))?;
    Ok(ours)
}

/// Connects to `addr` (`HOST:PORT`) over TLS, presenting the client's
/// certificate, and speaks the protocol over it: the service's client, as
/// [`crate::client::Remote::connect`] is for the socket.
pub fn connect_remote(addr: &str, files: &ClientFiles) -> Result<crate::client::Remote> {
    crate::client::Remote::over_transport(Box::new(connect_stream(addr, files)?))
}

/// Connects to `addr` (`HOST:PORT`) over TLS, presenting the client's
/// certificate: the TLS stream, past the handshake, with the service's
/// greeting next to read. For a client that drives its own reads and writes
/// (an event loop); [`connect_remote`] speaks the protocol over it.
pub fn connect_stream(
    addr: &str,
    files: &ClientFiles,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>> {
    let (conn, tcp) = open(addr, files)?;
    let _ = tcp.set_write_timeout(Some(Duration::from_secs(30)));
    Ok(rustls::StreamOwned::new(conn, tcp))
}

impl crate::client::Transport for rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }
}

/// The TCP connection, the handshake, and the service's first words.
fn open(addr: &str, files: &ClientFiles) -> Result<(rustls::ClientConnection, TcpStream)> {
    let config = client_config(files)?;
    let host = match addr.rsplit_once(':') {
        Some((h, _)) => h.trim_start_matches('[').trim_end_matches(']'),
        None => {
            return Err(StoreError::Service(format!(
                "{addr}: give HOST:PORT (the service's --listen address)"
            )));
        }
    };
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| StoreError::Service(format!("{host} is not a host name or address: {e}")))?;
    let mut tcp = TcpStream::connect(addr)
        .map_err(|e| StoreError::Service(format!("cannot connect to {addr}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let mut conn =
        rustls::ClientConnection::new(config, name).map_err(|e| tls_err("a TLS connection", e))?;
    handshake(&mut conn, &mut tcp).map_err(|e| StoreError::Service(format!("{addr}: {e}")))?;
    // In TLS 1.3 the client's handshake ends before the service has judged
    // its certificate: the service's refusal (an alert) or its greeting is
    // the first thing that comes. Waiting for it here turns a refused
    // certificate into a clear message rather than a closed connection.
    first_words(&mut conn, &mut tcp).map_err(|e| StoreError::Service(format!("{addr}: {e}")))?;
    Ok((conn, tcp))
}

/// Reads until the service's first plaintext arrives, or its refusal.
fn first_words(conn: &mut rustls::ClientConnection, tcp: &mut TcpStream) -> Result<()> {
    let start = Instant::now();
    loop {
        let left = HANDSHAKE_LIMIT
            .checked_sub(start.elapsed())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                StoreError::Service("TLS handshake: no greeting from the service".into())
            })?;
        tcp.set_read_timeout(Some(left))
            .map_err(|e| StoreError::Service(format!("TLS handshake: {e}")))?;
        match conn.read_tls(tcp) {
            Ok(0) => {
                return Err(StoreError::Service(
                    "TLS handshake: the service closed the connection".into(),
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StoreError::Service(format!("TLS handshake: {e}"))),
        }
        let state = conn.process_new_packets().map_err(|e| {
            StoreError::Service(format!(
                "TLS handshake: the service refused this client: {e} (is the certificate of the service's client CA, valid today and not revoked?)"
            ))
        })?;
        if state.plaintext_bytes_to_read() > 0 {
            return Ok(());
        }
    }
}

/// Moves bytes between a TLS connection on `tcp` and the plaintext socket
/// `plain` until either side closes or fails; then closes both.
pub fn pump(mut conn: rustls::Connection, mut tcp: TcpStream, mut plain: UnixStream) {
    use rustix::event::{PollFd, PollFlags, poll};
    let _ = tcp.set_read_timeout(None);
    // A peer that stops reading must not stall this thread for ever.
    let _ = tcp.set_write_timeout(Some(Duration::from_secs(30)));
    let _ = plain.set_write_timeout(Some(Duration::from_secs(30)));
    let _ = tcp.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    // Plaintext that arrived with the handshake is passed on first.
    loop {
        match conn.reader().read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if plain.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(_) => break,
        }
    }
    'outer: loop {
        let (tcp_ready, plain_ready) = {
            let mut fds = [
                PollFd::new(&tcp, PollFlags::IN),
                PollFd::new(&plain, PollFlags::IN),
            ];
            match poll(&mut fds, None) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => break,
            }
            let gone = PollFlags::IN | PollFlags::HUP | PollFlags::ERR;
            (
                fds[0].revents().intersects(gone),
                fds[1].revents().intersects(gone),
            )
        };
        if tcp_ready {
            match conn.read_tls(&mut tcp) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
            if conn.process_new_packets().is_err() {
                // The alert that says why, if it can be sent.
                let _ = conn.write_tls(&mut tcp);
                break;
            }
            loop {
                match conn.reader().read(&mut buf) {
                    Ok(0) => break 'outer,
                    Ok(n) => {
                        if plain.write_all(&buf[..n]).is_err() {
                            break 'outer;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => break 'outer,
                }
            }
        }
        if plain_ready {
            match plain.read(&mut buf) {
                Ok(0) | Err(_) => {
                    conn.send_close_notify();
                    let _ = flush(&mut conn, &mut tcp);
                    break;
                }
                Ok(n) => {
                    if conn.writer().write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        if flush(&mut conn, &mut tcp).is_err() {
            break;
        }
    }
    let _ = tcp.shutdown(std::net::Shutdown::Both);
    let _ = plain.shutdown(std::net::Shutdown::Both);
}

fn flush(conn: &mut rustls::Connection, tcp: &mut TcpStream) -> io::Result<()> {
    while conn.wants_write() {
        conn.write_tls(tcp)?;
    }
    Ok(())
}
