//! provisio-source: being written.
