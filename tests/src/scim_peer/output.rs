//! The output of a running scim2-server: a reader thread per pipe drains it
//! (the server logs every request; an undrained pipe would block it) into an
//! [`OutputLog`], which keeps the tail for failure messages and notes the
//! banner that says the server has bound its port.

use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::lock;

/// The last lines the server printed, kept for failure messages.
#[derive(Debug, Default)]
pub(super) struct OutputLog {
    tail: Mutex<String>,
    pub(super) serving: AtomicBool,
}

impl OutputLog {
    const MAX: usize = 32 * 1024;

    fn push(&self, line: &str) {
        if line.starts_with("Serving SCIM on ") {
            self.serving.store(true, Ordering::SeqCst);
        }
        let mut tail = lock(&self.tail);
        tail.push_str(line);
        tail.push('\n');
        if tail.len() > Self::MAX {
            let mut cut = tail.len() - Self::MAX / 2;
            while !tail.is_char_boundary(cut) {
                cut += 1;
            }
            tail.drain(..cut);
        }
    }

    pub(super) fn text(&self) -> String {
        lock(&self.tail).clone()
    }
}

/// Drains a child's pipe into the log (the server logs every request to
/// stderr; an undrained pipe would block it).
pub(super) fn drain(pipe: impl Read + Send + 'static, log: Arc<OutputLog>) {
    std::thread::Builder::new()
        .name("scim-peer-output".into())
        .spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => log.push(String::from_utf8_lossy(&line).trim_end()),
                }
            }
        })
        .expect("spawn an output reader");
}
