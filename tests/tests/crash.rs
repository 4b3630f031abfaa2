//! Crash safety end to end, against both kinds of target ([`TestTarget`]):
//! a strict one that refuses a second account with a taken userName
//! (scim2-server) and a forgiving one that creates it (the sandbox accepting
//! duplicates), where a blind create after a crash would show.
//!
//! provisio killed with SIGKILL at random points of a cycle, many times,
//! then cycles without kills: the target holds exactly the source's users,
//! once each. The kill loop does the same through a faulting proxy with the
//! directory changing between starts (titles, disables, removals). SIGTERM
//! mid-cycle finishes the operations in flight, saves them, and exits 0, so
//! the next run has nothing to reconcile.
//!
//! The kill loop is sized for the test suite (300 users, 20 kills); set
//! `PROVISIO_HEAVY=1` for the field trial's size (3,000 users, 50 kills).

use provisio_e2e::faults::FaultMix;
use provisio_e2e::proxy::{Proxy, Request, Response};
use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::targets::TestTarget;
use std::collections::BTreeSet;
use std::time::Duration;

/// `ms` per request keeps a cycle long enough to be interrupted.
fn slow(ms: u64, faults: Option<FaultMix>) -> impl Fn(&Request) -> Option<Response> + Send + Sync + 'static {
    let hook = faults.map(|f| f.hook());
    move |req| {
        std::thread::sleep(Duration::from_millis(ms));
        hook.as_ref().and_then(|h| h(req))
    }
}

/// Start `sync --once` and SIGKILL it after `delay`; whether it was still
/// running then.
fn kill_after(s: &Scenario, delay: Duration) -> bool {
    let mut child = s.command(&["sync", "--once"]).spawn().expect("start provisio");
    std::thread::sleep(delay);
    let running = child.try_wait().expect("poll provisio").is_none();
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    running
}

fn sigkill_at_random_points(target: TestTarget, per_request_ms: u64) {
    let kind = target.kind();
    let proxy = Proxy::builder(&target.base_url()).fault(slow(per_request_ms, None)).start();
    // A short timeout: a killed run's creates settle twice this long after
    // the first lookup that finds nothing.
    let s = Scenario::scim(&proxy.url(), &target.token()).timeout(3).build();
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
        killed_mid_cycle += u32::from(kill_after(&s, Duration::from_millis(*delay)));
    }
    assert!(killed_mid_cycle >= 5, "{kind}: only {killed_mid_cycle} kills landed mid-cycle");

    let final_people: Vec<Person> = people.iter().map(|p| p.clone().title("final")).collect();
    s.write_directory(&final_people, &[]);
    let (cycles, left) = s.converge(10);
    assert!(left.is_empty(), "{kind}: {left:?} after {cycles} cycles");
    assert!(target.duplicates().is_empty(), "{kind}: duplicates {:?}", target.duplicates());
    let want: Vec<String> = people.iter().map(|p| p.uid.clone()).collect();
    assert_eq!(target.user_names(), want, "{kind}: missing users after the kills");
    assert!(target.users().iter().all(|u| u["title"] == "final"), "{kind}: a change was lost");

    // And the state agrees with the target: nothing left to do.
    proxy.reset_counts();
    s.sync_ok();
    assert_eq!(proxy.writes(), 0, "{kind}: {:?}", proxy.counts());
}

#[test]
fn sigkill_at_random_points_then_clean_cycles_leave_exactly_the_right_users_on_a_strict_target() {
    sigkill_at_random_points(TestTarget::strict("sigkill"), 15);
}

#[test]
fn sigkill_at_random_points_then_clean_cycles_leave_exactly_the_right_users_on_a_forgiving_target() {
    // The in-process sandbox answers faster than scim2-server.
    sigkill_at_random_points(TestTarget::forgiving(), 40);
}

/// The directory of the kill loop: who is there, disabled, or gone.
struct Directory {
    people: Vec<Person>,
    disabled: BTreeSet<usize>,
    removed: BTreeSet<usize>,
}

impl Directory {
    fn entries(&self) -> Vec<Person> {
        (0..self.people.len())
            .filter(|i| !self.removed.contains(i))
            .map(
                |i| if self.disabled.contains(&i) { self.people[i].clone().disabled() } else { self.people[i].clone() },
            )
            .collect()
    }

    /// Round `r`'s changes: a third retitled (so the next run has work to
    /// be killed in), a few disabled, a few removed.
    fn change(&mut self, r: usize) {
        let n = self.people.len();
        for i in (r % 3..n).step_by(3) {
            self.people[i] = self.people[i].clone().title(&format!("title-{r}"));
        }
        for k in 0..3 {
            let i = (r * 37 + k * 101 + 5) % n;
            if k == 2 {
                self.removed.insert(i);
            } else {
                self.disabled.insert(i);
            }
        }
    }
}

