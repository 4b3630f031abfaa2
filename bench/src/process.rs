//! Child processes: the measured `provisio` runs and the background peers.
//!
//! [`run_measured`] starts a command with its output in files (so a chatty
//! child never blocks on a pipe) and reaps it with `wait4`, which gives the
//! child's own resource usage: peak resident set size (`ru_maxrss`) and CPU
//! time. Wall time is taken around spawn and reap. The bench starts its
//! measured commands through a fresh copy of itself ([`spawner_main`]), so
//! that a child's peak memory is its own (see [`run_measured`]).
//!
//! [`Peer`] is a background server (uvicorn, slapd, wrk): started with
//! `PR_SET_PDEATHSIG` so it never outlives the bench, stopped by its pid
//! (a signal, a bounded wait, then SIGKILL) when dropped.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What one measured run took.
#[derive(Debug, Clone)]
pub struct Measured {
    pub wall: Duration,
    /// Peak resident set size of the child, in bytes.
    pub max_rss: u64,
    /// User + system CPU time of the child.
    pub cpu: Duration,
    pub success: bool,
    pub status: String,
    pub stdout: String,
    pub stderr: String,
}

impl Measured {
    pub fn wall_s(&self) -> f64 {
        self.wall.as_secs_f64()
    }

    pub fn rss_mb(&self) -> f64 {
        self.max_rss as f64 / 1_000_000.0
    }

    /// An error naming the command's output, unless it succeeded.
    pub fn ok(self, what: &str) -> Result<Measured, String> {
        if self.success {
            Ok(self)
        } else {
            Err(format!(
                "{what} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.status,
                tail(&self.stdout),
                tail(&self.stderr)
            ))
        }
    }
}

/// The last 40 lines of a text.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn dies_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe; it only sets a flag on the child.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
}

/// Run `cmd` to completion, measuring it. Output goes to `<dir>/<label>.stdout|.stderr`.
/// A run longer than `limit` is killed (and reported as failed).
///
/// With a spawner ([`use_spawner`], set by the bench's `main`), the command is started by a
/// fresh `provisio-bench` process instead of by this one. On Linux, a child's `ru_maxrss` is at
/// least the resident size of the process it was forked from (`exec` carries the old memory's
/// high-water mark over): forked from the bench, which holds the in-process sandbox's users,
/// every `provisio` run would report the bench's memory, not its own. The spawner is small when
/// it forks, measures the real child with `wait4`, and writes what it measured to a file.
pub fn run_measured(mut cmd: Command, dir: &Path, label: &str, limit: Duration) -> Result<Measured, String> {
    let out_path = dir.join(format!("{label}.stdout"));
    let err_path = dir.join(format!("{label}.stderr"));
    let out = std::fs::File::create(&out_path).map_err(|e| format!("{}: {e}", out_path.display()))?;
    let err = std::fs::File::create(&err_path).map_err(|e| format!("{}: {e}", err_path.display()))?;
    let raw = match SPAWNER.get() {
        None => {
            cmd.stdin(Stdio::null()).stdout(out).stderr(err);
            measure(cmd, limit)?
        }
        Some(spawner) => {
            let result = dir.join(format!("{label}.measured.json"));
            let mut outer = Command::new(spawner);
            outer.arg(SPAWNER_FLAG).arg(&result).arg(limit.as_millis().to_string()).arg("--");
            outer.arg(cmd.get_program()).args(cmd.get_args());
            if let Some(cwd) = cmd.get_current_dir() {
                outer.current_dir(cwd);
            }
            for (k, v) in cmd.get_envs() {
                match v {
                    Some(v) => outer.env(k, v),
                    None => outer.env_remove(k),
                };
            }
            outer.stdin(Stdio::null()).stdout(out).stderr(err);
            let spawner_run = measure(outer, limit + Duration::from_secs(10))?;
            let text = std::fs::read_to_string(&result).map_err(|e| {
                format!(
                    "the measuring process left no result ({}): {e}; its status: {}",
                    result.display(),
                    spawner_run.status
                )
            })?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", result.display()))?
        }
    };
    Ok(Measured {
        wall: Duration::from_nanos(raw.wall_ns),
        max_rss: raw.max_rss,
        cpu: Duration::from_nanos(raw.cpu_ns),
        success: raw.success,
        status: raw.status,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    })
}

/// The first argument that makes `provisio-bench` a spawner ([`spawner_main`]).
pub const SPAWNER_FLAG: &str = "__measure-child";

static SPAWNER: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Start measured commands through `exe` (this program) in spawner mode.
pub fn use_spawner(exe: PathBuf) {
    let _ = SPAWNER.set(exe);
}

/// Spawner mode: `provisio-bench __measure-child RESULT LIMIT_MS -- PROGRAM ARGS...` runs the
/// program (stdio, environment and directory inherited), measures it and writes the
/// measurement to RESULT as JSON. Answers the exit status.
pub fn spawner_main(args: &[std::ffi::OsString]) -> i32 {
    let run = || -> Result<(), String> {
        let [result, limit, dashes, program, rest @ ..] = args else {
            return Err("usage: __measure-child RESULT LIMIT_MS -- PROGRAM ARGS...".into());
        };
        if dashes != "--" {
            return Err("expected -- before the program".into());
        }
        let limit: u64 = limit.to_str().and_then(|l| l.parse().ok()).ok_or("LIMIT_MS is not a number")?;
        let mut cmd = Command::new(program);
        cmd.args(rest);
        let raw = measure(cmd, Duration::from_millis(limit))?;
        std::fs::write(result, serde_json::to_vec(&raw).map_err(|e| e.to_string())?).map_err(|e| e.to_string())
    };
    match run() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("provisio-bench (measuring a child): {e}");
            2
        }
    }
}

