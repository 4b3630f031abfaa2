//! Failover end to end (issue 8, part 2): real `provisio sync` processes on
//! one private PostgreSQL (tests/src/postgres.rs), each node behind its own
//! counting proxy in front of the same target (the built-in SCIM sandbox,
//! served by this process), so the test knows which node sent what.
//!
//! - two nodes, one channel: one node pushes; SIGKILL it and the other
//!   takes over after the grace period; the target ends exactly right, and
//!   no user was ever created twice;
//! - a node paused (SIGSTOP) mid-cycle past the grace period writes nothing
//!   when it resumes (SIGCONT), while the other node finished its work;
//! - three nodes, twelve channels: each channel is run by the node the
//!   assignment gives it, the channels spread over all three; `nodes list`
//!   shows them; `nodes backup` moves a node's channels to the others and
//!   `nodes activate` brings them back.
//!
//! Timings: heartbeat 1 s, grace period 6 s (lease TTL 3 s), a cycle every
//! second (the three-node test: heartbeat 2 s, grace period 8 s). Every wait polls for its condition with a generous deadline.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use provisio_e2e::postgres::{PASSWORD, Postgres};
use provisio_e2e::proxy::Proxy;
use provisio_e2e::scenario::{Person, Scenario, directory_ldif};
use provisio_state::cluster::assign;

const TOKEN: &str = "failover-e2e-token-4e2a";
const PASSWORD_VAR: &str = "PROVISIO_TEST_PG_PASSWORD";
const GRACE: u64 = 6;