#[test]
fn a_kill_loop_through_faults_with_directory_changes_ends_exact_on_a_forgiving_target() {
    let heavy = std::env::var("PROVISIO_HEAVY").is_ok_and(|v| v == "1");
    let (users, kills) = if heavy { (3000, 50) } else { (300, 20) };
    let target = TestTarget::forgiving();
    let mix = FaultMix::new(5, Duration::from_millis(3500));
    let proxy = Proxy::builder(&target.base_url()).fault(slow(15, Some(mix.clone()))).start();
    // Quarantine is not what this tests: a few cycles failing in a row (an
    // activation check that met a fault) must not make it sit out the end.
    let s = Scenario::scim(&proxy.url(), &target.token())
        .max_threads(8)
        .timeout(3)
        .deletion_guard(false)
        .engine("quarantine_after", 1000)
        .build();
    let mut dir = Directory {
        people: (0..users).map(|i| Person::new(&format!("u{i:04}"))).collect(),
        disabled: BTreeSet::new(),
        removed: BTreeSet::new(),
    };
    let mut landed = 0;
    for round in 0..kills {
        s.write_directory(&dir.entries(), &[]);
        // Pseudo-random moments between 0.15 s and 1.5 s into the run.
        let delay = 150 + (round as u64 * 7919 % 1350);
        landed += u32::from(kill_after(&s, Duration::from_millis(delay)));
        dir.change(round);
    }
    assert!(landed >= kills as u32 / 2, "only {landed} of {kills} kills landed mid-run");

    mix.set_percent(0);
    s.write_directory(&dir.entries(), &[]);
    let (cycles, left) = s.converge(15);
    if !left.is_empty() {
        let last = s.run(&["-v", "sync", "--once"]);
        panic!(
            "{left:?} after {cycles} cycles; then:\n{}\n{}",
            provisio_e2e::stdout(&last),
            provisio_e2e::stderr(&last)
        );
    }

    let accounts = target.accounts_by_user_name();
    let duplicates = target.duplicates();
    let faults = proxy.requests().iter().filter(|r| r.local).count();
    eprintln!(
        "kill loop: {users} users, {kills} SIGKILLs ({landed} mid-run), {faults} injected faults, converged in {cycles} \
         cycle(s); {} accounts, {} userName(s) held twice",
        accounts.values().map(Vec::len).sum::<usize>(),
        duplicates.len()
    );
    assert!(duplicates.is_empty(), "duplicate accounts: {duplicates:?}");
    for (i, p) in dir.people.iter().enumerate() {
        let account = accounts.get(&p.uid.to_lowercase()).map(|a| &a[0]);
        let active = account.is_some_and(|a| a["active"] != false);
        if dir.removed.contains(&i) {
            assert!(!active, "{} was removed from the directory but its account is active", p.uid);
        } else if dir.disabled.contains(&i) {
            assert!(!active, "{} is disabled in the directory but its account is active", p.uid);
        } else {
            let account = account.unwrap_or_else(|| panic!("{} has no account", p.uid));
            assert!(active, "{} is inactive", p.uid);
            assert_eq!(account["title"], p.title.as_str(), "{}'s title", p.uid);
        }
    }
}

#[test]
fn sigterm_mid_cycle_finishes_in_flight_work_saves_it_and_exits_cleanly() {
    for target in [TestTarget::strict("sigterm"), TestTarget::forgiving()] {
        let kind = target.kind();
        let proxy = Proxy::builder(&target.base_url()).fault(slow(15, None)).start();
        let s = Scenario::scim(&proxy.url(), &target.token()).build();
        let people: Vec<Person> = (0..120).map(|i| Person::new(&format!("s{i:03}"))).collect();
        s.write_directory(&people, &[]);

        let child = s
            .command(&["sync"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(900));
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{kind}: SIGTERM must exit cleanly: {:?}\n{err}", out.status);
        assert!(err.contains("stopped cleanly"), "{kind}: {err}");
        let created_before = target.users().len();
        assert!(created_before > 0 && created_before < 120, "{kind}: the stop landed mid-cycle: {created_before}");

        // Everything created before the stop was saved: the next run links nobody.
        let next = s.sync_ok();
        assert_eq!(target.user_names().len(), 120, "{kind}: {next}");
        assert!(target.duplicates().is_empty(), "{kind}: {:?}", target.duplicates());
        let links = s.audit().iter().filter(|e| e["event_type"] == "LINK").count();
        assert_eq!(links, 0, "{kind}: work done before SIGTERM was not saved");
    }
}
