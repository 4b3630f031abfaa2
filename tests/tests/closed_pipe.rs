//! A command whose reader goes away (`provisio connectors list | head -1`)
//! ends quietly, as `ls | head` does: status 0, nothing on stderr, no
//! panic (it used to panic with status 101 and a backtrace, "failed printing
//! to stdout: Broken pipe").
//!
//! The read end of the pipe is closed right after the process starts, so
//! its first line of output meets a closed pipe.

use provisio_e2e::{profile_dir, provisio_command, stderr};
use std::process::Stdio;

fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    let profile = profile_dir();
    let mut all = vec!["--connector-dir", profile.to_str().unwrap()];
    all.extend_from_slice(args);
    let mut child =
        provisio_command(&all).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start provisio");
    drop(child.stdout.take());
    child.wait_with_output().expect("provisio ends")
}

#[test]
fn listing_and_showing_connectors_into_a_closed_pipe_end_quietly() {
    for args in
        [&["connectors", "list"][..], &["connectors", "show", "scim"][..], &["connectors", "list", "--json"][..]]
    {
        let out = with_closed_stdout(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?} into a closed pipe: {:?}\n{err}", out.status);
        assert!(!err.contains("panicked") && !err.contains("error:"), "{args:?} was not quiet:\n{err}");
    }
}
