//! Size probe: authorizes, streams an SSE-C large-file upload with a retention, creates a
//! key (expiry, several buckets, name prefix), gets a download authorization with a
//! `b2ContentDisposition` override and writes its share URL, and updates a file's retention
//! and legal hold, all through a dummy transport with stack buffers, so that the linker keeps
//! every code path a device needs for those jobs. Built for `thumbv7em-none-eabihf` with
//! `opt-level = "z"`, LTO and `panic = "abort"`; `measure.sh` prints the `.text` size.
#![no_std]
#![no_main]

use core::fmt::Write as _;
use core::hint::black_box;

use b2_core::driver::{run, Clock, Transport};
use b2_core::http::TransportError;
use b2_core::op::{Authorize, Call, Exchange, FileParams, LargeUpload, Source};
use b2_core::session::{Credentials, Session};
use b2_core::wire::auth::GetDownloadAuthorization;
use b2_core::wire::encryption::{CustomerKey, Encryption};
use b2_core::wire::key::CreateKey;
use b2_core::wire::lock::{
    LegalHold, Retention, RetentionMode, UpdateFileLegalHold, UpdateFileRetention,
};
use b2_core::wire::share::{share_url, ContentOverrides};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// Generated data, re-readable at any offset.
struct Sensor(u64);

impl Source for Sensor {
    fn read_at(
        &mut self,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, b2_core::op::source::ErrorKind> {
        let n = self.0.saturating_sub(offset).min(buf.len() as u64) as usize;
        for (i, b) in buf.iter_mut().take(n).enumerate() {
            *b = (offset as usize + i) as u8;
        }
        Ok(n)
    }
}

/// Answers every request with a plausible B2 answer (no network).
struct Dummy {
    tail: [u8; 40],
    body: heapless::String<512>,
}

impl Transport for Dummy {
    fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
        let (kind, part, len) = {
            let r = ex.request().map_err(|_| TransportError::Aborted)?;
            let kind = if r.url.ends_with("b2_authorize_account") {
                0
            } else if r.url.ends_with("b2_start_large_file") {
                1
            } else if r.url.ends_with("b2_get_upload_part_url") {
                2
            } else if r.url.ends_with("b2_finish_large_file") {
                4
            } else if r.url.ends_with("b2_create_key") {
                5
            } else if r.url.ends_with("b2_get_download_authorization") {
                6
            } else if r.url.ends_with("b2_update_file_retention") {
                7
            } else if r.url.ends_with("b2_update_file_legal_hold") {
                8
            } else {
                3
            };
            let part: u32 = r
                .header("X-Bz-Part-Number")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            (kind, part, r.content_length.unwrap_or(0))
        };
        let mut chunk = [0u8; 512];
        loop {
            let n = ex.body(&mut chunk).map_err(|_| TransportError::Aborted)?;
            if n == 0 {
                break;
            }
            for &b in &chunk[..n] {
                self.tail.copy_within(1.., 0);
                self.tail[39] = b;
            }
        }
        self.body.clear();
        let sha = core::str::from_utf8(&self.tail).unwrap_or("");
        let _ = match kind {
            0 => write!(self.body, "{{\"accountId\":\"a\",\"authorizationToken\":\"t\",\"apiInfo\":{{\"storageApi\":{{\"apiUrl\":\"http://h\",\"downloadUrl\":\"http://h\",\"absoluteMinimumPartSize\":5000000,\"recommendedPartSize\":100000000,\"allowed\":{{\"buckets\":null,\"capabilities\":[],\"namePrefix\":null}}}}}}}}"),
            1 | 4 => write!(self.body, "{{\"action\":\"{}\",\"fileId\":\"f\",\"fileName\":\"n\",\"contentLength\":0}}", if kind == 1 { "start" } else { "upload" }),
            2 => write!(self.body, "{{\"fileId\":\"f\",\"uploadUrl\":\"http://u\",\"authorizationToken\":\"u\"}}"),
            5 => write!(self.body, "{{\"accountId\":\"a\",\"applicationKeyId\":\"k\",\"applicationKey\":\"K\",\"capabilities\":[\"readFiles\",\"bypassGovernance\"],\"keyName\":\"dev\",\"bucketIds\":[\"b1\",\"b2\"],\"namePrefix\":\"dev/\",\"expirationTimestamp\":1800000000000,\"options\":[\"s3\"]}}"),
            6 => write!(self.body, "{{\"bucketId\":\"b1\",\"fileNamePrefix\":\"logs/\",\"authorizationToken\":\"3_dl\"}}"),
            7 => write!(self.body, "{{\"fileId\":\"f\",\"fileName\":\"n\",\"fileRetention\":{{\"mode\":\"governance\",\"retainUntilTimestamp\":1900000000000}}}}"),
            8 => write!(self.body, "{{\"fileId\":\"f\",\"fileName\":\"n\",\"legalHold\":\"on\"}}"),
            _ => write!(self.body, "{{\"fileId\":\"f\",\"partNumber\":{part},\"contentLength\":{},\"contentSha1\":\"{sha}\"}}", len.saturating_sub(40)),
        };
        let cl: heapless::String<12> = {
            let mut s = heapless::String::new();
            let _ = write!(s, "{}", self.body.len());
            s
        };
        let headers: &[(&str, &str)] = &[("Content-Length", cl.as_str())];
        ex.response(200, &headers)
            .map_err(|_| TransportError::Aborted)?;
        ex.response_body(self.body.as_bytes())
            .map_err(|_| TransportError::Aborted)?;
        ex.response_end().map_err(|_| TransportError::Aborted)
    }
}

