//! The LDAP wire side of the LDAP source: connect (ldap://, StartTLS, ldaps://), bind, paged
//! subtree searches under the base DN, entries converted to [`Entry`]s, and every failure turned
//! into a sentence a directory administrator understands.
//!
//! * **TLS**: certificates are verified by default, against the system's roots or, with
//!   `ca_file`, against the CA certificates of that PEM file only. `verify_certificates = false`
//!   turns verification off (config check warns).
//! * **Paging**: every search carries the paged-results control (RFC 2696, OID
//!   1.2.840.113556.1.4.319) with `page_size` entries a page, so a server's size limit never
//!   truncates the scope, unless the root DSE says the server does not offer the control, or
//!   `page_size = 0`. A search the server then truncates (sizeLimitExceeded) is an error, never a
//!   partial scope.
//! * **Values**: text values are kept as text; values that are not UTF-8, and every value of the
//!   binary GUID attribute, are kept as base64 text (as the CSV and JSON files carry bytes).
//! * **Timeouts**: `connect_timeout` bounds the TCP connection and TLS setup; `read_timeout`
//!   bounds each answer (each entry of a search).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry};

use super::LdapSourceConfig;
use crate::entry::Entry;

/// The paged-results control.
pub const PAGED_RESULTS_OID: &str = "1.2.840.113556.1.4.319";

/// An open, bound connection and the settings its searches use.
pub(crate) struct Directory {
    ldap: Ldap,
    url: String,
    base: String,
    read_timeout: Duration,
    /// Page size; 0: no paging.
    page_size: u32,
    /// Why searches are not paged, when they are not.
    no_paging: Option<String>,
    /// Attribute names whose values are always kept as base64 (the binary GUID).
    binary: Vec<String>,
}

fn rc_name(rc: u32) -> &'static str {
    match rc {
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "error",
    }
}

impl Directory {
    /// Connect and bind (simple bind as `bind_dn`, or anonymous without one).
    pub async fn connect(cfg: &LdapSourceConfig, password: Option<&str>) -> Result<Directory, String> {
        let url = cfg.url.trim().to_string();
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(Duration::from_secs(cfg.connect_timeout.max(1)))
            .set_starttls(cfg.start_tls);
        if !cfg.verify_certificates {
            settings = settings.set_no_tls_verify(true);
        } else if let Some(ca) = &cfg.ca_file {
            settings = settings.set_config(Arc::new(tls_config(ca)?));
        }
        let (conn, mut ldap) =
            LdapConnAsync::with_settings(settings, &url).await.map_err(|e| connect_error(cfg, &url, e))?;
        tokio::spawn(async move {
            let _ = conn.drive().await;
        });
        let read_timeout = Duration::from_secs(cfg.read_timeout.max(1));
        if let Some(dn) = cfg.bind_dn.as_deref().filter(|d| !d.trim().is_empty()) {
            let result = ldap
                .with_timeout(read_timeout)
                .simple_bind(dn.trim(), password.unwrap_or(""))
                .await
                .and_then(|r| r.success());
            if let Err(e) = result {
                let _ = ldap.unbind().await;
                return Err(match result_code(&e) {
                    Some((49, _)) => format!(
                        "{url}: bind refused for {dn} (invalidCredentials): the bind DN or its password is wrong, or the account is locked; check bind_dn and bind_password"
                    ),
                    Some((13, _)) | Some((8, _)) => format!(
                        "{url}: the server refuses to bind {dn} over a connection without TLS ({}); use ldaps:// or start_tls = true",
                        describe_code(&e)
                    ),
                    _ => format!("{url}: bind as {dn} failed: {}", self::describe(&url, &e)),
                });
            }
        }
        let mut dir = Directory {
            ldap,
            url,
            base: cfg.base_dn.trim().to_string(),
            read_timeout,
            page_size: cfg.page_size,
            no_paging: None,
            binary: cfg.scope.binary_guid_attribute().map(|a| a.trim().to_ascii_lowercase()).into_iter().collect(),
        };
        if cfg.page_size == 0 {
            dir.no_paging = Some("paging is turned off (page_size = 0)".into());
        } else if !dir.offers_paging().await {
            dir.no_paging = Some(format!("the server does not offer paged results (OID {PAGED_RESULTS_OID})"));
        }
        Ok(dir)
    }

