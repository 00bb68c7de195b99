//! Prints the memory budget of b2-core's operations: `size_of` of each operation and the
//! smallest caller buffer each needs, then streams a 1 GiB generated source as a large
//! file through an in-memory transport with a 4 KiB buffer to show that the budget holds.
//!
//! Run: `cargo run --release -p b2-bench --bin core-footprint`

use std::mem::size_of;
use std::time::Instant;

use b2_core::driver::{run, Clock, Transport};
use b2_core::http::TransportError;
use b2_core::op::large::Checkpoint;
use b2_core::op::{
    Authorize, Call, Download, Exchange, FileParams, LargeFile, LargeUpload, List, Source,
    UploadFile, UploadPart,
};
use b2_core::session::{Credentials, Session};
use b2_core::wire::file::GetFileInfo;
use sha1::{Digest, Sha1};

struct Gen(u64);

impl Source for Gen {
    fn read_at(
        &mut self,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, b2_core::op::source::ErrorKind> {
        let n = self.0.saturating_sub(offset).min(buf.len() as u64) as usize;
        for (i, b) in buf.iter_mut().take(n).enumerate() {
            *b = (((offset + i as u64) * 2_654_435_761) >> 13) as u8;
        }
        Ok(n)
    }
}

struct NullSink;
impl b2_core::embedded_io::ErrorType for NullSink {
    type Error = b2_core::embedded_io::ErrorKind;
}
impl b2_core::embedded_io::Write for NullSink {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Answers like B2 would, verifying each part's SHA-1 trailer against the bytes received.
#[derive(Default)]
struct Loop {
    hasher: Option<Sha1>,
    tail: Vec<u8>,
    bytes: u64,
}

impl Transport for Loop {
    fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
        let (url, part, len) = {
            let r = ex.request().map_err(|_| TransportError::Aborted)?;
            let part: u32 = r
                .header("X-Bz-Part-Number")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            (r.url.to_string(), part, r.content_length.unwrap_or(0))
        };
        let mut h = Sha1::new();
        let mut got = 0u64;
        let mut chunk = vec![0u8; 64 * 1024];
        self.tail.clear();
        loop {
            let n = ex.body(&mut chunk).map_err(|_| TransportError::Aborted)?;
            if n == 0 {
                break;
            }
            let content_end = len.saturating_sub(40);
            let hash_n = content_end.saturating_sub(got).min(n as u64) as usize;
            h.update(&chunk[..hash_n]);
            self.tail.extend_from_slice(&chunk[hash_n..n]);
            got += n as u64;
        }
        self.bytes += got;
        self.hasher = None;
        let body = if url.ends_with("b2_authorize_account") {
            r#"{"accountId":"a","authorizationToken":"t","apiInfo":{"storageApi":{"apiUrl":"http://h","downloadUrl":"http://h","absoluteMinimumPartSize":5000000,"recommendedPartSize":100000000,"allowed":{"buckets":null,"capabilities":[],"namePrefix":null}}}}"#.to_string()
        } else if url.ends_with("b2_start_large_file") {
            r#"{"action":"start","fileId":"f","fileName":"n"}"#.to_string()
        } else if url.ends_with("b2_finish_large_file") {
            r#"{"action":"upload","fileId":"f","fileName":"n"}"#.to_string()
        } else if url.ends_with("b2_get_upload_part_url") {
            r#"{"fileId":"f","uploadUrl":"http://u","authorizationToken":"u"}"#.to_string()
        } else {
            let sha: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            if sha.as_bytes() != self.tail.as_slice() {
                return Err(TransportError::Receive);
            }
            format!(
                r#"{{"fileId":"f","partNumber":{part},"contentLength":{},"contentSha1":"{sha}"}}"#,
                len - 40
            )
        };
        let cl = body.len().to_string();
        let headers: &[(&str, &str)] = &[("Content-Length", &cl)];
        ex.response(200, &headers)
            .map_err(|_| TransportError::Aborted)?;
        ex.response_body(body.as_bytes())
            .map_err(|_| TransportError::Aborted)?;
        ex.response_end().map_err(|_| TransportError::Aborted)
    }
}

struct Wall(Instant);
impl Clock for Wall {
    fn now_ms(&mut self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
    fn sleep_until_ms(&mut self, _until_ms: u64) {}
}

fn main() {
    println!("b2-core memory budget (x86_64 host; 32-bit targets are smaller)");
    println!("{:<34} {:>7}", "item", "bytes");
    let rows: [(&str, usize); 10] = [
        ("Session", size_of::<Session>()),
        (
            "op::LargeFile (the coordinator)",
            size_of::<LargeFile<'_, '_>>(),
        ),
        ("op::Authorize", size_of::<Authorize<'_, '_>>()),
        (
            "op::Call<GetFileInfo>",
            size_of::<Call<'_, '_, GetFileInfo<'_>>>(),
        ),
        (
            "op::UploadFile<&[u8]>",
            size_of::<UploadFile<'_, '_, '_, &[u8]>>(),
        ),
        (
            "op::UploadPart<&[u8]>",
            size_of::<UploadPart<'_, '_, '_, &[u8]>>(),
        ),
        (
            "op::LargeUpload<&[u8]>",
            size_of::<LargeUpload<'_, '_, '_, '_, &[u8]>>(),
        ),
        (
            "op::Download<NullSink>",
            size_of::<Download<'_, '_, '_, NullSink>>(),
        ),
        ("op::List", size_of::<List<'_, '_, '_>>()),
        ("b2_core::Error", size_of::<b2_core::Error>()),
    ];
    for (name, n) in rows {
        println!("{name:<34} {n:>7}");
    }
    let state = size_of::<Session>() + size_of::<LargeUpload<'_, '_, '_, '_, &[u8]>>();
    println!(
        "Session + LargeUpload (coordinator inside): {state} bytes (budget 8192){}",
        if state <= 8192 { "" } else { "  OVER BUDGET" }
    );
    // A checkpoint: 38 bytes + the file id (83 bytes on B2) + 20 bytes a part.
    let id = "4_z27c88f1d182b150646ff0b16_f200ec6b8f7a2bd36_d20261201_m120000_c002_v0001094_t0001";
    for parts in [11u32, 164, 10_000] {
        println!(
            "checkpoint of {parts:>5} parts (B2-length file id): {:>7} bytes",
            Checkpoint::encoded_len(id, parts)
        );
    }

    // Smallest buffer for the large upload: try decreasing sizes.
    let mut min_ok = None;
    for buf_len in [4096usize, 2048, 1024, 768, 640, 512, 448, 384, 320, 256] {
        match stream(16 << 20, 5_000_000, buf_len) {
            Ok(_) => min_ok = Some(buf_len),
            Err(_) => break,
        }
    }
    println!(
        "smallest buffer that streams a 16 MiB large file (5 MB parts): {} bytes",
        min_ok.unwrap_or(0)
    );

    let size = 1u64 << 30;
    let t = Instant::now();
    match stream(size, 100_000_000, 4096) {
        Ok(bytes) => {
            let s = t.elapsed().as_secs_f64();
            println!(
                "1 GiB large upload, 4 KiB buffer, 100 MB parts: {bytes} bytes through the transport, \
                 {:.2} s ({:.0} MB/s, client SHA-1 + checking SHA-1 on one core)",
                s,
                size as f64 / s / 1e6
            );
        }
        Err(e) => {
            eprintln!("1 GiB stream failed: {e}");
            std::process::exit(1);
        }
    }
}

fn stream(size: u64, part: u64, buf_len: usize) -> Result<u64, Box<b2_core::Error>> {
    let creds = Credentials::new("id", "key", "http://realm").map_err(|e| Box::new(e.into()))?;
    let mut session = Session::new(creds);
    let mut buf = vec![0u8; buf_len];
    let mut t = Loop::default();
    let mut clock = Wall(Instant::now());
    run(
        &mut Authorize::new(&mut session, &mut buf),
        &mut t,
        &mut clock,
    )?;
    let mut digests = vec![[0u8; 20]; 16];
    let params = FileParams::new("bucket", "big.bin", size);
    let mut op = LargeUpload::new(
        &mut session,
        &mut buf,
        params,
        part,
        Gen(size),
        &mut digests,
    )?;
    run(&mut op, &mut t, &mut clock)?;
    Ok(t.bytes)
}
