//! The HTTP surface: axum routes under the base path, the request gate (counting, bearer
//! authentication, one debug log line per request) and the handlers.
//!
//! Every response is `application/scim+json`. Request bodies may be `application/scim+json`
//! or `application/json` (or carry no Content-Type); anything else is a 415. Query
//! parameters `attributes`, `excludedAttributes`, `sortBy` and `sortOrder` are accepted and
//! ignored: full resources are always returned, in creation order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use crate::discovery::{Discovery, LIST_URN};
use crate::error::ScimError;
use crate::patch::PatchRequest;
use crate::resource;
use crate::store::{Kind, Store, Stored};
use crate::{RequestCounts, SCIM_CONTENT_TYPE};

/// Page size when the client sends no `count`.
pub const DEFAULT_COUNT: usize = 100;
/// The largest page (also `filter.maxResults`).
pub const MAX_COUNT: usize = 1000;

/// Shared state of one server.
pub(crate) struct AppState {
    pub store: RwLock<Store>,
    pub token: Option<String>,
    pub base_url: String,
    /// The full path of ServiceProviderConfig, the one endpoint without authentication.
    pub spc_path: String,
    pub discovery: Discovery,
    pub counts: Counters,
}

impl AppState {
    pub fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// Requests received, by method.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    get: AtomicU64,
    post: AtomicU64,
    put: AtomicU64,
    patch: AtomicU64,
    delete: AtomicU64,
    other: AtomicU64,
}

impl Counters {
    fn count(&self, method: &Method) {
        let c = match *method {
            Method::GET => &self.get,
            Method::POST => &self.post,
            Method::PUT => &self.put,
            Method::PATCH => &self.patch,
            Method::DELETE => &self.delete,
            _ => &self.other,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> RequestCounts {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RequestCounts {
            get: l(&self.get),
            post: l(&self.post),
            put: l(&self.put),
            patch: l(&self.patch),
            delete: l(&self.delete),
            other: l(&self.other),
        }
    }
}

type St = State<Arc<AppState>>;
type Params = Vec<(String, String)>;

/// The application for `state`, with routes under `base_path` ("" or "/…").
pub(crate) fn router(state: Arc<AppState>, base_path: &str) -> Router {
    let api: Router<Arc<AppState>> = Router::new()
        .route("/ServiceProviderConfig", get(spc))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{name}", get(resource_type))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema))
        .merge(resource_routes(Kind::User))
        .merge(resource_routes(Kind::Group));
    let app = if base_path.is_empty() { api } else { Router::new().nest(base_path, api) };
    app.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), gate))
        .with_state(state)
}

fn resource_routes(kind: Kind) -> Router<Arc<AppState>> {
    let ep = kind.endpoint();
    Router::new()
        .route(
            &format!("/{ep}"),
            get(move |s: St, q: Result<Query<Params>, QueryRejection>| async move { list(kind, s, q) })
                .post(move |s: St, h: HeaderMap, b: Bytes| async move { create(kind, s, h, b) }),
        )
        .route(
            &format!("/{ep}/.search"),
            post(move |s: St, h: HeaderMap, b: Bytes| async move { search(kind, s, h, b) }),
        )
        .route(
            &format!("/{ep}/{{id}}"),
            get(move |s: St, p: Path<String>, h: HeaderMap| async move { read(kind, s, p, h) })
                .put(move |s: St, p: Path<String>, h: HeaderMap, b: Bytes| async move { replace(kind, s, p, h, b) })
                .patch(move |s: St, p: Path<String>, h: HeaderMap, b: Bytes| async move { patch(kind, s, p, h, b) })
                .delete(move |s: St, p: Path<String>, h: HeaderMap| async move { delete(kind, s, p, h) }),
        )
}

