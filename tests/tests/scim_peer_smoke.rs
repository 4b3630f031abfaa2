//! Proves the SCIM test-peer harness (tests/src/scim_peer/, tests/src/proxy.rs)
//! against the real scim2-server: the shared peer starts, tenants are isolated,
//! userName lookups are case-insensitive, listing pages past the server's
//! 1000-item default, and the counting and Basic-auth proxies behave.
//! Needs `scripts/peers/install-scim2-server` (run by `scripts/test`).

use provisio_e2e::proxy::{Proxy, Response};
use provisio_e2e::scim_peer::{ScimPeer, USER_SCHEMA};
use serde_json::{Value, json};

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .no_proxy()
        .build()
        .expect("a client")
}

#[test]
fn shared_peer_starts_and_serves_discovery() {
    let peer = ScimPeer::shared();
    assert!(peer.is_alive());
    let tenant = peer.unique_tenant("discovery");
    let spc = tenant.get("/ServiceProviderConfig");
    assert_eq!(spc.status, 200, "{}", spc.text);
    assert_eq!(spc.body["patch"]["supported"], true);
    // Everything but discovery needs the token.
    let r = client().get(tenant.url("/Users")).send().expect("GET /Users");
    assert_eq!(r.status().as_u16(), 401);
}

#[test]
fn tenants_are_isolated() {
    let peer = ScimPeer::shared();
    let (a, b, c) = (peer.unique_tenant("iso-a"), peer.unique_tenant("iso-b"), peer.unique_tenant("iso-c"));
    let id_a = a.create_user(json!({"userName": "same.name"}));
    let id_b = b.create_user(json!({"userName": "same.name"}));
    assert_ne!(id_a, id_b);
    assert_eq!(a.users().len(), 1);
    assert_eq!(b.users().len(), 1);
    assert!(c.users().is_empty());
    assert!(c.find_user("same.name").is_none());
    b.delete_user(&id_b);
    assert!(b.users().is_empty());
    assert!(b.user(&id_b).is_none());
    assert_eq!(a.user(&id_a).expect("still in tenant a")["userName"], "same.name");
}

#[test]
fn find_user_is_case_insensitive() {
    let tenant = ScimPeer::shared().unique_tenant("case");
    let id = tenant.create_user(json!({"userName": "Alice.Smith", "externalId": "src-1", "active": true}));
    let found = tenant.find_user("aLiCe.sMiTh").expect("found with another case");
    assert_eq!(found["id"], id.as_str());
    assert_eq!(found["externalId"], "src-1");
    assert!(tenant.find_user("bob").is_none());
    // A duplicate with another case is refused (uniqueness is case-insensitive too).
    let dup = tenant.post("/Users", &json!({"schemas": [USER_SCHEMA], "userName": "ALICE.SMITH"}));
    assert_eq!(dup.status, 409, "{}", dup.text);
}

#[test]
fn users_pages_past_the_default_page_size() {
    let tenant = ScimPeer::shared().unique_tenant("paging");
    let users: Vec<Value> =
        (0..1200).map(|i| json!({"userName": format!("user{i:04}"), "externalId": format!("e{i}")})).collect();
    let ids = tenant.bulk_create_users(&users);
    assert_eq!(ids.len(), 1200);
    // Without count the server returns at most 1000 while totalResults says 1200.
    let first = tenant.get("/Users");
    assert_eq!(first.body["totalResults"], 1200);
    assert_eq!(first.body["Resources"].as_array().map(Vec::len), Some(1000));
    let all = tenant.users();
    assert_eq!(all.len(), 1200);
    let mut names: Vec<&str> = all.iter().map(|u| u["userName"].as_str().expect("userName")).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 1200, "users() returned duplicates");
    assert!(tenant.groups().is_empty());
}

#[test]
fn groups_are_listed() {
    let tenant = ScimPeer::shared().unique_tenant("groups");
    let alice = tenant.create_user(json!({"userName": "alice"}));
    let gid = tenant.create_group(json!({"displayName": "engineering", "members": [{"value": alice}]}));
    let groups = tenant.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["id"], gid.as_str());
    assert_eq!(groups[0]["members"][0]["value"], alice.as_str());
}

