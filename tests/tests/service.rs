//! provisio as a service, end to end: the real `provisio sync` with its
//! listener on a free port of 127.0.0.1 (`--listen 127.0.0.1:0`; the address
//! it took is read from its log), against the built-in SCIM sandbox served
//! in this process. After a known cycle the health endpoints and the
//! metrics are scraped and checked value by value; an unreachable target
//! makes it not ready; the status page is rendered in headless Chromium
//! (installed by `scripts/peers/install-chromium`, which `scripts/test`
//! runs); SIGTERM stops it cleanly; its JSON log lines parse and carry no
//! secret.

use provisio_e2e::sandbox::InProcessSandbox as Sandbox;
use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::service::Service;
use provisio_e2e::{profile_dir, provisio_command, stderr, stdout};
use std::process::Stdio;
use std::time::{Duration, Instant};

const TOKEN: &str = "svc-token-4f1d9a7c2b";

/// The value of one series of a scrape (`name{labels}` exactly as written).
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

fn ops(text: &str, kind: &str, outcome: &str) -> Option<f64> {
    metric(
        text,
        &format!(
            "provisio_operations_total{{connection=\"target\",channel=\"people\",kind=\"{kind}\",outcome=\"{outcome}\"}}"
        ),
    )
}

const CHANNEL: &str = "{connection=\"target\",channel=\"people\"}";

fn people() -> Vec<Person> {
    ["ada", "grace", "linus"].iter().map(|u| Person::new(u)).collect()
}

/// A scenario against the sandbox that runs a cycle an hour, so the test
/// sees exactly one.
fn scenario(scim_url: &str) -> Scenario {
    let s = Scenario::scim(scim_url, TOKEN).engine("synchronization_frequency", 3600).build();
    s.write_directory(&people(), &[]);
    s
}

/// Every stderr line is one JSON object, and none carries the token.
fn assert_json_logs_without_secret(lines: &[String]) {
    assert!(!lines.is_empty());
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("a stderr line is not JSON ({e}): {line}"));
        assert!(v.is_object() && v["level"].is_string() && v["timestamp"].is_string(), "{line}");
        assert!(!line.contains(TOKEN), "the token leaked into the log: {line}");
    }
}

