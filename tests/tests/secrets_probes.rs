//! Secrets never leak, probed as a hostile or careless target would probe
//! them (issue 27): the real `provisio` binary and SCIM connector against
//! scim2-server behind the test proxy, whose fault hook echoes every request
//! header back in its error bodies.
//!
//! The probes:
//! - Basic credentials with user names of every length modulo 3, so the
//!   password starts at each of the three base64 offsets of the header;
//! - OAuth client credentials whose secret holds characters that
//!   form-encoding changes, with a token obtained at run time that the
//!   target echoes in a 500 and in a 401, and the token endpoint quotes in
//!   its own error (and a wrong secret the token endpoint echoes);
//! - `provision --user` over a source whose malformed line starts with the
//!   token (no connection is open when it is read);
//! - a masked value mis-folded in the LDIF;
//! - weak secrets, which `config check` warns about.
//!
//! Every output surface is searched ([`provisio_e2e::leaks`]): stdout and
//! stderr of each command at every level (`-v` to `-vvv`) in both log
//! formats, the audit log, the state database, `channels list --json`, and a
//! service's `/health/ready`, `/metrics` and status page with its JSON log;
//! each secret in plain text, in each encoding, and inside every base64 run
//! decoded.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use provisio_e2e::leaks::{Artifacts, Secret, client_credentials, map_masked_password};
use provisio_e2e::proxy::{self, Proxy};
use provisio_e2e::scenario::{Person, Scenario, ScenarioBuilder, directory_ldif};
use provisio_e2e::scim_peer::{ScimPeer, random_token};
use provisio_e2e::service::Service;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const INPUTS: &[&str] = &["provisio.toml", "directory.ldif"];

/// Every command that reaches the target or prints what it said, at every
/// level, in both log formats; each run's output is collected.
fn exercise(s: &Scenario, label: &str, a: &mut Artifacts) {
    let commands: &[&[&str]] = &[
        &["config", "check"],
        &["connections", "test"],
        &["plan", "--json"],
        &["sync", "--once"],
        &["provision", "--user", "alice"],
        &["channels", "list", "--json"],
    ];
    let levels: &[&[&str]] =
        &[&[], &["-v"], &["-vv"], &["-vvv"], &["--log-format", "json"], &["--log-format", "json", "-vvv"]];
    for level in levels {
        for command in commands {
            let args: Vec<&str> = level.iter().chain(command.iter()).copied().collect();
            a.output(&format!("{label}: provisio {}", args.join(" ")), &s.run(&args));
        }
    }
    a.files(label, s.dir(), INPUTS);
}

/// One cycle as a service: its health, metrics, status page and JSON log.
fn serve(s: &Scenario, label: &str, a: &mut Artifacts) {
    let mut service = Service::start(s, &["-vvv"]);
    let ready = service.wait_for("/health/ready", "the first cycle", |_, body| !body.contains("has not finished"));
    a.add(&format!("{label}: /health/ready"), ready);
    for path in ["/metrics", "/"] {
        let (status, _, body) = service.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        a.add(&format!("{label}: {path}"), body);
    }
    service.terminate();
    a.add(&format!("{label}: the service's JSON log"), service.lines().join("\n"));
    a.files(&format!("{label} (service)"), s.dir(), INPUTS);
}

/// Every request header, as a careless target quotes them in an error.
fn echo(r: &proxy::Request, what: &str) -> String {
    let headers: Vec<String> = r.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    format!("{what}; you sent {} {} with {}", r.method, r.path, headers.join(", "))
}

/// Answers every create (POST but searches) with a 500 that echoes the request's headers.
fn creates_fail_with_an_echo(r: &proxy::Request) -> Option<proxy::Response> {
    (r.method == "POST" && !r.path_only().ends_with("/.search"))
        .then(|| proxy::Response::scim_error(500, &echo(r, "cannot store the user")))
}

fn people(s: &Scenario) {
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
}