#[test]
fn counting_proxy_counts_reads_and_writes() {
    let tenant = ScimPeer::shared().unique_tenant("proxy");
    let proxy = Proxy::start(&tenant.base_url);
    let http = client();
    let auth = format!("Bearer {}", tenant.token);

    let r = http.get(format!("{}/Users", proxy.url())).header("Authorization", &auth).send().expect("GET");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(proxy.writes(), 0);

    let r = http
        .post(format!("{}/Users", proxy.url()))
        .header("Authorization", &auth)
        .header("Content-Type", "application/scim+json")
        .body(json!({"schemas": [USER_SCHEMA], "userName": "via.proxy"}).to_string())
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 201);
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(location.starts_with(&proxy.url()), "Location {location} points at the proxy");

    let counts = proxy.counts();
    assert_eq!(counts.total, 2, "{counts:?}");
    assert_eq!(counts.method("GET"), 1);
    assert_eq!(counts.method("POST"), 1);
    assert_eq!(counts.route("POST", "/Users"), 1);
    assert_eq!(proxy.count("GET", "/Users"), 1);
    assert_eq!(proxy.writes(), 1);
    assert!(tenant.find_user("via.proxy").is_some(), "the POST reached the server");

    proxy.reset_counts();
    assert_eq!(proxy.counts().total, 0);

    // The fault hook answers instead of the upstream, and is counted.
    proxy.set_fault(|req| (req.method == "DELETE").then(|| Response::scim_error(503, "injected")));
    let r =
        http.delete(format!("{}/Users/whatever", proxy.url())).header("Authorization", &auth).send().expect("DELETE");
    assert_eq!(r.status().as_u16(), 503);
    let recorded = proxy.requests();
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0].local && recorded[0].status == 503 && recorded[0].is_write());
    proxy.clear_fault();
}

#[test]
fn basic_auth_proxy_rewrites_to_bearer() {
    let tenant = ScimPeer::shared().unique_tenant("basic");
    let proxy = Proxy::builder(&tenant.base_url).require_basic("svc", "p4ss").forward_bearer(&tenant.token).start();
    let http = client();
    let user = json!({"schemas": [USER_SCHEMA], "userName": "basic.user"}).to_string();
    let post = |pass: Option<&str>| {
        let mut req = http
            .post(format!("{}/Users", proxy.url()))
            .header("Content-Type", "application/scim+json")
            .body(user.clone());
        if let Some(pass) = pass {
            req = req.basic_auth("svc", Some(pass));
        }
        req.send().expect("POST through the proxy")
    };

    let wrong = post(Some("wrong"));
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(wrong.headers().get("www-authenticate").is_some());
    assert_eq!(post(None).status().as_u16(), 401);
    assert!(tenant.find_user("basic.user").is_none(), "refused requests never reach the server");

    let right = post(Some("p4ss"));
    assert_eq!(right.status().as_u16(), 201);
    assert!(tenant.find_user("basic.user").is_some());
    let recorded = proxy.requests();
    assert_eq!(
        recorded.iter().map(|r| (r.status, r.local)).collect::<Vec<_>>(),
        [(401, true), (401, true), (201, false)]
    );
}

#[test]
fn own_peer_with_spc_variant_and_dump() {
    let dump = tempfile::NamedTempFile::new().expect("a dump file").into_temp_path();
    let peer = ScimPeer::builder()
        .spc_flags(&["--no-patch", "--no-etag", "--max-results", "50"])
        .token("fixed-token")
        .dump_resources(&dump)
        .start();
    assert_eq!(peer.token(), "fixed-token");
    let tenant = peer.tenant("own");
    let spc = tenant.get("/ServiceProviderConfig").body;
    assert_eq!((spc["patch"]["supported"].clone(), spc["etag"]["supported"].clone()), (json!(false), json!(false)));
    let users: Vec<Value> = (0..120).map(|i| json!({"userName": format!("p{i}")})).collect();
    let ids = tenant.bulk_create_users(&users);
    let created = tenant.post("/Users", &json!({"schemas": [USER_SCHEMA], "userName": "no.etag"}));
    assert_eq!(created.status, 201);
    assert!(created.etag.is_none(), "etag.supported=false sends no ETag");
    assert_eq!(tenant.get("/Users").body["Resources"].as_array().map(Vec::len), Some(50));
    assert_eq!(tenant.users().len(), 121);
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let r = tenant.request(reqwest::Method::PATCH, &format!("/Users/{}", ids[0]), &[], Some(&patch));
    assert_eq!(r.status, 501, "{}", r.text);

    let pid = peer.pid();
    let dumped = peer.stop_and_dump();
    assert_eq!(dumped["own"].as_array().map(Vec::len), Some(121), "dump has the tenant's users");
    // SAFETY: signal 0 only probes whether the pid exists.
    assert_ne!(unsafe { libc::kill(pid as libc::pid_t, 0) }, 0, "the peer process is gone");
}

#[test]
#[should_panic(expected = "JSONDecodeError")]
fn a_peer_that_dies_at_start_reports_its_output() {
    let bad = tempfile::NamedTempFile::new().expect("a file").into_temp_path();
    std::fs::write(&bad, "{not json").expect("write");
    ScimPeer::builder().service_provider_config(&bad).start();
}
