//! The client side of the SCIM peer: a [`Tenant`] is one tenant's base URL
//! and token, with blocking requests (answers as [`ScimResponse`]) and the
//! helpers tests use to set up and inspect a target: listing every resource
//! page by page, lookups by userName and id, creation one by one or in
//! `POST /Bulk` chunks.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};

use super::http;
use super::output::OutputLog;

/// The schema URN of SCIM users.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The schema URN of SCIM groups.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// The page size [`Tenant::users`] asks for; the server may return fewer.
const PAGE_SIZE: usize = 500;
/// scim2-server's default bulk limits are 1000 operations and 1 MiB.
const BULK_MAX_OPERATIONS: usize = 1000;
const BULK_MAX_BYTES: usize = 900 * 1024;

/// The `Resources` of a ListResponse (absent when empty).
fn resources(list: &Value) -> Vec<Value> {
    list.get("Resources").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// An HTTP answer from the peer.
#[derive(Debug, Clone)]
pub struct ScimResponse {
    pub status: u16,
    pub etag: Option<String>,
    pub location: Option<String>,
    /// The JSON body, or `Null` when empty or not JSON (see `text`).
    pub body: Value,
    pub text: String,
}

/// One tenant of a peer: `base_url` is what the engine is configured with.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub name: String,
    /// `http://127.0.0.1:PORT/<tenant>/v2`
    pub base_url: String,
    pub token: String,
    pub(super) log: Option<Arc<OutputLog>>,
}

impl Tenant {
    /// `base_url` + `path` (`"/Users"`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Sends a request with the bearer token; `path` is relative to `base_url`.
    pub fn request(&self, method: Method, path: &str, query: &[(&str, &str)], body: Option<&Value>) -> ScimResponse {
        let mut req = http()
            .request(method.clone(), self.url(path))
            .bearer_auth(&self.token)
            .header("Accept", "application/scim+json")
            .query(query);
        if let Some(body) = body {
            req = req.header("Content-Type", "application/scim+json").body(body.to_string());
        }
        let resp = req.send().unwrap_or_else(|e| {
            let output = self.log.as_ref().map(|l| l.text()).unwrap_or_default();
            panic!("{method} {}: {e}\n--- scim2-server output ---\n{output}", self.url(path))
        });
        let status = resp.status().as_u16();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let (etag, location) = (header("etag"), header("location"));
        let text = resp.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        ScimResponse { status, etag, location, body, text }
    }

    pub fn get(&self, path: &str) -> ScimResponse {
        self.request(Method::GET, path, &[], None)
    }

    pub fn post(&self, path: &str, body: &Value) -> ScimResponse {
        self.request(Method::POST, path, &[], Some(body))
    }

    /// Every resource of `/Users` or `/Groups`, paging with startIndex/count
    /// until totalResults is reached, counting the Resources actually returned
    /// (never trusting itemsPerPage).
    pub fn list_all(&self, endpoint: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut start = 1usize;
        let count = PAGE_SIZE.to_string();
        for _ in 0..100_000 {
            let index = start.to_string();
            let r = self.request(Method::GET, endpoint, &[("startIndex", &index), ("count", &count)], None);
            assert_eq!(r.status, 200, "GET {endpoint}?startIndex={start}: {}", r.text);
            let total = r.body["totalResults"].as_u64().unwrap_or_else(|| panic!("no totalResults: {}", r.text));
            let page = resources(&r.body);
            if page.is_empty() {
                break;
            }
            start += page.len();
            all.extend(page);
            if (start - 1) as u64 >= total {
                break;
            }
        }
        all
    }

    /// Every user of the tenant.
    pub fn users(&self) -> Vec<Value> {
        self.list_all("/Users")
    }

    /// Every group of the tenant.
    pub fn groups(&self) -> Vec<Value> {
        self.list_all("/Groups")
    }

