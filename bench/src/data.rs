//! The data sets and the provisio configuration the scenarios run.
//!
//! Users are generated, never read from disk: user `i` is `uid=user0000042`
//! with a fixed GUID, names, mail, title and employee number. A *version*
//! changes the title of every hundredth user (1 %), which is what the
//! incremental scenario pushes; version 0 is the initial data. The same
//! people are written as a JSON file source ([`write_json`]) and as LDIF for
//! slapd ([`ldif`]).
//!
//! [`config`] writes the channel the benchmark uses: the example's mapping
//! (examples/provisio.toml: userName, givenName, familyName, displayName,
//! workEmail, title, externalId, employeeNumber) through the `scim`
//! connector with a bearer token given by reference.

use std::fmt::Write as _;
use std::path::Path;

/// Base DN of the people.
pub const PEOPLE_DN: &str = "ou=people,dc=example,dc=org";
/// One user in this many changes per version.
pub const CHANGE_EVERY: usize = 100;
/// The environment variable holding the target's bearer token.
pub const TOKEN_VAR: &str = "BENCH_SCIM_TOKEN";
/// The environment variable holding the LDAP bind password.
pub const LDAP_PW_VAR: &str = "BENCH_LDAP_PASSWORD";

const FIRST: [&str; 8] = ["Ada", "Brian", "Chloe", "Dmitri", "Erin", "Farah", "Goran", "Hana"];
const LAST: [&str; 8] = ["Lovelace", "Kernighan", "Okafor", "Ivanov", "Walsh", "Haddad", "Novak", "Sato"];
const TITLES: [&str; 5] = ["Engineer", "Analyst", "Site Lead", "Designer", "Accountant"];

/// One generated person.
pub struct Person {
    pub uid: String,
    pub guid: String,
    pub given: &'static str,
    pub sn: &'static str,
    pub mail: String,
    pub title: String,
    pub employee_number: String,
}

/// User `i` as of `version`.
pub fn person(i: usize, version: u32) -> Person {
    let uid = format!("user{i:07}");
    let title = if version > 0 && i.is_multiple_of(CHANGE_EVERY) {
        format!("{} v{version}", TITLES[i % TITLES.len()])
    } else {
        TITLES[i % TITLES.len()].to_owned()
    };
    Person {
        guid: format!("5ca1ab1e-0000-4000-8000-{i:012x}"),
        given: FIRST[i % FIRST.len()],
        sn: LAST[(i / FIRST.len()) % LAST.len()],
        mail: format!("{uid}@example.org"),
        title,
        employee_number: format!("{}", 100_000 + i),
        uid,
    }
}

/// How many users a version changes compared with the previous one.
pub fn changed_per_version(users: usize) -> usize {
    users.div_ceil(CHANGE_EVERY)
}

