//! The engine end to end against the SCIM quirks it must survive (see the
//! table "Quirks a SCIM client must handle" in the test-peer notes): the
//! real `provisio` binary and the real `scim` connector library against
//! scim2-server (with capability variants), our strict SCIM 1.1 server,
//! an OAuth 2 token endpoint, and injected faults.
//!
//! Each test asserts what the target holds afterwards, and counts requests
//! where the quirk is about what is sent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use provisio_e2e::proxy::{self, Proxy, Recorded};
use provisio_e2e::scenario::{Group, Person, Scenario, ScenarioBuilder};
use provisio_e2e::scim_peer::{ScimPeer, random_token};
use provisio_e2e::scim11_server::{CORE_1_0, Scim11Server};
use provisio_e2e::{profile_dir, provisio_command, stderr, stdout};
use serde_json::{Value, json};

fn user<'a>(users: &'a [Value], name: &str) -> &'a Value {
    users
        .iter()
        .find(|u| u["userName"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .unwrap_or_else(|| panic!("no user {name} at the target: {users:#?}"))
}

fn active(u: &Value) -> bool {
    u["active"].as_bool().unwrap_or(true)
}

fn member_ids(g: &Value) -> Vec<String> {
    let mut m: Vec<String> = g["members"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["value"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    m.sort();
    m
}

fn ids_of(users: &[Value], names: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = names.iter().map(|n| user(users, n)["id"].as_str().expect("an id").to_owned()).collect();
    ids.sort();
    ids
}

fn audit_events(s: &Scenario, kind: &str) -> usize {
    s.audit().iter().filter(|e| e["event_type"] == kind).count()
}

/// The cells of a table row printed by provisio (comfy-table, UTF-8 borders).
fn cells(line: &str) -> Vec<String> {
    line.split(['│', '┆']).map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect()
}

// ---------------------------------------------------------------- SCIM 1.1

/// The strict SCIM 1.1 server itself refuses what a 1.1 client must not
/// send, so the engine test below means something.
#[test]
fn the_scim11_test_server_refuses_what_a_1_1_client_must_not_send() {
    let server = Scim11Server::start();
    let http = reqwest::blocking::Client::builder().no_proxy().build().unwrap();
    let url = |p: &str| format!("{}{p}", server.base_url());
    let auth = format!("Bearer {}", server.token());
    let post = |ct: &str, body: Value| {
        http.post(url("/Users"))
            .header("Authorization", &auth)
            .header("Content-Type", ct)
            .body(body.to_string())
            .send()
            .unwrap()
    };
    let good = json!({"schemas": [CORE_1_0], "userName": "alice", "active": true});
    assert_eq!(post("application/scim+json", good.clone()).status(), 415);
    let v2 = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice"});
    let r = post("application/json", v2);
    assert_eq!(r.status(), 400);
    let body: Value = r.json().unwrap();
    assert_eq!(body["Errors"][0]["code"], "400", "{body}");
    assert_eq!(post("application/json", good.clone()).status(), 201);
    let r = post("application/json", json!({"schemas": [CORE_1_0], "userName": "ALICE"}));
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().unwrap()["Errors"][0]["code"], "409");
    let get = |p: &str| http.get(url(p)).header("Authorization", &auth).send().unwrap();
    assert_eq!(get("/ServiceProviderConfigs").status(), 200);
    assert_eq!(get("/ServiceProviderConfig").status(), 404);
    let list: Value = get("/Users?filter=userName%20eq%20%22Alice%22").json().unwrap();
    assert_eq!(list["schemas"], json!([CORE_1_0]));
    assert_eq!(list["totalResults"], 1);
    assert_eq!(http.get(url("/Users")).send().unwrap().status(), 401);
    assert_eq!(server.users().len(), 1);
}

#[test]
fn scim_1_1_dialect_create_update_and_disable() {
    let server = Scim11Server::start();
    let s = Scenario::scim(&server.base_url(), server.token()).setting("scim_version", "1.1").build();
    s.write_directory(&[Person::new("alice"), Person::new("bob"), Person::new("chloe")], &[]);
    let out = s.sync_ok();
    let refused = server.refused();
    assert!(refused.is_empty(), "the 1.1 server refused requests: {refused:#?}\n{out}");
    let users = server.users();
    assert_eq!(users.len(), 3, "{out}");
    let bob = user(&users, "bob");
    assert_eq!(bob["schemas"], json!([CORE_1_0]), "{bob}");
    assert_eq!(bob["name"]["givenName"], "Bob");
    assert_eq!(bob["title"], "Engineer");
    assert_eq!(bob["emails"][0]["value"], "bob@example.org");
    assert!(active(bob));

    // Every body went as application/json (the server refuses anything else;
    // this says it was checked).
    let writes: Vec<_> = server.requests().into_iter().filter(|r| r.is_write()).collect();
    assert!(writes.iter().all(|r| r.content_type.as_deref().is_some_and(|c| c.starts_with("application/json"))));

    // alice changes, bob is disabled in the source, chloe leaves it.
    server.reset_log();
    s.write_directory(&[Person::new("alice").title("Principal Engineer"), Person::new("bob").disabled()], &[]);
    let out = s.sync_ok();
    let refused = server.refused();
    assert!(refused.is_empty(), "the 1.1 server refused requests: {refused:#?}\n{out}");
    let users = server.users();
    assert_eq!(users.len(), 3, "Disable keeps the accounts: {out}");
    assert_eq!(user(&users, "alice")["title"], "Principal Engineer");
    assert_eq!(user(&users, "alice")["name"]["familyName"], "Tester", "the PUT kept what is mapped");
    assert!(active(user(&users, "alice")));
    assert!(!active(user(&users, "bob")), "bob should be disabled: {out}");
    assert!(!active(user(&users, "chloe")), "chloe should be disabled: {out}");
    assert_eq!(server.count("PATCH", "/"), 0, "users are never PATCHed");

    // Nothing changed: nothing is written.
    server.reset_log();
    s.sync_ok();
    let writes: Vec<_> = server.requests().into_iter().filter(|r| r.is_write()).collect();
    assert!(writes.is_empty(), "an unchanged cycle wrote: {writes:#?}");
}

#[test]
fn scim_1_1_existing_users_are_linked_also_after_a_409() {
    let server = Scim11Server::start();
    // dmitri exists already (in another case): the lookup finds him.
    let dmitri = server.insert_user(json!({"userName": "DMITRI", "title": "Old"}));
    // erin is created by someone else between the lookup and the create:
    // the create gets a 409 with a 1.1 error body.
    let erin = server.insert_user_after_lookup(json!({"userName": "erin", "title": "Old"}));
    let s = Scenario::scim(&server.base_url(), server.token())
        .setting("scim_version", "1.1")
        .remove_user_action("Delete")
        .build();
    s.write_directory(&[Person::new("dmitri"), Person::new("erin")], &[]);
    let out = s.sync_ok();

    let users = server.users();
    assert_eq!(users.len(), 2, "linked, not duplicated: {users:#?}\n{out}");
    assert_eq!(user(&users, "dmitri")["id"], dmitri.as_str());
    assert_eq!(user(&users, "erin")["id"], erin.as_str());
    assert_eq!(user(&users, "dmitri")["title"], "Engineer", "the record was pushed onto the linked account");
    assert_eq!(user(&users, "erin")["title"], "Engineer", "the record was pushed onto the linked account");
    let conflicts: Vec<_> = server.requests().into_iter().filter(|r| r.status == 409).collect();
    assert_eq!(conflicts.len(), 1, "exactly erin's create met a 409: {:#?}", server.requests());
    assert_eq!(conflicts[0].method, "POST");
    assert_eq!(audit_events(&s, "LINK"), 2, "{:#?}", s.audit());
    assert_eq!(audit_events(&s, "CREATE"), 0, "{:#?}", s.audit());

    // erin leaves the source: deleted (a SCIM 1.1 DELETE answers 200, not 204).
    server.reset_log();
    s.write_directory(&[Person::new("dmitri")], &[]);
    let out = s.sync_ok();
    let users = server.users();
    assert_eq!(users.len(), 1, "{out}");
    assert_eq!(users[0]["id"], dmitri.as_str());
    let deletes: Vec<_> = server.requests().into_iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 1, "{deletes:#?}");
    assert_eq!((deletes[0].path.as_str(), deletes[0].status), (format!("/Users/{erin}").as_str(), 200));
    assert_eq!(audit_events(&s, "DELETE"), 1, "{:#?}", s.audit());
}

// ---------------------------------------------------------------- OAuth 2

/// One request to the token endpoint.
#[derive(Debug, Clone)]
struct TokenCall {
    /// Where the client credentials were: "basic", "form" or "none".
    via: &'static str,
    grant_type: Option<String>,
    accepted: bool,
}

fn form(text: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{text}"))
        .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default()
}

/// A client-credentials token endpoint (RFC 6749 §4.4) as a proxy fault hook.
fn token_endpoint(
    client_id: String,
    secret: String,
    access_token: String,
    calls: Arc<Mutex<Vec<TokenCall>>>,
) -> impl Fn(&proxy::Request) -> Option<proxy::Response> + Send + Sync + 'static {
    move |r| {
        let oauth_error = |status: u16, code: &str| {
            Some(
                proxy::Response::new(status)
                    .header("Content-Type", "application/json")
                    .body(json!({"error": code}).to_string()),
            )
        };
        if r.method != "POST" || r.path_only() != "/oauth2/token" {
            return oauth_error(404, "not_found");
        }
        let fields = form(&String::from_utf8_lossy(&r.body));
        let field = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let decode = |s: &str| form(&format!("v={s}")).pop().map(|(_, v)| v).unwrap_or_default();
        let basic = r.header("authorization").and_then(|h| h.strip_prefix("Basic ")).and_then(|b| {
            let raw = base64::engine::general_purpose::STANDARD.decode(b.trim()).ok()?;
            let raw = String::from_utf8(raw).ok()?;
            let (id, pw) = raw.split_once(':')?;
            Some((id.to_owned(), pw.to_owned()))
        });
        let (via, id, pw) = match (basic, field("client_id"), field("client_secret")) {
            (Some((id, pw)), _, _) => ("basic", id, pw),
            (None, Some(id), Some(pw)) => ("form", id, pw),
            _ => ("none", String::new(), String::new()),
        };
        let form_type = r.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        let grant_type = field("grant_type");
        let creds_ok = (id == client_id || decode(&id) == client_id) && (pw == secret || decode(&pw) == secret);
        let accepted = form_type && creds_ok && grant_type.as_deref() == Some("client_credentials");
        calls.lock().unwrap().push(TokenCall { via, grant_type: grant_type.clone(), accepted });
        if !form_type || grant_type.as_deref() != Some("client_credentials") {
            return oauth_error(400, "unsupported_grant_type");
        }
        if !creds_ok {
            return oauth_error(401, "invalid_client");
        }
        Some(
            proxy::Response::new(200)
                .header("Content-Type", "application/json")
                .header("Cache-Control", "no-store")
                .body(json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 3600}).to_string()),
        )
    }
}

