//! Size probe for the device logic: `b2-sensor-logic` (authorize, large-file stream, sensor
//! objects) over `b2-transport-esp` and a dummy `Connection`, so that the linker keeps what
//! the firmware keeps (minus ESP-IDF itself). `../size-probe/measure.sh` style: see
//! `measure.sh` here.
#![no_std]
#![no_main]

use core::fmt::Write as _;
use core::hint::black_box;

use b2_sensor_logic::{run_device, Buffers, Config, BODY_BUFFER};
use b2_transport_esp::EspTransport;
use embedded_svc::http::client::Connection;
use embedded_svc::http::{Headers, Method, Status};
use embedded_svc::io::{ErrorKind, ErrorType, Read, Write};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[derive(Debug)]
struct E;
impl core::fmt::Display for E {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("dummy")
    }
}
impl core::error::Error for E {}
impl embedded_svc::io::Error for E {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

/// Answer head: status and `Content-Length`.
struct Head {
    len: heapless::String<12>,
}
impl Status for Head {
    fn status(&self) -> u16 {
        200
    }
    fn status_message(&self) -> Option<&str> {
        None
    }
}
impl Headers for Head {
    fn header(&self, name: &str) -> Option<&str> {
        name.eq_ignore_ascii_case("content-length")
            .then_some(self.len.as_str())
    }
}

/// Answer body.
struct Body {
    text: heapless::String<640>,
    pos: usize,
}
impl ErrorType for Body {
    type Error = E;
}
impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, E> {
        let rest = self.text.as_bytes().get(self.pos..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}
impl Write for Body {
    fn write(&mut self, buf: &[u8]) -> Result<usize, E> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), E> {
        Ok(())
    }
}

/// Canned answers: enough to walk every code path of the device job.
struct Dummy {
    kind: u8,
    part: u32,
    sent: u64,
    tail: [u8; 40],
    head: Head,
    body: Body,
}

impl ErrorType for Dummy {
    type Error = E;
}
impl Status for Dummy {
    fn status(&self) -> u16 {
        self.head.status()
    }
    fn status_message(&self) -> Option<&str> {
        None
    }
}
impl Headers for Dummy {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }
}
impl Read for Dummy {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, E> {
        self.body.read(buf)
    }
}
impl Write for Dummy {
    fn write(&mut self, buf: &[u8]) -> Result<usize, E> {
        for &b in buf {
            self.tail.copy_within(1.., 0);
            self.tail[39] = b;
        }
        self.sent += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), E> {
        Ok(())
    }
}

impl Connection for Dummy {
    type Headers = Head;
    type Read = Body;
    type RawConnectionError = E;
    type RawConnection = Body;

    fn initiate_request<'a>(
        &'a mut self,
        _m: Method,
        uri: &'a str,
        headers: &'a [(&'a str, &'a str)],
    ) -> Result<(), E> {
        self.kind = if uri.ends_with("b2_authorize_account") {
            0
        } else if uri.ends_with("b2_start_large_file") {
            1
        } else if uri.ends_with("b2_get_upload_part_url") || uri.ends_with("b2_get_upload_url") {
            2
        } else if uri.ends_with("b2_finish_large_file") {
            4
        } else if uri.contains("part") {
            3
        } else {
            5
        };
        self.part = headers
            .iter()
            .find(|(k, _)| *k == "X-Bz-Part-Number")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        self.sent = 0;
        Ok(())
    }
    fn is_request_initiated(&self) -> bool {
        false
    }
    fn initiate_response(&mut self) -> Result<(), E> {
        let text = &mut self.body.text;
        text.clear();
        self.body.pos = 0;
        let sha = core::str::from_utf8(&self.tail).unwrap_or("");
        let n = self.sent.saturating_sub(40);
        let _ = match self.kind {
            0 => write!(text, "{{\"accountId\":\"a\",\"authorizationToken\":\"t\",\"apiInfo\":{{\"storageApi\":{{\"apiUrl\":\"http://h\",\"downloadUrl\":\"http://h\",\"absoluteMinimumPartSize\":5000000,\"recommendedPartSize\":100000000,\"allowed\":{{\"buckets\":[{{\"id\":\"b\",\"name\":\"n\"}}],\"capabilities\":[\"writeFiles\"],\"namePrefix\":null}}}}}}}}"),
            1 | 4 => write!(text, "{{\"action\":\"{}\",\"fileId\":\"f\",\"fileName\":\"n\"}}", if self.kind == 1 { "start" } else { "upload" }),
            2 => write!(text, "{{\"fileId\":\"f\",\"bucketId\":\"b\",\"uploadUrl\":\"http://u/part\",\"authorizationToken\":\"u\"}}"),
            3 => write!(text, "{{\"fileId\":\"f\",\"partNumber\":{},\"contentLength\":{n},\"contentSha1\":\"{sha}\"}}", self.part),
            _ => write!(text, "{{\"action\":\"upload\",\"fileId\":\"x\",\"fileName\":\"n\",\"contentLength\":{n},\"contentSha1\":\"{sha}\"}}"),
        };
        self.head.len.clear();
        let _ = write!(self.head.len, "{}", text.len());
        Ok(())
    }
    fn is_response_initiated(&self) -> bool {
        true
    }
    fn split(&mut self) -> (&Head, &mut Body) {
        (&self.head, &mut self.body)
    }
    fn raw_connection(&mut self) -> Result<&mut Body, E> {
        Err(E)
    }
}

struct Tick(u64);
impl b2_core::driver::Clock for Tick {
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
    let cfg = Config {
        key_id: black_box("key-id"),
        key: black_box("key"),
        realm: black_box("https://api.backblazeb2.com"),
        nas_file_size: black_box(64 << 20),
        nas_file_name: "nas/volume1/backup.img",
        part_size: 5_000_000,
        objects: black_box(20),
        readings_per_object: 40,
    };
    let mut body = [0u8; BODY_BUFFER];
    let connect = || {
        Ok::<_, E>(Dummy {
            kind: 0,
            part: 0,
            sent: 0,
            tail: [b'0'; 40],
            head: Head {
                len: heapless::String::new(),
            },
            body: Body {
                text: heapless::String::new(),
                pos: 0,
            },
        })
    };
    let mut t = EspTransport::new(connect, &mut body);
    let mut bufs = Buffers::new();
    black_box(run_device(&cfg, &mut t, BODY_BUFFER, &mut Tick(0), &mut bufs).is_ok());
    loop {}
}
