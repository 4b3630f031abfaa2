//! Scale checks for the engine-ceiling benchmark: 100,000 users in the store directly (no
//! HTTP), indexed lookups, paging, and resident memory. Ignored in debug builds, where it
//! takes a while; `scripts/test` runs it in its release pass:
//! `cargo test --release -p provisio-sandbox --test scale -- --ignored --nocapture`.

use provisio_sandbox::filter;
use provisio_sandbox::store::{Kind, Store};
use serde_json::json;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
#[ignore = "slow in debug builds; scripts/test runs it in release mode"]
fn hundred_thousand_users() {
    let before = rss_kib();
    let mut store = Store::new("http://127.0.0.1:1/scim/v2");
    let now = "2026-01-01T00:00:00.000Z";
    for i in 0..100_000 {
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("user{i:06}@example.org"),
            "externalId": format!("3f2a9c1e-0000-4000-8000-{i:012}"),
            "name": {"givenName": "Given", "familyName": format!("Family{i}")},
            "displayName": format!("Given Family{i}"),
            "emails": [{"value": format!("user{i:06}@example.org"), "type": "work", "primary": true}],
            "title": "Engineer",
            "active": true
        });
        store.create(Kind::User, user, now).unwrap();
    }
    let after = rss_kib();
    let mib = (after.saturating_sub(before)) as f64 / 1024.0;
    println!("100k users: RSS grew by {mib:.1} MiB (total {:.1} MiB)", after as f64 / 1024.0);
    assert!(mib < 150.0, "100k users take {mib:.1} MiB");

    let f = filter::parse(r#"userName eq "USER099999@example.org""#, Kind::User).unwrap();
    let page = store.query(Kind::User, Some(&f), 1, 100);
    assert_eq!((page.total, page.items), (1, 1));
    let page = store.query(Kind::User, None, 99_001, 1000);
    assert_eq!((page.total, page.items), (100_000, 1000));
    let export = store.export().to_json();
    println!("persisted size {:.1} MiB", export.len() as f64 / 1048576.0);
}