#[test]
fn after_a_known_cycle_health_and_metrics_say_so_and_sigterm_stops_cleanly() {
    let sandbox = Sandbox::start(TOKEN);
    let s = scenario(&sandbox.base_url());
    let mut service = Service::start(&s, &[]);

    let (status, content_type, body) = service.get("/health/live");
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("application/json"), "{content_type}");

    let body = service.wait_for("/health/ready", "readiness after the first cycle", |status, _| status == 200);
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["ready"], true, "{ready}");
    assert_eq!(sandbox.user_names(), ["ada", "grace", "linus"]);

    let (status, content_type, text) = service.get("/metrics");
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let cycles = |result: &str| {
        metric(&text, &format!("provisio_cycles_total{{connection=\"target\",channel=\"people\",result=\"{result}\"}}"))
    };
    assert_eq!(cycles("success"), Some(1.0), "{text}");
    assert_eq!(cycles("failure"), Some(0.0), "{text}");
    assert_eq!(ops(&text, "create", "success"), Some(3.0), "{text}");
    for kind in ["create", "link", "update", "disable", "enable", "delete"] {
        assert_eq!(ops(&text, kind, "failure"), Some(0.0), "{kind}: {text}");
    }
    assert_eq!(ops(&text, "update", "success"), Some(0.0), "{text}");
    assert_eq!(metric(&text, &format!("provisio_users{CHANNEL}")), Some(3.0), "{text}");
    assert_eq!(metric(&text, &format!("provisio_dirty_records{CHANNEL}")), Some(0.0), "{text}");
    assert_eq!(metric(&text, &format!("provisio_held_deprovisions{CHANNEL}")), Some(0.0), "{text}");
    assert_eq!(metric(&text, &format!("provisio_held_group_deletions{CHANNEL}")), Some(0.0), "{text}");
    assert_eq!(metric(&text, &format!("provisio_channel_quarantined{CHANNEL}")), Some(0.0), "{text}");
    assert_eq!(metric(&text, "provisio_quarantined_channels"), Some(0.0), "{text}");
    assert_eq!(metric(&text, "provisio_lease_state{state=\"standalone\"}"), Some(1.0), "{text}");
    assert_eq!(metric(&text, "provisio_ready"), Some(1.0), "{text}");
    assert_eq!(metric(&text, &format!("provisio_cycle_duration_seconds_count{CHANNEL}")), Some(1.0), "{text}");
    assert_eq!(
        metric(
            &text,
            "provisio_operation_duration_seconds_count{connection=\"target\",operation=\"create_user\",outcome=\"success\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    assert!(!text.contains(TOKEN));

    let (status, _, _) = service.get("/nothing-here");
    assert_eq!(status, 404);

    assert!(service.terminate(), "SIGTERM must exit with status 0:\n{}", service.lines().join("\n"));
    let lines = service.lines();
    assert_json_logs_without_secret(&lines);
    let events: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let finished = events.iter().find(|e| e["message"] == "cycle finished").expect("a cycle event");
    assert_eq!(finished["created"], 3, "{finished}");
    assert_eq!(finished["channel"], "people", "{finished}");
    assert!(events.iter().any(|e| e["message"].as_str().is_some_and(|m| m.contains("stopped cleanly"))), "{lines:#?}");
    // The listener stopped with the loop.
    assert!(std::net::TcpStream::connect(service.base.trim_start_matches("http://")).is_err());
}

#[test]
fn an_unreachable_target_is_not_ready_and_nothing_served_shows_the_secret() {
    // A port nobody listens on; the token in the URL's path shows that what
    // the error quotes is redacted everywhere it is served.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // One failing cycle quarantines the channel; the next cycles sit out.
    let s = Scenario::scim(&format!("http://127.0.0.1:{port}/{TOKEN}/scim/v2"), TOKEN)
        .engine("synchronization_frequency", 1)
        .engine("quarantine_after", 1)
        .engine("quarantine_interval", 600)
        .build();
    s.write_directory(&people(), &[]);
    let mut service = Service::start(&s, &[]);

    let body = service.wait_for("/health/ready", "a failed first cycle", |status, body| {
        status == 503 && !body.contains("has not finished")
    });
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["ready"], false, "{v}");
    assert_eq!(v["channels"][0]["channel"], "people", "{v}");
    let error = v["channels"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("activation check failed") && error.contains("******"), "{error}");
    assert!(!body.contains(TOKEN), "{body}");

    let cycles = |text: &str, result: &str| {
        metric(text, &format!("provisio_cycles_total{{connection=\"target\",channel=\"people\",result=\"{result}\"}}"))
    };
    let text = service.wait_for("/metrics", "a cycle sat out in quarantine", |_, text| {
        cycles(text, "quarantined").is_some_and(|n| n >= 1.0)
    });
    assert_eq!(cycles(&text, "failure"), Some(1.0), "{text}");
    assert_eq!(cycles(&text, "success"), Some(0.0), "{text}");
    assert_eq!(metric(&text, &format!("provisio_channel_quarantined{CHANNEL}")), Some(1.0), "{text}");
    assert_eq!(metric(&text, "provisio_quarantined_channels"), Some(1.0), "{text}");
    assert_eq!(metric(&text, "provisio_ready"), Some(0.0), "{text}");
    assert!(!text.contains(TOKEN));
    // Sitting out in quarantine keeps it not ready.
    let (status, _, body) = service.get("/health/ready");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("quarantined for another"), "{body}");
    let (status, _, page) = service.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("not ready") && page.contains("quarantined until"), "{page}");
    assert!(page.contains("activation check failed"), "the last error is shown: {page}");
    assert!(!page.contains(TOKEN), "{page}");
    let (status, _, _) = service.get("/health/live");
    assert_eq!(status, 200);

    assert!(service.terminate());
    assert_json_logs_without_secret(&service.lines());
}

/// The Chromium binary `scripts/peers/install-chromium` installs.
fn chromium() -> std::path::PathBuf {
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':').chain(["/usr/bin", "/usr/local/bin"]) {
            let path = std::path::Path::new(dir).join(name);
            if path.is_file() {
                return path;
            }
        }
    }
    panic!("chromium is missing: run scripts/peers/install-chromium (scripts/test does) to install it from Debian");
}

