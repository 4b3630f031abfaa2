//! Crash safety end to end: provisio killed with SIGKILL at random points
//! of a cycle, many times, then one clean cycle: the target holds exactly
//! the source's users, once each. SIGTERM mid-cycle finishes the operations
//! in flight, saves them, and exits 0, so the next run has nothing to
//! reconcile.

use provisio_e2e::proxy::Proxy;
use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::scim_peer::ScimPeer;
use std::time::Duration;

fn slow_proxy(upstream: &str) -> Proxy {
    // 15 ms per request keeps a cycle long enough to be interrupted.
    Proxy::builder(upstream)
        .fault(|_| {
            std::thread::sleep(Duration::from_millis(15));
            None
        })
        .start()
}

fn user_names(t: &provisio_e2e::scim_peer::Tenant) -> Vec<String> {
    let mut names: Vec<String> = t.users().iter().map(|u| u["userName"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

#[test]
fn sigkill_at_random_points_then_a_clean_cycle_leaves_exactly_the_right_users() {
    let t = ScimPeer::shared().unique_tenant("sigkill");
    let proxy = slow_proxy(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).build();
    let people: Vec<Person> = (0..120).map(|i| Person::new(&format!("k{i:03}"))).collect();
    s.write_directory(&people, &[]);

    let delays = [250u64, 700, 400, 1100, 300, 900, 550, 1500, 200, 800];
    let mut killed_mid_cycle = 0;
    for (round, delay) in delays.iter().enumerate() {
        // Change some titles too, so updates are interrupted as well.
        let edited: Vec<Person> = people
            .iter()
            .enumerate()
            .map(|(i, p)| if i % 7 == round % 7 { p.clone().title(&format!("t{round}")) } else { p.clone() })
            .collect();
        s.write_directory(&edited, &[]);
        let mut child = s.command(&["sync", "--once"]).spawn().expect("start provisio");
        std::thread::sleep(Duration::from_millis(*delay));
        if child.try_wait().expect("poll provisio").is_none() {
            killed_mid_cycle += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    assert!(killed_mid_cycle >= 5, "only {killed_mid_cycle} kills landed mid-cycle");

    let final_people: Vec<Person> = people.iter().map(|p| p.clone().title("final")).collect();
    s.write_directory(&final_people, &[]);
    s.sync_ok();
    let names = user_names(&t);
    let want: Vec<String> = people.iter().map(|p| p.uid.clone()).collect();
    assert_eq!(names, want, "duplicates or missing users after the kills");
    assert!(t.users().iter().all(|u| u["title"] == "final"), "a change was lost");

    // And the state agrees with the target: nothing left to do.
    proxy.reset_counts();
    s.sync_ok();
    assert_eq!(proxy.writes(), 0, "{:?}", proxy.counts());
}

#[test]
fn sigterm_mid_cycle_finishes_in_flight_work_saves_it_and_exits_cleanly() {
    let t = ScimPeer::shared().unique_tenant("sigterm");
    let proxy = slow_proxy(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).build();
    let people: Vec<Person> = (0..120).map(|i| Person::new(&format!("s{i:03}"))).collect();
    s.write_directory(&people, &[]);

    let child =
        s.command(&["sync"]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(900));
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "SIGTERM must exit cleanly: {:?}\n{err}", out.status);
    assert!(err.contains("stopped cleanly"), "{err}");
    let created_before = t.users().len();
    assert!(created_before > 0 && created_before < 120, "the stop landed mid-cycle: {created_before}");

    // Everything created before the stop was saved: the next run links nobody.
    s.sync_ok();
    assert_eq!(user_names(&t).len(), 120);
    let links = s.audit().iter().filter(|e| e["event_type"] == "LINK").count();
    assert_eq!(links, 0, "work done before SIGTERM was not saved");
}
