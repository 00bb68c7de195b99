//! The simulator's request parsing, end to end: each input becomes one HTTP request sent over
//! loopback to an in-process `b2-sim` (hyper's parsing, routing, authorization headers, JSON
//! bodies, file-name and info headers, ranges, test-mode headers, upload bodies). Any panic in
//! the simulator aborts the process (a crash for libFuzzer); so does a request it never
//! answers.
//!
//! Input layout: byte 0 picks a path (255: the rest is sent as raw bytes, unframed), byte 1
//! holds flags (bit 0: send a valid account token; bits 1–2: GET, POST, HEAD or the upload
//! URL's token; bit 3: a correct `Content-Length`), then extra header lines and the body,
//! separated by the first `0xFF` byte. For paths that end in a file name (`/file/...`) and the
//! empty path, the first line of the header block is the rest of the path. In the body, `@B`
//! stands for the bucket's id and `@A` for the account's, so that bodies can name them.
#![no_main]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

struct Ctx {
    _sim: b2_sim::Sim,
    addr: String,
    token: String,
    upload_path: String,
    upload_token: String,
    bucket_id: String,
    account: String,
}

const PATHS: &[&str] = &[
    "/b2api/v4/b2_authorize_account",
    "/b2api/v1/b2_authorize_account",
    "/b2api/v4/b2_create_bucket",
    "/b2api/v4/b2_list_buckets",
    "/b2api/v4/b2_update_bucket",
    "/b2api/v4/b2_delete_bucket",
    "/b2api/v4/b2_get_upload_url",
    "/b2api/v4/b2_start_large_file",
    "/b2api/v4/b2_get_upload_part_url",
    "/b2api/v4/b2_finish_large_file",
    "/b2api/v4/b2_cancel_large_file",
    "/b2api/v4/b2_list_parts",
    "/b2api/v4/b2_list_unfinished_large_files",
    "/b2api/v4/b2_list_file_names",
    "/b2api/v4/b2_list_file_versions",
    "/b2api/v4/b2_get_file_info",
    "/b2api/v4/b2_hide_file",
    "/b2api/v4/b2_delete_file_version",
    "/b2api/v4/b2_download_file_by_id",
    "/b2api/v4/b2_get_download_authorization",
    "/b2api/v4/b2_copy_file",
    "/b2api/v4/b2_copy_part",
    "/b2api/v4/b2_create_key",
    "/b2api/v4/b2_list_keys",
    "/b2api/v4/b2_delete_key",
    "/b2api/v2/b2_list_file_names",
    "/b2api/v3/b2_upload_file",
    "/file/fuzz-bucket/",
    "/_sim/stats",
    "",
];

/// One request and its whole answer (`Connection: close`, write side shut after the body).
fn exchange(addr: &str, request: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("the simulator stopped accepting");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // The server may answer (and close) before reading everything: that is fine.
    let _ = s.write_all(request);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e)
            if e.kind() == std::io::ErrorKind::WouldBlock
                || e.kind() == std::io::ErrorKind::TimedOut =>
        {
            panic!("the simulator did not answer within 10 s")
        }
        Err(_) => {} // reset: allowed (e.g. a body the server refused to read)
    }
    out
}

/// A JSON answer's string field (setup only).
fn field(answer: &[u8], name: &str) -> String {
    let body = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| &answer[i + 4..])
        .expect("answer body");
    let v: serde_json::Value = serde_json::from_slice(body).expect("json answer");
    v[name].as_str().expect(name).to_string()
}

fn post(addr: &str, path: &str, token: &str, body: &str) -> Vec<u8> {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    exchange(addr, req.as_bytes())
}

/// `hay` with every `from` replaced by `to`.
fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

fn ctx() -> &'static Ctx {
    static CTX: OnceLock<Ctx> = OnceLock::new();
    CTX.get_or_init(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            default(info);
            std::process::abort();
        }));
        let sim = b2_sim::Sim::builder().min_part_size(10).start().expect("sim");
        let addr = sim.addr().to_string();
        let (id, key) = sim.master_key();
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{key}"));
        let auth = exchange(
            &addr,
            format!("GET /b2api/v4/b2_authorize_account HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {basic}\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        let token = field(&auth, "authorizationToken");
        let account = field(&auth, "accountId");
        let bucket = post(
            &addr,
            "/b2api/v4/b2_create_bucket",
            &token,
            &format!(r#"{{"accountId":"{account}","bucketName":"fuzz-bucket","bucketType":"allPublic"}}"#),
        );
        let bucket_id = field(&bucket, "bucketId");
        let up = post(
            &addr,
            "/b2api/v4/b2_get_upload_url",
            &token,
            &format!(r#"{{"bucketId":"{bucket_id}"}}"#),
        );
        let url = field(&up, "uploadUrl");
        let upload_path = url
            .strip_prefix("http://")
            .and_then(|r| r.find('/').map(|i| r[i..].to_string()))
            .expect("upload path");
        let upload_token = field(&up, "authorizationToken");
        Ctx {
            _sim: sim,
            addr,
            token,
            upload_path,
            upload_token,
            bucket_id,
            account,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let c = ctx();
    let (Some(&pick), Some(&flags)) = (data.first(), data.get(1)) else {
        return;
    };
    let rest = &data[2..];
    if pick == 255 {
        exchange(&c.addr, rest);
        return;
    }
    let (mut extra, body) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let mut path = PATHS[usize::from(pick) % PATHS.len()].to_string();
    let (method, token) = match (flags >> 1) & 3 {
        0 => ("GET", c.token.as_str()),
        1 => ("POST", c.token.as_str()),
        2 => ("HEAD", c.token.as_str()),
        _ => {
            path = c.upload_path.clone();
            ("POST", c.upload_token.as_str())
        }
    };
    if path.starts_with("/file/") || path.is_empty() {
        // The header block's first line doubles as the rest of the path.
        let end = extra
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(extra.len());
        path.push_str(&String::from_utf8_lossy(&extra[..end]));
        extra = extra.get(end + 1..).unwrap_or_default();
    }
    let body = replace(
        &replace(body, b"@B", c.bucket_id.as_bytes()),
        b"@A",
        c.account.as_bytes(),
    );
    let mut req = Vec::new();
    req.extend_from_slice(format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", c.addr).as_bytes());
    if flags & 1 != 0 {
        req.extend_from_slice(format!("Authorization: {token}\r\n").as_bytes());
    }
    if flags & 8 != 0 {
        req.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    req.extend_from_slice(extra);
    if !extra.is_empty() && !extra.ends_with(b"\n") {
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"Connection: close\r\n\r\n");
    req.extend_from_slice(&body);
    let answer = exchange(&c.addr, &req);
    // Every request that reached the server gets an answer (a reset is allowed only where the
    // server refuses to read a body, and then it must have said why first).
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 "),
        "not an HTTP answer: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(200)])
    );
});
