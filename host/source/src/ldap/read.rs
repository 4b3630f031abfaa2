//! Reading a channel's scope from the directory: a whole read ([`read`]), streamed into the
//! caller when the scope is judged entry by entry ([`read_streaming`]), or an incremental read
//! from a high-water mark ([`LdapScope::Delta`]); see the module above for what is searched.

use std::collections::{BTreeSet, HashSet};

use super::client::Directory;
use super::{FETCH_BY_GUID_LIMIT, GUIDS_PER_SEARCH, LdapSourceConfig};
use crate::Entry;
use crate::error::SourceError;
use crate::scope::{Delta, Rules, Snapshot, SourceUser};

/// What a read needs from the caller.
#[derive(Debug, Clone, Copy)]
pub struct ReadRequest<'a> {
    /// The stored high-water mark; `None` (or a mark the algorithm cannot use): a full read.
    pub since: Option<&'a str>,
    /// GUIDs of the users the caller holds in step with the target (provisioned, not dirty);
    /// an incremental read reads the others in scope whole.
    pub in_step: &'a HashSet<String>,
}

/// A full or an incremental read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LdapScope {
    /// The whole scope.
    Full(Snapshot),
    /// The whole scope, its users handed to the caller one by one as they were read
    /// ([`read_streaming`]; users by filter, no groups).
    Streamed,
    /// Every GUID in scope, whole entries for the changed ones.
    Delta(Delta),
}

/// The result of [`read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapRead {
    /// What was read.
    pub scope: LdapScope,
    /// The next high-water mark, with change detection: the highest change value read.
    pub high_water: Option<String>,
    /// Things the operator should know (e.g. no entry carried the change attribute).
    pub warnings: Vec<String>,
}

/// Read the channel's scope. `password` is the resolved bind password. Any failure is an
/// error: no partial scope is ever returned.
pub async fn read(
    cfg: &LdapSourceConfig,
    password: Option<&str>,
    request: &ReadRequest<'_>,
) -> Result<LdapRead, String> {
    read_inner(cfg, password, request, None).await
}

/// [`read`], but a full read whose scope can be judged entry by entry
/// ([`Rules::is_local`]) hands each user to `each` as its entry arrives and keeps none
/// ([`LdapScope::Streamed`]): a directory of any size is read in little memory. An error may
/// come after users were handed over; then nothing of the read may be acted on.
pub async fn read_streaming(
    cfg: &LdapSourceConfig,
    password: Option<&str>,
    request: &ReadRequest<'_>,
    each: &mut dyn FnMut(SourceUser),
) -> Result<LdapRead, String> {
    read_inner(cfg, password, request, Some(each)).await
}

async fn read_inner(
    cfg: &LdapSourceConfig,
    password: Option<&str>,
    request: &ReadRequest<'_>,
    each: Option<&mut dyn FnMut(SourceUser)>,
) -> Result<LdapRead, String> {
    if let Some(problem) = cfg.check().into_iter().next() {
        return Err(problem.to_string());
    }
    let mut dir = Directory::connect(cfg, password).await?;
    let result = read_with(&mut dir, cfg, request, each).await;
    dir.close().await;
    result
}

async fn read_with(
    dir: &mut Directory,
    cfg: &LdapSourceConfig,
    request: &ReadRequest<'_>,
    each: Option<&mut dyn FnMut(SourceUser)>,
) -> Result<LdapRead, String> {
    let rules = cfg.local_rules()?;
    let origin = cfg.origin();
    let users_filter = cfg.user_search()?;
    let full = cfg.full_attributes();
    let groups = match cfg.group_search()? {
        Some(filter) => dir.search(&filter, &full).await?,
        None => Vec::new(),
    };
    let since = match (&cfg.change_detection, request.since) {
        (Some(cd), Some(mark)) if cd.check_mark(mark).is_ok() => Some((cd, mark)),
        _ => None,
    };
    let Some((cd, mark)) = since else {
        return match each {
            Some(each) if rules.is_local() => streamed_read(dir, cfg, &rules, &users_filter, each).await,
            _ => full_read(dir, cfg, &rules, &users_filter, groups).await,
        };
    };

    // 1. Every GUID in scope.
    let thin = dir.search(&users_filter, &cfg.thin_attributes()).await?;
    let thin_snapshot = snapshot(&rules, thin, &groups, &origin)?;
    let in_scope: BTreeSet<String> = thin_snapshot.users.iter().map(|u| u.guid.clone()).collect();

    // 2. Changed since the mark.
    let changed_filter = format!("(&{users_filter}{})", cd.filter_since(mark));
    let changed = dir.search(&changed_filter, &full).await?;
    let high_water = cd.max(changed.iter().filter_map(|e| e.first(cd.attribute())));
    let changed_guids: HashSet<String> =
        snapshot(&rules, changed.clone(), &groups, &origin)?.users.into_iter().map(|u| u.guid).collect();

    // 3. In scope, not in step, not changed: by GUID.
    let needed: Vec<&String> = in_scope
        .iter()
        .filter(|g| !request.in_step.contains(g.as_str()) && !changed_guids.contains(g.as_str()))
        .collect();
    if needed.len() > FETCH_BY_GUID_LIMIT {
        return match each {
            Some(each) if rules.is_local() => streamed_read(dir, cfg, &rules, &users_filter, each).await,
            _ => full_read(dir, cfg, &rules, &users_filter, groups).await,
        };
    }
    let mut entries = changed;
    for chunk in needed.chunks(GUIDS_PER_SEARCH) {
        let terms: String = chunk.iter().filter_map(|g| cfg.guid_assertion(g)).collect();
        if terms.is_empty() {
            continue;
        }
        let filter = format!("(&{users_filter}(|{terms}))");
        entries.extend(dir.search(&filter, &full).await?);
    }
    let read = snapshot(&rules, entries, &groups, &origin)?;
    let users = read.users.into_iter().filter(|u| in_scope.contains(&u.guid)).collect();
    Ok(LdapRead {
        scope: LdapScope::Delta(Delta { in_scope, users, groups: thin_snapshot.groups }),
        high_water: high_water.or_else(|| Some(mark.trim().to_string())),
        warnings: Vec::new(),
    })
}

