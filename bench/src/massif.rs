//! Where the memory of a cycle goes: valgrind's heap profiler (massif) on a
//! smaller run of the same scenario. The peak snapshot's allocation tree is
//! folded onto provisio's own functions: each allocation is charged to the
//! closest `provisio_*` frame above it (what the engine was doing when it
//! allocated), and to the closest two, for context.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::ctx::Ctx;
use crate::process::run_measured;

/// A heap profile's summary.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct HeapProfile {
    pub title: String,
    pub why: String,
    pub users: usize,
    /// Useful heap at the peak, bytes.
    pub peak: u64,
    /// `(bytes, "provisio_x::f")` at the peak, largest first.
    pub by_function: Vec<(u64, String)>,
    /// `(bytes, "provisio_x::f ← provisio_y::g")`.
    pub by_caller: Vec<(u64, String)>,
    pub error: Option<String>,
}

impl HeapProfile {
    /// The largest `n` functions as "`f` x %".
    pub fn leaders(&self, n: usize) -> String {
        self.by_function
            .iter()
            .take(n)
            .map(|(b, f)| format!("`{f}` {:.0} %", *b as f64 * 100.0 / self.peak.max(1) as f64))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "### {}\n\n{}\n", self.title, self.why);
        if let Some(e) = &self.error {
            let _ = writeln!(out, "**The heap profile could not be taken:** {}\n", e.replace('\n', " "));
            return;
        }
        let mb = |b: u64| b as f64 / 1e6;
        let _ = writeln!(
            out,
            "Peak heap: {:.1} MB for {} users, {:.1} KB per user (heap only: the RSS adds the allocator's overhead and \
             the binary).\n",
            mb(self.peak),
            self.users,
            self.peak as f64 / 1000.0 / self.users.max(1) as f64
        );
        let mut lines = Vec::new();
        for (b, f) in &self.by_function {
            lines.push(format!("{:>7.1} MB {:>5.1} %  {f}", mb(*b), *b as f64 * 100.0 / self.peak.max(1) as f64));
        }
        let _ = writeln!(
            out,
            "Heap at the peak by the provisio function that allocated it:\n\n```text\n{}\n```\n",
            lines.join("\n")
        );
        let lines: Vec<String> = self
            .by_caller
            .iter()
            .map(|(b, f)| format!("{:>7.1} MB {:>5.1} %  {f}", mb(*b), *b as f64 * 100.0 / self.peak.max(1) as f64))
            .collect();
        let _ = writeln!(
            out,
            "The same, with the provisio function that called it:\n\n```text\n{}\n```\n",
            lines.join("\n")
        );
    }
}

fn is_provisio(name: &str) -> bool {
    name.starts_with("provisio_") || name.starts_with("<provisio_")
}

fn tidy(name: &str) -> String {
    crate::profile::short(name)
}

/// The peak's useful heap, its bytes by function and by function and caller.
pub type Folded = (u64, Vec<(u64, String)>, Vec<(u64, String)>);

/// Fold the peak snapshot of a massif output file.
pub fn fold(text: &str) -> Option<Folded> {
    let start = text.lines().position(|l| l.starts_with("heap_tree=peak"))?;
    let mut stack: Vec<String> = Vec::new();
    let mut peak = None;
    let mut one: HashMap<String, u64> = HashMap::new();
    let mut two: HashMap<String, u64> = HashMap::new();
    for line in text.lines().skip(start + 1) {
        if line.starts_with("snapshot=") || line.starts_with('#') {
            break;
        }
        let depth = line.len() - line.trim_start().len();
        let rest = line.trim_start();
        let Some(rest) = rest.strip_prefix('n') else { continue };
        let Some((_, rest)) = rest.split_once(": ") else { continue };
        let Some((bytes, desc)) = rest.split_once(' ') else { continue };
        let Ok(bytes) = bytes.parse::<u64>() else { continue };
        let name = desc.split_once(": ").map_or(desc, |(_, n)| n);
        let name = name.rsplit_once(" (in ").map_or(name, |(n, _)| n).to_owned();
        stack.truncate(depth);
        // Charge a node to its function when no provisio frame is closer to the allocation.
        let closer: Vec<&String> = stack.iter().skip(1).filter(|n| is_provisio(n)).collect();
        if is_provisio(&name) {
            if closer.is_empty() {
                *one.entry(tidy(&name)).or_default() += bytes;
            } else if closer.len() == 1 {
                *two.entry(format!("{} ← {}", tidy(closer[0]), tidy(&name))).or_default() += bytes;
            }
        }
        if peak.is_none() {
            peak = Some(bytes);
        }
        stack.push(name);
    }
    let sorted = |m: HashMap<String, u64>| {
        let mut v: Vec<(u64, String)> = m.into_iter().map(|(k, b)| (b, k)).collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.0));
        v.truncate(12);
        v
    };
    Some((peak?, sorted(one), sorted(two)))
}

/// Run `provisio --config CONFIG ARGS` under massif and fold its peak.
pub fn take(
    ctx: &Ctx,
    title: &str,
    why: &str,
    config: &Path,
    args: &[&str],
    users: usize,
    limit: Duration,
) -> HeapProfile {
    let mut p = HeapProfile {
        title: title.to_owned(),
        why: why.to_owned(),
        users,
        peak: 0,
        by_function: Vec::new(),
        by_caller: Vec::new(),
        error: None,
    };
    let dir = config.parent().unwrap_or(&ctx.work);
    let out = dir.join("massif.out");
    let inner = ctx.provisio(Some(config), args);
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=massif").arg(format!("--massif-out-file={}", out.display())).arg("--depth=60");
    cmd.arg(inner.get_program()).args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    if let Some(d) = inner.get_current_dir() {
        cmd.current_dir(d);
    }
    if let Err(e) = run_measured(cmd, dir, "massif", limit).and_then(|m| m.ok("valgrind --tool=massif")) {
        p.error = Some(e);
        return p;
    }
    match std::fs::read_to_string(&out).ok().as_deref().and_then(fold) {
        Some((peak, one, two)) => {
            p.peak = peak;
            p.by_function = one;
            p.by_caller = two;
        }
        None => p.error = Some(format!("no peak snapshot in {}", out.display())),
    }
    let _ = std::fs::remove_file(&out);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"desc: x
snapshot=3
#-----------
time=1
mem_heap_B=100
heap_tree=peak
n2: 100 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
 n1: 70 0x1: alloc::raw_vec::finish_grow (in /bin/provisio)
  n1: 70 0x2: provisio_source::entry::Entry::push (in /bin/provisio)
   n1: 70 0x3: provisio_source::json::parse::{{closure}} (in /bin/provisio)
    n0: 70 0x4: main (in /bin/provisio)
 n1: 30 0x5: <provisio_state::StateStore as x::Y>::users (in /bin/provisio)
  n0: 30 0x6: main (in /bin/provisio)
snapshot=4
"#;

    #[test]
    fn folds_the_peak() {
        let (peak, one, two) = fold(SAMPLE).unwrap();
        assert_eq!(peak, 100);
        assert_eq!(
            one,
            vec![
                (70, "provisio_source::entry::Entry::push".to_owned()),
                (30, "provisio_state::StateStore::users".to_owned())
            ]
        );
        assert_eq!(two, vec![(70, "provisio_source::entry::Entry::push ← provisio_source::json::parse".to_owned())]);
    }
}
