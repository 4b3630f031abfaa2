//! From a channel's source configuration to a snapshot of its scope.
//!
//! The file source is read whole and parsed before anything else happens;
//! a file that does not parse yields an error naming the file, line and
//! problem, and the cycle stops with nothing provisioned.

use provisio_source::Snapshot;

use crate::config::SourceConfig;

/// Read a channel's whole scope.
pub fn read_source(source: &SourceConfig) -> Result<Snapshot, String> {
    match source {
        SourceConfig::File(f) => provisio_source::read_file(f).map_err(|e| e.to_string()),
    }
}
