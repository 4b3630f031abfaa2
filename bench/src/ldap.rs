//! The LDAP-source scenarios: `ldap_users` inetOrgPerson entries in a
//! private slapd (seeded offline with slapadd), provisioned into the
//! sandbox, reported apart from the file-source figures.
//!
//! The channel binds as a read-only account under a 500-entry size limit
//! (so the read pages, 1000 entries a page) and detects changes by
//! `modifyTimestamp`. Each repetition, with a fresh sandbox and state:
//! the initial sync (a full read), a no-change cycle (an incremental read:
//! every GUID in scope, whole entries only of what changed since the mark),
//! and an incremental cycle after `ldapmodify` changed 1 % of the entries.

use std::time::Instant;

use crate::ctx::{Ctx, Probe, Section, add_process, bound, expect_summary};
use crate::data::{self, Source};
use crate::peers::{LDAP_READER_DN, SandboxServer, Slapd};
use crate::target::write;

/// The LDAP sections.
pub struct LdapResults {
    pub initial: Section,
    pub nochange: Section,
    pub incremental: Section,
    /// slapd, the last repetition's sandbox and configuration, for profiling.
    pub kept: Option<(Slapd, SandboxServer, std::path::PathBuf)>,
}

pub fn run(ctx: &Ctx) -> Result<LdapResults, String> {
    let n = ctx.opts.ldap_users;
    let t = ctx.opts.sandbox_threads;
    let runs = ctx.opts.ldap_runs;
    let changed = data::changed_per_version(n);
    let dir = ctx.dir("ldap")?;
    let started = Instant::now();
    let slapd = Slapd::start(&dir.join("slapd"), &data::ldif(n))?;
    let seeded = started.elapsed();
    let mut initial = Section::new(
        "LDAP: initial sync into the sandbox",
        format!(
            "Initial sync of {n} inetOrgPerson entries read from slapd (private instance on 127.0.0.1, mdb, seeded \
             offline by slapadd in {:.1} s; bound as a read-only account with a 500-entry size limit, so the read \
             pages 1000 entries at a time) into the built-in sandbox, Max Threads {t}, fresh sandbox and state each \
             repetition.",
            seeded.as_secs_f64()
        ),
    );
    let mut nochange = Section::new(
        "LDAP: no-change cycle",
        "A second `sync --once` with nothing changed in slapd. The channel detects changes by modifyTimestamp, so \
         this cycle reads every GUID in scope and whole entries only of what changed since the stored mark."
            .into(),
    );
    let mut incremental = Section::new(
        "LDAP: incremental cycle, 1 % changed",
        format!("`ldapmodify` gave {changed} of the {n} entries (1 %) a new title, then `sync --once`."),
    );
    let mut kept = None;
    for r in 1..=runs {
        let sandbox = SandboxServer::start(&ctx.token)?;
        let run_dir = ctx.dir(&format!("ldap-run{r}"))?;
        let config = run_dir.join("provisio.toml");
        let source = Source::Ldap { url: &slapd.url, bind_dn: LDAP_READER_DN };
        write(&config, &data::config(&sandbox.base_url(), &source, t))?;

        let (c0, s0, probe) = (sandbox.counts(), slapd_cpu(&slapd), Probe::start());
        let m = ctx.run(Some(&config), &["sync", "--once"], "initial", bound(n, 100.0))?;
        let (sent, slapd_s, used) = (sandbox.counts().since(&c0), slapd_cpu(&slapd) - s0, probe.finish());
        if sandbox.held_users() != n as u64 {
            return Err(format!("LDAP run {r}: the sandbox holds {} users, expected {n}", sandbox.held_users()));
        }
        expect_summary(&ctx.last_summary(&config)?, &[("created", n as u64)], "LDAP initial sync")?;
        initial.note(format!(
            "After each initial sync the sandbox held exactly {n} users; the summary counted {n} created, none failed."
        ));
        initial.add("ldap.initial.rate", "users per second", "users/s", 0, n as f64 / m.wall_s());
        add_process(&mut initial, "ldap.initial", &m, &sent, used, slapd_s);
        initial.add("ldap.initial.slapd", "CPU time of slapd during the sync", "s", 2, slapd_s);
        eprintln!("  LDAP run {r}: initial {:.0} users/s, {:.0} MB", n as f64 / m.wall_s(), m.rss_mb());

        let (c0, s0, probe) = (sandbox.counts(), slapd_cpu(&slapd), Probe::start());
        let m = ctx.run(Some(&config), &["sync", "--once"], "nochange", bound(n, 100.0))?;
        let (sent, slapd_s, used) = (sandbox.counts().since(&c0), slapd_cpu(&slapd) - s0, probe.finish());
        expect_summary(&ctx.last_summary(&config)?, &[], "LDAP no-change cycle")?;
        nochange.note(format!("Requests received by the sandbox (run {r}): {}.", sent.describe()));
        add_process(&mut nochange, "ldap.nochange", &m, &sent, used, slapd_s);
        nochange.add("ldap.nochange.slapd", "CPU time of slapd during the cycle", "s", 2, slapd_s);
        eprintln!("  LDAP run {r}: no-change {:.2} s, {} requests", m.wall_s(), sent.total());

        let changes = run_dir.join("changes.ldif");
        write(&changes, &data::ldif_changes(n, r as u32))?;
        slapd.modify(&changes)?;
        let (c0, s0, probe) = (sandbox.counts(), slapd_cpu(&slapd), Probe::start());
        let m = ctx.run(Some(&config), &["sync", "--once"], "incremental", bound(n, 100.0))?;
        let (sent, slapd_s, used) = (sandbox.counts().since(&c0), slapd_cpu(&slapd) - s0, probe.finish());
        expect_summary(&ctx.last_summary(&config)?, &[("updated", changed as u64)], "LDAP incremental cycle")?;
        incremental.note(format!("Each incremental cycle's summary counted {changed} updated, none failed."));
        incremental.note(format!("Requests received by the sandbox (run {r}): {}.", sent.describe()));
        add_process(&mut incremental, "ldap.incremental", &m, &sent, used, slapd_s);
        incremental.add("ldap.incremental.slapd", "CPU time of slapd during the cycle", "s", 2, slapd_s);
        eprintln!("  LDAP run {r}: incremental {:.2} s, {} requests", m.wall_s(), sent.total());
        kept = Some((sandbox, config));
    }
    Ok(LdapResults { initial, nochange, incremental, kept: kept.map(|(s, c)| (slapd, s, c)) })
}

/// CPU seconds slapd has used so far.
fn slapd_cpu(slapd: &Slapd) -> f64 {
    crate::process::proc_cpu_seconds(slapd.pid()).unwrap_or(0.0)
}
