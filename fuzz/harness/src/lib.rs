//! What provisio's fuzz targets run: one function per target, each taking
//! arbitrary bytes and feeding them to a parser that reads input provisio
//! does not control. A function returns normally for every input; a panic,
//! an overflow (fuzz builds keep overflow checks), a hang or a stack
//! overflow is a bug in the parser.
//!
//! | target | what it parses |
//! |---|---|
//! | [`config`] | the configuration file (`Config::parse`), then each channel's mapping and file-source settings |
//! | [`ldif`], [`csv`], [`json_source`] | a source file (`parse_entries`), then the scope rules over its entries |
//! | [`ldap_filter`] | an RFC 4515 filter; a parsed filter must print back to an equal one |
//! | [`mapping_expression`] | a mapping expression, evaluated against a fixed entry |
//! | [`scim_response`] | a target's answer: error bodies, `Retry-After`, list responses and paging, the service provider configuration |
//! | [`properties`] | a `pingid.properties` file |
//!
//! The fuzz targets in `fuzz/fuzz_targets/` are one line each over these
//! functions, and `tests/corpus.rs` replays every file of
//! `fuzz/corpus/<target>/` through the same function as an ordinary test.

#![forbid(unsafe_code)]

use std::path::Path;
use std::str::FromStr as _;

use provisio_source::{AccountStatus, Entry, FileFormat, FileSourceConfig, Filter, Status};

/// Every target, by the name of its fuzz target and corpus directory.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("config", config),
    ("ldif", ldif),
    ("csv", csv),
    ("json_source", json_source),
    ("ldap_filter", ldap_filter),
    ("mapping_expression", mapping_expression),
    ("scim_response", scim_response),
    ("properties", properties),
];

/// The configuration file: parse it, then compile what `config check`
/// compiles without connectors: each channel's mapping and file-source
/// settings (filters, DNs).
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(config) = provisio_config::Config::parse(text, Path::new("/fuzz/provisio.toml")) else { return };
    for connection in &config.connections {
        for channel in &connection.channels {
            let _ = provisio_mapping::MappingSet::compile(&channel.mapping, &|field| field.ends_with('s'));
            if let provisio_config::SourceConfig::File(file) = &channel.source {
                let _ = file.check();
            }
        }
    }
    // What was parsed can be written back.
    let _ = toml::to_string(&config);
}

/// Scope rules that touch most of the scope code: filters, membership from
/// the groups' member attribute, nested group-DN scope, a status flag.
fn source_configs() -> [FileSourceConfig; 2] {
    let mut by_filter = FileSourceConfig::new("fuzz", "entryUUID");
    by_filter.base_dn = Some("dc=example,dc=org".into());
    by_filter.scope.user_filter = Some("(|(uid=a*)(!(employeeType=contractor)))".into());
    by_filter.scope.group_filter = Some("(objectClass=groupOfNames)".into());
    by_filter.scope.account_status = AccountStatus::Flag {
        attribute: "employeeType".into(),
        value: "disabled".into(),
        when_equal: Status::Disabled,
        default: Status::Enabled,
    };
    let mut by_group = FileSourceConfig::new("fuzz", "objectGUID");
    by_group.scope.guid_binary = true;
    by_group.scope.user_group_dn = Some("cn=staff,ou=groups,dc=example,dc=org".into());
    by_group.scope.group_dn = Some("cn=all,ou=groups,dc=example,dc=org".into());
    by_group.scope.nested = true;
    by_group.scope.member_of_attribute = Some("memberOf".into());
    by_group.scope.account_status = AccountStatus::active_directory();
    [by_filter, by_group]
}

fn source(data: &[u8], format: FileFormat) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for config in source_configs() {
        let options = config.parse_options();
        let Ok(entries) = provisio_source::parse_entries_with(text, format, Path::new("fuzz"), &options) else {
            return;
        };
        let _ = provisio_source::build_snapshot(entries, &config, "fuzz");
    }
}

/// An LDIF source file.
pub fn ldif(data: &[u8]) {
    source(data, FileFormat::Ldif)
}

/// A CSV source file.
pub fn csv(data: &[u8]) {
    source(data, FileFormat::Csv)
}

/// A JSON source file.
pub fn json_source(data: &[u8]) {
    source(data, FileFormat::Json)
}

