//! kill -9 at random moments during uploads and deletes with `--data-dir`: every acknowledged
//! upload survives intact, every acknowledged delete stays done, and the server always
//! restarts.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::common::*;

/// Kills of the server in one run (bounded: the whole test takes a few seconds).
const KILLS: u32 = 20;

struct Server {
    child: Child,
    url: String,
    key: (String, String),
}

fn start(dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_b2-sim"))
        .args(["--port", "0", "--min-part-size", "100", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn b2-sim");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let key_line = lines.next().expect("KEY line").expect("read");
    let ready = lines.next().expect("READY line").expect("read");
    let mut k = key_line.split_whitespace().skip(1);
    let key = (
        k.next().expect("key id").to_string(),
        k.next().expect("key").to_string(),
    );
    let url = ready.strip_prefix("READY ").expect("READY").to_string();
    Server { child, url, key }
}

/// What the clients were told.
#[derive(Default)]
struct Acked {
    /// name -> content of acknowledged uploads (not deleted since).
    live: HashMap<String, Vec<u8>>,
    /// names whose delete was acknowledged.
    deleted: Vec<String>,
    /// names whose outcome is unknown (the answer never came).
    unsure: Vec<String>,
}

/// A JSON call that may fail (the server may be killed at any moment): status and body.
fn try_call(
    agent: &ureq::Agent,
    url: &str,
    token: &str,
    args: serde_json::Value,
) -> Option<(u16, serde_json::Value)> {
    let mut r = agent
        .post(url)
        .header("Authorization", token)
        .send(args.to_string().as_bytes())
        .ok()?;
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_vec().ok()?;
    Some((status, serde_json::from_slice(&body).ok()?))
}

/// Uploads (and deletes every third one) until the server dies.
fn work(url: String, key: (String, String), round: u32, acked: Arc<Mutex<Acked>>) {
    let agent = agent();
    let Some(auth) = agent
        .get(format!("{url}/b2api/v4/b2_authorize_account"))
        .header("Authorization", basic(&key.0, &key.1))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_to_vec().ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    else {
        return;
    };
    let token = auth["authorizationToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let account = auth["accountId"].as_str().unwrap_or_default().to_string();
    let Some((200, buckets)) = try_call(
        &agent,
        &format!("{url}/b2api/v4/b2_list_buckets"),
        &token,
        json!({"accountId": account, "bucketName": "kill9-bucket"}),
    ) else {
        return;
    };
    let Some(b) = buckets["buckets"][0]["bucketId"]
        .as_str()
        .map(str::to_string)
    else {
        return;
    };
    for i in 0u32.. {
        let name = format!("r{round}/f{i}");
        let body = data(1000 + (i as usize * 4099) % 70_000, (round * 7 + i) as u8);
        let Some((200, u)) = try_call(
            &agent,
            &format!("{url}/b2api/v4/b2_get_upload_url"),
            &token,
            json!({"bucketId": b}),
        ) else {
            return;
        };
        let up = agent
            .post(u["uploadUrl"].as_str().unwrap_or_default())
            .header(
                "Authorization",
                u["authorizationToken"].as_str().unwrap_or_default(),
            )
            .header("X-Bz-File-Name", &name)
            .header("Content-Type", "a/b")
            .header("X-Bz-Content-Sha1", &sha1_hex(&body))
            .send(&body[..])
            .ok()
            .and_then(|mut r| {
                let st = r.status().as_u16();
                let b = r.body_mut().read_to_vec().ok()?;
                Some((st, serde_json::from_slice::<serde_json::Value>(&b).ok()?))
            });
        let Some((200, f)) = up else {
            acked.lock().unwrap().unsure.push(name);
            return;
        };
        acked.lock().unwrap().live.insert(name.clone(), body);
        if i % 3 == 2 {
            let del = try_call(
                &agent,
                &format!("{url}/b2api/v4/b2_delete_file_version"),
                &token,
                json!({"fileName": name, "fileId": f["fileId"]}),
            );
            let mut g = acked.lock().unwrap();
            g.live.remove(&name);
            if matches!(del, Some((200, _))) {
                g.deleted.push(name);
            } else {
                g.unsure.push(name);
                return;
            }
        }
    }
}

#[test]
fn kill_9_loses_no_acknowledged_upload() {
    let dir = std::env::temp_dir().join(format!("b2-sim-kill9-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let acked = Arc::new(Mutex::new(Acked::default()));
    let first = start(&dir);
    let master = first.key.clone();
    Client::with_key(&first.url, &master.0, &master.1, 4)
        .create_bucket("kill9-bucket", "allPrivate");
    let mut pending = Some(first);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..KILLS {
        let mut s = pending.take().unwrap_or_else(|| start(&dir));
        assert_eq!(s.key, master, "the same master key after a restart");
        let worker = {
            let (url, key, acked) = (s.url.clone(), s.key.clone(), Arc::clone(&acked));
            std::thread::spawn(move || work(url, key, round, acked))
        };
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(40 + seed % 160));
        s.child.kill().expect("kill -9");
        let _ = s.child.wait();
        worker.join().expect("worker");
    }
    // One last start: everything acknowledged is there, byte for byte.
    let s = start(&dir);
    let c = Client::with_key(&s.url, &master.0, &master.1, 4);
    let g = acked.lock().unwrap();
    assert!(
        g.live.len() >= KILLS as usize,
        "work was done: {} files",
        g.live.len()
    );
    for (name, body) in &g.live {
        let d = c.get(&format!("/file/kill9-bucket/{name}"), Some(&c.token), None);
        assert_eq!(d.status, 200, "{name} lost");
        assert!(d.body == *body, "{name} corrupted");
    }
    for name in &g.deleted {
        let d = c.get(&format!("/file/kill9-bucket/{name}"), Some(&c.token), None);
        assert_eq!(d.status, 404, "{name} came back");
    }
    println!(
        "kill9: {KILLS} kills, {} acknowledged uploads kept, {} acknowledged deletes kept, {} unknown outcomes",
        g.live.len(),
        g.deleted.len(),
        g.unsure.len()
    );
    drop(g);
    let mut child = s.child;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
