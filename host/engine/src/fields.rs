//! The fields a connection's target declares for itself ("Refresh Fields",
//! PingFederate's name): the schema discovered by `refresh-fields`, checked
//! before it replaces the previous one, and read back from the state store
//! for every connection opened and every configuration checked.

use provisio_core::manifest::AttributeSpec;
use provisio_core::ops::DiscoveredSchema;
use provisio_state::StateStore;

use crate::error::EngineError;

/// The fields recorded for a connection by `refresh-fields` (none when the
/// store is absent or holds none).
pub fn discovered_fields(store: Option<&StateStore>, connection: &str) -> Vec<AttributeSpec> {
    store
        .and_then(|s| s.discovered_fields(connection).ok().flatten())
        .and_then(|(json, _)| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// A discovered schema must be usable before it replaces the previous one.
pub(crate) fn validate_discovered(
    schema: &DiscoveredSchema,
    manifest: &provisio_core::Manifest,
) -> Result<(), EngineError> {
    let mut problems = Vec::new();
    if schema.attributes.is_empty() {
        problems.push("it lists no attribute".to_owned());
    }
    let mut seen = std::collections::BTreeSet::new();
    for a in &schema.attributes {
        if a.code.trim().is_empty() {
            problems.push(format!("an attribute with target '{}' has no name", a.target));
        } else if !seen.insert(a.code.as_str()) {
            problems.push(format!("'{}' is listed twice", a.code));
        }
        if a.target.trim().is_empty() {
            problems.push(format!("'{}' has no target path", a.code));
        }
    }
    if !schema.attributes.iter().chain(manifest.attributes.iter()).any(|a| a.required) {
        problems.push("no attribute is required, not even the user name".to_owned());
    }
    if problems.is_empty() { Ok(()) } else { Err(EngineError::UnusableSchema(problems)) }
}
