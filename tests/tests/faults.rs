//! Target faults end to end: a fault-injecting proxy in front of
//! scim2-server answers a fifth of the calls with 429 (Retry-After in
//! seconds or as an HTTP date), 500, 502 or 503, resets the connection, or
//! holds the request past the channel's timeout before the target does the
//! work anyway; the engine still converges within a few cycles to exactly
//! the expected target state: no duplicate, no missing user, no wrong
//! deprovision. A user still failing is dirty, listed with its error,
//! and retried on schedule.

use provisio_e2e::proxy::{Proxy, Response};
use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::scim_peer::ScimPeer;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A deterministic "random" stream for the fault hook.
fn pseudo_random(counter: &AtomicU64) -> u64 {
    let n = counter.fetch_add(1, Ordering::SeqCst);
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

fn http_date_in(seconds: u64) -> String {
    let when = std::time::SystemTime::now() + std::time::Duration::from_secs(seconds);
    httpdate(when)
}

/// RFC 7231 IMF-fixdate, e.g. "Sun, 22 Nov 2026 06:50:00 GMT".
fn httpdate(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let days = secs / 86_400;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let mon =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][(month - 1) as usize];
    format!("{weekday}, {d:02} {mon} {year} {h:02}:{m:02}:{s:02} GMT")
}

#[test]
fn with_a_fifth_of_calls_faulted_the_target_converges_exactly() {
    let t = ScimPeer::shared().unique_tenant("faults");
    let counter = Arc::new(AtomicU64::new(0));
    let c = counter.clone();
    let proxy = Proxy::builder(&t.base_url)
        .fault(move |req| {
            // The activation check is left alone so every cycle runs.
            if req.path_only().ends_with("/ServiceProviderConfig") {
                return None;
            }
            match pseudo_random(&c) % 100 {
                0..=2 => Some(Response::scim_error(429, "slow down").header("Retry-After", "1")),
                3..=5 => Some(Response::scim_error(429, "slow down").header("Retry-After", &http_date_in(1))),
                6..=8 => Some(Response::scim_error(500, "internal error")),
                9..=11 => Some(Response::scim_error(502, "bad gateway")),
                12..=14 => Some(Response::scim_error(503, "unavailable")),
                15..=17 => Some(Response::reset()),
                // Past the channel's timeout of 3 s: the client gives up,
                // then the target does the work anyway.
                18..=19 => Some(Response::delayed(Duration::from_millis(3500))),
                _ => None,
            }
        })
        .start();
    let s = Scenario::scim(&proxy.url(), &t.token).max_threads(16).timeout(3).deletion_guard(false).build();
    let people: Vec<Person> = (0..2000).map(|i| Person::new(&format!("user{i:04}"))).collect();
    s.write_directory(&people, &[]);

    let mut cycles = 0;
    loop {
        cycles += 1;
        let out = s.run(&["sync", "--once"]);
        let text = provisio_e2e::stdout(&out);
        let clean = out.status.success() && !text.contains("failed:");
        if clean || cycles == 6 {
            break;
        }
        // Failed users wait for their next retry: the first comes at once,
        // the second after a minute; ask for it now.
        s.run(&["channels", "retry"]);
    }
    let local_faults = proxy.requests().iter().filter(|r| r.local).count();
    assert!(local_faults > 400, "the proxy injected only {local_faults} faults");

    let users = t.users();
    let mut names: Vec<String> = users.iter().map(|u| u["userName"].as_str().unwrap().to_owned()).collect();
    names.sort();
    let mut want: Vec<String> = people.iter().map(|p| p.uid.clone()).collect();
    want.sort();
    assert_eq!(names, want, "exactly the source's users, once each, after {cycles} cycle(s)");
    assert!(users.iter().all(|u| u["active"].as_bool().unwrap_or(true)), "nobody was deprovisioned");
}

#[test]
fn a_user_still_failing_is_dirty_listed_with_its_error_and_retried_later() {
    let t = ScimPeer::shared().unique_tenant("dirty");
    // Every POST for bob is refused as unavailable: retried within the
    // channel's timeout, then left dirty.
    let proxy = Proxy::builder(&t.base_url)
        .fault(|req| {
            let is_bob = req.json().is_some_and(|b| b["userName"] == "bob");
            (req.method == "POST" && is_bob).then(|| Response::scim_error(503, "bob's shard is down"))
        })
        .start();
    let s = Scenario::scim(&proxy.url(), &t.token).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    let out = s.run(&["sync", "--once"]);
    let text = provisio_e2e::stdout(&out);
    assert!(text.contains("user bob failed") && text.contains("bob's shard is down"), "{text}");
    assert_eq!(t.users().len(), 1);

    let list: serde_json::Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).unwrap();
    assert_eq!(list[0]["dirty"], 1, "{list:#}");
    assert!(list[0]["last_error"].as_str().unwrap_or("").contains("shard is down"), "{list:#}");
    let posts_for_bob = proxy.requests().iter().filter(|r| r.method == "POST" && r.local).count();
    assert!(posts_for_bob >= 2, "bob's create was retried within the cycle: {posts_for_bob}");

    // The target recovers; the next cycle (the first retry comes at once)
    // creates bob, without a duplicate of alice.
    proxy.clear_fault();
    s.sync_ok();
    let list: serde_json::Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).unwrap();
    assert_eq!(list[0]["dirty"], 0);
    assert_eq!(t.users().len(), 2);
}
