//! Test support: a sandbox served on 127.0.0.1:0 with a reqwest client and small helpers.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use provisio_sandbox::{Sandbox, SandboxConfig, serve};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

pub struct Running {
    pub sandbox: Sandbox,
    pub client: reqwest::Client,
    pub token: Option<String>,
    stop: oneshot::Sender<()>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn etag(&self) -> String {
        self.headers["etag"].to_str().unwrap().to_owned()
    }
}

pub async fn start(config: SandboxConfig) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let token = config.bearer_token.clone();
    let sandbox = serve(config, async {
        let _ = stopped.await;
    })
    .await
    .expect("sandbox starts");
    Running { sandbox, client: reqwest::Client::new(), token, stop }
}

pub async fn start_default() -> Running {
    start(SandboxConfig::default()).await
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sandbox.base_url(), path)
    }

    /// Sends a request with the configured token and `application/scim+json` bodies.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/scim+json").body(b.to_string());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    pub async fn create_user(&self, user_name: &str) -> String {
        let r = self.post("/Users", user(user_name)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn patch(&self, path: &str, ops: Value) -> Reply {
        self.send(Method::PATCH, path, Some(json!({"schemas":[PATCH],"Operations":ops})), &[]).await
    }

    /// Stops the server and waits for it (and its final save).
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        self.sandbox.wait().await.expect("clean stop");
    }
}

pub fn user(user_name: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": user_name,
        "externalId": format!("ext-{user_name}"),
        "name": {"givenName": "Given", "familyName": "Family"},
        "displayName": format!("User {user_name}"),
        "emails": [{"value": format!("{user_name}@example.org"), "type": "work", "primary": true}],
        "active": true
    })
}

pub fn filter_query(filter: &str) -> String {
    let mut out = String::new();
    for b in filter.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    format!("filter={out}")
}

/// A fresh path in the temp dir (not created).
pub fn temp_path(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("provisio-sandbox-test-{}-{n}", std::process::id())).join(name)
}
