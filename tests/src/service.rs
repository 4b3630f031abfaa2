//! `provisio sync` as a service, started by a test: its listener on a free
//! port of 127.0.0.1 (`--listen 127.0.0.1:0`, the address read from its JSON
//! log), its endpoints fetched, its stderr lines kept, stopped with SIGTERM
//! (or killed when dropped). Used by `tests/tests/service.rs` and
//! `tests/tests/secrets_probes.rs`.

use crate::scenario::Scenario;
use std::io::BufRead as _;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `provisio sync` with its listener.
pub struct Service {
    child: Option<Child>,
    stderr: Arc<Mutex<Vec<String>>>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Service {
    /// `provisio sync --listen 127.0.0.1:0 --log-format json` (and `extra`)
    /// for `s`; waits for the address the listener took.
    pub fn start(s: &Scenario, extra: &[&str]) -> Service {
        let mut args = vec!["--log-format", "json", "sync", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut child =
            s.command(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("start provisio sync");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stderr.take().expect("piped stderr");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let mut service = Service { child: Some(child), stderr: lines, base: String::new() };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = service.lines().iter().find_map(|l| {
                let start = l.find("http://127.0.0.1:")?;
                let rest = &l[start..];
                let end = rest.find('/').and_then(|i| rest[i + 2..].find('/').map(|j| i + 2 + j))?;
                Some(rest[..end].to_owned())
            });
            if let Some(base) = found {
                service.base = base;
                return service;
            }
            if let Some(status) = service.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("provisio sync exited ({status}) before listening:\n{}", service.lines().join("\n"));
            }
            assert!(
                Instant::now() < deadline,
                "provisio sync never said where it listens:\n{}",
                service.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    pub fn get(&self, path: &str) -> (u16, String, String) {
        let response = reqwest::blocking::Client::new()
            .get(format!("{}{path}", self.base))
            .timeout(Duration::from_secs(10))
            .send()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        (status, content_type, response.text().expect("a body"))
    }

    /// Poll `path` until `done` holds for its answer.
    pub fn wait_for(&self, path: &str, what: &str, done: impl Fn(u16, &str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, _, body) = self.get(path);
            if done(status, &body) {
                return body;
            }
            assert!(Instant::now() < deadline, "{what}: still {status} {body}\n{}", self.lines().join("\n"));
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, then wait (at most 30 s) for the exit; answers whether it
    /// exited with status 0.
    pub fn terminate(&mut self) -> bool {
        let mut child = self.child.take().expect("running");
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("poll provisio") {
                // Let the reader thread take the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("provisio sync did not stop within 30 s of SIGTERM:\n{}", self.lines().join("\n"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
