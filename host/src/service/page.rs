//! The status page served at `GET /`: one small, read-only HTML document
//! rendered on the server (no script, no framework), which refreshes itself
//! every [`REFRESH_SECONDS`] with a `<meta http-equiv="refresh">`.
//!
//! It shows the node (standalone), readiness, the connections (name,
//! connector, entity id, active; never a setting), and per channel its
//! status (ok, failing, quarantined), users, dirty records, held
//! deprovisions, its last cycles with their counts, and the dirty records
//! and held deprovisions and group deletions themselves. Every text goes through [`escape`]
//! (user identifiers and errors are the target's or the directory's words,
//! not ours) and through the redactor.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Shared;
use super::view::{ChannelView, StoreView};

/// Seconds between the page's reloads.
pub const REFRESH_SECONDS: u32 = 5;

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A Unix time as `2026-11-22T08:45:00Z`.
fn time(unix: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

fn system_time(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}h3{font-size:1em}\
table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}\
th{background:#f3f3f3}td.n{text-align:right}.ok{color:#17662a}.bad{color:#a11}.warn{color:#8a5a00}\
.muted{color:#777}code{font-size:.95em}";

/// The whole page.
pub(crate) fn render(shared: &Shared, view: &StoreView) -> String {
    let r = |s: &str| escape(&shared.redactor.redact(s));
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>provisio status</title><style>{STYLE}</style></head><body>\n<h1>provisio status</h1>\n"
    );
    let status = shared.status();
    let (finished, last, next) = (status.finished, status.last_finished, status.next_at);
    drop(status);
    let ready = match shared.readiness() {
        Ok(()) => "<span class=\"ok\" id=\"ready\">ready</span>".to_owned(),
        Err((reason, _)) => format!("<span class=\"bad\" id=\"ready\">not ready</span>: {}", r(&reason)),
    };
    let node = match shared.node() {
        None => "standalone".to_owned(),
        Some(n) => {
            let held: Vec<String> = n
                .channels
                .iter()
                .filter(|c| c.state == "held")
                .map(|c| format!("{}/{}", c.connection, c.channel))
                .collect();
            format!(
                "{}{} (failover; holds {})",
                r(&n.node_id),
                if n.backup { ", in backup" } else { "" },
                if held.is_empty() { "no channel".to_owned() } else { r(&held.join(", ")) }
            )
        }
    };
    let _ = writeln!(
        h,
        "<p>Node: <b id=\"node\">{node}</b> · {ready} · started {} · a cycle every {} s · {finished} cycle(s) finished{}{} · page generated {} (reloads every {REFRESH_SECONDS} s)</p>",
        system_time(shared.started_at),
        shared.frequency.as_secs(),
        last.map(|t| format!(" · last at {}", system_time(t))).unwrap_or_default(),
        next.map(|t| format!(" · next at {}", system_time(t))).unwrap_or_default(),
        system_time(SystemTime::now()),
    );
    if let Some(e) = &view.error {
        let _ = writeln!(h, "<p class=\"bad\">The state store cannot be read: {}</p>", r(e));
    }

    h.push_str("<h2>Connections</h2>\n<table id=\"connections\"><tr><th>connection</th><th>connector</th><th>entity id</th><th>active</th><th>channels</th></tr>\n");
    for conn in &shared.config.connections {
        let channels: Vec<String> = conn.channels.iter().map(|c| r(&c.name)).collect();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r(&conn.name),
            r(&conn.connector),
            r(conn.entity_id.as_deref().unwrap_or("")),
            if conn.active { "yes" } else { "no" },
            channels.join(", ")
        );
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Channels</h2>\n<table id=\"channels\"><tr><th>connection</th><th>channel</th><th>status</th><th>users</th><th>dirty</th><th>held deprovisions</th><th>last cycle</th><th>last error</th></tr>\n");
    let now = provisio_engine::audit::now_unix();
    for ch in &view.channels {
        let (users, dirty) = ch.summary.as_ref().map_or((0, 0), |s| (s.users, s.dirty));
        let held = match ch.summary.as_ref() {
            Some(s) if s.held_group_deletions > 0 => {
                format!("{} + {} group(s)", s.held_deprovisions, s.held_group_deletions)
            }
            Some(s) => s.held_deprovisions.to_string(),
            None => "0".to_owned(),
        };
        let last = ch
            .summary
            .as_ref()
            .and_then(|s| s.last_cycle.as_ref())
            .map(|c| time(c.finished_at.unwrap_or(c.started_at)))
            .unwrap_or_else(|| "never".into());
        let error =
            ch.summary.as_ref().and_then(|s| s.last_error.clone()).or_else(|| ch.failure.clone()).unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{users}</td><td class=\"n\">{dirty}</td><td class=\"n\">{held}</td><td>{last}</td><td>{}</td></tr>",
            r(&ch.connection),
            r(&ch.channel),
            channel_status(shared, ch, now),
            r(&error)
        );
    }
    h.push_str("</table>\n");

    for ch in &view.channels {
        channel_section(&mut h, ch, &r);
    }
    h.push_str("<p class=\"muted\">Read-only. Metrics: <a href=\"/metrics\">/metrics</a> · health: <a href=\"/health/live\">/health/live</a>, <a href=\"/health/ready\">/health/ready</a></p>\n</body></html>\n");
    h
}

