//! # provisio-scim-kit
//!
//! The SCIM client logic written once and shared by the SCIM-based
//! connectors (generic SCIM, Contentful, Code42, Aquera) and by third
//! parties. A new SCIM-based target should be a thin connector: a manifest
//! assembled from these pieces, plus its quirks.
//!
//! | module | what it holds |
//! |---|---|
//! | [`catalogue`] | the SCIM Provisioner's attribute catalogue (spec b.1.3) with SCIM 2.0 paths |
//! | [`form`] | the settings-form fragments of the SCIM Provisioner (spec b.1.2): labels, kinds, defaults |
//! | [`config`] | reading and checking a connection's SCIM settings when a connector is opened |
//! | [`dialect`] | SCIM 1.1 vs 2.0: URNs, media types, discovery endpoint names |
//! | [`auth`] | the `Authorization` header: Basic, static bearer, OAuth 2 client credentials (cached, refreshed once on 401) |
//! | [`filter`] | filter values and `%s` templates with escaping, URL encoding |
//! | [`error`] | SCIM 2.0 / 1.1 error bodies and `Retry-After` into `ConnectorError` |
//! | [`paging`] | lenient list responses, `startIndex`/`count` paging |
//! | [`discovery`] | the ServiceProviderConfig (patch, etag, filter, bulk), unknown when missing |
//! | [`path`] | catalogue target paths (`name.givenName`, `emails[type eq "work"].value`, `roles[].value`, extension URNs) and their JSON edits |
//! | [`payload`] | User resources from `UserRecord`s (POST body, PUT overlay) and back |
//! | [`group`] | Group resources and membership PATCH bodies |
//! | [`client`] | [`ScimClient`]: requests over the host's HTTP with headers, auth, ETags, redirects, errors |
//! | [`target`] | [`ScimTarget`]: the user and group operations, with [`TargetOptions`] for quirks |
//!
//! ## A thin SCIM connector
//!
//! ```ignore
//! fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
//!     let settings = ScimSettings::from_config(&config)?;
//!     let mut options = TargetOptions::from_settings(&settings);
//!     options.send_active = false; // the target's quirks
//!     let target = ScimTarget::from_config(&config, host, settings, Self::manifest().attributes, options)?;
//!     Ok(MyConnector { target })
//! }
//! async fn find_user(&self, unique_id: &str) -> Result<Option<TargetUser>, ConnectorError> {
//!     self.target.find_user(unique_id).await
//! }
//! ```

#![forbid(unsafe_code)]

pub mod auth;
pub mod catalogue;
pub mod client;
pub mod config;
pub mod delegate;
pub mod dialect;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod form;
pub mod group;
pub mod paging;
pub mod path;
pub mod payload;
pub mod target;

pub use client::{ClientOptions, EtagPolicy, ScimClient};
pub use config::{ScimSettings, ScimVersion};
pub use target::{GroupLookup, GroupUpdate, ScimTarget, TargetOptions};

#[doc(hidden)]
pub use provisio_core as __core;
