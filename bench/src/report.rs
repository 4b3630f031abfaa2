//! BENCHMARKS.md: the goals of issue 7 checked against the run's medians,
//! every figure as median with min and max, the profiles taken, and the
//! hand-written findings (bench/findings.md) appended as they are.

use std::fmt::Write as _;

use crate::ctx::Section;
use crate::massif::HeapProfile;
use crate::profile::Profile;
use crate::stats::{Series, fmt};

/// Everything a run produced (saved as JSON, so the report can be rendered
/// again with new findings: `--from-results`).
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct Results {
    pub machine: Vec<(String, String)>,
    pub versions: Vec<(String, String)>,
    pub settings: Vec<(String, String)>,
    /// File-source sections, in report order.
    pub file: Vec<Section>,
    /// LDAP-source sections.
    pub ldap: Vec<Section>,
    pub profiles: Vec<Profile>,
    pub heaps: Vec<HeapProfile>,
    /// Scenario groups that failed, with the error.
    pub failures: Vec<(String, String)>,
    /// Set when the LDAP source could not be measured.
    pub ldap_missing: Option<String>,
    pub started: String,
    pub minutes: f64,
    pub findings: Option<String>,
    pub command: String,
    #[serde(default)]
    pub sizes: Sizes,
    /// When the report was rendered again from the saved figures (`--from-results`).
    #[serde(default)]
    pub rerendered: Option<String>,
}

/// The data set sizes of the run.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Sizes {
    pub users: usize,
    pub target_users: usize,
    pub ldap_users: usize,
}

impl Results {
    pub fn series(&self, id: &str) -> Option<&Series> {
        self.file.iter().chain(self.ldap.iter()).find_map(|s| s.figure(id)).filter(|s| !s.is_empty())
    }

    pub fn median(&self, id: &str) -> Option<f64> {
        self.series(id).and_then(Series::median)
    }
}

/// A goal of the issue.
pub struct Goal {
    pub key: &'static str,
    pub goal: &'static str,
    pub figure: &'static str,
    /// true: the figure must be at least `bound`; false: below it (or 0 for requests).
    pub at_least: bool,
    pub bound: f64,
    pub unit: &'static str,
    pub decimals: usize,
}

pub const GOALS: [Goal; 7] = [
    Goal {
        key: "target",
        goal: "target-bound sync ≥ 0.9 of the server's raw capacity",
        figure: "target.ratio",
        at_least: true,
        bound: 0.9,
        unit: "",
        decimals: 3,
    },
    Goal {
        key: "ceiling",
        goal: "engine ceiling ≥ 10,000 users/s into the sandbox",
        figure: "ceiling.rate",
        at_least: true,
        bound: 10_000.0,
        unit: "users/s",
        decimals: 0,
    },
    Goal {
        key: "nochange.wall",
        goal: "no-change cycle over 100,000 users < 1 s",
        figure: "nochange.wall",
        at_least: false,
        bound: 1.0,
        unit: "s",
        decimals: 2,
    },
    Goal {
        key: "nochange.requests",
        goal: "no-change cycle sends zero requests to the target",
        figure: "nochange.requests",
        at_least: false,
        bound: 0.0,
        unit: "requests",
        decimals: 0,
    },
    Goal {
        key: "nochange.rss",
        goal: "no-change cycle peak memory < 150 MB",
        figure: "nochange.rss",
        at_least: false,
        bound: 150.0,
        unit: "MB",
        decimals: 1,
    },
    Goal {
        key: "single",
        goal: "single-user provision < 1 s",
        figure: "single.wall",
        at_least: false,
        bound: 1.0,
        unit: "s",
        decimals: 2,
    },
    Goal {
        key: "connectors",
        goal: "five connectors load < 50 ms",
        figure: "connectors.wall",
        at_least: false,
        bound: 50.0,
        unit: "ms",
        decimals: 1,
    },
];

