//! Shell completions and the manual page come from the command-line
//! definition itself (clap_complete, clap_mangen), so they list every
//! command a user can run.

use provisio_e2e::{provisio_command, stdout};

#[test]
fn completion_scripts_for_every_shell_know_the_commands() {
    for (shell, marker) in [
        ("bash", "_provisio()"),
        ("zsh", "#compdef provisio"),
        ("fish", "complete -c provisio"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = provisio_command(&["completions", shell]).output().expect("run provisio");
        let script = stdout(&out);
        assert!(out.status.success(), "{shell}: {}", provisio_e2e::stderr(&out));
        assert!(script.contains(marker), "{shell} script lacks {marker:?}");
        for command in ["sync", "plan", "provision", "channels", "refresh-fields"] {
            assert!(script.contains(command), "{shell} script does not complete {command}");
        }
    }
}

#[test]
fn the_manual_page_is_roff_listing_the_commands() {
    let out = provisio_command(&["man"]).output().expect("run provisio");
    let page = stdout(&out);
    assert!(out.status.success(), "{}", provisio_e2e::stderr(&out));
    assert!(page.contains(".TH provisio 1"), "{page}");
    for command in ["sync", "plan", "provision", "channels", "completions"] {
        assert!(page.contains(command), "the man page does not mention {command}");
    }
}
