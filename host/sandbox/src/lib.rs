//! provisio-sandbox: being written.