#[test]
fn oauth2_client_credentials_fetch_one_token_per_cycle_and_never_leak_the_secret() {
    let t = ScimPeer::shared().unique_tenant("oauth");
    let calls = Arc::new(Mutex::new(Vec::new()));
    let client_id = "provisio-e2e";
    let secret = format!("cs-{}", random_token());
    // The proxy's upstream is never reached: the hook answers everything.
    let tokens = Proxy::builder("http://127.0.0.1:9")
        .fault(token_endpoint(client_id.to_owned(), secret.clone(), t.token.clone(), calls.clone()))
        .start();
    let s = ScenarioBuilder::new("scim")
        .setting("scim_url", t.base_url.as_str())
        .setting("authentication_method", "oauth2_client_credentials")
        .setting("token_endpoint", format!("{}/oauth2/token", tokens.url()))
        .setting("client_id", client_id)
        .secret("client_secret", &secret)
        .build();
    s.write_directory(&[Person::new("alice"), Person::new("bob"), Person::new("chloe")], &[]);

    let out = s.run(&["sync", "--once"]);
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "sync failed:\n{so}\n{se}\ntoken calls: {:?}", calls.lock().unwrap());
    assert!(!so.contains("failed:"), "{so}");
    assert_eq!(t.users().len(), 3, "{so}");
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "one token for the whole cycle (cached): {calls:?}");
    assert!(calls[0].accepted, "{calls:?}");
    assert_eq!(calls[0].grant_type.as_deref(), Some("client_credentials"));
    eprintln!("the client credentials were sent by {}", calls[0].via);

    let audit = std::fs::read_to_string(s.audit_path()).unwrap_or_default();
    assert!(!audit.is_empty(), "an audit log was written");
    for (what, text) in [("stdout", &so), ("stderr", &se), ("the audit log", &audit)] {
        assert!(!text.contains(&secret), "the client secret leaked into {what}:\n{text}");
    }
    let state = std::fs::read(s.state_path()).expect("the state store");
    assert!(!state.windows(secret.len()).any(|w| w == secret.as_bytes()), "the client secret is in the state store");
    let config = std::fs::read_to_string(s.config_path()).unwrap();
    assert!(!config.contains(&secret), "the secret is given by reference");
}