/// Text of a run, for the assertions that say what the user sees.
fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn basic_passwords_never_leak_whatever_the_length_of_the_user_name() {
    let tenant = ScimPeer::shared().unique_tenant("probe-basic");
    let pass = format!("Basic-Pw-{}", random_token());
    let mut a = Artifacts::default();
    let mut secrets = Vec::new();
    // `user:` is 1, 2 and 0 bytes past a multiple of 3: the password starts
    // at each base64 offset of the header.
    for user in ["ops", "svc1", "admin"] {
        let proxy = Proxy::builder(&tenant.base_url)
            .require_basic(user, &pass)
            .forward_bearer(&tenant.token)
            .fault(creates_fail_with_an_echo)
            .start();
        let s = ScenarioBuilder::new("scim")
            .setting("scim_url", proxy.url().as_str())
            .setting("authentication_method", "basic")
            .setting("basic_username", user)
            .secret("basic_password", &pass)
            .build();
        people(&s);
        let out = s.run(&["sync", "--once"]);
        let shown = text(&out);
        assert!(shown.contains("500") && shown.contains("authorization: ******"), "{user}: the echo, masked:\n{shown}");
        a.output(&format!("{user}: provisio sync --once"), &out);
        exercise(&s, user, &mut a);
        if user == "ops" {
            serve(&s, user, &mut a);
        }
        secrets.push(Secret::new(&format!("Basic credentials of {user}"), &format!("{user}:{pass}")));
        secrets.push(Secret::new(&format!("the Basic header of {user}"), &STANDARD.encode(format!("{user}:{pass}"))));
    }
    assert!(tenant.users().is_empty(), "every create was refused");
    secrets.push(Secret::new("the Basic password", &pass));
    a.assert_clean(&secrets);
}

/// A token endpoint handing out `access`; once `revoked` is set (by the
/// target's 401) its next answer is an error quoting the revoked token. A
/// wrong client is refused with the request's `Authorization` echoed.
fn token_endpoint(
    secret: String,
    access: String,
    revoked: Arc<AtomicBool>,
) -> impl Fn(&proxy::Request) -> Option<proxy::Response> + Send + Sync + 'static {
    move |r| {
        let json = |status: u16, body: serde_json::Value| {
            proxy::Response::new(status).header("Content-Type", "application/json").body(body.to_string())
        };
        if client_credentials(r) != Some(("app1".to_owned(), secret.clone())) {
            return Some(json(401, json!({"error": "invalid_client", "error_description": echo(r, "unknown client")})));
        }
        if revoked.swap(false, Ordering::SeqCst) {
            let why = format!("token {access} was revoked; you sent {}", String::from_utf8_lossy(&r.body));
            return Some(json(400, json!({"error": "invalid_grant", "error_description": why})));
        }
        Some(json(200, json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600})))
    }
}

