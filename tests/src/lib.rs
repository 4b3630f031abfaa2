//! End-to-end tests for provisio; see tests/*.rs.
