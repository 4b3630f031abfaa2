//! A provisioning scenario for end-to-end tests: a scratch directory with a
//! configuration file and an LDIF directory of people and groups, and the
//! real `provisio` binary run against it.
//!
//! ```ignore
//! let t = ScimPeer::shared().unique_tenant("create");
//! let s = Scenario::scim(&t.base_url, &t.token).build();
//! s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
//! s.sync_ok();
//! assert_eq!(t.users().len(), 2);
//! ```

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::{profile_dir, provisio_command, stderr, stdout};

/// One person in the test directory.
#[derive(Debug, Clone)]
pub struct Person {
    pub uid: String,
    pub given: String,
    pub sn: String,
    pub mail: String,
    pub title: String,
    pub disabled: bool,
    /// Entry GUID; derived from the uid unless set.
    pub guid: String,
}

impl Person {
    pub fn new(uid: &str) -> Person {
        let mut given = uid.to_owned();
        if let Some(first) = given.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        Person {
            uid: uid.to_owned(),
            given,
            sn: "Tester".to_owned(),
            mail: format!("{uid}@example.org"),
            title: "Engineer".to_owned(),
            disabled: false,
            guid: guid_for(uid),
        }
    }
    pub fn title(mut self, title: &str) -> Person {
        self.title = title.to_owned();
        self
    }
    pub fn disabled(mut self) -> Person {
        self.disabled = true;
        self
    }
    pub fn dn(&self) -> String {
        format!("uid={},ou=people,dc=example,dc=org", self.uid)
    }
}

/// A stable, GUID-shaped id for a name.
pub fn guid_for(name: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:08x}-{:04x}-4000-8000-{:012x}", (h >> 32) as u32, (h >> 16) as u16, h & 0xffff_ffff_ffff)
}

/// One group in the test directory.
#[derive(Debug, Clone)]
pub struct Group {
    pub cn: String,
    pub members: Vec<String>,
    /// Entry GUID; derived from the first name given unless set.
    pub guid: String,
}

impl Group {
    pub fn new(cn: &str, members: &[&str]) -> Group {
        Group {
            cn: cn.to_owned(),
            members: members.iter().map(|m| (*m).to_owned()).collect(),
            guid: guid_for(&format!("group-{cn}")),
        }
    }

    /// The same group (same GUID) under a new name.
    pub fn renamed(mut self, cn: &str) -> Group {
        self.cn = cn.to_owned();
        self
    }
}

/// The whole test directory as LDIF: the base entries, `people` and
/// `groups`, each with its `entryUUID`.
pub fn directory_ldif(people: &[Person], groups: &[Group]) -> String {
    let mut out = String::from(
        "dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
         dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,dc=example,dc=org\nobjectClass: organizationalUnit\nou: groups\n\n",
    );
    out.push_str(&entries_ldif(people, groups, true));
    out
}

/// People and groups as LDIF records; `with_guid`: with their `entryUUID`
/// (a server assigns its own to entries added online).
pub fn entries_ldif(people: &[Person], groups: &[Group], with_guid: bool) -> String {
    let mut out = String::new();
    for p in people {
        out.push_str(&format!(
            "dn: {}\nobjectClass: inetOrgPerson\nuid: {}\ncn: {} {}\ngivenName: {}\nsn: {}\nmail: {}\ntitle: {}\n",
            p.dn(),
            p.uid,
            p.given,
            p.sn,
            p.given,
            p.sn,
            p.mail,
            p.title
        ));
        if with_guid {
            out.push_str(&format!("entryUUID: {}\n", p.guid));
        }
        if p.disabled {
            out.push_str("employeeType: disabled\n");
        }
        out.push('\n');
    }
    for g in groups {
        out.push_str(&format!(
            "dn: cn={},ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\ncn: {}\n",
            g.cn, g.cn
        ));
        if with_guid {
            out.push_str(&format!("entryUUID: {}\n", g.guid));
        }
        for m in &g.members {
            out.push_str(&format!("member: uid={m},ou=people,dc=example,dc=org\n"));
        }
        out.push('\n');
    }
    out
}

/// Builds a [`Scenario`].
pub struct ScenarioBuilder {
    connector: String,
    settings: toml::Table,
    options: toml::Table,
    remove_user_action: Option<String>,
    groups: bool,
    max_threads: i64,
    timeout: i64,
    deletion_guard: Option<bool>,
    engine: toml::Table,
    connection: toml::Table,
    mapping: Vec<toml::Table>,
    env: Vec<(String, String)>,
    /// Replaces the channel's file source (e.g. an LDAP source).
    source: Option<toml::Table>,
}

fn mapping(field: &str, attribute: &str) -> toml::Table {
    let mut t = toml::Table::new();
    t.insert("field".into(), field.into());
    t.insert("attributes".into(), toml::Value::Array(vec![attribute.into()]));
    t
}