// ---------------------------------------------------------------- ETags

fn is_user_put(r: &proxy::Request) -> bool {
    r.method == "PUT" && r.path_only().starts_with("/Users/")
}

#[test]
fn a_stale_etag_is_re_read_and_retried_once_and_a_persistent_412_marks_the_user_dirty() {
    let t = ScimPeer::shared().unique_tenant("etag");
    let proxy = Proxy::start(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    s.sync_ok();
    let alice_id = user(&t.users(), "alice")["id"].as_str().unwrap().to_owned();

    // The first PUT meets a 412 (a SCIM error, no scimType); the rest pass.
    let first = Arc::new(AtomicBool::new(true));
    let if_match = Arc::new(Mutex::new(Vec::<Option<String>>::new()));
    let (f, m) = (first.clone(), if_match.clone());
    proxy.set_fault(move |r| {
        if !is_user_put(r) {
            return None;
        }
        m.lock().unwrap().push(r.header("if-match").map(str::to_owned));
        f.swap(false, Ordering::SeqCst)
            .then(|| proxy::Response::scim_error(412, "Precondition Failed: the resource has changed"))
    });
    proxy.reset_counts();
    s.write_directory(&[Person::new("alice").title("Principal Engineer"), Person::new("bob")], &[]);
    let out = s.sync_ok();
    assert_eq!(user(&t.users(), "alice")["title"], "Principal Engineer", "{out}");
    let path = format!("/Users/{alice_id}");
    let requests = proxy.requests();
    let puts: Vec<(usize, &Recorded)> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "PUT" && r.path.split('?').next() == Some(path.as_str()))
        .collect();
    assert_eq!(puts.len(), 2, "one PUT, one retry: {requests:#?}");
    assert_eq!((puts[0].1.status, puts[0].1.local), (412, true));
    assert_eq!(puts[1].1.status, 200, "{requests:#?}");
    // The re-read: GET /Users/{id}, or a lookup by filter.
    let between = &requests[puts[0].0..puts[1].0];
    assert!(
        between.iter().any(|r| r.method == "GET" && r.path.starts_with("/Users")),
        "re-read between the 412 and the retry: {requests:#?}"
    );
    eprintln!("If-Match on the PUTs: {:?}", if_match.lock().unwrap());

    // Every PUT meets a 412: bob fails, is marked dirty, and says why.
    proxy.set_fault(|r| is_user_put(r).then(|| proxy::Response::scim_error(412, "Precondition Failed")));
    proxy.reset_counts();
    let bob_id = user(&t.users(), "bob")["id"].as_str().unwrap().to_owned();
    s.write_directory(&[Person::new("alice").title("Principal Engineer"), Person::new("bob").title("Lead")], &[]);
    let run = s.run(&["sync", "--once"]);
    let out = stdout(&run);
    assert_eq!(run.status.code(), Some(6), "the cycle ran, a user failed: {out}");
    assert!(out.contains("user bob failed"), "{out}");
    assert_eq!(user(&t.users(), "bob")["title"], "Engineer");
    let bob_puts = proxy
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.starts_with(&format!("/Users/{bob_id}")))
        .count();
    assert_eq!(bob_puts, 2, "re-read and retried once, no more: {:#?}", proxy.requests());

    let list: Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).expect("channels list --json");
    let channel = &list[0];
    assert_eq!(channel["dirty"], 1, "{list:#}");
    let error = channel["last_error"].as_str().unwrap_or_default().to_ascii_lowercase();
    assert!(error.contains("412") || error.contains("precondition"), "{list:#}");
    let table = s.run_ok(&["channels", "list"]);
    let header = table.lines().map(cells).find(|c| c.iter().any(|h| h == "DIRTY")).expect("the header row");
    let dirty = header.iter().position(|h| h == "DIRTY").expect("a DIRTY column");
    let row = table.lines().map(cells).find(|c| c.get(1).is_some_and(|ch| ch == "people")).expect("the channel's row");
    assert_eq!(row[dirty], "1", "DIRTY column: {table}");
    assert!(table.contains("412") || table.to_ascii_lowercase().contains("precondition"), "{table}");

    // The fault is gone: the next cycle retries bob and succeeds.
    proxy.clear_fault();
    s.sync_ok();
    assert_eq!(user(&t.users(), "bob")["title"], "Lead");
    let list: Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).unwrap();
    assert_eq!(list[0]["dirty"], 0, "{list:#}");
}