async fn full_read(
    dir: &mut Directory,
    cfg: &LdapSourceConfig,
    rules: &Rules,
    users_filter: &str,
    groups: Vec<Entry>,
) -> Result<LdapRead, String> {
    let users = dir.search(users_filter, &cfg.full_attributes()).await?;
    let mut warnings = Vec::new();
    let high_water = match &cfg.change_detection {
        Some(cd) => {
            let max = cd.max(users.iter().filter_map(|e| e.first(cd.attribute())));
            if max.is_none() && !users.is_empty() {
                warnings.push(format!(
                    "change_detection: no user entry carries a usable {} (or the bind account cannot read it); every cycle reads the whole scope",
                    cd.attribute()
                ));
            }
            max
        }
        None => None,
    };
    let snapshot = snapshot(rules, users, &groups, &cfg.origin())?;
    Ok(LdapRead { scope: LdapScope::Full(snapshot), high_water, warnings })
}

/// A full read of local scope: each user entry judged as it arrives and handed to `each`.
async fn streamed_read(
    dir: &mut Directory,
    cfg: &LdapSourceConfig,
    rules: &Rules,
    users_filter: &str,
    each: &mut dyn FnMut(SourceUser),
) -> Result<LdapRead, String> {
    let origin = cfg.origin();
    let mut guids = crate::scope::DistinctGuids::default();
    // The DN of each entry by its position, to name the first of two entries with one GUID.
    let mut dns: Vec<String> = Vec::new();
    let mut high_water: Option<String> = None;
    let count = dir
        .search_each(users_filter, &cfg.full_attributes(), &mut |entry| {
            if let Some(cd) = &cfg.change_detection
                && let Some(value) = entry.first(cd.attribute())
            {
                high_water = cd.max(high_water.as_deref().into_iter().chain([value]));
            }
            let dn = crate::dn::Dn::parse(&entry.dn).map_err(|err| {
                describe(rules.entry_error(&entry, &origin, format!("cannot be used: {err}")), &origin)
            })?;
            dns.push(entry.dn.clone());
            match rules.local_user(entry, &dn, &origin, &mut guids) {
                Ok(Some(user)) => {
                    each(user);
                    Ok(())
                }
                Ok(None) => Ok(()),
                Err(SourceError::DuplicateGuid(mut d)) => {
                    d.first_dn = dns.get(d.first_line.saturating_sub(1)).cloned().unwrap_or_default();
                    Err(describe(SourceError::DuplicateGuid(d), &origin))
                }
                Err(e) => Err(describe(e, &origin)),
            }
        })
        .await?;
    let mut warnings = Vec::new();
    if let Some(cd) = &cfg.change_detection
        && high_water.is_none()
        && count > 0
    {
        warnings.push(format!(
            "change_detection: no user entry carries a usable {} (or the bind account cannot read it); every cycle reads the whole scope",
            cd.attribute()
        ));
    }
    Ok(LdapRead { scope: LdapScope::Streamed, high_water, warnings })
}

/// Scope over users and groups read from the server; messages name the server, not lines.
fn snapshot(rules: &Rules, mut users: Vec<Entry>, groups: &[Entry], origin: &str) -> Result<Snapshot, String> {
    let mut seen: HashSet<String> = users.iter().map(|e| e.dn.to_ascii_lowercase()).collect();
    users.extend(groups.iter().filter(|g| seen.insert(g.dn.to_ascii_lowercase())).cloned());
    rules.snapshot(users, origin).map_err(|e| describe(e, origin))
}

fn describe(e: SourceError, origin: &str) -> String {
    match e {
        SourceError::Entry { dn, message, .. } => format!("{origin}: entry {dn} {message}"),
        SourceError::DuplicateGuid(d) => format!(
            "{origin}: entries {} and {} have the same {} {}; the entry GUID must be unique",
            d.first_dn, d.second_dn, d.attribute, d.guid
        ),
        SourceError::GroupNotFound { field, dn, message } if message.starts_with("no entry") => format!(
            "{field} {dn}: no group with this DN under the base DN in {origin} (or the bind account cannot see it); check the DN"
        ),
        other => other.to_string(),
    }
}