impl ScenarioBuilder {
    /// A scenario with connector `connector` and no settings yet.
    pub fn new(connector: &str) -> ScenarioBuilder {
        ScenarioBuilder {
            connector: connector.to_owned(),
            settings: toml::Table::new(),
            options: toml::Table::new(),
            remove_user_action: None,
            groups: false,
            max_threads: 4,
            timeout: 20,
            deletion_guard: None,
            engine: toml::Table::new(),
            connection: toml::Table::new(),
            mapping: vec![
                mapping("userName", "uid"),
                mapping("givenName", "givenName"),
                mapping("familyName", "sn"),
                mapping("workEmail", "mail"),
                mapping("title", "title"),
                mapping("externalId", "entryUUID"),
            ],
            env: Vec::new(),
            source: None,
        }
    }

    /// Use this `[connection.channel.source]` table instead of the file
    /// source over `directory.ldif`.
    pub fn source(mut self, table: toml::Table) -> Self {
        self.source = Some(table);
        self
    }

    /// The channel's default source: the file `directory.ldif`, scoped by
    /// filter, with the `employeeType: disabled` flag.
    pub fn file_source() -> toml::Table {
        let mut source = toml::Table::new();
        source.insert("kind".into(), "file".into());
        source.insert("path".into(), "directory.ldif".into());
        source.insert("base_dn".into(), "dc=example,dc=org".into());
        source.insert("user_filter".into(), "(objectClass=inetOrgPerson)".into());
        let mut status = toml::Table::new();
        status.insert("algorithm".into(), "flag".into());
        status.insert("attribute".into(), "employeeType".into());
        status.insert("value".into(), "disabled".into());
        status.insert("when_equal".into(), "disabled".into());
        status.insert("default".into(), "enabled".into());
        source.insert("account_status".into(), toml::Value::Table(status));
        source
    }

    /// An environment variable set when provisio runs (for secrets given
    /// by reference).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn setting(mut self, name: &str, value: impl Into<toml::Value>) -> Self {
        self.settings.insert(name.into(), value.into());
        self
    }

    /// A secret setting given by reference to an environment variable that
    /// the scenario sets when it runs provisio.
    pub fn secret(mut self, name: &str, value: &str) -> Self {
        let var = format!("PROVISIO_TEST_{}", name.to_ascii_uppercase());
        let mut r = toml::Table::new();
        r.insert("env".into(), var.clone().into());
        self.settings.insert(name.into(), toml::Value::Table(r));
        self.env.push((var, value.to_owned()));
        self
    }

    pub fn option(mut self, name: &str, value: bool) -> Self {
        self.options.insert(name.into(), value.into());
        self
    }

    pub fn remove_user_action(mut self, action: &str) -> Self {
        self.remove_user_action = Some(action.to_owned());
        self
    }

    pub fn groups(mut self) -> Self {
        self.groups = true;
        self
    }

    /// An `[engine]` setting.
    pub fn engine(mut self, key: &str, value: impl Into<toml::Value>) -> Self {
        self.engine.insert(key.into(), value.into());
        self
    }

    /// A key of the `[[connection]]` table (e.g. `rate_limit`).
    pub fn connection(mut self, key: &str, value: impl Into<toml::Value>) -> Self {
        self.connection.insert(key.into(), value.into());
        self
    }

    /// Turn the deletion guard on or off.
    pub fn deletion_guard(mut self, enabled: bool) -> Self {
        self.deletion_guard = Some(enabled);
        self
    }

    /// The channel's timeout in seconds (default 20).
    pub fn timeout(mut self, seconds: i64) -> Self {
        self.timeout = seconds;
        self
    }

    pub fn max_threads(mut self, n: i64) -> Self {
        self.max_threads = n;
        self
    }

    /// Replace the mapping with `(field, attribute)` pairs.
    pub fn mapping(mut self, pairs: &[(&str, &str)]) -> Self {
        self.mapping = pairs.iter().map(|(f, a)| mapping(f, a)).collect();
        self
    }

    pub fn build(self) -> Scenario {
        let dir = tempfile::tempdir().expect("scratch directory");
        let ldif = dir.path().join("directory.ldif");
        std::fs::write(&ldif, "").expect("write the directory");
        let scenario = Scenario { dir, ldif, env: self.env.clone(), builder: self };
        scenario.write_config();
        scenario
    }
}

/// A scratch directory with a configuration and a directory file.
pub struct Scenario {
    dir: tempfile::TempDir,
    pub ldif: PathBuf,
    env: Vec<(String, String)>,
    builder: ScenarioBuilder,
}

impl Scenario {
    /// A generic SCIM 2.0 scenario against `base_url` with a bearer token.
    pub fn scim(base_url: &str, token: &str) -> ScenarioBuilder {
        ScenarioBuilder::new("scim")
            .setting("scim_url", base_url)
            .setting("authentication_method", "oauth2_bearer_token")
            .secret("access_token", token)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("provisio.toml")
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join("state.db")
    }

    pub fn audit_path(&self) -> PathBuf {
        self.dir.path().join("audit.log")
    }

    /// Change the configuration and write it again.
    pub fn reconfigure(&mut self, f: impl FnOnce(ScenarioBuilder) -> ScenarioBuilder) {
        let builder = std::mem::replace(&mut self.builder, ScenarioBuilder::new("scim"));
        self.builder = f(builder);
        self.env = self.builder.env.clone();
        self.write_config();
    }