// ---------------------------------------------------------------- PATCH

#[test]
fn groups_fall_back_to_put_when_the_target_does_not_support_patch() {
    let peer = ScimPeer::builder().spc_flags(&["--no-patch"]).start();
    let t = peer.unique_tenant("nopatch");
    let proxy = Proxy::start(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).setting("use_patch_for_group_updates", true).groups().build();
    let people = [Person::new("alice"), Person::new("bob"), Person::new("chloe")];
    s.write_directory(&people, &[Group::new("engineering", &["alice", "bob"])]);
    s.sync_ok();
    let users = t.users();
    let groups = t.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(member_ids(&groups[0]), ids_of(&users, &["alice", "bob"]));

    proxy.reset_counts();
    s.write_directory(&people, &[Group::new("engineering", &["alice", "chloe"])]);
    let out = s.sync_ok();
    let groups = t.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(member_ids(&groups[0]), ids_of(&users, &["alice", "chloe"]), "{out}");

    let requests = proxy.requests();
    let patched_ok = requests.iter().filter(|r| r.method == "PATCH" && r.status < 300).count();
    assert_eq!(patched_ok, 0, "PATCH is unsupported, yet one succeeded?: {requests:#?}");
    for (i, r) in requests.iter().enumerate().filter(|(_, r)| r.method == "PATCH") {
        assert_eq!(r.status, 501, "{requests:#?}");
        let put_after = requests[i..].iter().any(|p| p.method == "PUT" && p.path == r.path && p.status == 200);
        assert!(put_after, "a 501 on PATCH {} is followed by a PUT: {requests:#?}", r.path);
    }
    let group_puts =
        requests.iter().filter(|r| r.method == "PUT" && r.path.starts_with("/Groups/") && r.status == 200).count();
    assert!(group_puts >= 1, "the membership went by PUT: {requests:#?}");
}

