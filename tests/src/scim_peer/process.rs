//! Spawning the harness's helper processes (the SCIM peer here, and the LDAP
//! and PostgreSQL peers in `slapd` and `postgres`): from one long-lived
//! thread, dying with the test binary on Linux, on a free local port.

use std::net::TcpListener;
use std::process::{Child, Command};
use std::sync::{Mutex, OnceLock, mpsc};

use super::lock;

/// Spawns children from one thread that lives as long as the process. On Linux
/// the children ask for SIGTERM when their parent thread dies (PR_SET_PDEATHSIG),
/// so a peer in a `static` (never dropped) stops when the test binary exits,
/// and not when the test thread that happened to start it ends.
pub(crate) fn spawn_kept(cmd: Command) -> std::io::Result<Child> {
    type Job = (Command, mpsc::Sender<std::io::Result<Child>>);
    static KEEPER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("scim-peer-keeper".into())
            .spawn(move || {
                // The sender lives in a static, so this loop never ends.
                while let Ok((mut cmd, reply)) = rx.recv() {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("spawn the peer keeper thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    lock(keeper).send((cmd, reply_tx)).expect("the peer keeper thread is alive");
    reply_rx.recv().expect("the peer keeper thread answers")
}

#[cfg(target_os = "linux")]
pub(crate) fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn die_with_parent(_cmd: &mut Command) {}

/// Let the child take SIGINT as a signal again. A suite started in the
/// background (`scripts/test &`, `nohup`, a CI runner without a terminal)
/// runs with SIGINT ignored, and an ignored signal stays ignored across
/// `exec`: Python then installs no KeyboardInterrupt handler, so
/// scim2-server would never stop on SIGINT, nor write its dump.
pub(crate) fn default_sigint(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: only sigaction, async-signal-safe, between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            if libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("a local address").port()
}