/// Counts, authenticates and logs every request.
async fn gate(State(state): St, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    state.counts.count(&method);
    let uri = request.uri().clone();
    let public = uri.path().trim_end_matches('/') == state.spc_path;
    let response = if public || authorized(state.token.as_deref(), request.headers()) {
        next.run(request).await
    } else {
        ScimError::unauthorized().into_response()
    };
    tracing::debug!(
        target: "provisio_sandbox",
        method = %method,
        uri = %uri,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "scim request"
    );
    response
}

fn authorized(token: Option<&str>, headers: &HeaderMap) -> bool {
    let Some(token) = token else { return true };
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((scheme, given)) = value.trim().split_once(' ') else { return false };
    scheme.eq_ignore_ascii_case("bearer") && constant_time_eq(given.trim().as_bytes(), token.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A JSON response with the SCIM media type.
fn scim(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_CONTENT_TYPE));
    r
}

fn with_resource(status: StatusCode, stored: Stored, location: Option<String>) -> Response {
    let etag = resource::etag(stored.version);
    let mut r = scim(status, stored.json);
    let headers = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    if let Some(v) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, v);
    }
    r
}

fn reply(result: Result<Response, ScimError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Checks the Content-Type and parses a JSON body.
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ScimError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default();
        let media = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if media != "application/scim+json" && media != "application/json" {
            return Err(ScimError::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Content-Type {ct:?} is not supported: use application/scim+json or application/json"),
            ));
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::invalid_syntax("the request body is empty"));
    }
    serde_json::from_slice(body).map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))
}

fn header_str<'a>(headers: &'a HeaderMap, name: header::HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn number(name: &str, raw: &str) -> Result<i64, ScimError> {
    raw.trim().parse().map_err(|_| ScimError::invalid_value(format!("{name} must be an integer, not {raw:?}")))
}

fn list_response(
    kind: Kind,
    state: &AppState,
    filter: Option<&str>,
    start: Option<i64>,
    count: Option<i64>,
) -> Result<Response, ScimError> {
    let filter = filter.map(|f| crate::filter::parse(f, kind)).transpose()?;
    let start = start.unwrap_or(1).max(1) as usize;
    let count = count.map_or(DEFAULT_COUNT, |c| c.clamp(0, MAX_COUNT as i64) as usize);
    let page = state.read().query(kind, filter.as_ref(), start, count);
    let body = format!(
        "{{\"schemas\":[\"{LIST_URN}\"],\"totalResults\":{},\"startIndex\":{start},\"itemsPerPage\":{},\"Resources\":[{}]}}",
        page.total, page.items, page.joined
    );
    Ok(scim(StatusCode::OK, body))
}

fn list(kind: Kind, State(state): St, params: Result<Query<Params>, QueryRejection>) -> Response {
    reply((|| {
        let Query(params) =
            params.map_err(|e| ScimError::invalid_value(format!("malformed query string: {}", e.body_text())))?;
        let param = |name: &str| params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        let start = param("startIndex").map(|v| number("startIndex", v)).transpose()?;
        let count = param("count").map(|v| number("count", v)).transpose()?;
        list_response(kind, &state, param("filter"), start, count)
    })())
}

fn search(kind: Kind, State(state): St, headers: HeaderMap, body: Bytes) -> Response {
    reply((|| {
        let body = json_body(&headers, &body)?;
        let field = |name: &str| body.as_object().and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)));
        let int = |name: &str| -> Result<Option<i64>, ScimError> {
            match field(name).map(|(_, v)| v) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => {
                    n.as_i64().map(Some).ok_or_else(|| ScimError::invalid_value(format!("{name} must be an integer")))
                }
                Some(Value::String(s)) => number(name, s).map(Some),
                Some(_) => Err(ScimError::invalid_value(format!("{name} must be an integer"))),
            }
        };
        let filter = match field("filter").map(|(_, v)| v) {
            None | Some(Value::Null) => None,
            Some(Value::String(f)) => Some(f.as_str()),
            Some(_) => return Err(ScimError::invalid_filter("filter must be a string")),
        };
        list_response(kind, &state, filter, int("startIndex")?, int("count")?)
    })())
}

