//! Groups and membership, bearer authentication, discovery documents, request counting and
//! persistence across restarts, over HTTP.

mod common;

use common::*;
use provisio_sandbox::{Kind, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn groups_with_members_add_and_remove() {
    let s = start_default().await;
    let a = s.create_user("anna").await;
    let b = s.create_user("ben").await;
    let g = s
        .post(
            "/Groups",
            json!({"schemas":[GROUP],"displayName":"Engineering","members":[{"value":a,"display":"anna"}]}),
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    assert_eq!(g.body["meta"]["resourceType"], "Group");
    let gid = g.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Groups/{gid}");

    let p = s.patch(&path, json!([{"op":"add","path":"members","value":[{"value":b}]}])).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.body["members"].as_array().unwrap().len(), 2);
    let p = s.patch(&path, json!([{"op":"remove","path":format!("members[value eq \"{a}\"]")}])).await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(p.body["members"], json!([{"value": b}]));
    assert_eq!(s.get(&path).await.body["members"], json!([{"value": b}]));

    for f in [format!(r#"members eq "{b}""#), r#"displayName eq "engineering""#.to_owned()] {
        let l = s.get(&format!("/Groups?{}", filter_query(&f))).await;
        assert_eq!(l.body["totalResults"], 1, "{f}");
    }
    let l = s.get(&format!("/Groups?{}", filter_query(&format!(r#"members eq "{a}""#)))).await;
    assert_eq!(l.body["totalResults"], 0);

    // Unknown members are rejected.
    let bad = s.patch(&path, json!([{"op":"add","path":"members","value":[{"value":"nope"}]}])).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["scimType"], "invalidValue");
    let bad = s.post("/Groups", json!({"schemas":[GROUP],"displayName":"X","members":[{"value":"nope"}]})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = s.post("/Groups", json!({"schemas":[GROUP]})).await;
    assert_eq!(bad.body["scimType"], "invalidValue");

    // Nested group, PUT replace of members, and delete cascades.
    let inner = s.post("/Groups", json!({"schemas":[GROUP],"displayName":"Inner","members":[{"value":a}]})).await;
    let inner_id = inner.body["id"].as_str().unwrap().to_owned();
    let put = s
        .send(
            Method::PUT,
            &path,
            Some(json!({"schemas":[GROUP],"displayName":"Engineering",
            "members":[{"value":b},{"value":inner_id}]})),
            &[],
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let version = put.body["meta"]["version"].clone();
    assert_eq!(s.send(Method::DELETE, &format!("/Users/{b}"), None, &[]).await.status, StatusCode::NO_CONTENT);
    let after = s.get(&path).await;
    assert_eq!(after.body["members"], json!([{"value": inner_id}]));
    assert_ne!(after.body["meta"]["version"], version);
    assert_eq!(s.send(Method::DELETE, &format!("/Groups/{inner_id}"), None, &[]).await.status, StatusCode::NO_CONTENT);
    assert!(s.get(&path).await.body.get("members").is_none());

    let snap = s.sandbox.snapshot();
    assert_eq!(snap["Users"].as_array().unwrap().len(), 1);
    assert_eq!(snap["Groups"][0]["displayName"], "Engineering");
    s.shutdown().await;
}

#[tokio::test]
async fn bearer_token_required_except_on_service_provider_config() {
    let s = start(SandboxConfig { bearer_token: Some("s3cret".into()), ..SandboxConfig::default() }).await;
    for path in ["/Users", "/Groups", "/Schemas", "/ResourceTypes", "/Users/x"] {
        let none = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(none.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(none.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
        assert_eq!(none.headers()["content-type"], "application/scim+json");
        let body: Value = none.json().await.unwrap();
        assert_eq!(body["status"], "401");
        assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
        let wrong = s.client.get(s.url(path)).bearer_auth("nope").send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let post = s.client.post(s.url("/Users")).json(&user("x")).send().await.unwrap();
    assert_eq!(post.status(), StatusCode::UNAUTHORIZED);
    assert!(s.sandbox.is_empty());
    assert_eq!(s.get("/Users").await.status, StatusCode::OK);
    s.create_user("x").await;

    let spc = s.client.get(s.url("/ServiceProviderConfig")).send().await.unwrap();
    assert_eq!(spc.status(), StatusCode::OK);
    let spc: Value = spc.json().await.unwrap();
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["filter"], json!({"supported": true, "maxResults": 1000}));
    assert_eq!(spc["etag"]["supported"], true);
    s.shutdown().await;

    // Without a token every request is accepted.
    let open = start_default().await;
    assert_eq!(open.client.get(open.url("/Users")).send().await.unwrap().status(), StatusCode::OK);
    let spc = open.get("/ServiceProviderConfig").await;
    assert_eq!(spc.body["authenticationSchemes"], json!([]));
    open.shutdown().await;
}

#[tokio::test]
async fn discovery_documents() {
    let s = start_default().await;
    let rt = s.get("/ResourceTypes").await;
    assert_eq!(rt.status, StatusCode::OK);
    assert_eq!(rt.body["totalResults"], 2);
    let user_rt = s.get("/ResourceTypes/User").await;
    assert_eq!(user_rt.body["endpoint"], "/Users");
    assert_eq!(
        user_rt.body["schemaExtensions"][0]["schema"],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    );
    let schemas = s.get("/Schemas").await;
    let ids: Vec<&str> =
        schemas.body["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", GROUP]);
    let user_schema = s.get(&format!("/Schemas/{USER}")).await;
    let attrs = user_schema.body["attributes"].as_array().unwrap();
    let user_name = attrs.iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!(user_name["required"], true);
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    for a in attrs {
        for key in ["name", "type", "multiValued", "required", "mutability", "returned"] {
            assert!(a.get(key).is_some(), "{key} missing in {a}");
        }
    }
    assert_eq!(s.get("/Schemas/urn:nope").await.status, StatusCode::NOT_FOUND);

    // Enterprise extension attributes round-trip and the URN is listed in schemas.
    let mut u = user("ent");
    u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = json!({"employeeNumber":"42"});
    let r = s.post("/Users", u).await;
    assert_eq!(r.body["schemas"].as_array().unwrap().len(), 2);
    let counts = s.sandbox.request_count();
    assert_eq!((counts.get, counts.post, counts.total()), (5, 1, 6));
    s.shutdown().await;
}

#[tokio::test]
async fn persistence_across_restarts() {
    let file = temp_path("sandbox.json");
    let config = SandboxConfig { persist: Some(file.clone()), ..SandboxConfig::default() };

    let first = start(config.clone()).await;
    let mut ids = Vec::new();
    for name in ["p1", "p2", "p3"] {
        ids.push(first.create_user(name).await);
    }
    let patched =
        first.patch(&format!("/Users/{}", ids[0]), json!([{"op":"replace","path":"active","value":false}])).await;
    assert_eq!(patched.etag(), "W/\"2\"");
    let g = first.post("/Groups", json!({"schemas":[GROUP],"displayName":"G","members":[{"value":ids[1]}]})).await;
    let gid = g.body["id"].as_str().unwrap().to_owned();
    // Saved within about a second, before shutdown.
    let mut waited = 0;
    while !file.exists() && waited < 50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert!(file.exists(), "saved while running");
    let deleted = first.create_user("p4").await;
    first.send(Method::DELETE, &format!("/Users/{deleted}"), None, &[]).await;
    first.shutdown().await;

    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"p3\"") && !text.contains("\"p4\""));
    let leftovers: Vec<_> = std::fs::read_dir(file.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");

    let second = start(config.clone()).await;
    assert_eq!(second.sandbox.len(Kind::User), 3);
    assert_eq!(second.sandbox.len(Kind::Group), 1);
    let u = second.get(&format!("/Users/{}", ids[0])).await;
    assert_eq!(u.status, StatusCode::OK);
    assert_eq!(u.body["active"], false);
    assert_eq!(u.etag(), "W/\"2\"");
    assert_eq!(u.body["meta"]["created"], patched.body["meta"]["created"]);
    assert!(u.body["meta"]["location"].as_str().unwrap().starts_with(second.sandbox.base_url()));
    let by_name = second.get(&format!("/Users?{}", filter_query(r#"userName eq "P2""#))).await;
    assert_eq!(by_name.body["Resources"][0]["id"], ids[1].as_str());
    assert_eq!(second.get(&format!("/Groups/{gid}")).await.body["members"][0]["value"], ids[1].as_str());
    let dup = second.post("/Users", user("p3")).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    second.create_user("p5").await;
    second.shutdown().await;

    let third = start(config).await;
    assert_eq!(third.sandbox.len(Kind::User), 4);
    third.shutdown().await;

    // A corrupt file is a clear start error.
    std::fs::write(&file, "{not json").unwrap();
    let err =
        provisio_sandbox::serve(SandboxConfig { persist: Some(file.clone()), ..SandboxConfig::default() }, async {})
            .await
            .unwrap_err();
    assert!(err.to_string().contains("cannot load"), "{err}");
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}