fn channel_status(shared: &Shared, ch: &ChannelView, now: i64) -> String {
    if !ch.active {
        return "<span class=\"muted\">inactive</span>".into();
    }
    if let Some(until) = ch.summary.as_ref().and_then(|s| s.quarantined_until).filter(|u| *u > now) {
        return format!("<span class=\"bad\">quarantined until {}</span>", time(until));
    }
    let status = shared.status();
    match status.channels.get(&(ch.connection.clone(), ch.channel.clone())) {
        Some(Some(_)) => "<span class=\"bad\">last cycle failed</span>".into(),
        Some(None) => "<span class=\"ok\">ok</span>".into(),
        None => "<span class=\"muted\">no cycle yet</span>".into(),
    }
}

fn channel_section(h: &mut String, ch: &ChannelView, r: &dyn Fn(&str) -> String) {
    let _ = writeln!(h, "<h2 class=\"channel\">{} / {}</h2>", r(&ch.connection), r(&ch.channel));
    h.push_str("<h3>Last cycles</h3>\n");
    if ch.cycles.is_empty() {
        h.push_str("<p class=\"muted\">No cycle yet.</p>\n");
    } else {
        let _ = writeln!(
            h,
            "<table class=\"cycles\" data-channel=\"{}/{}\"><tr><th>cycle</th><th>started</th><th>duration</th><th>created</th><th>linked</th><th>updated</th><th>disabled</th><th>re-enabled</th><th>deleted</th><th>skipped</th><th>failed</th><th>error</th></tr>",
            r(&ch.connection),
            r(&ch.channel)
        );
        for c in &ch.cycles {
            let row = match &c.summary {
                Some(s) => {
                    let counts =
                        [s.created, s.linked, s.updated, s.disabled, s.enabled, s.deleted, s.skipped, s.failed];
                    let cells: String = counts.iter().map(|n| format!("<td class=\"n\">{n}</td>")).collect();
                    // The stored summary may lack the duration: then the
                    // whole seconds between start and finish.
                    let duration = match (s.duration_ms, c.finished_at) {
                        (0, Some(end)) => format!("{} s", end - c.started_at),
                        (ms, _) => format!("{:.2} s", ms as f64 / 1000.0),
                    };
                    format!("<td>{duration}</td>{cells}<td>{}</td>", r(s.error.as_deref().unwrap_or("")))
                }
                None => "<td colspan=\"10\" class=\"warn\">running, or the run stopped before finishing it</td>".into(),
            };
            let _ = writeln!(h, "<tr><td>{}</td><td>{}</td>{row}</tr>", c.id, time(c.started_at));
        }
        h.push_str("</table>\n");
    }
    let dirty = ch.summary.as_ref().map_or(0, |s| s.dirty);
    let _ = writeln!(h, "<h3>Dirty records ({dirty})</h3>");
    if ch.dirty.is_empty() {
        h.push_str("<p class=\"muted\">None: every user is in step or waiting for nothing.</p>\n");
    } else {
        h.push_str("<table class=\"dirty\"><tr><th>user</th><th>attempts</th><th>since</th><th>last error</th></tr>\n");
        for u in &ch.dirty {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                r(&u.unique_id),
                u.attempts,
                time(u.updated_at),
                r(u.last_error.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</table>\n");
        if (ch.dirty.len() as u64) < dirty {
            let _ = writeln!(
                h,
                "<p class=\"muted\">{} more: <code>provisio channels list</code></p>",
                dirty - ch.dirty.len() as u64
            );
        }
    }
    let held = ch.summary.as_ref().map_or(0, |s| s.held_deprovisions);
    let _ = writeln!(h, "<h3>Held deprovisions ({held})</h3>");
    if ch.held.is_empty() {
        h.push_str("<p class=\"muted\">None held by the deletion guard.</p>\n");
    } else {
        h.push_str("<table class=\"held\"><tr><th>user</th><th>action</th><th>held since</th></tr>\n");
        for d in &ch.held {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                r(&d.unique_id),
                r(&d.action),
                time(d.held_at)
            );
        }
        h.push_str("</table>\n");
        release_hint(h, ch, r);
    }
    let held_groups = ch.summary.as_ref().map_or(0, |s| s.held_group_deletions);
    if held_groups > 0 {
        let _ = writeln!(h, "<h3>Held group deletions ({held_groups})</h3>");
        h.push_str("<table class=\"held\"><tr><th>group</th><th>target id</th><th>held since</th></tr>\n");
        for g in &ch.held_groups {
            let _ =
                writeln!(h, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", r(&g.name), r(&g.target_id), time(g.held_at));
        }
        h.push_str("</table>\n");
        release_hint(h, ch, r);
    }
}

/// How to release what the deletion guard holds.
fn release_hint(h: &mut String, ch: &ChannelView, r: &dyn Fn(&str) -> String) {
    let _ = writeln!(
        h,
        "<p>Release them with <code>provisio channels approve --channel {}/{}</code>.</p>",
        r(&ch.connection),
        r(&ch.channel)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisio_config::Config;
    use provisio_redact::Redactor;
    use provisio_state::{ChannelKey, ChannelSummary, CycleId, CycleRecord, CycleSummary, UserState};

    fn shared(redactor: Redactor) -> Shared {
        let config: Config = toml::from_str(
            "[[connection]]\nname = \"hr<1>\"\nconnector = \"scim\"\nsettings = { access_token = \"s3cret-token\" }\n\
             [[connection.channel]]\nname = \"people\"\nsource = { kind = \"file\", path = \"d.ldif\" }\n",
        )
        .unwrap();
        Shared {
            config,
            redactor,
            metrics: Default::default(),
            started_at: SystemTime::now(),
            frequency: Duration::from_secs(60),
            cycles: Default::default(),
            node: Default::default(),
        }
    }

    #[test]
    fn text_is_escaped_secrets_are_redacted_and_settings_never_shown() {
        let redactor = Redactor::new();
        redactor.add("s3cret-token");
        let shared = shared(redactor);
        let key: ChannelKey = serde_json::from_str("1").unwrap();
        let view = StoreView {
            channels: vec![ChannelView {
                connection: "hr<1>".into(),
                channel: "people".into(),
                active: true,
                summary: Some(ChannelSummary {
                    key,
                    connection: "hr<1>".into(),
                    channel: "people".into(),
                    users: 3,
                    dirty: 1,
                    groups: 0,
                    dirty_groups: 0,
                    unsettled_intents: 0,
                    held_deprovisions: 0,
                    held_group_deletions: 1,
                    quarantined_until: None,
                    last_cycle: None,
                    last_error: Some("401 for token s3cret-token".into()),
                }),
                failure: None,
                cycles: vec![CycleRecord {
                    id: serde_json::from_str::<CycleId>("7").unwrap(),
                    started_at: 1_700_000_000,
                    finished_at: Some(1_700_000_001),
                    summary: Some(CycleSummary { created: 2, failed: 1, ..Default::default() }),
                }],
                dirty: vec![UserState {
                    unique_id: "<script>alert(1)</script>".into(),
                    last_error: Some("bad \"value\" & more".into()),
                    dirty: true,
                    ..Default::default()
                }],
                held: Vec::new(),
                held_groups: vec![provisio_state::HeldGroup {
                    guid: "g1".into(),
                    name: "<b>eng</b>".into(),
                    target_id: "t-9".into(),
                    held_at: 1_700_000_000,
                }],
            }],
            error: None,
        };
        let html = render(&shared, &view);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(html.contains("bad &quot;value&quot; &amp; more"), "{html}");
        assert!(html.contains("hr&lt;1&gt;"), "{html}");
        assert!(!html.contains("s3cret-token"), "{html}");
        assert!(html.contains("401 for token ******"), "{html}");
        assert!(html.contains("http-equiv=\"refresh\""), "{html}");
        assert!(html.contains("<td>7</td>"), "{html}");
        assert!(html.contains("Held group deletions (1)") && html.contains("&lt;b&gt;eng&lt;/b&gt;"), "{html}");
        assert!(html.contains("<td class=\"n\">0 + 1 group(s)</td>"), "{html}");
    }
}
