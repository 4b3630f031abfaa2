//! The hand-written findings (bench/findings.md) with the run's numbers put
//! in: the text is written by hand, every number in it comes from the run.
//!
//! Placeholders, `{{name}}`:
//! * `{{figure.id}}`: the figure's median, with its own decimals
//!   (`{{ceiling.rate}}`); `{{figure.id@2}}`: its value in run 2;
//! * `{{users.sandbox}}`, `{{users.target}}`, `{{users.ldap}}`: the sizes;
//! * `{{ceiling.cpu_per_user}}`, `{{ceiling.sandbox_per_user}}` (µs) and
//!   `{{ceiling.two_core_bound}}` (users/s: two cores divided by the CPU
//!   time provisio and the sandbox need per user);
//! * `{{heap.per_user}}` (KB) and `{{heap.at_users}}` (MB of heap at the
//!   sandbox's user count) from the heap profile;
//! * `{{perf.KEY.threads}}` and `{{perf.KEY.FUNCTION}}` from the profile
//!   KEY (`ceiling`, `nochange`, `single`, `ldap-nochange`): the threads'
//!   shares, and the inclusive percentage of the first engine function
//!   whose name contains FUNCTION (`{{perf.nochange.read_file}}`);
//!   `{{perf.KEY.main.FUNCTION}}` the same on the main thread alone;
//! * `{{target.cap}}`: the server's CPU per user under wrk divided by that
//!   under provisio (the ratio the server's work allows at equal load).
//!
//! A placeholder the run cannot fill becomes `n/a` and is listed on stderr.

use crate::report::Results;
use crate::stats::fmt;

/// The value of one placeholder.
fn value(r: &Results, name: &str) -> Option<String> {
    let figure = |id: &str| {
        r.file.iter().chain(r.ldap.iter()).flat_map(|s| s.figures.iter()).find(|f| f.id == id && !f.series.is_empty())
    };
    let users = r.sizes.users as f64;
    let median = |id: &str| r.median(id);
    match name {
        "users.sandbox" => return Some(fmt(users, 0)),
        "users.target" => return Some(fmt(r.sizes.target_users as f64, 0)),
        "users.ldap" => return Some(fmt(r.sizes.ldap_users as f64, 0)),
        "ceiling.cpu_per_user" => return median("ceiling.cpu").map(|c| fmt(c / users * 1e6, 0)),
        "ceiling.sandbox_per_user" => return median("ceiling.sandbox_cpu").map(|c| fmt(c / users * 1e6, 0)),
        "ceiling.two_core_bound" => {
            let per_user = (median("ceiling.cpu")? + median("ceiling.sandbox_cpu")?) / users;
            return Some(fmt((2.0 / per_user / 100.0).round() * 100.0, 0));
        }
        "target.cap" => return Some(fmt(median("target.raw.cpu")? / median("target.provisio.cpu")?, 2)),
        "heap.per_user" | "heap.at_users" => {
            let h = r.heaps.iter().find(|h| h.error.is_none() && h.users > 0)?;
            let per_user = h.peak as f64 / h.users as f64;
            return Some(if name == "heap.per_user" {
                fmt(per_user / 1000.0, 1)
            } else {
                fmt(per_user * users / 1e6, 0)
            });
        }
        _ => {}
    }
    if let Some(rest) = name.strip_prefix("perf.") {
        let (key, what) = rest.split_once('.')?;
        let p = r.profiles.iter().find(|p| p.key == key && p.error.is_none())?;
        if what == "threads" {
            return Some(p.threads.clone());
        }
        let line = match what.strip_prefix("main.") {
            Some(f) => p.main_thread.iter().find(|l| l.contains(f))?,
            None => p.engine.iter().find(|l| l.contains(what))?,
        };
        return line.trim().split_once(" %").map(|(pct, _)| pct.to_owned());
    }
    if let Some((id, run)) = name.split_once('@') {
        let f = figure(id)?;
        let v = f.series.values.get(run.parse::<usize>().ok()?.checked_sub(1)?)?;
        return Some(fmt(*v, f.decimals));
    }
    let f = figure(name)?;
    f.series.median().map(|m| fmt(m, f.decimals))
}

/// `text` without its HTML comments.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find("-->").map_or("", |end| &rest[start + end + 3..]);
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    out.push_str(rest);
    out
}

/// `text` without its HTML comments, with every `{{name}}` replaced; the
/// names that had no value.
pub fn fill(text: &str, r: &Results) -> (String, Vec<String>) {
    let text = strip_comments(text);
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                match value(r, name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push_str("n/a");
                        missing.push(name.to_owned());
                    }
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    (out, missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctx::Section;

    #[test]
    fn fills_placeholders() {
        let mut s = Section::new("t", String::new());
        for v in [3000.0, 4000.0, 3500.0] {
            s.add("ceiling.rate", "rate", "users/s", 0, v);
        }
        s.add("ceiling.cpu", "cpu", "s", 2, 20.0);
        s.add("ceiling.sandbox_cpu", "cpu", "s", 2, 5.0);
        let mut r = Results { file: vec![s], ..Results::default() };
        r.sizes.users = 100_000;
        let (text, missing) = fill(
            "<!-- a {{comment}} -->\n{{ceiling.rate}} users/s, run 2: {{ceiling.rate@2}}; {{ceiling.cpu_per_user}} µs; bound {{ceiling.two_core_bound}}; {{nope}} {{",
            &r,
        );
        assert_eq!(text, "3,500 users/s, run 2: 4,000; 200 µs; bound 8,000; n/a {{");
        assert_eq!(missing, vec!["nope".to_owned()]);
    }
}
