//! provisio-mapping: being written.
