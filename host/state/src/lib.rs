//! provisio-state: being written.