fn location(state: &AppState, kind: Kind, id: &str) -> String {
    format!("{}/{}/{id}", state.base_url, kind.endpoint())
}

fn create(kind: Kind, State(state): St, headers: HeaderMap, body: Bytes) -> Response {
    reply((|| {
        let body = json_body(&headers, &body)?;
        let now = resource::now_rfc3339();
        let stored = state.write().create(kind, body, &now)?;
        let loc = location(&state, kind, &stored.id);
        Ok(with_resource(StatusCode::CREATED, stored, Some(loc)))
    })())
}

fn read(kind: Kind, State(state): St, Path(id): Path<String>, headers: HeaderMap) -> Response {
    reply((|| {
        let stored = state.read().get(kind, &id).ok_or_else(|| ScimError::not_found(kind.name(), &id))?;
        if let Some(tag) = header_str(&headers, header::IF_NONE_MATCH)
            && resource::etag_matches(tag, stored.version)
        {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            if let Ok(v) = HeaderValue::from_str(&resource::etag(stored.version)) {
                r.headers_mut().insert(header::ETAG, v);
            }
            return Ok(r);
        }
        Ok(with_resource(StatusCode::OK, stored, None))
    })())
}

fn replace(kind: Kind, State(state): St, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    reply((|| {
        let body = json_body(&headers, &body)?;
        let now = resource::now_rfc3339();
        let if_match = header_str(&headers, header::IF_MATCH);
        let stored = state.write().replace(kind, &id, body, if_match, &now)?;
        Ok(with_resource(StatusCode::OK, stored, None))
    })())
}

fn patch(kind: Kind, State(state): St, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    reply((|| {
        let request = PatchRequest::parse(json_body(&headers, &body)?)?;
        let now = resource::now_rfc3339();
        let if_match = header_str(&headers, header::IF_MATCH);
        let stored = state.write().patch(kind, &id, &request, if_match, &now)?;
        Ok(with_resource(StatusCode::OK, stored, None))
    })())
}

fn delete(kind: Kind, State(state): St, Path(id): Path<String>, headers: HeaderMap) -> Response {
    reply((|| {
        let now = resource::now_rfc3339();
        let if_match = header_str(&headers, header::IF_MATCH);
        state.write().delete(kind, &id, if_match, &now)?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}

async fn spc(State(state): St) -> Response {
    scim(StatusCode::OK, state.discovery.service_provider_config.to_string())
}

fn list_of(items: Vec<&Value>) -> Response {
    let body = serde_json::json!({
        "schemas": [LIST_URN],
        "totalResults": items.len(),
        "startIndex": 1,
        "itemsPerPage": items.len(),
        "Resources": items,
    });
    scim(StatusCode::OK, body.to_string())
}

fn one_of(list: &[(String, Value)], id: &str, what: &str) -> Response {
    match list.iter().find(|(k, _)| k.eq_ignore_ascii_case(id)) {
        Some((_, v)) => scim(StatusCode::OK, v.to_string()),
        None => ScimError::not_found(what, id).into_response(),
    }
}

async fn resource_types(State(state): St) -> Response {
    list_of(state.discovery.resource_types.iter().map(|(_, v)| v).collect())
}

async fn resource_type(State(state): St, Path(name): Path<String>) -> Response {
    one_of(&state.discovery.resource_types, &name, "ResourceType")
}

async fn schemas(State(state): St) -> Response {
    list_of(state.discovery.schemas.iter().map(|(_, v)| v).collect())
}

async fn schema(State(state): St, Path(id): Path<String>) -> Response {
    one_of(&state.discovery.schemas, &id, "Schema")
}

async fn not_found(request: Request) -> Response {
    ScimError::status(StatusCode::NOT_FOUND, format!("no SCIM endpoint at {}", request.uri().path())).into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    let detail = format!("{} is not supported on {}", request.method(), request.uri().path());
    ScimError::status(StatusCode::METHOD_NOT_ALLOWED, detail).into_response()
}