/// The DOM of `url` after load, from headless Chromium.
fn dump_dom(url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            &format!("--user-data-dir={}", profile.path().display()),
            "--dump-dom",
            url,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut dom = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut dom);
        dom
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish rendering {url} within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().unwrap()
}

/// The text of each cell of each row of the first table that `marker` opens.
fn table_rows(dom: &str, marker: &str) -> Vec<Vec<String>> {
    let start = dom.find(marker).unwrap_or_else(|| panic!("no {marker} in the page:\n{dom}"));
    let table = &dom[start..start + dom[start..].find("</table>").expect("a closed table")];
    table
        .split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = &cell[cell.find('>').unwrap() + 1..];
                    let cell = &cell[..cell.find("</td>").unwrap_or(cell.len())];
                    // Strip inner tags (status spans).
                    let mut text = String::new();
                    let mut in_tag = false;
                    for c in cell.chars() {
                        match c {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => text.push(c),
                            _ => {}
                        }
                    }
                    text.trim().to_owned()
                })
                .collect()
        })
        .filter(|cells: &Vec<String>| !cells.is_empty())
        .collect()
}

#[test]
fn the_status_page_in_headless_chromium_shows_the_known_cycle_with_its_counts() {
    let sandbox = Sandbox::start(TOKEN);
    let s = scenario(&sandbox.base_url());
    let mut service = Service::start(&s, &[]);
    service.wait_for("/health/ready", "readiness after the first cycle", |status, _| status == 200);

    let dom = dump_dom(&format!("{}/", service.base));
    assert!(dom.contains("provisio status"), "{dom}");
    // Chromium built a DOM (tables get their tbody), not just the text we sent.
    assert!(dom.contains("<tbody>"), "{dom}");
    assert!(dom.contains("http-equiv=\"refresh\""), "the page must refresh itself:\n{dom}");
    assert!(dom.contains("id=\"ready\">ready<"), "{dom}");

    let connections = table_rows(&dom, "id=\"connections\"");
    assert_eq!(connections, vec![vec!["target", "scim", "", "yes", "people"]], "{dom}");

    let channels = table_rows(&dom, "id=\"channels\"");
    assert_eq!(channels.len(), 1, "{dom}");
    let row = &channels[0];
    assert_eq!(
        &row[..6],
        ["target", "people", "ok", "3", "0", "0"],
        "connection, channel, status, users, dirty, held: {dom}"
    );

    // The known cycle: 3 created, nothing else, no error.
    let cycles = table_rows(&dom, "data-channel=\"target/people\"");
    assert_eq!(cycles.len(), 1, "one cycle ran: {dom}");
    let c = &cycles[0];
    // cycle, started, duration, created, linked, updated, disabled, re-enabled, deleted, skipped, failed, error
    assert_eq!(&c[3..], ["3", "0", "0", "0", "0", "0", "0", "0", ""], "{dom}");
    assert!(dom.contains("Dirty records (0)") && dom.contains("Held deprovisions (0)"), "{dom}");
    assert!(!dom.contains(TOKEN));

    assert!(service.terminate());
}

