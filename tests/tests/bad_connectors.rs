//! Bad connectors in the middle of a real cycle cost only their own
//! operations: a connector whose operation never completes (cut by the
//! channel's timeout), one that blocks its thread (timed out, then reported
//! by the watchdog and marked wedged), one that panics, and one that answers
//! garbage, all in one run beside a healthy SCIM connection, which still
//! provisions its users. The run ends on its own; the host never dies.

use provisio_e2e::scim_peer::ScimPeer;
use provisio_e2e::{fixture_plugins_dir, profile_dir, provisio_command, stderr, stdout};
use std::time::{Duration, Instant};

#[test]
fn hanging_blocking_panicking_and_garbage_connectors_cost_only_their_operations() {
    let good = ScimPeer::shared().unique_tenant("bad-neighbours");
    let dir = tempfile::tempdir().unwrap();
    let ldif: String = ["alice", "hang1", "block1", "zoe"]
        .iter()
        .map(|u| format!("dn: uid={u},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: {u}\nsn: T\nentryUUID: {u}-guid\n\n"))
        .collect();
    std::fs::write(dir.path().join("people.ldif"), ldif).unwrap();
    let channel = |timeout: u32| {
        format!(
            "[[connection.channel]]\nname = \"people\"\nmax_threads = 4\ntimeout = {timeout}\nsource = {{ kind = \"file\", path = \"people.ldif\" }}\nmapping = [ {{ field = \"userName\", attributes = [\"uid\"] }} ]\n"
        )
    };
    let config = format!(
        "[engine]\nstate = \"state.db\"\naudit_log = \"audit.log\"\n\n\
         [[connection]]\nname = \"stuck\"\nconnector = \"stuck\"\n{}\n\
         [[connection]]\nname = \"panics\"\nconnector = \"misbehaving\"\n{}\n\
         [[connection]]\nname = \"garbage\"\nconnector = \"garbage\"\n{}\n\
         [[connection]]\nname = \"good\"\nconnector = \"scim\"\nsettings = {{ scim_url = \"{}\", authentication_method = \"oauth2_bearer_token\", access_token = {{ env = \"GOOD_TOKEN\" }} }}\n{}",
        channel(2),
        channel(5),
        channel(5),
        good.base_url,
        channel(20),
    );
    let file = dir.path().join("provisio.toml");
    std::fs::write(&file, config).unwrap();
    let fixtures = fixture_plugins_dir();
    let profile = profile_dir();
    let started = Instant::now();
    let out = provisio_command(&[
        "--connector-dir",
        fixtures.to_str().unwrap(),
        "--connector-dir",
        profile.to_str().unwrap(),
        "--config",
        file.to_str().unwrap(),
        "sync",
        "--once",
    ])
    .env("GOOD_TOKEN", &good.token)
    .output()
    .unwrap();
    let elapsed = started.elapsed();
    let text = stdout(&out) + &stderr(&out);
    assert!(elapsed < Duration::from_secs(15), "the run waited on the blocked thread: {elapsed:?}\n{text}");
    assert!(out.status.code().is_some(), "the host died: {:?}\n{text}", out.status);

    // The healthy neighbour did all its work.
    assert_eq!(good.users().len(), 4, "{text}");
    // Each bad connector cost only its own operations, each explained.
    assert!(text.contains("stuck/people: user hang1 failed") && text.contains("did not finish within 2 s"), "{text}");
    assert!(text.contains("stuck/people: user block1 failed"), "{text}");
    assert!(text.contains("watchdog") && text.contains("wedged"), "{text}");
    assert!(text.contains("panics/people: user alice failed") && text.contains("panicked"), "{text}");
    assert!(text.contains("garbage/people: user alice failed"), "{text}");
    // stuck created the users it could before it was marked wedged, or
    // refused them afterwards with a clear reason: never silently.
    for user in ["alice", "zoe"] {
        let line = text.lines().find(|l| l.starts_with("stuck/people: user ") && l.contains(&format!(" {user} ")));
        if let Some(line) = line {
            assert!(line.contains("wedged") || line.contains("did not finish"), "{line}");
        }
    }
}