/// What [`measure`] found, as the spawner writes it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct RawMeasure {
    wall_ns: u64,
    max_rss: u64,
    cpu_ns: u64,
    success: bool,
    status: String,
}

/// Start `cmd` (stdio already set), reap it with `wait4` and answer its own usage.
fn measure(mut cmd: Command, limit: Duration) -> Result<RawMeasure, String> {
    dies_with_parent(&mut cmd);
    let started = Instant::now();
    let child = cmd.spawn().map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let pid = child.id() as libc::pid_t;
    // The watchdog kills a run past its limit. It is stopped once the child
    // has exited but before it is reaped, so its pid cannot have been reused.
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(limit).is_err() {
            // SAFETY: the child is not reaped yet (see above).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    });
    loop {
        // SAFETY: a zeroed siginfo_t is valid for waitid to fill.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waiting (without reaping: WNOWAIT) for our own child.
        let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    let _ = done.send(());
    let _ = watchdog.join();
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waiting for our own child; the pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(format!("wait4({pid}): {e}"));
        }
    }
    let wall = started.elapsed();
    // Reaped by wait4: the Child must not be waited for again.
    std::mem::forget(child);
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    let (success, status) = if libc::WIFEXITED(status) {
        (libc::WEXITSTATUS(status) == 0, format!("exit status {}", libc::WEXITSTATUS(status)))
    } else {
        (false, format!("killed by signal {}", libc::WTERMSIG(status)))
    };
    Ok(RawMeasure {
        wall_ns: wall.as_nanos() as u64,
        max_rss: usage.ru_maxrss as u64 * 1024,
        cpu_ns: (tv(usage.ru_utime) + tv(usage.ru_stime)).as_nanos() as u64,
        success,
        status,
    })
}

/// Run a short helper command and return its stdout, or an error with its stderr.
pub fn output(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{:?} failed ({}): {}",
            cmd.get_program(),
            out.status,
            tail(&String::from_utf8_lossy(&out.stderr))
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A background process, stopped by pid when dropped.
pub struct Peer {
    child: Option<Child>,
    pid: u32,
    stop_signal: libc::c_int,
    pub log: PathBuf,
}

impl Peer {
    /// Start `cmd` with stdout and stderr in `log`.
    pub fn start(name: &str, mut cmd: Command, log: PathBuf) -> Result<Peer, String> {
        let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = file.try_clone().map_err(|e| e.to_string())?;
        cmd.stdin(Stdio::null()).stdout(file).stderr(err);
        dies_with_parent(&mut cmd);
        let child = cmd.spawn().map_err(|e| format!("cannot start {name} ({:?}): {e}", cmd.get_program()))?;
        let pid = child.id();
        Ok(Peer { child: Some(child), pid, stop_signal: libc::SIGTERM, log })
    }

    /// Stop with this signal instead of SIGTERM.
    pub fn stop_with(mut self, signal: libc::c_int) -> Self {
        self.stop_signal = signal;
        self
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether it has exited (then with what).
    pub fn exited(&mut self) -> Option<String> {
        match self.child.as_mut().map(|c| c.try_wait()) {
            Some(Ok(Some(status))) => Some(status.to_string()),
            Some(Ok(None)) => None,
            Some(Err(e)) => Some(e.to_string()),
            None => Some("stopped".into()),
        }
    }

    /// Its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Send a signal now (the process keeps being tracked).
    pub fn signal(&self, signal: libc::c_int) {
        if self.child.is_some() {
            // SAFETY: signalling our own, not yet reaped, child by pid.
            unsafe {
                libc::kill(self.pid as libc::pid_t, signal);
            }
        }
    }

    /// Wait for it to exit, at most `limit`; true when it did.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.exited().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// CPU time (user + system) it has used so far, from /proc.
    pub fn cpu_seconds(&self) -> f64 {
        proc_cpu_seconds(self.pid).unwrap_or(0.0)
    }

    /// Stop it: the stop signal, up to 10 s, then SIGKILL.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        // SAFETY: signalling our own child by its pid.
        unsafe {
            libc::kill(self.pid as libc::pid_t, self.stop_signal);
        }
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// utime + stime of a process, in seconds (fields 14 and 15 of /proc/PID/stat).
pub fn proc_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: fields are counted after its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / if hz > 0.0 { hz } else { 100.0 })
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_child() {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo hi; echo err >&2; exit 3"]);
        let m = run_measured(cmd, dir.path(), "sh", Duration::from_secs(10)).unwrap();
        assert!(!m.success);
        assert_eq!(m.stdout, "hi\n");
        assert_eq!(m.stderr, "err\n");
        assert!(m.max_rss > 0);
        assert!(m.status.contains('3'));
    }

    #[test]
    fn kills_a_run_past_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let m = run_measured(cmd, dir.path(), "sleep", Duration::from_millis(200)).unwrap();
        assert!(!m.success);
        assert!(m.wall < Duration::from_secs(5));
        assert!(m.status.contains("signal 9"), "{}", m.status);
    }

    #[test]
    fn own_cpu_time() {
        assert!(proc_cpu_seconds(std::process::id()).is_some());
    }
}
