//! The machine and the versions of everything measured, for the report's
//! header. Every value is read at run time; what cannot be read says so.

use std::path::Path;
use std::process::Command;

fn first_line(text: &str) -> String {
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_owned()
}

/// stdout (or, when empty, stderr) of a command, first line; "not found" when it cannot run.
fn version_of(cmd: &mut Command) -> String {
    match cmd.output() {
        Ok(out) => {
            let text = if out.stdout.is_empty() { &out.stderr } else { &out.stdout };
            first_line(&String::from_utf8_lossy(text))
        }
        Err(e) => format!("not found ({e})"),
    }
}

fn meminfo_total() -> String {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into())
}

fn cpu_model() -> String {
    let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_else(|| "unknown".into())
}

fn os_name() -> String {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// Rows of the "Machine" table.
pub fn machine() -> Vec<(String, String)> {
    vec![
        ("CPU".into(), cpu_model()),
        ("cores (`nproc`)".into(), version_of(&mut Command::new("nproc"))),
        ("memory".into(), meminfo_total()),
        ("OS".into(), os_name()),
        ("kernel".into(), version_of(Command::new("uname").arg("-r"))),
    ]
}

/// The version of a Python distribution in the peers' venv.
fn venv_version(repo: &Path, dist: &str) -> String {
    let py = repo.join(".peers/scim2/bin/python");
    let code = format!("import importlib.metadata as m; print(m.version('{dist}'))");
    version_of(Command::new(py).args(["-c", &code]))
}

/// Rows of the "Versions" table.
pub fn versions(repo: &Path, provisio: &Path) -> Vec<(String, String)> {
    let git = |args: &[&str]| version_of(Command::new("git").arg("-C").arg(repo).args(args));
    let commit = git(&["rev-parse", "HEAD"]);
    let dirty = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    let subject = git(&["log", "-1", "--format=%s"]);
    let subject: String = subject.chars().take(80).collect();
    let commit = if dirty {
        format!("{commit} (\"{subject}…\"), built with uncommitted changes present in the work tree")
    } else {
        format!("{commit} (\"{subject}…\")")
    };
    vec![
        ("provisio commit".into(), commit),
        ("provisio".into(), version_of(Command::new(provisio).arg("--version"))),
        ("rustc".into(), version_of(Command::new("rustc").arg("--version"))),
        ("scim2-server".into(), venv_version(repo, "scim2-server")),
        ("uvicorn".into(), venv_version(repo, "uvicorn")),
        (
            "Python (peers' venv)".into(),
            version_of(Command::new(repo.join(".peers/scim2/bin/python")).arg("--version")),
        ),
        ("wrk".into(), version_of(Command::new("wrk").arg("--version"))),
        ("slapd".into(), slapd_version()),
        ("perf".into(), version_of(Command::new("perf").arg("--version"))),
    ]
}

fn slapd_version() -> String {
    let Ok(slapd) = crate::peers::ldap_tool("slapd") else { return "not found".into() };
    let line = version_of(Command::new(slapd).arg("-VV"));
    // "@(#) $OpenLDAP: slapd 2.5.13+dfsg-5 (Feb  8 2023 01:56:12) $"
    line.split("slapd ")
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .map(|v| format!("OpenLDAP slapd {v}"))
        .unwrap_or(line)
}

/// The 1, 5 and 15 minute load averages (/proc/loadavg).
pub fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// `date -u`, as `2026-11-22 07:00 UTC`.
pub fn now_utc() -> String {
    version_of(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))
}
