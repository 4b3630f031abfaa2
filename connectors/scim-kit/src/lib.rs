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
//!
//! The wire logic (dialects 1.1/2.0, filters and escaping, paging, PUT vs
//! PATCH, ETags, error bodies, discovery) lands here with the operations.

pub mod catalogue;
pub mod config;
pub mod form;
