//! The exit statuses of `provisio`, defined once: [`ExitStatus`] names each
//! status a script can test, [`CliError`] says which one a
//! failure gives, and the binary exits with it. README.md ("Exit statuses")
//! documents the same table.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | success; also a command whose reader went away (`provisio connectors list \| head -1`): it ends quietly, as `ls \| head` does |
//! | 1 | the command failed for another reason (state store or audit log unusable, an activation check refused by `connections test`, a listener that cannot start, ...) |
//! | 2 | usage or configuration error: clap's own usage errors, a configuration that does not load, or errors found by `config check` |
//! | 3 | the output could not be written (a full disk, a closed terminal; a closed pipe is 0, above) |
//! | 4 | something named does not exist: a connection, a channel, a connector or a connector directory, a user (`provision --user`) |
//! | 5 | a channel could not run: it is quarantined, or its cycle failed (source unreadable, activation check failed, state store failing) |
//! | 6 | the cycle ran, but user or group operations failed: their records are dirty and retried on schedule |
//!
//! Which one wins when several apply: 2, 4 and 1 stop a command before (or
//! instead of) running a cycle, so they never meet a cycle's outcome; of a
//! cycle's outcomes, 5 wins over 6 (a channel that could not run is worse
//! than users left dirty); 3 ends the command where the writing failed.

use provisio_engine::ChannelReport;

use super::CliError;

/// What `provisio` tells the shell that started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    /// The command failed for a reason not listed below.
    Failure,
    /// A usage or configuration error (clap's usage errors are 2 too).
    Usage,
    /// Writing the output failed.
    Output,
    /// Something named does not exist.
    NotFound,
    /// A channel could not run (quarantined, or its cycle failed).
    ChannelNotRun,
    /// The cycle ran, but operations failed; dirty records are left.
    OperationsFailed,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Output => 3,
            ExitStatus::NotFound => 4,
            ExitStatus::ChannelNotRun => 5,
            ExitStatus::OperationsFailed => 6,
        }
    }
}

/// The outcome of the cycles in `reports` for the exit status: a channel
/// that did not run wins over failed operations.
pub fn cycle_outcome(reports: &[ChannelReport]) -> Result<(), CliError> {
    let not_run: Vec<String> = reports
        .iter()
        .filter(|r| r.quarantined.is_some() || r.summary.error.is_some())
        .map(|r| format!("{}/{}", r.connection, r.channel))
        .collect();
    if !not_run.is_empty() {
        return Err(CliError::ChannelNotRun(format!(
            "{} channel(s) could not run: {} (see above)",
            not_run.len(),
            not_run.join(", ")
        )));
    }
    let failed: u64 = reports.iter().map(|r| r.summary.failed).sum();
    if failed > 0 {
        return Err(CliError::OperationsFailed(format!(
            "{failed} operation(s) failed (see above); their records are dirty and retried on schedule \
             (`provisio channels list` counts them, `provisio channels retry` retries now)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisio_state::CycleSummary;

    fn report(failed: u64, error: Option<&str>, quarantined: bool) -> ChannelReport {
        ChannelReport {
            connection: "c".into(),
            channel: format!("ch{failed}"),
            summary: CycleSummary { failed, error: error.map(str::to_owned), ..CycleSummary::default() },
            quarantined: quarantined.then(|| "quarantined for another 60 s".to_owned()),
            ..ChannelReport::default()
        }
    }

    fn status(reports: &[ChannelReport]) -> i32 {
        cycle_outcome(reports).err().map_or(0, |e| e.status().code())
    }

    #[test]
    fn the_codes_are_distinct_and_two_stays_the_usage_error() {
        use ExitStatus::*;
        let all = [Success, Failure, Usage, Output, NotFound, ChannelNotRun, OperationsFailed];
        let codes: std::collections::BTreeSet<i32> = all.iter().map(|s| s.code()).collect();
        assert_eq!(codes.len(), all.len());
        assert_eq!(Usage.code(), 2, "clap exits 2 on a usage error");
    }

    #[test]
    fn a_channel_that_could_not_run_wins_over_failed_operations() {
        assert_eq!(status(&[report(0, None, false)]), 0);
        assert_eq!(status(&[report(3, None, false)]), 6);
        assert_eq!(status(&[report(0, None, true)]), 5, "quarantined");
        assert_eq!(status(&[report(0, Some("source: gone"), false)]), 5);
        assert_eq!(status(&[report(3, None, false), report(0, None, true)]), 5);
        let e = cycle_outcome(&[report(0, None, true), report(1, None, false)]).unwrap_err();
        assert_eq!(e.to_string(), "1 channel(s) could not run: c/ch0 (see above)");
    }
}
