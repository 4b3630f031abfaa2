//! [`ScimClient`]: SCIM requests over the host's HTTP service.
//!
//! One client per opened connection. It knows the SCIM URL (a trailing
//! slash is tolerated), the users and groups paths, the dialect and the
//! credentials, and sends every request with:
//! - `Accept` (`application/scim+json, application/json` for 2.0,
//!   `application/json` for 1.1) and, with a body, the dialect's
//!   `Content-Type` (overridable for 2.0 targets that only take JSON);
//! - `Authorization` from [`Authenticator`]; on a 401 with client
//!   credentials the token is fetched again and the request sent once more;
//! - `If-Match` only when the caller passes a version, which
//!   [`ScimClient::read_modify_write`] does only when ETags are in use
//!   ([`EtagPolicy`]: by default, when the ServiceProviderConfig says so).
//!
//! Answers: any 2xx is success. An empty or non-JSON body on PUT/PATCH is
//! fine (`Ok(None)`, re-read when the state is needed); a created
//! resource's id is taken from the body, and only if the body has none from
//! the `Location` header. A 307/308 to the same origin is followed (up to
//! three times). Other statuses become errors with
//! [`crate::error::error_from_response`]. DELETE of a resource that is
//! already gone (404) is success.
//!
//! The ServiceProviderConfig is fetched once, lazily, with credentials
//! (some targets protect it), and cached; failures only make it unknown.
//! A connector whose target does not document it sets
//! [`ClientOptions::skip_discovery`], and it is never asked for.

use provisio_core::host::{Host, HttpRequest, HttpResponse};
use provisio_core::ops::ConnectionReport;
use provisio_core::{ConnectorError, ErrorKind};
use serde_json::Value;
use std::sync::{Arc, Mutex};

use crate::auth::Authenticator;
use crate::config::ScimSettings;
use crate::dialect::ScimVersion;
use crate::discovery::{Discovery, ServiceProviderConfig};
use crate::error::error_from_response;
use crate::filter::{encode_component, query};
use crate::paging::{ListPage, collect_pages, parse_list_response};

/// When `If-Match` is sent on PUT and PATCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EtagPolicy {
    /// When the ServiceProviderConfig says `etag.supported` (the default).
    #[default]
    Advertised,
    Never,
    /// Whenever the resource carries a version, whatever the target says.
    Always,
}

/// Client choices a connector may adjust for its target.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// `Content-Type` of request bodies instead of the dialect's (some 2.0
    /// targets only accept `application/json`).
    pub content_type: Option<String>,
    pub etag: EtagPolicy,
    /// Never ask for the ServiceProviderConfig (targets that do not document
    /// it): discovery is then unknown without a request.
    pub skip_discovery: bool,
}

/// A resource read from the target, with its version when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub body: Value,
    /// The `ETag` header, else `meta.version`.
    pub etag: Option<String>,
}

impl Resource {
    fn from_response(response: &HttpResponse, body: Value) -> Resource {
        let etag = response
            .header("ETag")
            .map(str::to_owned)
            .or_else(|| body.get("meta").and_then(|m| m.get("version")).and_then(Value::as_str).map(str::to_owned));
        Resource { body, etag }
    }
}

/// A SCIM client for one connection.
pub struct ScimClient {
    host: Host,
    base_url: String,
    users_path: String,
    groups_path: String,
    version: ScimVersion,
    auth: Authenticator,
    options: ClientOptions,
    discovery: Mutex<Option<Arc<Discovery>>>,
}

impl std::fmt::Debug for ScimClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimClient").field("base_url", &self.base_url).field("version", &self.version).finish()
    }
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

impl ScimClient {
    pub fn new(host: Host, settings: &ScimSettings, options: ClientOptions) -> ScimClient {
        ScimClient {
            host,
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            users_path: settings.users_path.clone(),
            groups_path: settings.groups_path.clone(),
            version: settings.version,
            auth: Authenticator::new(settings.credentials.clone(), &settings.authorization_header_type),
            options,
            discovery: Mutex::new(None),
        }
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn version(&self) -> ScimVersion {
        self.version
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `{base}{users path}`.
    pub fn users_url(&self) -> String {
        self.url(&self.users_path)
    }

    /// `{base}{groups path}`.
    pub fn groups_url(&self) -> String {
        self.url(&self.groups_path)
    }

    /// `{base}{path}`; `path` starts with `/`.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') { format!("{}{path}", self.base_url) } else { format!("{}/{path}", self.base_url) }
    }

    /// `{collection_url}/{id}`, the id percent-encoded.
    pub fn resource_url(collection_url: &str, id: &str) -> String {
        format!("{collection_url}/{}", encode_component(id))
    }

    /// Send one request with the dialect's headers and credentials; any
    /// HTTP status is `Ok`. A 401 with client credentials is retried once
    /// with a new token; a 307/308 to the same origin is followed.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<HttpResponse, ConnectorError> {
        let mut url = url.to_owned();
        let mut redirects = 0;
        loop {
            let (mut response, used) = self.send_once(method, &url, body, if_match).await?;
            if response.status == 401 && self.auth.refused(used.as_deref()) {
                self.host.debug(&format!("{method} {url} answered 401: fetching a new token and trying once more"));
                response = self.send_once(method, &url, body, if_match).await?.0;
            }
            if matches!(response.status, 307 | 308)
                && redirects < 3
                && let Some(location) = response.header("Location")
            {
                let next =
                    if location.starts_with('/') { format!("{}{location}", origin(&url)) } else { location.to_owned() };
                if origin(&next).eq_ignore_ascii_case(origin(&self.base_url)) {
                    redirects += 1;
                    url = next;
                    continue;
                }
                return Err(ConnectorError::protocol(format!(
                    "{method} {url} redirected to {next}, outside the SCIM URL's origin; credentials are not \
                     sent there: set the SCIM URL to the target's real address"
                )));
            }
            return Ok(response);
        }
    }

