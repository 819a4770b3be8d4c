//! Products on other hosts: `tessera serve --listen` over mutual TLS on
//! loopback. A client certificate of the client CA acts as the store user
//! its common name names, with that user's roles; no certificate, another
//! CA's, an expired or a revoked one is refused during the handshake.

use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams,
    SerialNumber, date_time_ymd,
};
use serde_json::Value;

use crate::serve::Service;
use crate::util::{Dir, stderr, stdout};

/// A certificate authority: its certificate and key.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn make_ca(name: &str) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().expect("a key");
    let cert = p.self_signed(&key).expect("self-signed");
    Ca { cert, key }
}

/// A certificate signed by `ca` for `cn`, written as `NAME.pem` and `NAME.key`.
fn issue(d: &Dir, ca: &Ca, name: &str, cn: &str, serial: u8, server: bool, expired: bool) {
    let sans = if server {
        vec!["localhost".to_string(), "127.0.0.1".to_string()]
    } else {
        Vec::new()
    };
    let mut p = CertificateParams::new(sans).expect("params");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.serial_number = Some(SerialNumber::from(vec![serial]));
    p.extended_key_usages = vec![if server {
        ExtendedKeyUsagePurpose::ServerAuth
    } else {
        ExtendedKeyUsagePurpose::ClientAuth
    }];
    if expired {
        p.not_before = date_time_ymd(2020, 1, 1);
        p.not_after = date_time_ymd(2021, 1, 1);
    } else {
        p.not_before = date_time_ymd(2025, 1, 1);
        p.not_after = date_time_ymd(2099, 1, 1);
    }
    let key = KeyPair::generate().expect("a key");
    let cert = p.signed_by(&key, &ca.cert, &ca.key).expect("signed");
    d.write(&format!("{name}.pem"), cert.pem());
    d.write(&format!("{name}.key"), key.serialize_pem());
}

/// A free port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("an address")
        .port()
}

