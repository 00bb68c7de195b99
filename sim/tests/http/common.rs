//! Helpers: a tiny B2 client over ureq.

use std::collections::BTreeMap;

use b2_sim::Sim;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

pub fn sha1_hex(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// An answer: status, headers (lower-case names), body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_string()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

pub fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut r = r.expect("transport error");
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = r
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .unwrap_or_default();
    Answer {
        status,
        headers,
        body,
    }
}

/// An authorized client.
pub struct Client {
    pub agent: ureq::Agent,
    pub url: String,
    pub token: String,
    pub account_id: String,
    pub auth: Value,
    pub ver: u8,
}

pub fn basic(key_id: &str, key: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key_id}:{key}"))
    )
}

pub fn authorize_raw(url: &str, key_id: &str, key: &str, ver: u8) -> Answer {
    answer(
        agent()
            .get(format!("{url}/b2api/v{ver}/b2_authorize_account"))
            .header("Authorization", basic(key_id, key))
            .call(),
    )
}

impl Client {
    pub fn new(sim: &Sim) -> Client {
        let (id, key) = sim.master_key();
        Client::with_key(sim.url(), id, key, 4)
    }

    pub fn with_key(url: &str, key_id: &str, key: &str, ver: u8) -> Client {
        let a = authorize_raw(url, key_id, key, ver);
        assert_eq!(
            a.status,
            200,
            "authorize: {}",
            String::from_utf8_lossy(&a.body)
        );
        let auth = a.json();
        Client {
            agent: agent(),
            url: url.to_string(),
            token: auth["authorizationToken"].as_str().unwrap().to_string(),
            account_id: auth["accountId"].as_str().unwrap().to_string(),
            auth,
            ver,
        }
    }

    /// A JSON call; returns the raw answer.
    pub fn call(&self, name: &str, args: Value) -> Answer {
        answer(
            self.agent
                .post(format!("{}/b2api/v{}/{name}", self.url, self.ver))
                .header("Authorization", &self.token)
                .header("Content-Type", "application/json")
                .send(args.to_string().as_bytes()),
        )
    }

    /// A JSON call that must succeed.
    pub fn ok(&self, name: &str, args: Value) -> Value {
        let a = self.call(name, args);
        assert_eq!(
            a.status,
            200,
            "{name}: {}",
            String::from_utf8_lossy(&a.body)
        );
        a.json()
    }

    pub fn create_bucket(&self, name: &str, kind: &str) -> String {
        let v = self.ok(
            "b2_create_bucket",
            json!({"accountId": self.account_id, "bucketName": name, "bucketType": kind}),
        );
        v["bucketId"].as_str().unwrap().to_string()
    }

    /// (uploadUrl, token).
    pub fn upload_url(&self, bucket_id: &str) -> (String, String) {
        let v = self.ok("b2_get_upload_url", json!({"bucketId": bucket_id}));
        (
            v["uploadUrl"].as_str().unwrap().to_string(),
            v["authorizationToken"].as_str().unwrap().to_string(),
        )
    }

    /// Uploads with explicit headers (name is sent as given: encode it yourself).
    pub fn upload_with(
        &self,
        url: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        let mut r = self.agent.post(url).header("Authorization", token);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        answer(r.send(body))
    }

    /// Uploads a small file with its hex SHA-1; must succeed.
    pub fn upload(&self, bucket_id: &str, name: &str, body: &[u8]) -> Value {
        let (url, token) = self.upload_url(bucket_id);
        let sha = sha1_hex(body);
        let a = self.upload_with(
            &url,
            &token,
            &[
                ("X-Bz-File-Name", name),
                ("Content-Type", "application/octet-stream"),
                ("X-Bz-Content-Sha1", &sha),
            ],
            body,
        );
        assert_eq!(
            a.status,
            200,
            "upload: {}",
            String::from_utf8_lossy(&a.body)
        );
        a.json()
    }

    pub fn get(&self, path_and_query: &str, auth: Option<&str>, range: Option<&str>) -> Answer {
        let mut r = self.agent.get(format!("{}{path_and_query}", self.url));
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        if let Some(g) = range {
            r = r.header("Range", g);
        }
        answer(r.call())
    }

    pub fn head(&self, path_and_query: &str, auth: Option<&str>) -> Answer {
        let mut r = self.agent.head(format!("{}{path_and_query}", self.url));
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        answer(r.call())
    }

    /// Starts a large file; returns its id.
    pub fn start_large(&self, bucket_id: &str, name: &str) -> String {
        let v = self.ok(
            "b2_start_large_file",
            json!({"bucketId": bucket_id, "fileName": name, "contentType": "application/octet-stream"}),
        );
        assert_eq!(v["action"], "start");
        v["fileId"].as_str().unwrap().to_string()
    }

    /// (uploadUrl, token) for parts.
    pub fn part_url(&self, file_id: &str) -> (String, String) {
        let v = self.ok("b2_get_upload_part_url", json!({"fileId": file_id}));
        (
            v["uploadUrl"].as_str().unwrap().to_string(),
            v["authorizationToken"].as_str().unwrap().to_string(),
        )
    }

    pub fn upload_part(&self, file_id: &str, n: u32, body: &[u8]) -> Answer {
        let (url, token) = self.part_url(file_id);
        let sha = sha1_hex(body);
        self.upload_with(
            &url,
            &token,
            &[
                ("X-Bz-Part-Number", &n.to_string()),
                ("X-Bz-Content-Sha1", &sha),
            ],
            body,
        )
    }
}

pub fn sim() -> Sim {
    Sim::builder().min_part_size(100).start().unwrap()
}

/// Some bytes.
pub fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
