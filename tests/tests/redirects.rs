//! Redirects are judged by the connector, never followed blindly by the
//! host: a 307 within the SCIM URL's origin is followed (body and
//! credentials resent there), a 307 to another origin is refused, so
//! neither the user's attributes nor the credentials reach it.

use provisio_e2e::proxy::{Proxy, Response};
use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::scim_peer::ScimPeer;

#[test]
fn a_redirect_to_another_origin_carries_nothing_there_and_one_within_the_origin_is_followed() {
    let t = ScimPeer::shared().unique_tenant("redirects");
    let elsewhere = Proxy::start(&t.base_url);
    let proxy = Proxy::start(&t.base_url);
    let away = format!("{}/Users", elsewhere.url());
    proxy.set_fault(move |r| {
        (r.method == "POST" && r.path.ends_with("/Users")).then(|| Response::new(307).header("Location", &away))
    });
    let s = Scenario::scim(&proxy.url(), &t.token).build();
    s.write_directory(&[Person::new("alice")], &[]);
    let out = s.run(&["sync", "--once"]);
    let text = provisio_e2e::stdout(&out) + &provisio_e2e::stderr(&out);
    assert_eq!(out.status.code(), Some(6), "the create failed and the user stays dirty:\n{text}");
    assert!(text.contains("outside the SCIM URL's origin"), "{text}");
    assert!(elsewhere.requests().is_empty(), "a request reached the other origin: {:?}", elsewhere.requests());
    assert!(t.users().is_empty());

    // Within the origin: followed, the body sent again, the user created.
    let here = format!("{}/Users?moved=1", proxy.url());
    proxy.set_fault(move |r| {
        (r.method == "POST" && r.path.ends_with("/Users")).then(|| Response::new(307).header("Location", &here))
    });
    s.sync_ok();
    let users = t.users();
    assert_eq!(users.len(), 1, "{users:#?}");
    assert_eq!(users[0]["userName"], "alice");
    assert!(
        proxy.requests().iter().any(|r| r.method == "POST" && r.path.ends_with("/Users?moved=1") && r.status == 201)
    );
}