struct Tick(u64);

impl Clock for Tick {
    fn now_ms(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
    fn sleep_until_ms(&mut self, until_ms: u64) {
        self.0 = until_ms;
    }
}

/// Entry point.
#[no_mangle]
pub extern "C" fn _start() -> ! {
    let creds = Credentials::new(
        black_box("key-id"),
        black_box("key"),
        black_box("http://realm"),
    );
    let Ok(creds) = creds else { loop {} };
    let mut session = Session::new(creds);
    let mut buf = [0u8; 4096];
    let mut t = Dummy {
        tail: [b'0'; 40],
        body: heapless::String::new(),
    };
    let mut clock = Tick(0);
    let ok = run(
        &mut Authorize::new(&mut session, &mut buf),
        &mut t,
        &mut clock,
    )
    .is_ok();
    let size = black_box(20_000_000u64);
    let mut digests = [[0u8; 20]; 8];
    // SSE-C with the key's MD5 computed on the device, and a governance retention: the
    // encryption and Object Lock code paths are in the measured image.
    let key = CustomerKey::new(black_box([0x5a; 32]));
    let mut params = FileParams::new(black_box("bucket"), black_box("nas/file.bin"), size);
    params.encryption = black_box(Some(Encryption::SseC(&key)));
    params.retention = black_box(Some(Retention {
        mode: RetentionMode::Governance,
        retain_until_ms: 1_900_000_000_000,
    }));
    if let Ok(mut op) = LargeUpload::new(
        &mut session,
        &mut buf,
        params,
        5_000_000,
        Sensor(size),
        &mut digests,
    ) {
        black_box(ok && run(&mut op, &mut t, &mut clock).is_ok());
    }
    keys_sharing_and_lock(&mut session, &mut buf, &mut t, &mut clock);
    loop {}
}

/// Items 4, 6 and 2 of the feature list the way a device runs them: `Call` over the same
/// session and stack buffer, answers read in place, the share URL written into a stack buffer.
#[inline(never)]
fn keys_sharing_and_lock(session: &mut Session, buf: &mut [u8], t: &mut Dummy, clock: &mut Tick) {
    // A key that expires, for two buckets and a name prefix; capabilities are plain names.
    let caps: &[&str] = black_box(&["readFiles", "writeFiles", "bypassGovernance"]);
    let buckets: &[&str] = black_box(&["b1", "b2"]);
    let mut op = Call::new(
        session,
        buf,
        CreateKey {
            capabilities: caps,
            key_name: black_box("dev"),
            valid_duration_in_seconds: black_box(Some(86_400)),
            bucket_ids: Some(buckets),
            name_prefix: black_box(Some("dev/")),
        },
    );
    if run(&mut op, t, clock).is_ok() {
        if let Ok(k) = op.answer() {
            black_box((k.application_key_id.raw(), k.expiration_timestamp));
            black_box(k.bucket_ids.map(|i| i.count()));
        }
    }
    // A download authorization pinning `Content-Disposition`, then its share URL.
    let overrides = ContentOverrides {
        content_disposition: black_box(Some("attachment; filename=\"log.csv\"")),
        ..ContentOverrides::default()
    };
    let mut op = Call::new(
        session,
        buf,
        GetDownloadAuthorization {
            bucket_id: black_box("b1"),
            file_name_prefix: black_box("logs/"),
            valid_duration_in_seconds: black_box(3600),
            overrides,
        },
    );
    let mut url = [0u8; 384];
    if run(&mut op, t, clock).is_ok() {
        if let Ok(token) = op.answer().map(|a| a.authorization_token.as_str()) {
            let n = share_url(
                &mut url,
                black_box("http://h"),
                black_box("bucket"),
                black_box("logs/day 1.csv"),
                token.unwrap_or(""),
                &overrides,
            );
            let _ = black_box((n, &url));
        }
    }
    // Object Lock on an existing version: extend the retention, then set a legal hold.
    let mut op = Call::new(
        session,
        buf,
        UpdateFileRetention {
            file_name: black_box("n"),
            file_id: black_box("f"),
            retention: black_box(Some(Retention {
                mode: RetentionMode::Governance,
                retain_until_ms: 1_900_000_000_000,
            })),
            bypass_governance: black_box(false),
        },
    );
    if run(&mut op, t, clock).is_ok() {
        let _ = black_box(op.answer().map(|a| a.retention));
    }
    let mut op = Call::new(
        session,
        buf,
        UpdateFileLegalHold {
            file_name: black_box("n"),
            file_id: black_box("f"),
            legal_hold: black_box(LegalHold::On),
        },
    );
    if run(&mut op, t, clock).is_ok() {
        let _ = black_box(op.answer().map(|a| a.legal_hold));
    }
}
