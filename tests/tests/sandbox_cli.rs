//! `provisio sandbox` as a person starts it: the bearer token comes from
//! `PROVISIO_SANDBOX_TOKEN` (so it is not in the process list), and every
//! request without it is refused.

use provisio_e2e::provisio_command;
use std::io::BufRead;
use std::process::Stdio;

#[test]
fn the_sandbox_takes_its_token_from_the_environment_and_keeps_it_off_the_command_line() {
    let mut child = provisio_command(&["sandbox", "--port", "0"])
        .env("PROVISIO_SANDBOX_TOKEN", "s3cret-from-env")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start provisio sandbox");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let first = lines.next().expect("a first line").expect("readable");
    let url = first.rsplit(' ').next().expect("the base URL ends the first line").to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    let second = lines.next().expect("a second line").expect("readable");
    assert!(second.contains("requests need `Authorization: Bearer"), "{second}");
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&cmdline).contains("s3cret-from-env"), "the token is in the process list");

    let http = reqwest::blocking::Client::new();
    let without = http.get(format!("{url}/Users")).send().expect("GET without a token");
    assert_eq!(without.status().as_u16(), 401);
    let with = http.get(format!("{url}/Users")).bearer_auth("s3cret-from-env").send().expect("GET with the token");
    assert_eq!(with.status().as_u16(), 200);
    let _ = child.kill();
    let _ = child.wait();
}
