//! `b2ctl demo`: streams generated sensor readings as a large file with bounded memory,
//! lists it, downloads it back and verifies it, on the bundled simulator when no
//! credentials are set.

use std::io::{self, Read, Write};
use std::time::Instant;

use b2_transport_std::client::{Client, ClientError, DownloadTarget, UploadOptions};
use sha1::{Digest, Sha1};

/// Generated CSV sensor readings, hashed as they are read.
struct Readings {
    remaining: u64,
    n: u64,
    line: Vec<u8>,
    pos: usize,
    hasher: Sha1,
}

impl Readings {
    fn new(size: u64) -> Self {
        Readings {
            remaining: size,
            n: 0,
            line: Vec::new(),
            pos: 0,
            hasher: Sha1::new(),
        }
    }

    fn next_line(&mut self) {
        self.line.clear();
        let n = self.n;
        self.n += 1;
        let sensor = n % 16;
        let millis = 1_795_000_000_000u64 + n * 250;
        // A smooth, deterministic signal per sensor.
        let value = 20.0 + (sensor as f64) * 0.5 + ((n as f64) * 0.013).sin() * 3.0;
        let _ = writeln!(
            self.line,
            "{millis},sensor-{sensor:02},temperature,{value:.3}"
        );
        self.pos = 0;
    }
}

impl Read for Readings {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() && self.remaining > 0 {
            if self.pos == self.line.len() {
                self.next_line();
            }
            let take = (self.line.len() - self.pos)
                .min(buf.len() - done)
                .min(self.remaining as usize);
            buf[done..done + take].copy_from_slice(&self.line[self.pos..self.pos + take]);
            self.hasher.update(&buf[done..done + take]);
            self.pos += take;
            done += take;
            self.remaining -= take as u64;
        }
        Ok(done)
    }
}

/// A writer that only hashes and counts.
struct Check {
    hasher: Sha1,
    bytes: u64,
}

impl Write for Check {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Peak resident memory of this process (Linux), in bytes.
pub fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn mb(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / secs.max(1e-9) / 1e6
}

/// Runs the demo.
pub fn run(
    creds: Option<(String, String, String)>,
    size: u64,
    bucket: Option<String>,
) -> Result<(), ClientError> {
    let mut _sim = None;
    let mut data_dir = None;
    let (client, bucket, own_bucket) = match creds {
        Some((id, key, realm)) => {
            let bucket = bucket.ok_or_else(|| {
                ClientError::Config(
                    "with B2 credentials, demo needs --bucket NAME (an existing bucket)".into(),
                )
            })?;
            println!(
                "demo: using B2 at {realm} (credentials from the environment), bucket {bucket}"
            );
            (Client::new(&id, &key, &realm)?, bucket, false)
        }
        None => {
            let dir = std::env::temp_dir().join(format!("b2ctl-demo-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let sim = b2_sim::Sim::builder().data_dir(&dir).start()?;
            println!(
                "demo: no B2 credentials in the environment; started the bundled simulator at {} (data in {})",
                sim.url(),
                dir.display()
            );
            let (id, key) = sim.master_key();
            let client = Client::new(id, key, sim.url())?;
            let name = bucket.unwrap_or_else(|| format!("b2ctl-demo-{}", std::process::id()));
            client.create_bucket(&name, false)?;
            println!("demo: created bucket {name}");
            _sim = Some(sim);
            data_dir = Some(dir);
            (client, name, true)
        }
    };
    let result = demo(&client, &bucket, size);
    if own_bucket {
        // The simulator and its data go away with the demo.
        let _ = client.delete(&bucket, "demo/sensors.csv", true);
        let _ = client.delete_bucket(&bucket);
    }
    drop(_sim);
    if let Some(dir) = data_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

fn demo(client: &Client, bucket: &str, size: u64) -> Result<(), ClientError> {
    let session = client.session();
    let part = session.min_part_size.max(5_000_000);
    let name = "demo/sensors.csv";
    let threads = 4;
    let opts = UploadOptions {
        content_type: "text/csv".into(),
        part_size: Some(part),
        large_threshold: part,
        threads,
        info: vec![("generator".into(), "b2ctl-demo".into())],
        ..UploadOptions::default()
    };
    let mut readings = Readings::new(size);
    let t = Instant::now();
    let f = client.upload_reader(bucket, &mut readings, name, &opts)?;
    let up = t.elapsed().as_secs_f64();
    let sent_sha = hex(&readings.hasher.clone().finalize());
    let parts = size.div_ceil(part);
    println!(
        "upload:   {size} bytes of generated sensor readings as a large file of {parts} parts ({part} bytes each, {threads} threads, at most {} part buffers in memory): {:.2} s, {:.1} MB/s",
        threads + 1,
        up,
        mb(size, up)
    );
    println!("          file id {}", f.file_id);

    let listed: Vec<_> = client
        .ls(bucket, "demo/", true, false)?
        .collect::<Result<_, _>>()?;
    let found = listed.iter().find(|x| x.file_name == name);
    match found {
        Some(x) if x.size == size => println!(
            "list:     {} file(s) under demo/; {name} is there with {} bytes",
            listed.len(),
            x.size
        ),
        _ => return Err(ClientError::NotFound(format!("{name} in the listing"))),
    }

    let t = Instant::now();
    let mut check = Check {
        hasher: Sha1::new(),
        bytes: 0,
    };
    let r = client.download_to_writer(
        &DownloadTarget::ById(f.file_id.clone()),
        &mut check,
        None,
        None,
    )?;
    let down = t.elapsed().as_secs_f64();
    let got_sha = hex(&check.hasher.finalize());
    println!(
        "download: {} bytes: {:.2} s, {:.1} MB/s",
        check.bytes,
        down,
        mb(check.bytes, down)
    );
    if check.bytes != size || got_sha != sent_sha {
        return Err(ClientError::Config(format!(
            "verification FAILED: sent {size} bytes sha1 {sent_sha}, got {} bytes sha1 {got_sha}",
            check.bytes
        )));
    }
    println!(
        "verify:   OK: {} bytes, SHA-1 {sent_sha} matches what was generated{}",
        check.bytes,
        if r.verified {
            " and the server's large_file_sha1"
        } else {
            ""
        }
    );
    match peak_rss() {
        Some(rss) => println!(
            "memory:   peak RSS of this process {:.1} MiB (simulator included when bundled)",
            rss as f64 / (1 << 20) as f64
        ),
        None => println!("memory:   peak RSS not available on this platform"),
    }
    Ok(())
}