impl Goal {
    /// Whether `v` meets the goal, and the gap in words.
    pub fn judge(&self, v: f64) -> (bool, String) {
        let u = if self.unit.is_empty() { String::new() } else { format!(" {}", self.unit) };
        if self.at_least {
            if v >= self.bound {
                (true, "met".into())
            } else {
                let short = self.bound - v;
                (
                    false,
                    format!(
                        "not met: {}{u} short ({:.0} % of the goal; {:.1}× needed)",
                        fmt(short, self.decimals),
                        v / self.bound * 100.0,
                        self.bound / v.max(f64::MIN_POSITIVE)
                    ),
                )
            }
        } else if self.bound == 0.0 {
            if v == 0.0 {
                (true, "met".into())
            } else {
                (false, format!("not met: {}{u} per cycle instead of 0", fmt(v, 0)))
            }
        } else if v < self.bound {
            (true, "met".into())
        } else {
            (
                false,
                format!("not met: {}{u} over ({:.1}× the limit)", fmt(v - self.bound, self.decimals), v / self.bound),
            )
        }
    }

    /// Whether the run's median meets the goal (None: not measured).
    pub fn met(&self, results: &Results) -> Option<bool> {
        results.median(self.figure).map(|v| self.judge(v).0)
    }
}

fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(out, "|{}|", head.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|").replace('\n', " ")).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

fn kv(out: &mut String, rows: &[(String, String)]) {
    let rows: Vec<Vec<String>> = rows.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect();
    table(out, &["", ""], &rows);
}

fn section(out: &mut String, s: &Section, level: &str) {
    let _ = writeln!(out, "{level} {}\n\n{}\n", s.title, s.intro);
    if let Some(why) = &s.not_measured {
        let _ = writeln!(out, "**Not measured:** {why}\n");
        return;
    }
    let rows: Vec<Vec<String>> = s
        .figures
        .iter()
        .map(|f| {
            let d = f.decimals;
            let show = |v: Option<f64>| v.map(|v| fmt(v, d)).unwrap_or_else(|| "n/a".into());
            vec![
                f.label.clone(),
                show(f.series.median()),
                show(f.series.min()),
                show(f.series.max()),
                f.unit.clone(),
                f.series.values.iter().map(|v| fmt(*v, d)).collect::<Vec<_>>().join("; "),
            ]
        })
        .collect();
    table(out, &["figure", "median", "min", "max", "unit", "each run, in order"], &rows);
    for n in &s.notes {
        let _ = writeln!(out, "- {n}");
    }
    if !s.notes.is_empty() {
        out.push('\n');
    }
}

/// The whole report. `limits` explains, per goal key, what limits a missed goal.
pub fn render(r: &Results, limits: &[(&'static str, String)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# provisio benchmarks\n\n\
         Generated by `{}` on {} (the whole run took {:.1} min). This file is that command's output: do not \
         edit it, run the command again (README.md, \"Benchmarks\"). Every figure is the **median** of the \
         repetitions, with their min and max; request counts were taken at the target (the sandbox's own \
         counters, or scim2-server's count of the requests it received), never from provisio's log.\n",
        r.command, r.started, r.minutes
    );
    if let Some(when) = &r.rerendered {
        let _ = writeln!(
            out,
            "Rendered again on {when} from that run's saved figures (`provisio-bench --from-results`), with the current \
             `bench/findings.md`; no figure was measured again.\n"
        );
    }
    if !r.failures.is_empty() {
        let _ = writeln!(out, "**This run had failures; the figures of these scenarios are missing:**\n");
        for (what, e) in &r.failures {
            let _ = writeln!(out, "- {what}: {}", e.replace('\n', " "));
        }
        out.push('\n');
    }
    out.push_str("## Machine\n\n");
    kv(&mut out, &r.machine);
    out.push_str("## Versions\n\n");
    kv(&mut out, &r.versions);
    out.push_str("## Settings of this run\n\n");
    kv(&mut out, &r.settings);

    out.push_str(
        "## Goals\n\nJudged on the medians of the file-source scenarios (the LDAP figures are below, apart).\n\n",
    );
    let rows: Vec<Vec<String>> = GOALS
        .iter()
        .map(|g| {
            let (measured, verdict) = match r.median(g.figure) {
                Some(v) => {
                    let u = if g.unit.is_empty() { String::new() } else { format!(" {}", g.unit) };
                    (format!("{}{u}", fmt(v, g.decimals)), g.judge(v).1)
                }
                None => ("n/a".into(), "not measured".into()),
            };
            let limit = if verdict == "met" {
                String::new()
            } else {
                limits.iter().find(|(k, _)| *k == g.key).map(|(_, t)| t.clone()).unwrap_or_default()
            };
            vec![g.goal.to_owned(), measured, verdict, limit]
        })
        .collect();
    table(&mut out, &["goal", "measured (median)", "verdict", "what limits it (measured in this run)"], &rows);

    out.push_str("## File source\n\n");
    for s in &r.file {
        section(&mut out, s, "###");
    }
    out.push_str("## LDAP source (slapd)\n\n");
    match &r.ldap_missing {
        Some(why) => {
            let _ = writeln!(out, "**Not measured yet:** {why}\n");
        }
        None => {
            for s in &r.ldap {
                section(&mut out, s, "###");
            }
        }
    }
    out.push_str("## Profiles (taken in this run)\n\n");
    if r.profiles.is_empty() && r.heaps.is_empty() {
        out.push_str("No profile was taken (every measured goal was met, or profiling was turned off).\n\n");
    }
    for p in &r.profiles {
        p.render(&mut out);
    }
    for h in &r.heaps {
        h.render(&mut out);
    }
    if let Some(f) = &r.findings {
        out.push_str("## Findings\n\n");
        out.push_str(
            "Written by hand in `bench/findings.md`; every number in it is filled in from this run's figures and profiles.\n\n",
        );
        let (filled, missing) = crate::findings::fill(f, r);
        if !missing.is_empty() {
            eprintln!("bench/findings.md: no value in this run for {}", missing.join(", "));
        }
        let body = filled.trim();
        // The file's own top-level title is dropped; its sections stay.
        let body = match body.strip_prefix("# ") {
            Some(rest) => rest.split_once('\n').map(|(_, b)| b.trim_start()).unwrap_or(""),
            None => body,
        };
        let shifted = format!("\n{body}").replace("\n## ", "\n### ").replace("\n# ", "\n### ");
        out.push_str(shifted.trim_start());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judging() {
        let ceiling = &GOALS[1];
        assert_eq!(ceiling.judge(12_000.0).0, true);
        let (met, text) = ceiling.judge(2_500.0);
        assert!(!met);
        assert!(text.contains("7,500 users/s short"), "{text}");
        assert!(text.contains("4.0×"), "{text}");
        let wall = &GOALS[2];
        let (met, text) = wall.judge(2.5);
        assert!(!met && text.contains("1.50 s over") && text.contains("2.5×"), "{text}");
        let zero = &GOALS[3];
        assert_eq!(zero.judge(0.0).0, true);
        assert!(zero.judge(2.0).1.contains("2 requests per cycle"));
    }

    #[test]
    fn renders_sections_and_findings() {
        let mut s = Section::new("Engine ceiling", "intro".into());
        s.add("ceiling.rate", "users per second", "users/s", 0, 100.0);
        s.add("ceiling.rate", "users per second", "users/s", 0, 300.0);
        s.add("ceiling.rate", "users per second", "users/s", 0, 200.0);
        let r = Results { file: vec![s], findings: Some("# Findings\n\n## Why\ntext".into()), ..Results::default() };
        let text = render(&r, &[("ceiling", "sqlite".into())]);
        assert!(text.contains("| users per second | 200 | 100 | 300 | users/s | 100; 300; 200 |"), "{text}");
        assert!(text.contains("| 200 users/s | not met"), "{text}");
        assert!(text.contains("sqlite"));
        assert!(text.contains("### Why\ntext"), "{text}");
    }
}