    fn write_config(&self) {
        let b = &self.builder;
        let mut engine = toml::Table::new();
        engine.insert("state".into(), "state.db".into());
        engine.insert("audit_log".into(), "audit.log".into());
        engine.extend(b.engine.clone());
        let mut source = b.source.clone().unwrap_or_else(ScenarioBuilder::file_source);
        if b.groups && !source.contains_key("group_filter") && !source.contains_key("group_dn") {
            source.insert("group_filter".into(), "(objectClass=groupOfNames)".into());
        }
        let mut channel = toml::Table::new();
        channel.insert("name".into(), "people".into());
        channel.insert("max_threads".into(), b.max_threads.into());
        channel.insert("timeout".into(), b.timeout.into());
        channel.insert("groups".into(), b.groups.into());
        if let Some(enabled) = b.deletion_guard {
            let mut guard = toml::Table::new();
            guard.insert("enabled".into(), enabled.into());
            channel.insert("deletion_guard".into(), toml::Value::Table(guard));
        }
        channel.insert("source".into(), toml::Value::Table(source));
        channel
            .insert("mapping".into(), toml::Value::Array(b.mapping.iter().cloned().map(toml::Value::Table).collect()));
        let mut connection = toml::Table::new();
        connection.insert("name".into(), "target".into());
        connection.insert("connector".into(), b.connector.clone().into());
        connection.insert("settings".into(), toml::Value::Table(b.settings.clone()));
        connection.insert("options".into(), toml::Value::Table(b.options.clone()));
        if let Some(a) = &b.remove_user_action {
            connection.insert("remove_user_action".into(), a.clone().into());
        }
        connection.extend(b.connection.clone());
        connection.insert("channel".into(), toml::Value::Array(vec![toml::Value::Table(channel)]));
        let mut root = toml::Table::new();
        root.insert("engine".into(), toml::Value::Table(engine));
        root.insert("connection".into(), toml::Value::Array(vec![toml::Value::Table(connection)]));
        std::fs::write(self.config_path(), toml::to_string(&root).expect("serialize the configuration"))
            .expect("write the configuration");
    }

    /// Write the directory: the base entries, `people` and `groups`.
    pub fn write_directory(&self, people: &[Person], groups: &[Group]) {
        std::fs::write(&self.ldif, directory_ldif(people, groups)).expect("write the directory");
    }

    /// The command `provisio --config <this> ARGS` with the scenario's
    /// environment, for tests that spawn it and signal it.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let dir = profile_dir();
        let config = self.config_path();
        let mut full: Vec<&str> = vec![
            "--connector-dir",
            dir.to_str().expect("utf-8 path"),
            "--config",
            config.to_str().expect("utf-8 path"),
        ];
        full.extend_from_slice(args);
        let mut cmd = provisio_command(&full);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run `provisio --config <this> ARGS` with the scenario's environment.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run provisio")
    }

    /// Run and require success; answers stdout.
    pub fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "provisio {args:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    /// One cycle, required to succeed with no failed user.
    pub fn sync_ok(&self) -> String {
        let out = self.run_ok(&["sync", "--once"]);
        assert!(!out.contains("failed:"), "a user failed:\n{out}");
        out
    }

    /// What `channels list --json` says is left to do, summed over the
    /// channels: dirty users, unsettled create intents, held deprovisions.
    pub fn outstanding(&self) -> Outstanding {
        let list: serde_json::Value =
            serde_json::from_str(&self.run_ok(&["channels", "list", "--json"])).expect("channels list --json is JSON");
        let sum = |field: &str| list.as_array().into_iter().flatten().map(|c| c[field].as_u64().unwrap_or(0)).sum();
        Outstanding { dirty: sum("dirty"), unsettled: sum("unsettled_intents"), held: sum("held_deprovisions") }
    }

    /// Run cycles (`sync --once`, then `channels retry` so failed users do
    /// not wait for their schedule) until a cycle succeeds and nothing is
    /// dirty, unsettled or held, at most `max_cycles`. Creates of unknown
    /// outcome settle only a settling time after their first lookup (twice
    /// the channel's timeout), so a cycle that leaves some waits a second
    /// before the next. Answers the cycles run and what was left.
    pub fn converge(&self, max_cycles: u32) -> (u32, Outstanding) {
        let mut cycles = 0;
        loop {
            cycles += 1;
            let out = self.run(&["sync", "--once"]);
            let left = self.outstanding();
            if (out.status.success() && left.is_empty()) || cycles >= max_cycles {
                return (cycles, left);
            }
            self.run(&["channels", "retry"]);
            if left.unsettled > 0 {
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
    }

    /// The audit log's records.
    pub fn audit(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.audit_path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit lines are JSON"))
            .collect()
    }
}

/// What is left to do in a scenario's state ([`Scenario::outstanding`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outstanding {
    pub dirty: u64,
    pub unsettled: u64,
    pub held: u64,
}

impl Outstanding {
    /// Nothing dirty, unsettled or held.
    pub fn is_empty(&self) -> bool {
        *self == Outstanding::default()
    }
}