    /// The user with this userName (the server compares case-insensitively).
    pub fn find_user(&self, user_name: &str) -> Option<Value> {
        let escaped = user_name.replace('\\', "\\\\").replace('"', "\\\"");
        let filter = format!("userName eq \"{escaped}\"");
        let r = self.request(Method::GET, "/Users", &[("filter", &filter)], None);
        assert_eq!(r.status, 200, "GET /Users?filter={filter}: {}", r.text);
        let mut found = resources(&r.body);
        assert!(found.len() <= 1, "userName {user_name:?} matches {} users: {}", found.len(), r.text);
        found.pop()
    }

    /// The user with this id, or None on 404.
    pub fn user(&self, id: &str) -> Option<Value> {
        let r = self.get(&format!("/Users/{id}"));
        match r.status {
            200 => Some(r.body),
            404 => None,
            s => panic!("GET /Users/{id} answered {s}: {}", r.text),
        }
    }

    /// Creates a user (the User schema is added when `schemas` is missing); returns its id.
    pub fn create_user(&self, user: Value) -> String {
        self.create("/Users", USER_SCHEMA, user)
    }

    /// Creates a group (`{"displayName": .., "members": [{"value": id}]}`); returns its id.
    pub fn create_group(&self, group: Value) -> String {
        self.create("/Groups", GROUP_SCHEMA, group)
    }

    fn create(&self, endpoint: &str, schema: &str, mut resource: Value) -> String {
        if let Value::Object(map) = &mut resource {
            map.entry("schemas").or_insert_with(|| json!([schema]));
        }
        let r = self.post(endpoint, &resource);
        assert_eq!(r.status, 201, "POST {endpoint} {resource}: {}", r.text);
        r.body["id"].as_str().unwrap_or_else(|| panic!("no id in {}", r.text)).to_string()
    }

    /// Deletes a user; panics unless the server answers 204.
    pub fn delete_user(&self, id: &str) {
        let r = self.request(Method::DELETE, &format!("/Users/{id}"), &[], None);
        assert_eq!(r.status, 204, "DELETE /Users/{id}: {}", r.text);
    }

    /// Creates many users with `POST /Bulk` (in chunks within the server's
    /// limits); returns their ids in order.
    pub fn bulk_create_users(&self, users: &[Value]) -> Vec<String> {
        let mut ids = Vec::with_capacity(users.len());
        let mut chunk: Vec<Value> = Vec::new();
        let mut bytes = 0;
        for (i, user) in users.iter().enumerate() {
            let mut data = user.clone();
            if let Value::Object(map) = &mut data {
                map.entry("schemas").or_insert_with(|| json!([USER_SCHEMA]));
            }
            let op = json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"), "data": data});
            let size = op.to_string().len();
            if !chunk.is_empty() && (chunk.len() == BULK_MAX_OPERATIONS || bytes + size > BULK_MAX_BYTES) {
                ids.extend(self.bulk(std::mem::take(&mut chunk)));
                bytes = 0;
            }
            bytes += size;
            chunk.push(op);
        }
        if !chunk.is_empty() {
            ids.extend(self.bulk(chunk));
        }
        ids
    }

    fn bulk(&self, operations: Vec<Value>) -> Vec<String> {
        let n = operations.len();
        let body = json!({"schemas": [BULK_REQUEST_SCHEMA], "failOnErrors": 1, "Operations": operations});
        let r = self.post("/Bulk", &body);
        assert_eq!(r.status, 200, "POST /Bulk ({n} operations): {}", r.text);
        let ops = r.body["Operations"].as_array().unwrap_or_else(|| panic!("no Operations in bulk answer: {}", r.text));
        assert_eq!(ops.len(), n, "bulk answered {} of {n} operations: {}", ops.len(), r.text);
        ops.iter()
            .map(|op| {
                let status = match &op["status"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                assert_eq!(status, "201", "bulk operation failed: {op}");
                let location = op["location"].as_str().unwrap_or_else(|| panic!("no location in {op}"));
                location.rsplit('/').next().expect("an id").to_string()
            })
            .collect()
    }
}
