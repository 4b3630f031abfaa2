//! The user operations of [`ScimTarget`]. Policy (spec b.1.4, c.3;
//! PingFederate's SCIM Provisioner):
//! - **find user**: `GET {users}?filter=…` with the Unique User Identifier's
//!   filter (`userName eq "v"`, `emails eq "v"`) or the Filter Expression
//!   with `%s` replaced by the escaped value. No result → `None`; several →
//!   a `Conflict` error naming the filter and the ids. With the built-in
//!   filters the results are also checked client-side, so a target that
//!   ignores `filter` cannot link the wrong user.
//! - **create user**: POST; the id from the body (`Location` only as a
//!   fallback, then a lookup). A 409 stays a `Conflict` error: the host
//!   looks the user up and links it.
//! - **update / disable / enable**: GET, overlay (or set `active`), PUT —
//!   never PATCH. `If-Match` when ETags are in use; a 412 re-reads and
//!   retries once (under failover the host answers a 412 as a conflict
//!   error instead, so the operation fails and the lease holder's next
//!   cycle takes the user on: docs/failover.md). Disable/enable skip the PUT when `active` already has
//!   the wanted value.
//! - **delete**: DELETE; 404 means already gone.

use provisio_core::ops::{TargetUser, UserPage, UserRecord};
use provisio_core::{ConnectorError, ErrorKind};
use serde_json::Value;

use super::{ScimTarget, conflict};
use crate::config::UniqueUserIdentifier;
use crate::filter;
use crate::paging::resource_id;
use crate::payload::{read_active, set_active, summarize};

impl ScimTarget {
    /// The filter that finds the user whose Unique User Identifier is `value`.
    pub fn user_filter(&self, value: &str) -> String {
        match (&self.settings.filter_expression, self.settings.unique_user_identifier) {
            (Some(template), _) => filter::substitute(template, value),
            (None, UniqueUserIdentifier::UserName) => filter::eq("userName", value),
            (None, UniqueUserIdentifier::WorkEmail) => filter::eq("emails", value),
        }
    }

