//! From a channel's source configuration to a snapshot of its scope.
//!
//! The file source is read whole and parsed before anything else happens;
//! a file that does not parse yields an error naming the file, line and
//! problem, and the cycle stops with nothing provisioned.

use provisio_source::{AccountStatus, FileFormat, FileSourceConfig, Snapshot, Status};

use crate::config::{AccountStatusConfig, FileSource, SourceConfig};

fn status(word: &str) -> Status {
    if word.eq_ignore_ascii_case("disabled") { Status::Disabled } else { Status::Enabled }
}

/// The source crate's settings for a configured file source.
pub fn file_source_config(f: &FileSource) -> Result<FileSourceConfig, String> {
    let format = match f.format.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => None,
        Some("ldif") => Some(FileFormat::Ldif),
        Some("csv") => Some(FileFormat::Csv),
        Some("json") => Some(FileFormat::Json),
        Some(other) => return Err(format!("format '{other}' is not one of ldif, csv, json")),
    };
    let account_status = match &f.account_status {
        None => AccountStatus::AlwaysEnabled,
        Some(AccountStatusConfig::Flag { attribute, value, when_equal, default }) => AccountStatus::Flag {
            attribute: attribute.clone(),
            value: value.clone(),
            when_equal: status(when_equal),
            default: status(default),
        },
        Some(AccountStatusConfig::ActiveDirectory { attribute, default }) => {
            AccountStatus::ActiveDirectory { attribute: attribute.clone(), default: status(default) }
        }
    };
    Ok(FileSourceConfig {
        path: f.path.clone(),
        format,
        base_dn: f.base_dn.clone(),
        guid_attribute: f.guid_attribute.clone(),
        guid_binary: f.guid_binary,
        user_object_class: f.user_object_class.clone(),
        group_object_class: f.group_object_class.clone(),
        user_filter: f.user_filter.clone(),
        user_group_dn: f.user_group_dn.clone(),
        nested: f.nested,
        group_filter: f.group_filter.clone(),
        group_dn: f.group_dn.clone(),
        member_attribute: f.member_attribute.clone(),
        member_of_attribute: f.member_of_attribute.clone(),
        account_status,
    })
}

/// Read a channel's whole scope.
pub fn read_source(source: &SourceConfig) -> Result<Snapshot, String> {
    match source {
        SourceConfig::File(f) => {
            let config = file_source_config(f)?;
            provisio_source::read_file(&config).map_err(|e| e.to_string())
        }
    }
}