    async fn send_once(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<(HttpResponse, Option<String>), ConnectorError> {
        let mut request = HttpRequest::new(method, url).header("Accept", self.version.accept());
        // Sent with the request, so a 401 can tell `refused` which token failed.
        let authorization = self.auth.header(&self.host).await?;
        if let Some(value) = &authorization {
            request = request.header("Authorization", value.clone());
        }
        if let Some(version) = if_match {
            request = request.header("If-Match", version);
        }
        if let Some(body) = body {
            let content_type = self.options.content_type.as_deref().unwrap_or(self.version.content_type());
            request = request.json(content_type, body)?;
        }
        let response = self.host.http(request).await.map_err(|e| e.context(format!("{method} {url}")))?;
        self.host.debug(&format!("{method} {url} answered {}", response.status));
        Ok((response, authorization))
    }

    /// Send and turn a non-2xx answer into an error.
    pub async fn exchange(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<HttpResponse, ConnectorError> {
        let response = self.send(method, url, body, if_match).await?;
        if response.is_success() {
            Ok(response)
        } else {
            Err(error_from_response(&format!("{method} {url}"), &response, self.host.now_unix_ms()))
        }
    }

    /// GET a resource (or any JSON document).
    pub async fn get(&self, url: &str) -> Result<Resource, ConnectorError> {
        let response = self.exchange("GET", url, None, None).await?;
        let body = json_body(&response).ok_or_else(|| {
            ConnectorError::protocol(format!("GET {url} answered {} without a JSON body", response.status))
        })?;
        Ok(Resource::from_response(&response, body))
    }

    /// POST a new resource. The answer's body, when it is JSON.
    pub async fn post(&self, url: &str, body: &Value) -> Result<(HttpResponse, Option<Resource>), ConnectorError> {
        let response = self.exchange("POST", url, Some(body), None).await?;
        let resource = json_body(&response).map(|b| Resource::from_response(&response, b));
        Ok((response, resource))
    }

    /// PUT a full resource. `Ok(None)` when the target answered without a
    /// JSON body (204, or an empty 200).
    pub async fn put(
        &self,
        url: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<Option<Resource>, ConnectorError> {
        let response = self.exchange("PUT", url, Some(body), if_match).await?;
        Ok(json_body(&response).map(|b| Resource::from_response(&response, b)))
    }

    /// PATCH a resource. `Ok(None)` on 204 or an answer without a JSON body.
    pub async fn patch(
        &self,
        url: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<Option<Resource>, ConnectorError> {
        let response = self.exchange("PATCH", url, Some(body), if_match).await?;
        Ok(json_body(&response).map(|b| Resource::from_response(&response, b)))
    }

    /// DELETE a resource. `Ok(false)` when it was already gone (404).
    pub async fn delete(&self, url: &str) -> Result<bool, ConnectorError> {
        let response = self.send("DELETE", url, None, None).await?;
        match response.status {
            s if (200..300).contains(&s) => Ok(true),
            404 | 410 => {
                self.host.debug(&format!("DELETE {url} answered {}: already gone", response.status));
                Ok(false)
            }
            _ => Err(error_from_response(&format!("DELETE {url}"), &response, self.host.now_unix_ms())),
        }
    }

    /// One page of `collection_url`, optionally filtered.
    pub async fn query(
        &self,
        collection_url: &str,
        filter: Option<&str>,
        start_index: Option<u64>,
        count: Option<u32>,
    ) -> Result<ListPage, ConnectorError> {
        let mut params = Vec::new();
        if let Some(f) = filter {
            params.push(("filter", f.to_owned()));
        }
        if let Some(s) = start_index {
            params.push(("startIndex", s.to_string()));
        }
        if let Some(c) = count {
            params.push(("count", c.to_string()));
        }
        let url = format!("{collection_url}{}", query(&params));
        let resource = self.get(&url).await?;
        parse_list_response(&resource.body).map_err(|why| {
            ConnectorError::protocol(format!("GET {url} answered a body that is not a list response: {why}"))
        })
    }

    /// Every resource of `collection_url` (optionally filtered), page by
    /// page (`page_size` `None`: no `count`, the server's default page).
    pub async fn list_all(
        &self,
        collection_url: &str,
        filter: Option<&str>,
        page_size: Option<u32>,
    ) -> Result<Vec<Value>, ConnectorError> {
        collect_pages(page_size, |start, count| self.query(collection_url, filter, Some(start), count)).await
    }

    /// The target's ServiceProviderConfig, fetched once.
    pub async fn discovery(&self) -> Arc<Discovery> {
        if let Some(d) = self.discovery.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return d;
        }
        let fresh = Arc::new(self.fetch_discovery().await);
        *self.discovery.lock().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
        fresh
    }

    async fn fetch_discovery(&self) -> Discovery {
        if self.options.skip_discovery {
            return Discovery::Unknown("not used for this target".to_owned());
        }
        let url = self.url(self.version.service_provider_config_path());
        let response = match self.send("GET", &url, None, None).await {
            Ok(r) => r,
            Err(e) => return Discovery::Unknown(e.to_string()),
        };
        if !response.is_success() {
            return Discovery::Unknown(format!("GET {url} answered {}", response.status));
        }
        match json_body(&response).as_ref().and_then(ServiceProviderConfig::parse) {
            Some(spc) => Discovery::Known(spc),
            None => Discovery::Unknown(format!("GET {url} answered {} with no ServiceProviderConfig", response.status)),
        }
    }

    /// Whether `If-Match` goes with PUT and PATCH.
    pub async fn etag_enabled(&self) -> bool {
        match self.options.etag {
            EtagPolicy::Never => false,
            EtagPolicy::Always => true,
            EtagPolicy::Advertised => self.discovery().await.etag_supported(),
        }
    }

    /// GET `url`, let `change` compute the new body from the current one
    /// (`None`: nothing to change), and write it with `method` (PUT or
    /// PATCH), with `If-Match` when ETags are in use. A 412 (the resource
    /// changed in between) re-reads and tries once more; under failover the
    /// host never lets a 412 through (it fails the operation instead), and
    /// refuses the re-read once the node's lease has expired. Answers the
    /// written resource when the target returned it.
    pub async fn read_modify_write<F>(
        &self,
        method: &str,
        url: &str,
        change: F,
    ) -> Result<Option<Resource>, ConnectorError>
    where
        F: Fn(&Value) -> Result<Option<Value>, ConnectorError>,
    {
        let etags = self.etag_enabled().await;
        let mut attempt = 0;
        loop {
            let current = self.get(url).await?;
            let Some(body) = change(&current.body)? else { return Ok(None) };
            let version = if etags { current.etag.as_deref() } else { None };
            match self.exchange(method, url, Some(&body), version).await {
                Ok(response) => return Ok(json_body(&response).map(|b| Resource::from_response(&response, b))),
                Err(e) if e.status == Some(412) && attempt == 0 => {
                    self.host.info(&format!("{method} {url} answered 412 (changed meanwhile): reading it again"));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The activation check: the ServiceProviderConfig (for capabilities),
    /// then an authenticated `GET {users}?startIndex=1&count=1`, which
    /// proves the credentials (some targets serve the ServiceProviderConfig
    /// without authentication).
    pub async fn test_connection(&self) -> Result<ConnectionReport, ConnectorError> {
        let discovery = self.discovery().await;
        let url = format!("{}?startIndex=1&count=1", self.users_url());
        let response = self.send("GET", &url, None, None).await?;
        if !response.is_success() {
            let mut err = error_from_response(&format!("GET {url}"), &response, self.host.now_unix_ms());
            if err.kind == ErrorKind::Auth && response.status == 401 {
                err.detail = format!("{} (authentication method: {})", err.detail, self.auth.method().label());
            }
            return Err(err);
        }
        let mut details = Vec::new();
        let capabilities = match discovery.as_ref() {
            Discovery::Known(spc) => {
                details.extend(spc.describe());
                let d = spc.describe();
                d[..2].join(", ")
            }
            Discovery::Unknown(why) => {
                details.push(format!("ServiceProviderConfig unavailable ({why}): capabilities unknown"));
                "capabilities unknown (no ServiceProviderConfig)".to_owned()
            }
        };
        match json_body(&response).as_ref().map(parse_list_response) {
            Some(Ok(page)) => {
                if let Some(total) = page.total_results {
                    details.push(format!("{total} users at the target"));
                }
            }
            _ => details.push(format!("GET {url} did not answer a SCIM list response")),
        }
        details.push(format!("SCIM {}, authentication: {}", self.version.as_str(), self.auth.method().label()));
        Ok(ConnectionReport { summary: format!("GET {url} answered {}; {capabilities}", response.status), details })
    }
}

/// The body as JSON, `None` when empty or not JSON.
pub fn json_body(response: &HttpResponse) -> Option<Value> {
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    serde_json::from_slice(&response.body).ok()
}
