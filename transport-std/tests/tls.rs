//! TLS: the client refuses a server whose certificate it does not trust, and accepts it
//! when that CA is configured.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use b2_transport_std::client::Client;
use b2_transport_std::TransportConfig;

/// A one-purpose HTTPS server on loopback answering `b2_authorize_account`.
fn serve(cert_pem: String, key_pem: String) -> (u16, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let certs: Vec<_> = rustls_pemfile(&cert_pem);
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        pem_body(&key_pem),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("cert");
    let config = Arc::new(config);
    let handle = std::thread::spawn(move || {
        let mut served = 0;
        // Two connections at most: the refused one and the trusted one.
        for stream in listener.incoming().take(2) {
            let Ok(tcp) = stream else { continue };
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut req = Vec::new();
            let mut byte = [0u8; 1];
            while !req.ends_with(b"\r\n\r\n") {
                match tls.read(&mut byte) {
                    Ok(1) => req.push(byte[0]),
                    _ => break,
                }
            }
            if !req.ends_with(b"\r\n\r\n") {
                continue; // handshake refused by the client
            }
            let url = format!("https://127.0.0.1:{port}");
            let body = format!(
                r#"{{"accountId":"acct","authorizationToken":"tok","apiInfo":{{"storageApi":{{"apiUrl":"{url}","downloadUrl":"{url}","absoluteMinimumPartSize":5000000,"recommendedPartSize":100000000,"allowed":{{"buckets":null,"capabilities":["listBuckets"],"namePrefix":null}}}}}}}}"#
            );
            let resp = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let _ = tls.write_all(resp.as_bytes());
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
            served += 1;
        }
        served
    });
    (port, handle)
}

fn pem_body(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64_decode(&b64)
}

fn rustls_pemfile(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    vec![rustls::pki_types::CertificateDer::from(pem_body(pem))]
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            _ => 63,
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c) << (18 - 6 * i);
        }
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    out
}

#[test]
fn untrusted_certificate_is_refused_and_configured_ca_is_accepted() {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("cert");
    let cert_pem = cert.cert.pem();
    let key_pem = cert.key_pair.serialize_pem();
    let (port, server) = serve(cert_pem.clone(), key_pem);
    let realm = format!("https://127.0.0.1:{port}");

    let refused = Client::with_transport("id", "key", &realm, &TransportConfig::default());
    let err = refused.expect_err("self-signed certificate must be refused");
    let msg = err.to_string();
    assert!(msg.contains("TLS"), "{msg}");

    let cfg = TransportConfig {
        root_certs_pem: Some(cert_pem.into_bytes()),
        ..TransportConfig::default()
    };
    let client =
        Client::with_transport("id", "key", &realm, &cfg).expect("trusted with the CA configured");
    assert_eq!(client.account_id(), "acct");
    assert_eq!(server.join().expect("server"), 1);
}