#[test]
fn client_secrets_that_form_encoding_changes_and_tokens_obtained_at_run_time_never_leak() {
    let tenant = ScimPeer::shared().unique_tenant("probe-oauth");
    let secret = format!("a\"b\\c$.*99 {}", random_token());
    let access = format!("dyn-Access-Token-{}", random_token());
    let revoked = Arc::new(AtomicBool::new(false));
    let tokens = Proxy::builder("http://127.0.0.1:9")
        .fault(token_endpoint(secret.clone(), access.clone(), revoked.clone()))
        .start();
    let bearer = format!("Bearer {access}");
    let target = Proxy::builder(&tenant.base_url).forward_bearer(&tenant.token).start();
    let oauth = |client_secret: &str| {
        ScenarioBuilder::new("scim")
            .setting("scim_url", target.url().as_str())
            .setting("authentication_method", "oauth2_client_credentials")
            .setting("token_endpoint", format!("{}/oauth2/token", tokens.url()))
            .setting("client_id", "app1")
            .secret("client_secret", client_secret)
            .build()
    };
    let mut a = Artifacts::default();
    let s = oauth(&secret);
    people(&s);

    // The token works, but creates fail with a 500 echoing it.
    let expected = bearer.clone();
    target.set_fault(move |r| match r.header("authorization") {
        Some(h) if h == expected => creates_fail_with_an_echo(r),
        _ => Some(proxy::Response::scim_error(401, "invalid token")),
    });
    let out = s.run(&["sync", "--once"]);
    let shown = text(&out);
    assert!(shown.contains("500") && shown.contains("authorization: ******"), "the echo, masked:\n{shown}");
    a.output("500: provisio sync --once", &out);
    exercise(&s, "500", &mut a);

    // Every request is refused with a 401 echoing the token; asked again,
    // the token endpoint answers an error quoting it.
    let flag = revoked.clone();
    target.set_fault(move |r| {
        flag.store(true, Ordering::SeqCst);
        Some(proxy::Response::scim_error(401, &echo(r, "token revoked")))
    });
    let out = s.run(&["connections", "test"]);
    let shown = text(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(shown.contains("token endpoint") && shown.contains("******"), "its error, masked:\n{shown}");
    a.output("401: provisio connections test", &out);
    exercise(&s, "401", &mut a);
    serve(&s, "401", &mut a);

    // A wrong client secret, echoed by the token endpoint in its refusal.
    let wrong = format!("a\"b\\c$.*99 wr0ng {}", random_token());
    let bad = oauth(&wrong);
    people(&bad);
    let out = bad.run(&["connections", "test"]);
    assert!(!out.status.success() && text(&out).contains("refused the client credentials"), "{}", text(&out));
    exercise(&bad, "wrong client secret", &mut a);

    assert!(tenant.users().is_empty(), "every create was refused");
    a.assert_clean(&[
        Secret::new("the client secret", &secret),
        Secret::new("the wrong client secret", &wrong),
        Secret::new("the access token obtained at run time", &access),
    ]);
}

#[test]
fn provision_user_over_a_malformed_source_quotes_no_secret() {
    let tenant = ScimPeer::shared().unique_tenant("probe-provision");
    let token = format!("Tok-{}", random_token());
    let expected = format!("Bearer {token}");
    let proxy = Proxy::builder(&tenant.base_url)
        .forward_bearer(&tenant.token)
        .fault(move |r| {
            (r.header("authorization") != Some(expected.as_str()))
                .then(|| proxy::Response::scim_error(401, "invalid bearer token"))
        })
        .start();
    let s = Scenario::scim(&proxy.url(), &token).build();
    // A line that starts with the token, where LDIF wants `attribute: value`.
    let ldif = directory_ldif(&[Person::new("alice")], &[])
        .replace("uid: alice\n", &format!("uid: alice\n{token}-and-rest-of-pw\n"));
    std::fs::write(&s.ldif, ldif).unwrap();
    let out = s.run(&["provision", "--user", "alice"]);
    let shown = text(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(shown.contains("directory.ldif line") && shown.contains("(it starts with '******-and"), "{shown}");
    let mut a = Artifacts::default();
    a.output("provision --user alice", &out);
    exercise(&s, "malformed", &mut a);
    assert!(tenant.users().is_empty());
    a.assert_clean(&[Secret::new("the bearer token", &token)]);
}

#[test]
fn a_mis_folded_masked_value_is_not_quoted_nor_stored() {
    let tenant = ScimPeer::shared().unique_tenant("probe-fold");
    let token = format!("fold-tok-{}", random_token());
    let proxy = Proxy::builder(&tenant.base_url).forward_bearer(&tenant.token).start();
    let s = Scenario::scim(&proxy.url(), &token).build();
    map_masked_password(&s);
    let (first, rest) = (format!("pw-first-{}", random_token()), format!("{}-rest-of-pw", random_token()));
    // The continued line lost its leading space.
    let ldif = directory_ldif(&[Person::new("alice"), Person::new("bob")], &[])
        .replace("uid: alice\n", &format!("uid: alice\nuserPassword: {first}\n{rest}\n"));
    std::fs::write(&s.ldif, ldif).unwrap();
    let out = s.run(&["sync", "--once"]);
    let shown = text(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(
        shown.contains("directory.ldif line") && shown.contains("right after a userPassword line"),
        "the error says where and how to fix it:\n{shown}"
    );
    let mut a = Artifacts::default();
    a.output("sync --once", &out);
    exercise(&s, "mis-folded", &mut a);
    serve(&s, "mis-folded", &mut a);
    assert!(tenant.users().is_empty(), "nothing of a source that cannot be read is acted on");
    a.assert_clean(&[
        Secret::new("the mis-folded password", &format!("{first}{rest}")),
        Secret::new("its first line", &first),
        Secret::new("its mis-folded rest", &rest),
    ]);
}

#[test]
fn config_check_warns_about_weak_secrets_and_never_quotes_one() {
    let warned = |token: &str, url: &str| {
        let s = Scenario::scim(url, token).build();
        people(&s);
        text(&s.run(&["config", "check"]))
    };
    let out = warned("xyz", "http://127.0.0.1:9/scim/v2");
    assert!(out.contains("weak secret") && out.contains("fewer than the 8"), "{out}");
    assert!(!out.contains("xyz"), "a short secret is masked as a word: {out}");
    let out = warned("Provisioning", "http://127.0.0.1:9/scim/v2");
    assert!(out.contains("plain word"), "{out}");
    let out = warned("t0k-in-the-path-77", "http://127.0.0.1:9/t0k-in-the-path-77/scim/v2");
    assert!(out.contains("also appears in setting 'scim_url'"), "{out}");
    assert!(!warned("Tok-91f3-long-enough", "http://127.0.0.1:9/scim/v2").contains("weak"));

    // A secret of the wrong type, inline: refused without being quoted.
    let s = ScenarioBuilder::new("scim")
        .setting("scim_url", "http://127.0.0.1:9/scim/v2")
        .setting("authentication_method", "basic")
        .setting("basic_username", "ops")
        .setting("basic_password", 98765432101_i64)
        .build();
    people(&s);
    for args in [&["config", "check"][..], &["connections", "test"], &["provision", "--user", "alice"]] {
        let out = text(&s.run(args));
        assert!(!out.contains("98765432101"), "{args:?}: {out}");
        if args[0] == "config" {
            assert!(out.contains("'Basic Authentication Password' must be text, not a number"), "{out}");
        }
    }
}