#[test]
fn a_non_loopback_address_is_refused_naming_the_key() {
    let s = Scenario::scim("http://127.0.0.1:9/scim/v2", TOKEN).build();
    let out = s.run(&["sync", "--listen", "0.0.0.0:9464"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("--listen: 0.0.0.0:9464 is not a loopback address") && err.contains("allow_non_loopback = true"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let out = s.run(&["sync", "--listen", "localhost:9464"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not an IP address and port"), "{}", stderr(&out));

    // `--once` never serves: asking for both is a usage error.
    let out = s.run(&["sync", "--once", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let mut s = s;
    s.reconfigure(|b| {
        let mut service = toml::Table::new();
        service.insert("listen".into(), "0.0.0.0:9464".into());
        b.engine("service", toml::Value::Table(service))
    });
    let out = s.run(&["config", "check"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("error: engine.service.listen: 0.0.0.0:9464 is not a loopback address"), "{err}");

    // The same, logged as JSON lines (PROVISIO_LOG_FORMAT=json).
    let out = s.command(&["config", "check"]).env("PROVISIO_LOG_FORMAT", "json").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a configuration error");
    let lines: Vec<String> = stderr(&out).lines().map(str::to_owned).collect();
    assert_json_logs_without_secret(&lines);
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["level"], "ERROR", "{first}");
    assert!(first["message"].as_str().unwrap().contains("engine.service.listen: 0.0.0.0:9464"), "{first}");
}

#[test]
fn the_example_service_configuration_passes_config_check() {
    let root = provisio_e2e::scim_peer::repo_root();
    let dir = profile_dir();
    let out = provisio_command(&[
        "--connector-dir",
        dir.to_str().unwrap(),
        "--config",
        "examples/service.toml",
        "config",
        "check",
    ])
    .current_dir(&root)
    .env("SANDBOX_TOKEN", "dummy-token")
    .output()
    .expect("run provisio");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!text.contains("error") && !text.contains("warning"), "{text}");
    let unit = std::fs::read_to_string(root.join("examples/provisio.service")).expect("examples/provisio.service");
    for line in [
        "ExecStart=/usr/local/bin/provisio --config /etc/provisio/provisio.toml sync",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/provisio",
        "Restart=on-failure",
        "User=provisio",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks {line}");
    }
}

#[test]
fn dirty_records_and_held_deprovisions_show_in_the_metrics_and_on_the_page() {
    use provisio_e2e::proxy::{Proxy, Response};
    let sandbox = Sandbox::start(TOKEN);
    // The target refuses one user, with an error text that must be escaped.
    let proxy = Proxy::builder(&sandbox.base_url())
        .fault(|r| {
            let refused = r.method == "POST" && r.json().is_some_and(|b| b["userName"] == "mallory");
            refused.then(|| Response::scim_error(400, "<b>mallory</b> & \"friends\" are not welcome"))
        })
        .start();
    let s = Scenario::scim(&proxy.url(), TOKEN).engine("synchronization_frequency", 1).build();
    let mut everyone = people();
    everyone.push(Person::new("mallory"));
    s.write_directory(&everyone, &[]);
    let mut service = Service::start(&s, &[]);

    // Gauges come from the store (written during the cycle), counters when
    // the cycle has finished: wait for both.
    let text = service.wait_for("/metrics", "the first cycle", |_, text| {
        metric(text, &format!("provisio_dirty_records{CHANNEL}")) == Some(1.0)
            && ops(text, "create", "success").is_some()
    });
    assert_eq!(ops(&text, "create", "success"), Some(3.0), "{text}");
    assert!(ops(&text, "create", "failure").is_some_and(|n| n >= 1.0), "{text}");
    // A failed user is not a channel-stopping error: still ready.
    assert_eq!(service.get("/health/ready").0, 200);
    let (_, _, page) = service.get("/");
    assert!(page.contains("Dirty records (1)"), "{page}");
    assert!(page.contains("<td>mallory</td>"), "{page}");
    assert!(page.contains("&lt;b&gt;mallory&lt;/b&gt; &amp; &quot;friends&quot;"), "the error must be escaped: {page}");
    assert!(!page.contains("<b>mallory</b>"), "{page}");

    // Everyone leaves the directory: the deletion guard holds the deprovisions.
    s.write_directory(&[], &[]);
    let text = service.wait_for("/metrics", "held deprovisions", |_, text| {
        metric(text, &format!("provisio_held_deprovisions{CHANNEL}")).is_some_and(|n| n > 0.0)
    });
    assert_eq!(metric(&text, &format!("provisio_held_deprovisions{CHANNEL}")), Some(3.0), "{text}");
    assert_eq!(ops(&text, "disable", "success"), Some(0.0), "nothing was deprovisioned: {text}");
    let (_, _, page) = service.get("/");
    assert!(page.contains("Held deprovisions (3)"), "{page}");
    assert!(page.contains("provisio channels approve --channel target/people"), "{page}");
    for user in ["ada", "grace", "linus"] {
        assert!(page.contains(&format!("<tr><td>{user}</td><td>Disable</td>")), "{user}: {page}");
    }
    assert_eq!(sandbox.user_names(), ["ada", "grace", "linus"]);

    assert!(service.terminate());
    assert_json_logs_without_secret(&service.lines());
}
