//! A foreign library's error inside one of squiggle's.
//!
//! squiggle's errors are closed enums that callers clone and compare (tests, the playground's
//! history); the errors of the file system, serde, Burn's records or a decompressor are
//! neither. [`Foreign`] keeps such an error whole, as the `source()` of the squiggle error
//! that carries it, so that a caller can walk the chain (the CLI prints it as `what: why`),
//! while the squiggle error stays cloneable and comparable (by the foreign error's message).

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// A foreign error, shared (see the module's documentation).
#[derive(Clone)]
pub struct Foreign(Arc<dyn Error + Send + Sync>);

impl Foreign {
    /// Keeps `error`.
    pub fn new(error: impl Error + Send + Sync + 'static) -> Self {
        Foreign(Arc::new(error))
    }

    /// Keeps an error that is already boxed.
    pub fn boxed(error: Box<dyn Error + Send + Sync>) -> Self {
        Foreign(Arc::from(error))
    }
}

impl fmt::Debug for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl Error for Foreign {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

/// Two foreign errors are the same when they say the same: what a test or a comparison of
/// two runs' outcomes can see of them.
impl PartialEq for Foreign {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

/// `error`'s message followed by each of its sources', joined by `: `: the whole of what a
/// squiggle error says, as the CLI prints it.
pub fn full_message(error: &(dyn Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Foreign);

    #[test]
    fn the_foreign_error_is_the_source_and_compares_by_its_message() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let outer = Outer(Foreign::new(io));
        let source = outer.source().expect("a source");
        assert_eq!(source.to_string(), "no such file");
        assert_eq!(full_message(&outer), "outer: no such file");
        let same = Foreign::new(std::io::Error::other("no such file"));
        assert_eq!(outer.0, same);
        assert_ne!(outer.0, Foreign::new(std::io::Error::other("denied")));
    }
}
