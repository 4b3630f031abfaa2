//! # provisio-scim-kit
//!
//! The SCIM client logic written once and shared by the SCIM-based
//! connectors (generic SCIM, Contentful, Code42, Aquera) and by third
//! parties. It holds what those connectors have in common: the settings
//! form fragments and attribute catalogue of PingFederate's SCIM Provisioner
//! (`catalogue`), and, as the engine issue lands, the wire logic (dialects
//! 1.1/2.0, filters and escaping, paging, PUT vs PATCH, ETags, error bodies,
//! discovery).

pub mod catalogue;