/// An LDAP filter: parse it, evaluate it on an entry, list its attributes,
/// and require that it prints back to a filter that parses to the same.
pub fn ldap_filter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(filter) = Filter::from_str(text) else { return };
    let entry = Entry::new("uid=alice,ou=people,dc=example,dc=org", 1)
        .with("objectClass", "inetOrgPerson")
        .with("uid", "alice")
        .with("cn", "Alice  Example")
        .with("uidNumber", "1001")
        .with("mail", "alice@example.org");
    let _ = filter.matches(&entry);
    let _ = filter.attributes();
    let printed = filter.to_string();
    let again = Filter::from_str(&printed)
        .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which does not parse: {e}"));
    assert_eq!(again, filter, "{text:?} printed as {printed:?}, which parses to another filter");
}

/// A mapping expression, evaluated against a fixed entry.
pub fn mapping_expression(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(expression) = provisio_mapping::Expression::parse(text) else { return };
    let _ = expression.references();
    let lookup = |name: &str| -> Option<Vec<String>> {
        match name.to_ascii_lowercase().as_str() {
            "uid" => Some(vec!["alice".into()]),
            "mail" => Some(vec!["Alice.Example@Example.org".into()]),
            "cn" => Some(vec!["  Alice  Example ".into()]),
            "memberof" => Some(vec!["cn=staff,ou=groups,dc=example,dc=org".into(), "cn=all,dc=example,dc=org".into()]),
            "empty" => Some(vec![String::new()]),
            "uidnumber" => Some(vec!["1001".into()]),
            _ => None,
        }
    };
    let _ = expression.eval(&lookup);
}

/// A target's answer. The whole input is the body of an error answer (with
/// its first line as a `Retry-After` header), a list response and a
/// service provider configuration; each line is also one page of a paged
/// listing, fetched until the lines run out.
pub fn scim_response(data: &[u8]) {
    use provisio_scim_kit::{discovery, error, paging};
    let _ = error::parse_error_body(data);
    let first_line = String::from_utf8_lossy(data.split(|b| *b == b'\n').next().unwrap_or_default()).into_owned();
    let now = 1_750_000_000_000;
    let _ = error::retry_after_ms(&first_line, now);
    let _ = error::parse_http_date(&first_line);
    for status in [400, 401, 404, 409, 429, 500, 503] {
        let response = provisio_core::host::HttpResponse {
            status,
            headers: vec![("Retry-After".into(), first_line.clone())],
            body: data.to_vec(),
        };
        let _ = error::error_from_response("GET http://127.0.0.1/Users", &response, now);
    }
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(page) = paging::parse_list_response(&json) {
            page.resources.iter().for_each(|r| drop(paging::resource_id(r)));
        }
        if let Some(spc) = discovery::ServiceProviderConfig::parse(&json) {
            let _ = spc.describe();
        }
    }
    // Paging over the lines as successive pages.
    let pages: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    for page_size in [None, Some(1), Some(100)] {
        let mut calls = 0;
        let fetch = |_start: u64, _count: Option<u32>| {
            let page = pages.get(calls).copied();
            calls += 1;
            std::future::ready(match page {
                Some(body) => serde_json::from_slice(body)
                    .map_err(|e| provisio_core::ConnectorError::protocol(e.to_string()))
                    .and_then(|v| paging::parse_list_response(&v).map_err(provisio_core::ConnectorError::protocol)),
                None => Err(provisio_core::ConnectorError::protocol("no more pages")),
            })
        };
        let _ = poll_ready(paging::collect_pages(page_size, fetch));
    }
}

/// Drive a future whose every await is ready (no executor needed).
fn poll_ready<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

/// A `pingid.properties` file; the parsed key never shows in `Debug`.
pub fn properties(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = provisio_connector_pingid::properties::parse_properties(text);
    if let Ok(p) = provisio_connector_pingid::properties::PingIdProperties::parse(text) {
        let shown = format!("{p:?}");
        let elsewhere = [p.idp_url.as_str(), p.org_alias.as_str(), p.use_signature.as_deref().unwrap_or("")];
        if p.use_base64_key.len() >= 8 && !elsewhere.iter().any(|v| v.contains(p.use_base64_key.as_str())) {
            assert!(!shown.contains(&p.use_base64_key), "the key shows in {shown}");
        }
    }
}