    /// Whether a resource returned by the built-in filter really matches
    /// (a target that ignores `filter` answers every user).
    fn matches_identifier(&self, resource: &Value, value: &str) -> bool {
        if self.settings.filter_expression.is_some() {
            return true;
        }
        let object = resource.as_object();
        match self.settings.unique_user_identifier {
            UniqueUserIdentifier::UserName => {
                summarize(resource).user_name.is_none_or(|u| u.eq_ignore_ascii_case(value))
            }
            UniqueUserIdentifier::WorkEmail => {
                match object.and_then(|o| crate::path::get_ci(o, "emails")).and_then(Value::as_array) {
                    None => true,
                    Some(emails) => emails
                        .iter()
                        .any(|e| e.get("value").and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case(value))),
                }
            }
        }
    }

    fn target_user(&self, resource: &Value, unique_id: &str) -> Result<TargetUser, ConnectorError> {
        let summary = summarize(resource);
        let id = summary.id.ok_or_else(|| {
            ConnectorError::protocol(format!(
                "the target's user '{unique_id}' has no 'id': it cannot be linked or updated"
            ))
        })?;
        let unique = match (&self.settings.filter_expression, self.settings.unique_user_identifier) {
            (None, UniqueUserIdentifier::UserName) => summary.user_name.unwrap_or_else(|| unique_id.to_owned()),
            _ => unique_id.to_owned(),
        };
        Ok(TargetUser { id, unique_id: Some(unique), active: summary.active, attributes: self.schema.read(resource) })
    }

    /// Find the user whose Unique User Identifier is `unique_id`: an error
    /// (a conflict naming every id) when several accounts match.
    pub async fn find_user(&self, unique_id: &str) -> Result<Option<TargetUser>, ConnectorError> {
        let mut found = self.find_users(unique_id).await?;
        match found.len() {
            0 | 1 => Ok(found.pop()),
            n => {
                let ids: Vec<&str> = found.iter().map(|u| u.id.as_str()).collect();
                Err(conflict(format!(
                    "filter {} matches {n} users at the target ({}): the Unique User Identifier must match one \
                     user only",
                    self.user_filter(unique_id),
                    ids.join(", ")
                )))
            }
        }
    }

    /// Every user whose Unique User Identifier is `unique_id`, in the order
    /// the target answered them (capability `user_find_all`).
    pub async fn find_users(&self, unique_id: &str) -> Result<Vec<TargetUser>, ConnectorError> {
        let filter = self.user_filter(unique_id);
        let page = self.client.query(&self.client.users_url(), Some(&filter), None, None).await?;
        let returned = page.resources.len();
        let found: Vec<&Value> = page.resources.iter().filter(|r| self.matches_identifier(r, unique_id)).collect();
        if found.len() < returned {
            self.client.host().warn(&format!(
                "the target answered {returned} users to filter {filter}, {} of them not matching: it may ignore \
                 filters; only the matching ones are considered",
                returned - found.len()
            ));
        }
        found.into_iter().map(|r| self.target_user(r, unique_id)).collect()
    }

    /// The values [`ScimTarget::find_user`] finds `resource` by: its
    /// `userName`, or every email address, per the Unique User Identifier.
    fn identifier_values(&self, resource: &Value) -> Vec<String> {
        match self.settings.unique_user_identifier {
            UniqueUserIdentifier::UserName => summarize(resource).user_name.into_iter().collect(),
            UniqueUserIdentifier::WorkEmail => resource
                .as_object()
                .and_then(|o| crate::path::get_ci(o, "emails"))
                .and_then(Value::as_array)
                .map(|emails| {
                    emails.iter().filter_map(|e| e.get("value").and_then(Value::as_str)).map(str::to_owned).collect()
                })
                .unwrap_or_default(),
        }
    }

    /// One page of the target's users (`GET {users}?startIndex=&count=`),
    /// each with the values it is found by (see [`UserPage`]). The cursor is
    /// the next page's `startIndex`. With a Filter Expression the values a
    /// user is found by cannot be read off the resource: the listing is
    /// refused as unsupported and the engine looks users up one by one.
    pub async fn list_users(&self, cursor: Option<&str>, count: u32) -> Result<UserPage, ConnectorError> {
        if self.settings.filter_expression.is_some() {
            return Err(ConnectorError::unsupported("list_users")
                .context("users are found by the connection's Filter Expression, which a listing cannot apply"));
        }
        let start = match cursor {
            None => 1,
            Some(c) => c.parse::<u64>().map_err(|_| {
                ConnectorError::new(ErrorKind::Invalid, format!("'{c}' is not a page cursor of this connector"))
                    .retryable(false)
            })?,
        };
        let page = self.client.query(&self.client.users_url(), None, Some(start), Some(count.max(1))).await?;
        let returned = page.resources.len() as u64;
        let mut users = Vec::with_capacity(page.resources.len());
        for resource in &page.resources {
            let Some(id) = resource_id(resource) else { continue };
            let active = read_active(resource);
            for value in self.identifier_values(resource) {
                users.push(TargetUser {
                    id: id.clone(),
                    unique_id: Some(value),
                    active,
                    attributes: Default::default(),
                });
            }
        }
        let last = returned == 0
            || match page.total_results {
                Some(total) => start - 1 + returned >= total,
                None => returned < u64::from(count.max(1)),
            };
        Ok(UserPage { users, total: page.total_results, next: (!last).then(|| (start + returned).to_string()) })
    }

    /// Create the user. A 409 comes back as a `Conflict` error.
    pub async fn create_user(&self, record: &UserRecord) -> Result<TargetUser, ConnectorError> {
        let mut body = self.schema.create(record, self.options.send_active)?;
        let has_user_name = body.get("userName").and_then(Value::as_str).is_some_and(|u| !u.is_empty());
        if !has_user_name {
            match (&self.settings.filter_expression, self.settings.unique_user_identifier) {
                (None, UniqueUserIdentifier::UserName) if !record.unique_id.is_empty() => {
                    body["userName"] = Value::from(record.unique_id.as_str());
                }
                _ => {
                    return Err(ConnectorError::new(
                        ErrorKind::Invalid,
                        format!("user '{}' has no userName: map the userName field", record.unique_id),
                    ));
                }
            }
        }
        let url = self.client.users_url();
        let (response, resource) = self.client.post(&url, &body).await?;
        let created = resource.map(|r| r.body);
        if let Some(id) = Self::created_id(&response, created.as_ref()) {
            let mut user = match &created {
                Some(resource) if resource_id(resource).is_some() => self.target_user(resource, &record.unique_id)?,
                _ => TargetUser { id: id.clone(), ..Default::default() },
            };
            user.id = id;
            if user.unique_id.is_none() {
                user.unique_id = Some(record.unique_id.clone());
            }
            if user.active.is_none() && self.options.send_active {
                user.active = Some(record.active);
            }
            return Ok(user);
        }
        self.client
            .host()
            .warn(&format!("POST {url} answered {} without an id or a Location: looking the user up", response.status));
        self.find_user(&record.unique_id).await?.ok_or_else(|| {
            ConnectorError::protocol(format!(
                "POST {url} answered {} without an id, and the user '{}' cannot be found afterwards",
                response.status, record.unique_id
            ))
        })
    }

    /// Replace the user with the record overlaid on its current state (PUT).
    pub async fn update_user(&self, id: &str, record: &UserRecord) -> Result<(), ConnectorError> {
        let send_active = self.options.send_active;
        self.client
            .read_modify_write("PUT", &self.user_url(id), |current| {
                self.schema.overlay(current, record, send_active).map(Some)
            })
            .await?;
        Ok(())
    }

    /// Set `active` (GET, PUT); nothing is sent when it already has the value.
    pub async fn set_user_active(&self, id: &str, active: bool) -> Result<(), ConnectorError> {
        if !self.options.send_active {
            return Err(ConnectorError::unsupported(if active { "enable_user" } else { "disable_user" }));
        }
        self.client
            .read_modify_write("PUT", &self.user_url(id), |current| {
                if read_active(current) == Some(active) {
                    return Ok(None);
                }
                let mut body = Value::Object(self.schema.strip_server_managed(current)?);
                set_active(&mut body, active);
                Ok(Some(body))
            })
            .await?;
        Ok(())
    }

    pub async fn disable_user(&self, id: &str) -> Result<(), ConnectorError> {
        self.set_user_active(id, false).await
    }

    pub async fn enable_user(&self, id: &str) -> Result<(), ConnectorError> {
        self.set_user_active(id, true).await
    }

    /// DELETE the user; already gone is success.
    pub async fn delete_user(&self, id: &str) -> Result<(), ConnectorError> {
        self.client.delete(&self.user_url(id)).await.map(|_| ())
    }
}
