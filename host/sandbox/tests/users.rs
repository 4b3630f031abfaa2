//! Users end to end over HTTP: create, get, filter, uniqueness, PUT, PATCH, DELETE, paging,
//! ETags, content types, .search and a bounded load test.

mod common;

use common::*;
use provisio_sandbox::{Kind, SandboxConfig, SandboxError, serve};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn create_get_and_filter_case_insensitively() {
    let s = start_default().await;
    assert!(s.sandbox.base_url().starts_with("http://127.0.0.1:"));
    assert!(s.sandbox.base_url().ends_with("/scim/v2"));

    let r = s.post("/Users", user("Alice")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.headers["content-type"], "application/scim+json");
    let id = r.body["id"].as_str().unwrap().to_owned();
    let location = format!("{}/Users/{id}", s.sandbox.base_url());
    assert_eq!(r.headers["location"], location.as_str());
    assert_eq!(r.etag(), "W/\"1\"");
    let meta = &r.body["meta"];
    assert_eq!(meta["resourceType"], "User");
    assert_eq!(meta["location"], location.as_str());
    assert_eq!(meta["version"], "W/\"1\"");
    assert!(meta["created"].as_str().unwrap().ends_with('Z'));

    let g = s.get(&format!("/Users/{id}")).await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.body, r.body);

    for f in [
        r#"userName eq "alice""#,
        r#"USERNAME EQ "ALICE""#,
        r#"externalId eq "ext-Alice""#,
        r#"emails eq "ALICE@example.org""#,
        r#"emails.value eq "alice@example.org""#,
        r#"displayName eq "user alice""#,
        &format!(r#"id eq "{id}" and userName eq "Alice""#),
    ] {
        let l = s.get(&format!("/Users?{}", filter_query(f))).await;
        assert_eq!(l.status, StatusCode::OK, "{f}: {}", l.body);
        assert_eq!(l.body["totalResults"], 1, "{f}");
        assert_eq!(l.body["Resources"][0]["id"], id.as_str(), "{f}");
        assert_eq!(l.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:ListResponse");
    }
    for f in [r#"userName eq "bob""#, r#"externalId eq "EXT-ALICE""#, r#"userName eq "alice" and externalId eq "x""#] {
        let l = s.get(&format!("/Users?{}", filter_query(f))).await;
        assert_eq!(l.body["totalResults"], 0, "{f}");
        assert_eq!(l.body["Resources"], json!([]));
    }
    s.shutdown().await;
}

#[tokio::test]
async fn the_forgiving_mode_creates_a_second_user_with_a_taken_user_name() {
    let s = start_default().await;
    s.create_user("dup").await;
    assert_eq!(s.post("/Users", user("DUP")).await.status, StatusCode::CONFLICT, "strict by default");
    s.sandbox.set_modes(provisio_sandbox::Modes { accept_duplicate_user_names: true });
    let second = s.post("/Users", user("DUP")).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    let l = s.get(&format!("/Users?{}", filter_query(r#"userName eq "dup""#))).await;
    assert_eq!(l.body["totalResults"], 2, "both are found by their userName: {}", l.body);
    let second_id = second.body["id"].as_str().unwrap().to_owned();
    assert_eq!(s.send(Method::DELETE, &format!("/Users/{second_id}"), None, &[]).await.status, StatusCode::NO_CONTENT);
    let l = s.get(&format!("/Users?{}", filter_query(r#"userName eq "dup""#))).await;
    assert_eq!(l.body["totalResults"], 1, "the other one stays indexed: {}", l.body);
    s.shutdown().await;
}

#[tokio::test]
async fn uniqueness_and_validation() {
    let s = start_default().await;
    s.create_user("bob").await;
    let dup = s.post("/Users", user("BOB")).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.body["scimType"], "uniqueness");
    assert_eq!(dup.body["status"], "409");
    assert_eq!(dup.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");

    let missing = s.post("/Users", json!({"schemas":[USER],"displayName":"x"})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body["scimType"], "invalidValue");
    assert_eq!(missing.body["status"], "400");

    let bad_bool = s.post("/Users", json!({"schemas":[USER],"userName":"c","active":"False"})).await;
    assert_eq!(bad_bool.body["scimType"], "invalidValue");

    let not_json = s.send(Method::POST, "/Users", None, &[]).await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);

    // application/json is accepted, text/plain is not.
    let url = s.url("/Users");
    let ok = s.client.post(&url).json(&user("carol")).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let text =
        s.client.post(&url).header("content-type", "text/plain").body(user("dan").to_string()).send().await.unwrap();
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A password is accepted and never returned.
    let mut u = user("erin");
    u["password"] = json!("s3cret");
    let r = s.post("/Users", u).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.body.get("password").is_none());
    s.shutdown().await;
}

#[tokio::test]
async fn put_replaces_and_patch_updates() {
    let s = start_default().await;
    let created = s.post("/Users", user("frank")).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Users/{id}");

    let put = s
        .send(
            Method::PUT,
            &path,
            Some(json!({"schemas":[USER],"id":"ignored","userName":"frank2","title":"Boss"})),
            &[],
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["id"], id.as_str());
    assert_eq!(put.body["userName"], "frank2");
    assert_eq!(put.body["title"], "Boss");
    for gone in ["externalId", "name", "emails", "active", "displayName"] {
        assert!(put.body.get(gone).is_none(), "{gone} must be removed by PUT");
    }
    assert_eq!(put.body["meta"]["created"], created.body["meta"]["created"]);
    assert_eq!(put.etag(), "W/\"2\"");
    let old = s.get(&format!("/Users?{}", filter_query(r#"userName eq "frank""#))).await;
    assert_eq!(old.body["totalResults"], 0);

    let p = s.patch(&path, json!([{"op":"replace","path":"active","value":false}])).await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(p.body["active"], false);
    assert_eq!(p.etag(), "W/\"3\"");
    let p = s
        .patch(
            &path,
            json!([
                {"op":"add","path":"name.givenName","value":"Frank"},
                {"op":"replace","value":{"displayName":"Frank F","active":true}},
                {"op":"add","path":"emails","value":[{"value":"f@x.org","type":"work"}]}
            ]),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.body["name"]["givenName"], "Frank");
    assert_eq!(p.body["displayName"], "Frank F");
    assert_eq!(p.body["active"], true);
    let by_mail = s.get(&format!("/Users?{}", filter_query(r#"emails eq "F@X.ORG""#))).await;
    assert_eq!(by_mail.body["totalResults"], 1);
    let p = s.patch(&path, json!([{"op":"remove","path":"displayName"}])).await;
    assert!(p.body.get("displayName").is_none());

    // A failing operation changes nothing.
    let before = s.get(&path).await;
    let bad = s
        .patch(&path, json!([{"op":"replace","path":"title","value":"X"},{"op":"replace","path":"userName","value":7}]))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(s.get(&path).await.body, before.body);
    let bad = s.patch(&path, json!([{"op":"replace","path":"meta","value":{}}])).await;
    assert_eq!(bad.body["scimType"], "mutability");

    // Renaming onto an existing userName is a conflict.
    s.create_user("gina").await;
    let clash = s.patch(&path, json!([{"op":"replace","path":"userName","value":"GINA"}])).await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    s.shutdown().await;
}

#[tokio::test]
async fn delete_then_404() {
    let s = start_default().await;
    let id = s.create_user("henry").await;
    let path = format!("/Users/{id}");
    let d = s.send(Method::DELETE, &path, None, &[]).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let g = s.get(&path).await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    assert_eq!(g.body["status"], "404");
    assert_eq!(s.send(Method::DELETE, &path, None, &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.patch(&path, json!([{"op":"replace","path":"active","value":false}])).await.status,
        StatusCode::NOT_FOUND
    );
    // The userName is free again.
    s.create_user("henry").await;
    s.shutdown().await;
}

#[tokio::test]
async fn paging_over_250_users() {
    let s = start_default().await;
    for i in 0..250 {
        s.create_user(&format!("user{i:03}")).await;
    }
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let page = s.get(&format!("/Users?startIndex={start}&count=100")).await;
        assert_eq!(page.body["totalResults"], 250);
        assert_eq!(page.body["startIndex"], start);
        let items = page.body["Resources"].as_array().unwrap();
        assert_eq!(page.body["itemsPerPage"], items.len());
        seen.extend(items.iter().map(|u| u["userName"].as_str().unwrap().to_owned()));
        start += items.len();
        if items.is_empty() || start - 1 >= 250 {
            break;
        }
    }
    let expected: Vec<String> = (0..250).map(|i| format!("user{i:03}")).collect();
    assert_eq!(seen, expected, "every user once, in creation order");

    let default = s.get("/Users").await;
    assert_eq!(default.body["itemsPerPage"], 100);
    let past = s.get("/Users?startIndex=1000").await;
    assert_eq!((past.body["totalResults"].clone(), past.body["itemsPerPage"].clone()), (json!(250), json!(0)));
    let totals = s.get("/Users?count=0").await;
    assert_eq!(totals.body["Resources"], json!([]));
    assert_eq!(totals.body["totalResults"], 250);
    let capped = s.get("/Users?count=5000").await;
    assert_eq!(capped.body["itemsPerPage"], 250);
    let last = s.get("/Users?startIndex=201&count=100").await;
    assert_eq!(last.body["itemsPerPage"], 50);
    let bad = s.get("/Users?count=ten").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let search = s
        .post(
            "/Users/.search",
            json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter":"userName eq \"USER007\"","startIndex":1,"count":10}),
        )
        .await;
    assert_eq!(search.status, StatusCode::OK, "{}", search.body);
    assert_eq!(search.body["totalResults"], 1);
    assert_eq!(s.sandbox.len(Kind::User), 250);
    s.shutdown().await;
}

#[tokio::test]
async fn etags_and_preconditions() {
    let s = start_default().await;
    let id = s.create_user("ivy").await;
    let path = format!("/Users/{id}");
    let stale = [("if-match", "W/\"7\"")];
    let body = json!({"schemas":[USER],"userName":"ivy"});
    let put = s.send(Method::PUT, &path, Some(body.clone()), &stale).await;
    assert_eq!(put.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(put.body["status"], "412");
    let ops = json!({"schemas":[PATCH],"Operations":[{"op":"replace","path":"active","value":false}]});
    assert_eq!(s.send(Method::PATCH, &path, Some(ops.clone()), &stale).await.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(s.send(Method::DELETE, &path, None, &stale).await.status, StatusCode::PRECONDITION_FAILED);

    let ok = s.send(Method::PUT, &path, Some(body), &[("if-match", "W/\"1\"")]).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.etag(), "W/\"2\"");
    let ok = s.send(Method::PATCH, &path, Some(ops), &[("if-match", "W/\"2\"")]).await;
    assert_eq!(ok.etag(), "W/\"3\"");
    assert_eq!(ok.body["meta"]["version"], "W/\"3\"");
    let same = s.patch(&path, json!([{"op":"replace","path":"active","value":false}])).await;
    assert_eq!(same.etag(), "W/\"3\"", "a PATCH that changes nothing keeps the version");

    let not_modified = s.send(Method::GET, &path, None, &[("if-none-match", "W/\"3\"")]).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    let modified = s.send(Method::GET, &path, None, &[("if-none-match", "W/\"2\"")]).await;
    assert_eq!(modified.status, StatusCode::OK);
    assert_eq!(s.send(Method::DELETE, &path, None, &[("if-match", "W/\"3\"")]).await.status, StatusCode::NO_CONTENT);
    s.shutdown().await;
}

#[tokio::test]
async fn unsupported_filters_are_400() {
    let s = start_default().await;
    for f in
        [r#"title eq "x""#, r#"userName co "a""#, r#"userName eq "a" or userName eq "b""#, "userName eq", "garbage"]
    {
        let r = s.get(&format!("/Users?{}", filter_query(f))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{f}");
        assert_eq!(r.body["scimType"], "invalidFilter", "{f}");
        assert_eq!(r.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    }
    let r = s.get(&format!("/Groups?{}", filter_query(r#"userName eq "x""#))).await;
    assert_eq!(r.body["scimType"], "invalidFilter");
    let r = s.get("/Users?startIndex=%ZZ&count=1").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.send(Method::DELETE, "/Users", None, &[]).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body["status"], "405");
    s.shutdown().await;
}

#[tokio::test]
async fn refuses_non_loopback_and_bad_base_paths() {
    let config = SandboxConfig { bind: "0.0.0.0:0".parse().unwrap(), ..SandboxConfig::default() };
    let err = serve(config, async {}).await.unwrap_err();
    assert!(matches!(err, SandboxError::NotLoopback(_)), "{err}");
    assert!(err.to_string().contains("loopback"));
    let config = SandboxConfig { base_path: "no-slash".into(), ..SandboxConfig::default() };
    assert!(matches!(serve(config, async {}).await.unwrap_err(), SandboxError::InvalidBasePath(_)));

    // The root works as a base path too.
    let s = start(SandboxConfig { base_path: "/".into(), ..SandboxConfig::default() }).await;
    assert_eq!(s.sandbox.base_url(), format!("http://{}", s.sandbox.local_addr()));
    s.create_user("root").await;
    let miss = s.get("/Nope").await;
    assert_eq!(miss.status, StatusCode::NOT_FOUND);
    assert_eq!(miss.body["status"], "404");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_2000_posts_from_8_clients() {
    let s = std::sync::Arc::new(start_default().await);
    let mut tasks = Vec::new();
    for c in 0..8 {
        let s = std::sync::Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            for i in 0..250 {
                let r = s.post("/Users", user(&format!("load-{c}-{i}"))).await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = s.get("/Users?count=0").await;
    assert_eq!(all.body["totalResults"], 2000);
    let hit = s.get(&format!("/Users?{}", filter_query(r#"userName eq "LOAD-7-249""#))).await;
    assert_eq!(hit.body["totalResults"], 1);
    let counts = s.sandbox.request_count();
    assert_eq!(counts.post, 2000);
    assert_eq!(counts.get, 2);
    let s = std::sync::Arc::into_inner(s).expect("all clients done");
    s.shutdown().await;
}
