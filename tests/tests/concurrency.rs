//! Concurrency end to end: a channel's Max Threads bounds the operations in
//! flight at its target (counted at the target's side by the proxy), and
//! two channels of one run never corrupt each other's state: one failing
//! does not stop or disturb the other.

use provisio_e2e::proxy::{Proxy, Response};
use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::scim_peer::ScimPeer;
use std::time::Duration;

#[test]
fn max_threads_bounds_the_requests_in_flight() {
    for threads in [1usize, 4] {
        let t = ScimPeer::shared().unique_tenant(&format!("threads-{threads}"));
        let proxy = Proxy::start(&t.base_url);
        proxy.set_delay(Duration::from_millis(20));
        let s = Scenario::scim(&proxy.url(), &t.token).max_threads(threads as i64).build();
        let people: Vec<Person> = (0..40).map(|i| Person::new(&format!("c{i:02}"))).collect();
        s.write_directory(&people, &[]);
        s.sync_ok();
        assert_eq!(t.users().len(), 40);
        let max = proxy.max_in_flight();
        assert!(max <= threads, "Max Threads {threads}, but {max} requests were in flight at once");
        if threads > 1 {
            assert!(max > 1, "Max Threads {threads} was not used at all (max {max} in flight)");
        }
    }
}

#[test]
fn two_channels_fail_independently_and_keep_their_own_state() {
    let good = ScimPeer::shared().unique_tenant("two-good");
    let bad = ScimPeer::shared().unique_tenant("two-bad");
    let broken = Proxy::builder(&bad.base_url)
        .fault(|req| (req.method == "POST").then(|| Response::scim_error(500, "the bad target is broken")))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let ldif = |uids: &[&str]| -> String {
        uids.iter()
            .map(|u| format!("dn: uid={u},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: {u}\nsn: T\nentryUUID: {u}-guid\n\n"))
            .collect()
    };
    std::fs::write(dir.path().join("a.ldif"), ldif(&["ann", "abe"])).unwrap();
    std::fs::write(dir.path().join("b.ldif"), ldif(&["bea", "bo"])).unwrap();
    let config = format!(
        r#"
[engine]
state = "state.db"
audit_log = "audit.log"

[[connection]]
name = "good"
connector = "scim"
settings = {{ scim_url = "{}", authentication_method = "oauth2_bearer_token", access_token = {{ env = "GOOD_TOKEN" }} }}
[[connection.channel]]
name = "a"
source = {{ kind = "file", path = "a.ldif" }}
mapping = [ {{ field = "userName", attributes = ["uid"] }} ]

[[connection]]
name = "bad"
connector = "scim"
settings = {{ scim_url = "{}", authentication_method = "oauth2_bearer_token", access_token = {{ env = "BAD_TOKEN" }} }}
[[connection.channel]]
name = "b"
timeout = 5
source = {{ kind = "file", path = "b.ldif" }}
mapping = [ {{ field = "userName", attributes = ["uid"] }} ]
"#,
        good.base_url,
        broken.url()
    );
    let file = dir.path().join("provisio.toml");
    std::fs::write(&file, config).unwrap();
    let profile = provisio_e2e::profile_dir();
    let run = |args: &[&str]| {
        let mut all = vec!["--connector-dir", profile.to_str().unwrap(), "--config", file.to_str().unwrap()];
        all.extend_from_slice(args);
        provisio_e2e::provisio_command(&all)
            .env("GOOD_TOKEN", &good.token)
            .env("BAD_TOKEN", &bad.token)
            .output()
            .unwrap()
    };
    let out = run(&["sync", "--once"]);
    let text = provisio_e2e::stdout(&out);
    assert_eq!(good.users().len(), 2, "the good channel did its work despite the bad one: {text}");
    assert!(bad.users().is_empty());

    let list: serde_json::Value =
        serde_json::from_str(&provisio_e2e::stdout(&run(&["channels", "list", "--json"]))).unwrap();
    let channel = |name: &str| list.as_array().unwrap().iter().find(|c| c["channel"] == name).unwrap().clone();
    assert_eq!(channel("a")["dirty"], 0, "{list:#}");
    assert_eq!(channel("a")["users"], 2);
    assert_eq!(channel("b")["dirty"], 2, "{list:#}");
    assert!(channel("b")["last_error"].as_str().unwrap().contains("the bad target is broken"));

    // The bad target recovers; its channel catches up, the good one sends nothing new.
    broken.clear_fault();
    let out = run(&["sync", "--once"]);
    assert!(out.status.success(), "{}", provisio_e2e::stdout(&out));
    assert_eq!(bad.users().len(), 2, "{}\n{}", provisio_e2e::stdout(&out), provisio_e2e::stderr(&out));
    assert_eq!(good.users().len(), 2);
}

#[test]
fn a_connection_rate_limit_keeps_requests_under_it() {
    let t = ScimPeer::shared().unique_tenant("rate");
    let proxy = Proxy::start(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).max_threads(8).connection("rate_limit", 25.0).build();
    let people: Vec<Person> = (0..40).map(|i| Person::new(&format!("r{i:02}"))).collect();
    s.write_directory(&people, &[]);
    let started = std::time::Instant::now();
    s.sync_ok();
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(t.users().len(), 40);
    let requests = proxy.counts().total as f64;
    // 25 a second: the first request goes at once, each further one 40 ms later.
    assert!(elapsed >= (requests - 1.0) / 25.0, "{requests} requests in {elapsed:.2} s exceed 25/s");
    assert!(requests >= 80.0, "a lookup and a create per user: {requests}");
}