/// The built-in SCIM target, served on 127.0.0.1 by this process.
struct Sandbox {
    runtime: tokio::runtime::Runtime,
    sandbox: Option<provisio_sandbox::Sandbox>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Sandbox {
    fn start() -> Sandbox {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = provisio_sandbox::SandboxConfig { bearer_token: Some(TOKEN.into()), ..Default::default() };
        let sandbox = runtime
            .block_on(provisio_sandbox::serve(config, async {
                let _ = stopped.await;
            }))
            .expect("start the sandbox");
        Sandbox { runtime, sandbox: Some(sandbox), stop: Some(stop) }
    }

    fn base_url(&self) -> String {
        self.sandbox.as_ref().expect("running").base_url().to_owned()
    }

    /// userName -> title.
    fn users(&self) -> BTreeMap<String, String> {
        let snapshot = self.sandbox.as_ref().expect("running").snapshot();
        snapshot["Users"]
            .as_array()
            .map(|users| {
                users
                    .iter()
                    .map(|u| {
                        (u["userName"].as_str().unwrap_or("").to_owned(), u["title"].as_str().unwrap_or("").to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(sandbox) = self.sandbox.take() {
            let _ = self.runtime.block_on(sandbox.wait());
        }
    }
}

/// Writes a node sent through its proxy: `POST <userName>` for creates,
/// `PATCH /Users/<id>` (or PUT, DELETE) for the others.
type Writes = Arc<Mutex<Vec<String>>>;

/// One node: its configuration directory, proxy and process.
struct Node {
    id: String,
    s: Scenario,
    proxy: Proxy,
    writes: Writes,
    child: Option<Child>,
}

impl Node {
    /// A node with heartbeat `timing.0` and grace period `timing.1` (seconds).
    fn new(id: &str, sandbox: &Sandbox, url: &str, key: &Path, channels: &[&str], timing: (u64, u64)) -> Node {
        let writes: Writes = Arc::default();
        let seen = writes.clone();
        let proxy = Proxy::builder(&sandbox.base_url())
            .fault(move |r| {
                let path = r.path_only().to_owned();
                let what = match r.method.as_str() {
                    "POST" if path.ends_with("/Users") => {
                        let name = r.json().and_then(|b| b["userName"].as_str().map(str::to_owned)).unwrap_or_default();
                        Some(format!("POST {name}"))
                    }
                    "PUT" | "PATCH" | "DELETE" => Some(format!("{} {path}", r.method)),
                    _ => None,
                };
                if let Some(w) = what {
                    seen.lock().unwrap().push(w);
                }
                None
            })
            .start();
        let mut store = toml::Table::new();
        store.insert("kind".into(), "postgres".into());
        store.insert("url".into(), url.into());
        let mut password = toml::Table::new();
        password.insert("env".into(), PASSWORD_VAR.into());
        store.insert("password".into(), toml::Value::Table(password));
        store.insert("tls".into(), "disable".into());
        store.insert("hash_key_file".into(), key.to_str().unwrap().into());
        let mut cluster = toml::Table::new();
        cluster.insert("mode".into(), "failover".into());
        cluster.insert("node_id".into(), id.into());
        cluster.insert("heartbeat_interval".into(), (timing.0 as i64).into());
        cluster.insert("grace_period".into(), (timing.1 as i64).into());
        let s = Scenario::scim(&proxy.url(), TOKEN)
            .env(PASSWORD_VAR, PASSWORD)
            .env("PROVISIO_LOG", "info,provisio::workflow=warn")
            .engine("state_store", toml::Value::Table(store))
            .engine("cluster", toml::Value::Table(cluster))
            .engine("synchronization_frequency", 1)
            .build();
        with_channels(&s.config_path(), channels);
        Node { id: id.to_owned(), s, proxy, writes, child: None }
    }

    /// Write each channel's people (`<channel>-<n>`, with `title`).
    fn directory(&self, channels: &[&str], per_channel: usize, title: &str) {
        for ch in channels {
            let people: Vec<Person> =
                (0..per_channel).map(|i| Person::new(&format!("{ch}-{i:03}")).title(title)).collect();
            std::fs::write(self.s.dir().join(format!("{ch}.ldif")), directory_ldif(&people, &[])).unwrap();
        }
    }

    fn start(&mut self) {
        self.start_with(&[]);
    }

    fn start_with(&mut self, extra: &[&str]) {
        let log = std::fs::File::create(self.log_path()).unwrap();
        let mut args = vec!["sync"];
        args.extend_from_slice(extra);
        let out = std::fs::File::create(self.s.dir().join("node.out")).unwrap();
        let child = self.s.command(&args).stdout(out).stderr(log).spawn().expect("start provisio sync");
        self.child = Some(child);
    }

    /// `GET path` from the node's listener (started with `--listen
    /// 127.0.0.1:0`, its address read from the log): status and body.
    fn get(&self, path: &str) -> (u16, String) {
        let log = self.log();
        let start = log.find("http://127.0.0.1:").unwrap_or_else(|| panic!("no listener address in:\n{log}"));
        let rest = &log[start + 7..];
        let base = &log[start..start + 7 + rest.find('/').unwrap()];
        let response = reqwest::blocking::Client::new()
            .get(format!("{base}{path}"))
            .timeout(Duration::from_secs(10))
            .send()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        (status, response.text().expect("a body"))
    }

    fn log_path(&self) -> PathBuf {
        self.s.dir().join("node.log")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// What the node printed on stdout (the cycles' summaries).
    fn out(&self) -> String {
        std::fs::read_to_string(self.s.dir().join("node.out")).unwrap_or_default()
    }

    fn signal(&self, signal: i32) {
        let pid = self.child.as_ref().expect("running").id();
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(pid as i32, signal) };
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn writes(&self) -> Vec<String> {
        self.writes.lock().unwrap().clone()
    }

    /// `provisio nodes ARGS` through this node's configuration.
    fn nodes(&self, args: &[&str]) -> String {
        let mut full = vec!["nodes"];
        full.extend_from_slice(args);
        self.s.run_ok(&full)
    }

    /// `nodes list --json`: node id -> (status, channels).
    fn list(&self) -> BTreeMap<String, (String, Vec<String>)> {
        let v: serde_json::Value = serde_json::from_str(&self.nodes(&["list", "--json"])).expect("JSON");
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let channels =
                    n["channels"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
                (n["node_id"].as_str().unwrap().to_owned(), (n["status"].as_str().unwrap().to_owned(), channels))
            })
            .collect()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // SAFETY: our own child; a stopped one must be continued to die
            // cleanly under SIGKILL on some kernels.
            unsafe { libc::kill(child.id() as i32, libc::SIGCONT) };
        }
        self.kill();
    }
}

/// Replace the scenario's single channel by `channels`, each reading
/// `<channel>.ldif`.
fn with_channels(config: &Path, channels: &[&str]) {
    let mut root: toml::Table = toml::from_str(&std::fs::read_to_string(config).unwrap()).unwrap();
    let conn = root["connection"].as_array_mut().unwrap()[0].as_table_mut().unwrap();
    let template = conn["channel"].as_array().unwrap()[0].as_table().unwrap().clone();
    let list: Vec<toml::Value> = channels
        .iter()
        .map(|name| {
            let mut ch = template.clone();
            ch.insert("name".into(), (*name).into());
            ch["source"].as_table_mut().unwrap().insert("path".into(), format!("{name}.ldif").into());
            toml::Value::Table(ch)
        })
        .collect();
    conn.insert("channel".into(), toml::Value::Array(list));
    std::fs::write(config, toml::to_string(&root).unwrap()).unwrap();
}

/// Poll `f` until it is true, or fail with `what` after `limit`.
fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
    start.elapsed()
}

/// Every create across `nodes`: each userName exactly once.
fn no_duplicate_create(nodes: &[&Node]) {
    let mut seen = BTreeMap::<String, Vec<&str>>::new();
    for n in nodes {
        for w in n.writes().iter().filter(|w| w.starts_with("POST ")) {
            seen.entry(w.clone()).or_default().push(&n.id);
        }
    }
    let dups: Vec<_> = seen.iter().filter(|(_, by)| by.len() > 1).collect();
    assert!(dups.is_empty(), "created more than once: {dups:?}");
}

struct Cluster {
    _pg: Postgres,
    sandbox: Sandbox,
    url: String,
    key: tempfile::TempDir,
}

impl Cluster {
    fn start(db: &str) -> Cluster {
        let pg = Postgres::start();
        let url = pg.create_database(db);
        Cluster { _pg: pg, sandbox: Sandbox::start(), url, key: tempfile::tempdir().unwrap() }
    }

    fn node(&self, id: &str, channels: &[&str]) -> Node {
        self.node_timed(id, channels, (1, GRACE))
    }

    fn node_timed(&self, id: &str, channels: &[&str], timing: (u64, u64)) -> Node {
        Node::new(id, &self.sandbox, &self.url, &self.key.path().join("hash.key"), channels, timing)
    }
}

/// Two node ids, the second of which the assignment gives `channel` when
/// both are live: the first one holds the channel only while alone.
fn ids_preferring_second(channel: &str) -> (String, String) {
    for i in 0..100 {
        let (a, b) = (format!("node-a{i}"), format!("node-b{i}"));
        if assign(channel, &[a.clone(), b.clone()]) == Some(b.as_str()) {
            return (a, b);
        }
    }
    unreachable!("some pair of ids prefers the second")
}

#[test]
fn two_nodes_one_pushes_and_sigkill_hands_over_within_the_grace_period() {
    let c = Cluster::start("two");
    let channels = ["people"];
    // b is the node the assignment prefers: started first, it keeps the
    // channel when a joins (a joining first would hand it over to b).
    let (id_a, id_b) = ids_preferring_second("target/people");
    let mut a = c.node(&id_a, &channels);
    let mut b = c.node(&id_b, &channels);
    for n in [&a, &b] {
        n.directory(&channels, 20, "v1");
    }
    b.start_with(&["--listen", "127.0.0.1:0"]);
    wait_for("node b to hold the channel", Duration::from_secs(60), || {
        b.list().get(&b.id).is_some_and(|(_, held)| !held.is_empty())
    });
    a.start_with(&["--listen", "127.0.0.1:0"]);
    wait_for("20 users at the target", Duration::from_secs(60), || c.sandbox.users().len() == 20);
    // Both live; exactly one holds the channel and wrote.
    wait_for("one node holding the channel, one standing by", Duration::from_secs(30), || {
        let l = a.list();
        let mut statuses: Vec<&str> = l.values().map(|(s, _)| s.as_str()).collect();
        statuses.sort();
        statuses == ["active", "standby"]
    });
    let list = a.list();
    let holder = list.iter().find(|(_, (s, _))| s == "active").map(|(id, _)| id.clone()).unwrap();
    assert_eq!(holder, b.id, "{list:?}");
    // The store's sessions log no routine server notice at INFO and send no
    // ROLLBACK outside a transaction (which the server answers with a warning).
    for n in [&a, &b] {
        let log = n.log();
        for noise in ["already exists, skipping", "there is no transaction in progress", "NOTICE"] {
            assert!(!log.contains(noise), "node {} logged '{noise}':\n{log}", n.id);
        }
    }
    assert_eq!(list[&holder].1, vec!["target/people".to_owned()], "{list:?}");
    let table = a.nodes(&["list"]);
    assert!(table.contains(&a.id) && table.contains(&b.id) && table.contains("target/people"), "{table}");
    // Metrics and readiness report each node's lease of the channel.
    let series =
        |state: &str| format!("provisio_lease_state{{connection=\"target\",channel=\"people\",state=\"{state}\"}} 1");
    wait_for("both listeners to report their leases", Duration::from_secs(30), || {
        a.log().contains("http://127.0.0.1:")
            && b.log().contains("http://127.0.0.1:")
            && b.get("/metrics").1.contains(&series("held"))
            && a.get("/metrics").1.contains(&series("standby"))
            && a.get("/health/ready").0 == 200
    });
    let (status, ready) = b.get("/health/ready");
    assert_eq!(status, 200, "{ready}");
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["node"]["node_id"], b.id.as_str(), "{ready}");
    assert_eq!(ready["node"]["channels"][0]["lease"], "held", "{ready}");
    // A few more cycles: still only the holder writes, nothing twice.
    std::thread::sleep(Duration::from_secs(3));
    let (active, standby) = (&mut b, &mut a);
    assert_eq!(active.writes().iter().filter(|w| w.starts_with("POST ")).count(), 20, "{:?}", active.writes());
    assert!(standby.writes().is_empty(), "the standby node wrote: {:?}", standby.writes());
    // ... and says so once, printing no empty summary every cycle.
    assert!(!standby.out().contains("CONNECTION"), "the standby node printed a summary:\n{}", standby.out());
    assert_eq!(standby.log().matches("provisio: standby:").count(), 1, "{}", standby.log());

    // SIGKILL the active node, then change every title and add users.
    active.kill();
    let killed = Instant::now();
    for n in [&*active, &*standby] {
        n.directory(&channels, 25, "v2");
    }
    let took = wait_for("the survivor to bring the target up to date", Duration::from_secs(GRACE + 40), || {
        let users = c.sandbox.users();
        users.len() == 25 && users.values().all(|t| t == "v2")
    });
    // Not before the grace period (the dead node's lease stood), and soon
    // after it: grace + a heartbeat + a cycle, with room for a slow machine.
    assert!(took >= Duration::from_secs(GRACE - 1), "taken over after {took:?}, before the grace period");
    assert!(killed.elapsed() < Duration::from_secs(GRACE + 30));
    let list = standby.list();
    assert_eq!(list[&standby.id], ("active".to_owned(), vec!["target/people".to_owned()]), "{list:?}");
    assert_eq!(list[&active.id].0, "dead", "{list:?}");
    no_duplicate_create(&[&*active, &*standby]);
    // Each user updated once, by the survivor only.
    let updates: Vec<String> = standby.writes().into_iter().filter(|w| !w.starts_with("POST ")).collect();
    let distinct: BTreeSet<&String> = updates.iter().collect();
    assert_eq!((updates.len(), distinct.len()), (20, 20), "{updates:?}");
    assert_eq!(standby.writes().iter().filter(|w| w.starts_with("POST ")).count(), 5);
}

#[test]
fn a_node_paused_past_the_grace_period_writes_nothing_when_it_resumes() {
    let c = Cluster::start("paused");
    let channels = ["people"];
    let (id_a, id_b) = ids_preferring_second("target/people");
    let mut a = c.node(&id_a, &channels);
    let mut b = c.node(&id_b, &channels);
    // A slow target keeps a's first cycle going long enough to pause it.
    a.proxy.set_delay(Duration::from_millis(250));
    for n in [&a, &b] {
        n.directory(&channels, 80, "v1");
    }
    a.start();
    wait_for("node a to create some users", Duration::from_secs(60), || {
        a.writes().iter().filter(|w| w.starts_with("POST ")).count() >= 8
    });
    a.signal(libc::SIGSTOP);
    let paused = Instant::now();
    b.start();
    wait_for("node b to take over and finish", Duration::from_secs(GRACE + 60), || c.sandbox.users().len() == 80);
    assert!(paused.elapsed() >= Duration::from_secs(GRACE - 1), "b wrote before a's grace period passed");
    // b also carries a change while a sleeps.
    for n in [&a, &b] {
        n.directory(&channels, 80, "v2");
    }
    wait_for("node b to update every user", Duration::from_secs(60), || c.sandbox.users().values().all(|t| t == "v2"));
    let before = a.writes();
    a.signal(libc::SIGCONT);
    // Its deadline long passed: whatever a was doing, it sends nothing more,
    // through several of its cycles and heartbeats.
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(a.writes(), before, "the resumed node wrote");
    assert!(a.child.as_mut().unwrap().try_wait().unwrap().is_none(), "the resumed node died:\n{}", a.log());
    let log = a.log();
    assert!(log.contains("lease of target/people lost"), "{log}");
    // What stopped it: the connector call refused at the gate, or the
    // state batch refused by the fence; either way nothing went out.
    let out = a.out();
    // (Or, if it was paused inside a state transaction, the server ended
    // that session.)
    assert!(
        ["no longer holds the lease", "lease of target/people has expired", "idle-in-transaction", "connection closed"]
            .iter()
            .any(|m| out.contains(m)),
        "the resumed node's cycle did not meet its lost lease:\n{out}\n{log}"
    );
    let list = b.list();
    assert_eq!(list[&b.id].1, vec!["target/people".to_owned()], "{list:?}");
    assert_eq!(list[&a.id].0, "standby", "{list:?}");
    no_duplicate_create(&[&a, &b]);
    let users = c.sandbox.users();
    assert_eq!(users.len(), 80);
    assert!(users.values().all(|t| t == "v2"));
}

/// The fencing token a request carried (`Provisio-Fencing-Token`).
fn token(r: &provisio_e2e::proxy::Request) -> Option<i64> {
    r.header("Provisio-Fencing-Token").and_then(|t| t.parse().ok())
}

/// Issue 26 item 7. Node a is paused (SIGSTOP) in the middle of updating
/// users (its read of each user is answered, the answer held by its proxy),
/// past the grace period; node b takes over and writes newer values; a is
/// resumed. Without fencing inside the operation, a would go on with the
/// values it read: PUT with a stale If-Match, 412, read again, PUT its older
/// title over b's. With it, a's proxy receives nothing after a's deadline
/// and the target keeps b's values. Then, with b holding the lease, a 412
/// fails the update instead of being retried within the operation, and b's
/// next cycle brings the user up to date.
#[test]
fn a_node_paused_mid_update_sends_nothing_after_its_deadline_and_a_412_is_not_retried() {
    let c = Cluster::start("midop");
    let channels = ["people"];
    let (id_a, id_b) = ids_preferring_second("target/people");
    let mut a = c.node(&id_a, &channels);
    let mut b = c.node(&id_b, &channels);
    for n in [&a, &b] {
        n.directory(&channels, 10, "v1");
    }
    a.start();
    wait_for("node a to create 10 users", Duration::from_secs(60), || c.sandbox.users().len() == 10);
    // Arm a's proxy: every read of one user is answered from the target at
    // once and the answer held, so a stays inside its update operations.
    let a_tokens: Arc<Mutex<BTreeSet<i64>>> = Arc::default();
    let reading: Arc<Mutex<Option<Instant>>> = Arc::default();
    let (seen, started) = (a_tokens.clone(), reading.clone());
    a.proxy.set_fault(move |r| {
        seen.lock().unwrap().extend(token(r));
        let segments = r.segments();
        if r.method == "GET" && segments.len() == 2 && segments[0] == "Users" {
            started.lock().unwrap().get_or_insert_with(Instant::now);
            return Some(provisio_e2e::proxy::Response::held(Duration::from_secs(2)));
        }
        None
    });
    a.directory(&channels, 10, "v2");
    wait_for("node a to read a user for its update", Duration::from_secs(30), || reading.lock().unwrap().is_some());
    a.signal(libc::SIGSTOP);
    let paused = Instant::now();
    // a's deadline is at most a lease TTL after its last renewal, which
    // started before the pause.
    let deadline = paused + Duration::from_secs(GRACE / 2);
    let b_tokens: Arc<Mutex<BTreeSet<i64>>> = Arc::default();
    let seen = b_tokens.clone();
    b.proxy.set_fault(move |r| {
        seen.lock().unwrap().extend(token(r));
        None
    });
    b.directory(&channels, 10, "v3");
    b.start();
    wait_for("node b to take over and write v3", Duration::from_secs(GRACE + 60), || {
        let users = c.sandbox.users();
        users.len() == 10 && users.values().all(|t| t == "v3")
    });
    assert!(paused.elapsed() >= Duration::from_secs(GRACE - 1), "b wrote before a's grace period passed");
    let resumed = Instant::now();
    a.signal(libc::SIGCONT);
    // Several of a's cycles and heartbeats, and the held answers delivered.
    std::thread::sleep(Duration::from_secs(6));
    let late: Vec<_> = a.proxy.requests().into_iter().filter(|r| r.received >= deadline).collect();
    assert!(
        late.is_empty(),
        "node a sent {} request(s) after its deadline (resumed {:?} after it): {late:?}",
        late.len(),
        resumed - deadline
    );
    let users = c.sandbox.users();
    assert!(users.len() == 10 && users.values().all(|t| t == "v3"), "b's values overwritten: {users:?}");
    assert!(a.child.as_mut().unwrap().try_wait().unwrap().is_none(), "the resumed node died:\n{}", a.log());
    let said = format!("{}{}", a.out(), a.log());
    assert!(said.contains("lease of target/people has expired"), "a did not meet its expired lease:\n{said}");
    // Every request carried its holder's fencing token; b's take-over raised it.
    let (ta, tb) = (a_tokens.lock().unwrap().clone(), b_tokens.lock().unwrap().clone());
    assert_eq!(ta.len(), 1, "a's tokens: {ta:?}");
    assert!(!tb.is_empty() && tb.iter().all(|t| t > ta.first().unwrap()), "a's {ta:?}, b's {tb:?}");

    // A 412 while b holds the lease: the update fails (not read again and
    // retried by the connector), the user stays dirty, the next cycle
    // writes it from fresh state.
    let refused: Arc<Mutex<Option<String>>> = Arc::default();
    let first = refused.clone();
    b.proxy.set_fault(move |r| {
        let mut first = first.lock().unwrap();
        if r.method == "PUT" && first.is_none() {
            *first = Some(r.path_only().to_owned());
            return Some(provisio_e2e::proxy::Response::scim_error(412, "test: changed meanwhile"));
        }
        None
    });
    b.proxy.reset_counts();
    b.directory(&channels, 10, "v4");
    wait_for("node b to write v4 to every user", Duration::from_secs(60), || {
        c.sandbox.users().values().all(|t| t == "v4")
    });
    let path = refused.lock().unwrap().clone().expect("a PUT was refused with 412");
    let out = b.out();
    assert!(out.contains("answered 412") && out.contains("another writer"), "the 412 did not fail the update:\n{out}");
    // The refused user was then written once, with success.
    let puts: Vec<_> = b.proxy.requests().into_iter().filter(|r| r.method == "PUT" && r.path == path).collect();
    assert_eq!(puts.iter().map(|r| r.status).collect::<Vec<_>>(), [412, 200], "{puts:?}");
}

#[test]
fn three_nodes_spread_channels_and_backup_moves_them() {
    let c = Cluster::start("three");
    let names: Vec<String> = (0..12).map(|i| format!("ch{i:02}")).collect();
    let channels: Vec<&str> = names.iter().map(String::as_str).collect();
    let ids = ["node-x", "node-y", "node-z"];
    let live: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    let owner = |ch: &str, nodes: &[String]| assign(&format!("target/{ch}"), nodes).unwrap().to_owned();
    let expected: BTreeMap<&str, String> = channels.iter().map(|ch| (*ch, owner(ch, &live))).collect();
    let carriers: BTreeSet<&String> = expected.values().collect();
    assert_eq!(carriers.len(), 3, "the assignment leaves a node idle: {expected:?}");

    // A 2 s heartbeat: nodes started within one interval count as started
    // together, with room for a slow machine.
    let mut nodes: Vec<Node> = ids.iter().map(|id| c.node_timed(id, &channels, (2, 8))).collect();
    for n in &nodes {
        n.directory(&channels, 3, "v1");
    }
    // Started together: node-x first, the others as soon as it is
    // registered (before, it took every channel at once).
    nodes[0].start();
    wait_for("node-x to register", Duration::from_secs(60), || {
        let out = nodes[0].s.run(&["nodes", "list", "--json"]);
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("\"node-x\"")
    });
    for n in &mut nodes[1..] {
        n.start();
    }
    wait_for("every channel held by its assigned node", Duration::from_secs(90), || {
        let list = nodes[0].list();
        channels.iter().all(|ch| {
            let key = format!("target/{ch}");
            list.get(&expected[ch]).is_some_and(|(_, held)| held.contains(&key))
        })
    });
    wait_for("36 users at the target", Duration::from_secs(60), || c.sandbox.users().len() == 36);
    // Spread from the first cycle: every user was created by the node its
    // channel is assigned to (no node took every channel at its start).
    for n in &nodes {
        let strays: Vec<String> = n
            .writes()
            .into_iter()
            .filter(|w| {
                w.strip_prefix("POST ").and_then(|u| u.split('-').next()).is_some_and(|ch| expected[ch] != n.id)
            })
            .collect();
        assert!(strays.is_empty(), "{} created users of channels assigned to others: {strays:?}", n.id);
    }
    let list = nodes[0].list();
    assert!(list.values().all(|(s, _)| s == "active"), "{list:?}");
    let refs: Vec<&Node> = nodes.iter().collect();
    no_duplicate_create(&refs);

    // Backup: the node's channels move to the others, it writes no more.
    let x = &nodes[0];
    let mine: Vec<&str> = channels.iter().copied().filter(|ch| expected[ch] == x.id).collect();
    let out = x.nodes(&["backup", "--node", &x.id]);
    assert!(out.contains("backup"), "{out}");
    wait_for("node-x in backup, its channels with the others", Duration::from_secs(60), || {
        let list = x.list();
        list[&x.id].0 == "backup"
            && list[&x.id].1.is_empty()
            && mine.iter().all(|ch| list.values().any(|(_, held)| held.contains(&format!("target/{ch}"))))
    });
    let before = x.writes().len();
    for n in &nodes {
        n.directory(&channels, 4, "v2");
    }
    wait_for("48 users, all v2", Duration::from_secs(60), || {
        let users = c.sandbox.users();
        users.len() == 48 && users.values().all(|t| t == "v2")
    });
    assert_eq!(x.writes().len(), before, "a node in backup wrote");
    let refs: Vec<&Node> = nodes.iter().collect();
    no_duplicate_create(&refs);

    // Activate: it takes its channels back.
    x.nodes(&["activate", "--node", &x.id]);
    wait_for("node-x holding its channels again", Duration::from_secs(60), || {
        let list = x.list();
        list[&x.id].0 == "active" && mine.iter().all(|ch| list[&x.id].1.contains(&format!("target/{ch}")))
    });
    // A standalone writer is refused while nodes run (they share the run
    // lock; it needs it alone).
    let out = x.s.run(&["channels", "reset", "--channel", "ch00"]);
    assert!(!out.status.success());
    assert!(provisio_e2e::stderr(&out).contains("another provisio run"), "{}", provisio_e2e::stderr(&out));
    // Unknown node: a clear error.
    let out = x.s.run(&["nodes", "backup", "--node", "nope"]);
    assert!(!out.status.success());
    assert!(provisio_e2e::stderr(&out).contains("no node 'nope'"), "{}", provisio_e2e::stderr(&out));
}

#[test]
fn failover_on_sqlite_is_refused_naming_the_key() {
    let sandbox = Sandbox::start();
    let mut cluster = toml::Table::new();
    cluster.insert("mode".into(), "failover".into());
    cluster.insert("node_id".into(), "a".into());
    let s = Scenario::scim(&sandbox.base_url(), TOKEN).engine("cluster", toml::Value::Table(cluster)).build();
    let out = s.run(&["sync", "--once"]);
    let e = provisio_e2e::stderr(&out);
    assert!(!out.status.success());
    assert!(e.contains("[engine.cluster] mode = \"failover\"") && e.contains("kind = \"postgres\""), "{e}");
    let out = s.run(&["nodes", "list"]);
    assert!(!out.status.success());
    assert!(provisio_e2e::stderr(&out).contains("PostgreSQL"), "{}", provisio_e2e::stderr(&out));
}