// ---------------------------------------------------------------- paging

#[test]
fn a_group_on_the_second_page_is_linked_and_120_users_settle() {
    let peer = ScimPeer::builder().spc_flags(&["--max-results", "50"]).start();
    let t = peer.unique_tenant("paging");
    let mut g57 = String::new();
    for i in 1..=60 {
        let id = t.create_group(json!({"displayName": format!("g{i:02}")}));
        if i == 57 {
            g57 = id;
        }
    }
    let proxy = Proxy::start(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).groups().build();
    let people: Vec<Person> = (1..=120).map(|i| Person::new(&format!("u{i:03}"))).collect();
    let members = ["u001", "u002", "u003", "u050", "u120"];
    s.write_directory(&people, &[Group::new("g57", &members)]);
    let out = s.sync_ok();

    let users = t.users();
    assert_eq!(users.len(), 120, "{out}");
    let groups = t.groups();
    let group_reads: Vec<String> = proxy
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/Groups"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(groups.len(), 60, "g57 was linked, not duplicated; group reads: {group_reads:#?}\n{out}");
    // Pages are capped at 50: the second page starts where the first ended,
    // whatever count was asked for.
    assert!(group_reads.iter().any(|p| p.contains("startIndex=51")), "the group list was paged: {group_reads:#?}");
    let linked = groups.iter().find(|g| g["displayName"] == "g57").expect("g57");
    assert_eq!(linked["id"], g57.as_str());
    assert_eq!(member_ids(linked), ids_of(&users, &members));

    proxy.reset_counts();
    s.sync_ok();
    assert_eq!(proxy.writes(), 0, "an unchanged cycle wrote: {:?}", proxy.counts());
    assert_eq!(t.users().len(), 120);
    assert_eq!(t.groups().len(), 60);
}

// ---------------------------------------------------------------- demo

#[test]
fn the_demo_runs_three_cycles_against_the_sandbox() {
    let dir = profile_dir();
    let out =
        provisio_command(&["--connector-dir", dir.to_str().unwrap(), "demo"]).output().expect("run provisio demo");
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "provisio demo failed ({}):\n{so}\n--- stderr\n{se}", out.status);

    // Three cycles, each with its summary and the target's table.
    let cycles: Vec<&str> = so.split("── cycle ").skip(1).collect();
    assert_eq!(cycles.len(), 3, "{so}");
    let summary = |text: &str| -> Vec<String> {
        text.lines()
            .map(cells)
            .find(|c| c.len() >= 11 && c[1] == "people")
            .unwrap_or_else(|| panic!("no summary row in:\n{text}"))
    };
    let number = |row: &[String], i: usize| row[i].parse::<u64>().unwrap_or_else(|_| panic!("not a number: {row:?}"));
    // CONNECTION CHANNEL CREATED LINKED UPDATED DISABLED RE-ENABLED DELETED SKIPPED FAILED DURATION
    let c1 = summary(cycles[0]);
    assert_eq!(number(&c1, 2), 4, "alice, bob, chloe and dmitri are created (erin is disabled): {c1:?}");
    let c2 = summary(cycles[1]);
    assert_eq!((number(&c2, 4), number(&c2, 5)), (1, 2), "bob updated; chloe and dmitri disabled: {c2:?}");
    let c3 = summary(cycles[2]);
    // SKIPPED counts erin (disabled, Provision Disabled Users cleared) every cycle.
    assert!((2..=7).all(|i| number(&c3, i) == 0), "the third cycle changes nothing: {c3:?}");
    for (i, c) in [&c1, &c2, &c3].iter().enumerate() {
        assert_eq!(number(c, 9), 0, "cycle {} had failures:\n{so}", i + 1);
    }

    // What the target holds after the last cycle.
    let target: Vec<Vec<String>> = cycles[2].lines().map(cells).filter(|c| c.len() == 4).collect();
    let row =
        |name: &str| target.iter().find(|c| c[0] == name).unwrap_or_else(|| panic!("no {name} in:\n{}", cycles[2]));
    assert_eq!(row("bob")[2], "Head of Construction");
    assert_eq!(row("chloe")[3], "false", "chloe is inactive");
    assert_eq!(row("dmitri")[3], "false", "dmitri is inactive");
    assert_eq!(row("alice")[3], "true");
    assert!(target.iter().all(|c| c[0] != "erin"), "erin is disabled and never created");
}
