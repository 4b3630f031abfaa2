//! An error and its causes as one line, for messages a person reads.
//!
//! Library errors (libloading's, reqwest's) keep the interesting part in
//! their sources: "error sending request" is caused by "client error
//! (Connect)", caused by "Connection refused". [`chain`] walks the sources
//! and joins the first line of each, leaving out a cause whose text the
//! message already holds (some errors repeat their source in their own
//! text). The loader and the HTTP service use it for their messages.

use std::error::Error;

/// `e` and its causes, `outer: inner: innermost`, each cause's first
/// non-empty line, a cause already quoted left out.
pub fn chain(e: &dyn Error) -> String {
    let mut parts: Vec<String> = vec![first_line(&e.to_string())];
    let mut source = e.source();
    while let Some(s) = source {
        let line = first_line(&s.to_string());
        if !parts.iter().any(|p| p.contains(&line)) {
            parts.push(line);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The first non-empty line of a message, trimmed.
pub fn first_line(s: &str) -> String {
    s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("unknown error").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(&'static str, Option<Box<E>>);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for E {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn Error + 'static))
        }
    }

    #[test]
    fn causes_are_joined_once_each_by_their_first_line() {
        let e = E(
            "error sending request",
            Some(Box::new(E("client error (Connect)", Some(Box::new(E("\n  Connection refused\nmore", None)))))),
        );
        assert_eq!(chain(&e), "error sending request: client error (Connect): Connection refused");
        let repeats = E("cannot open x.so: no such file", Some(Box::new(E("no such file", None))));
        assert_eq!(chain(&repeats), "cannot open x.so: no such file");
    }
}