    /// Whether the root DSE lists the paged-results control. A root DSE that cannot be read
    /// (some servers hide it) counts as yes: the control is sent, non-critical.
    async fn offers_paging(&mut self) -> bool {
        let found = self
            .ldap
            .with_timeout(self.read_timeout)
            .search("", Scope::Base, "(objectClass=*)", vec!["supportedControl"])
            .await
            .and_then(|r| r.success());
        match found {
            Ok((entries, _)) => match entries.into_iter().next() {
                Some(e) => {
                    let e = SearchEntry::construct(e);
                    match e.attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case("supportedControl")) {
                        Some((_, v)) => v.iter().any(|c| c.trim() == PAGED_RESULTS_OID),
                        None => true,
                    }
                }
                None => true,
            },
            Err(_) => true,
        }
    }

    /// A subtree search under the base DN, every page of it.
    pub async fn search(&mut self, filter: &str, attrs: &[String]) -> Result<Vec<Entry>, String> {
        let mut out = Vec::new();
        self.search_each(filter, attrs, &mut |entry| {
            out.push(entry);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// [`Directory::search`], handing each entry to `each` as it arrives instead of collecting
    /// them; answers how many entries came. An error from `each` stops the search. As with
    /// `search`, a truncated or failed search is an error after the entries handed over so
    /// far: the caller must act on none of them.
    pub async fn search_each(
        &mut self,
        filter: &str,
        attrs: &[String],
        each: &mut dyn FnMut(Entry) -> Result<(), String>,
    ) -> Result<usize, String> {
        let mut adapters: Vec<Box<dyn Adapter<'_, String, Vec<String>>>> = vec![Box::new(EntriesOnly::new())];
        if self.no_paging.is_none() {
            adapters.push(Box::new(PagedResults::new(self.page_size.min(i32::MAX as u32) as i32)));
        }
        let base = self.base.clone();
        let url = self.url.clone();
        let mut stream = self
            .ldap
            .with_timeout(self.read_timeout)
            .streaming_search_with(adapters, &base, Scope::Subtree, filter, attrs.to_vec())
            .await
            .map_err(|e| self.search_error(filter, &e))?;
        let mut count = 0;
        loop {
            match stream.next().await {
                Ok(Some(raw)) => {
                    count += 1;
                    if let Err(e) = each(self.entry(SearchEntry::construct(raw), count)) {
                        let _ = stream.finish().await;
                        return Err(e);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = stream.finish().await;
                    return Err(self.search_error(filter, &e));
                }
            }
        }
        let result = stream.finish().await;
        if result.rc == 4 {
            let why = self.no_paging.clone().unwrap_or_else(|| "the paged search was still cut short".into());
            return Err(format!(
                "{url}: the server truncated the result at {count} entries (sizeLimitExceeded) and {why}; nothing was provisioned from a partial scope. Turn paging on (page_size = 500), or raise the bind account's size limit on the server"
            ));
        }
        if result.rc != 0 {
            return Err(self.search_error(filter, &LdapError::LdapResult { result }));
        }
        Ok(count)
    }

    /// Unbind (errors ignored: the read is over).
    pub async fn close(mut self) {
        let _ = self.ldap.unbind().await;
    }

    fn entry(&self, e: SearchEntry, n: usize) -> Entry {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut entry = Entry::new(e.dn, n);
        for (name, values) in e.attrs {
            let binary = self.binary.contains(&name.to_ascii_lowercase());
            for v in values {
                if binary {
                    entry.push(&name, b64.encode(v.as_bytes()));
                } else {
                    entry.push(&name, v);
                }
            }
        }
        for (name, values) in e.bin_attrs {
            for v in values {
                entry.push(&name, b64.encode(&v));
            }
        }
        entry
    }

    fn search_error(&self, filter: &str, e: &LdapError) -> String {
        let url = &self.url;
        match result_code(e) {
            Some((32, _)) => format!(
                "{url}: base DN {} does not exist (or the bind account cannot see it) (noSuchObject); check base_dn and the account's access rights",
                self.base
            ),
            Some((3, _)) => format!(
                "{url}: the server stopped the search for {filter} at its time limit (timeLimitExceeded); raise the bind account's time limit on the server, or narrow the scope"
            ),
            Some((4, _)) => format!(
                "{url}: the server truncated the search for {filter} (sizeLimitExceeded); nothing was provisioned from a partial scope"
            ),
            Some((11, _)) => format!(
                "{url}: the server refused the search for {filter} at an administrative limit (adminLimitExceeded); lower page_size or raise the limit on the server"
            ),
            Some((50, _)) => format!(
                "{url}: the bind account may not search {} (insufficientAccessRights); grant it read access",
                self.base
            ),
            Some((87, _)) => format!("{url}: the server refused the filter {filter} (filterError)"),
            _ => match e {
                LdapError::FilterParsing => {
                    format!("{url}: the filter {filter} cannot be sent (it does not parse as LDAP)")
                }
                LdapError::Timeout { .. } => format!(
                    "{url}: no answer within read_timeout ({} s) while searching {filter}; the server is overloaded or the scope is large: raise read_timeout",
                    self.read_timeout.as_secs()
                ),
                other => format!("{url}: searching {filter} under {} failed: {}", self.base, describe(url, other)),
            },
        }
    }
}

/// The LDAP result code of an error, when it is an LDAP result.
fn result_code(e: &LdapError) -> Option<(u32, String)> {
    match e {
        LdapError::LdapResult { result } => Some((result.rc, result.text.clone())),
        _ => None,
    }
}

fn describe_code(e: &LdapError) -> String {
    match e {
        LdapError::LdapResult { result } => {
            let text = if result.text.trim().is_empty() { String::new() } else { format!(": {}", result.text.trim()) };
            format!("result {} {}{text}", result.rc, rc_name(result.rc))
        }
        other => other.to_string(),
    }
}

fn describe(url: &str, e: &LdapError) -> String {
    match e {
        LdapError::LdapResult { .. } => describe_code(e),
        LdapError::Io { source } => format!("the connection to {url} failed: {source}"),
        other => other.to_string(),
    }
}

/// Why connecting failed, for the person who configured the URL.
fn connect_error(cfg: &LdapSourceConfig, url: &str, e: LdapError) -> String {
    match &e {
        LdapError::Io { source } => {
            let why = match source.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    "connection refused (is the server running, and is the port right?)".to_string()
                }
                std::io::ErrorKind::TimedOut => {
                    format!("no connection within connect_timeout ({} s)", cfg.connect_timeout)
                }
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                    if cfg.start_tls || url.starts_with("ldaps") =>
                {
                    format!(
                        "the TLS handshake failed ({source}); if the server's certificate is issued by a private CA, set ca_file to that CA's PEM file"
                    )
                }
                _ => source.to_string(),
            };
            format!("cannot reach {url}: {why}")
        }
        LdapError::Timeout { .. } => {
            format!("cannot reach {url}: no connection within connect_timeout ({} s)", cfg.connect_timeout)
        }
        LdapError::UrlParsing { .. } | LdapError::UnknownScheme(_) => {
            format!("'{url}' is not an LDAP URL; write ldap://host:port or ldaps://host:port")
        }
        LdapError::Rustls { source } => format!(
            "cannot reach {url}: the TLS handshake failed ({source}); if the server's certificate is issued by a private CA, set ca_file to that CA's PEM file"
        ),
        LdapError::LdapResult { .. } if cfg.start_tls => {
            format!(
                "cannot reach {url}: the server refused StartTLS ({}); check that TLS is configured on the server",
                describe_code(&e)
            )
        }
        other => format!("cannot reach {url}: {}", describe(url, other)),
    }
}

/// A TLS client configuration trusting only the CA certificates of `ca_file` (PEM).
fn tls_config(ca_file: &Path) -> Result<rustls::ClientConfig, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    let shown = ca_file.display();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| format!("ca_file {shown}: cannot read it: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("ca_file {shown}: not a PEM file of certificates: {e}"))?;
    if certs.is_empty() {
        return Err(format!("ca_file {shown}: holds no certificate (expected -----BEGIN CERTIFICATE----- blocks)"));
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| format!("ca_file {shown}: a certificate cannot be used as a CA: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