/// Write `users` people as a JSON file source (an array of entries); user
/// `touched`, if any, has " (moved)" added to its title.
pub fn write_json(path: &Path, users: usize, version: u32, touched: Option<usize>) -> Result<(), String> {
    let mut out = String::with_capacity(users * 330 + 2);
    out.push_str("[\n");
    for i in 0..users {
        let mut p = person(i, version);
        if touched == Some(i) {
            p.title.push_str(" (moved)");
        }
        let entry = serde_json::json!({
            "dn": format!("uid={},{PEOPLE_DN}", p.uid),
            "objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson"],
            "uid": p.uid,
            "entryUUID": p.guid,
            "cn": format!("{} {}", p.given, p.sn),
            "givenName": p.given,
            "sn": p.sn,
            "mail": p.mail,
            "title": p.title,
            "employeeNumber": p.employee_number,
        });
        out.push_str(&entry.to_string());
        out.push_str(if i + 1 < users { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    std::fs::write(path, out).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The people as LDIF entries (slapd generates entryUUID and the timestamps).
pub fn ldif(users: usize) -> String {
    let mut out = String::with_capacity(users * 300);
    for i in 0..users {
        let p = person(i, 0);
        let _ = write!(
            out,
            "dn: uid={uid},{PEOPLE_DN}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {g} {s}\ngivenName: {g}\nsn: {s}\nmail: {mail}\ntitle: {title}\nemployeeNumber: {num}\n\n",
            uid = p.uid,
            g = p.given,
            s = p.sn,
            mail = p.mail,
            title = p.title,
            num = p.employee_number
        );
    }
    out
}

/// LDIF changes giving the changed users of `version` their new title.
pub fn ldif_changes(users: usize, version: u32) -> String {
    let mut out = String::new();
    for i in (0..users).step_by(CHANGE_EVERY) {
        let p = person(i, version);
        let _ =
            write!(out, "dn: uid={},{PEOPLE_DN}\nchangetype: modify\nreplace: title\ntitle: {}\n\n", p.uid, p.title);
    }
    out
}

/// Where a channel reads its users.
pub enum Source<'a> {
    /// A JSON file, relative to the configuration's directory.
    Json(&'a str),
    /// slapd at this URL, bound as `bind_dn`, incremental by modifyTimestamp.
    Ldap { url: &'a str, bind_dn: &'a str },
}

/// A configuration: one `scim` connection to `scim_url`, one channel.
pub fn config(scim_url: &str, source: &Source<'_>, max_threads: usize) -> String {
    let source = match source {
        Source::Json(path) => format!("kind = \"file\"\npath = \"{path}\"\nformat = \"json\"\n"),
        Source::Ldap { url, bind_dn } => format!(
            "kind = \"ldap\"\nurl = \"{url}\"\nbind_dn = \"{bind_dn}\"\nbind_password = {{ env = \"{LDAP_PW_VAR}\" }}\n\
             page_size = 1000\nchange_detection = {{ algorithm = \"timestamp\", attribute = \"modifyTimestamp\" }}\n"
        ),
    };
    format!(
        r#"# Written by provisio-bench (bench/src/data.rs).
[engine]
state = "provisio-state.db"
audit_log = "provisio-audit.log"

[[connection]]
name = "bench"
connector = "scim"
remove_user_action = "Disable"

[connection.settings]
scim_url = "{scim_url}"
scim_version = "2.0"
authentication_method = "oauth2_bearer_token"
access_token = {{ env = "{TOKEN_VAR}" }}

[connection.options]
user_create = true
user_update = true
user_disable_delete = true
provision_disabled_users = false

[[connection.channel]]
name = "people"
max_threads = {max_threads}
timeout = 60

[connection.channel.source]
{source}base_dn = "{PEOPLE_DN}"
guid_attribute = "entryUUID"
user_filter = "(objectClass=inetOrgPerson)"
account_status = {{ algorithm = "flag", attribute = "employeeType", value = "disabled", when_equal = "disabled", default = "enabled" }}

[[connection.channel.mapping]]
field = "userName"
attributes = ["uid"]

[[connection.channel.mapping]]
field = "givenName"
attributes = ["givenName"]

[[connection.channel.mapping]]
field = "familyName"
attributes = ["sn"]

[[connection.channel.mapping]]
field = "displayName"
expression = '${{cn}} ?? ${{givenName}} + " " + ${{sn}}'

[[connection.channel.mapping]]
field = "workEmail"
attributes = ["mail"]
case = "lower"

[[connection.channel.mapping]]
field = "title"
attributes = ["title"]

[[connection.channel.mapping]]
field = "externalId"
attributes = ["entryUUID"]

[[connection.channel.mapping]]
field = "employeeNumber"
attributes = ["employeeNumber"]
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_percent_changes() {
        let changed = (0..1000).filter(|&i| person(i, 0).title != person(i, 3).title).count();
        assert_eq!(changed, 10);
        assert_eq!(changed_per_version(1000), 10);
        assert_ne!(person(0, 1).title, person(0, 2).title, "each version changes the title again");
        assert_eq!(ldif_changes(1000, 1).matches("changetype: modify").count(), 10);
    }

    #[test]
    fn json_source_parses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("u.json");
        write_json(&path, 3, 0, Some(2)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 3);
        assert_eq!(v[1]["uid"], "user0000001");
        assert!(v[2]["title"].as_str().unwrap().ends_with(" (moved)"));
    }
}