/// A site with an engineer `tcarter`; a CA, the service's certificate, and
/// client certificates: `owner` (the login user, the store's Owner/manager),
/// `eng` (tcarter), `stranger` (another CA's), `old` (expired), `revoked`
/// (listed in `ca.crl`). The service listens on loopback with them.
pub(crate) fn setup() -> (Dir, Service, String) {
    let d = Dir::new();
    d.site();
    d.st(&[
        "users",
        "add",
        "tcarter",
        "--role",
        "engineer",
        "--licence",
        "Jobs User",
        "--term",
        "monthly",
    ])
    .assert()
    .success();
    let ca = make_ca("Site client CA");
    d.write("ca.pem", ca.cert.pem());
    issue(&d, &ca, "server", "tessera.example", 1, true, false);
    let owner = store::identity::login_name();
    issue(&d, &ca, "owner", &owner, 2, false, false);
    issue(&d, &ca, "eng", "tcarter", 3, false, false);
    issue(&d, &ca, "old", "tcarter", 4, false, true);
    issue(&d, &ca, "revoked", "tcarter", 5, false, false);
    let other = make_ca("Someone else's CA");
    issue(&d, &other, "stranger", &owner, 6, false, false);
    let crl = CertificateRevocationListParams {
        this_update: date_time_ymd(2025, 6, 1),
        next_update: date_time_ymd(2099, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from(vec![5u8]),
            revocation_time: date_time_ymd(2025, 6, 1),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca.cert, &ca.key)
    .expect("a CRL");
    d.write("ca.crl", crl.pem().expect("PEM"));
    let addr = format!("127.0.0.1:{}", free_port());
    let service = listen(&d, &addr);
    (d, service, addr)
}

/// Starts the service of [`setup`] in `d`, listening on `addr` with its
/// certificates (again, after it stopped: a restart).
pub(crate) fn listen(d: &Dir, addr: &str) -> Service {
    Service::start_with_args(
        d,
        &[
            "--listen",
            addr,
            "--tls-cert",
            "server.pem",
            "--tls-key",
            "server.key",
            "--client-ca",
            "ca.pem",
            "--client-crl",
            "ca.crl",
        ],
    )
}

/// `tessera --connect ADDR --tls-cert NAME.pem --tls-key NAME.key --tls-ca ca.pem ARGS…`.
fn remote(d: &Dir, addr: &str, name: &str, args: &[&str]) -> std::process::Output {
    let (cert, key) = (format!("{name}.pem"), format!("{name}.key"));
    let mut all = vec![
        "--connect",
        addr,
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
        "--tls-ca",
        "ca.pem",
    ];
    all.extend_from_slice(args);
    d.run(&all)
}

#[test]
fn a_client_certificate_acts_as_the_store_user_it_names() {
    let (d, service, addr) = setup();
    // The Owner/manager, from another host: the status, as over the socket.
    let out = remote(&d, &addr, "owner", &["status", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(s["serial"], "NW-000123");
    // The engineer: may ask about themselves, not see the status.
    let out = remote(&d, &addr, "eng", &["check", "tcarter", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let c: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(c["answered_by"], "service");
    assert_eq!(c["allowed"], true);
    let out = remote(&d, &addr, "eng", &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("tcarter"), "{}", stderr(&out));
    // A change made remotely is the store's: a user added by the owner.
    let out = remote(
        &d,
        &addr,
        "owner",
        &["users", "add", "remote1", "--role", "engineer"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    drop(service);
    let out = d.st(&["users", "list", "--json"]).output().expect("run");
    assert!(stdout(&out).contains("remote1"), "{}", stdout(&out));
}

#[test]
fn a_client_without_the_right_certificate_is_refused_in_the_handshake() {
    let (d, service, addr) = setup();
    for (name, why) in [
        ("stranger", "another CA"),
        ("old", "expired"),
        ("revoked", "revoked"),
    ] {
        let out = remote(&d, &addr, name, &["check", "tcarter", "--json"]);
        assert_ne!(out.status.code(), Some(0), "{why}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains("cannot reach the service"), "{why}: {err}");
        assert!(
            err.to_lowercase().contains("handshake") || err.contains("alert"),
            "{why}: {err}"
        );
        assert!(!stdout(&out).contains("\"allowed\": true"), "{why}");
    }
    // No certificate at all: a TLS client that offers none.
    let mut roots = rustls::RootCertStore::empty();
    let ca_pem = d.read("ca.pem");
    let der = rustls::pki_types::pem::PemObject::from_pem_slice(ca_pem.as_bytes())
        .map(|c: rustls::pki_types::CertificateDer<'static>| c)
        .expect("the CA");
    roots.add(der).expect("a root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().expect("a name"))
            .expect("a connection");
    let mut tcp = TcpStream::connect(&addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut refused = false;
    for _ in 0..20 {
        if conn.complete_io(&mut tcp).is_err() {
            refused = true;
            break;
        }
        if !conn.is_handshaking() {
            // TLS 1.3: the client finishes first; the server's refusal comes
            // as the first thing read after it.
            let mut buf = [0u8; 64];
            refused = std::io::Read::read(&mut conn.reader(), &mut buf).is_err()
                || conn.complete_io(&mut tcp).is_err();
            break;
        }
    }
    assert!(refused, "a client without a certificate got through");
    // The service is unharmed: the owner still gets an answer.
    let out = remote(&d, &addr, "owner", &["check", "tcarter"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        service.log_text().contains("refused TLS client"),
        "{}",
        service.log_text()
    );
}

#[test]
fn listen_without_its_files_is_a_usage_error_and_plain_tcp_is_never_offered() {
    let d = Dir::new();
    d.site();
    let out = d
        .st(&["serve", "--listen", "127.0.0.1:1"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = d.run(&["--connect", "127.0.0.1:1", "status"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
