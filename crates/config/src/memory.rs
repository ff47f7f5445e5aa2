//! Refusing a network or data set too large for the memory this process may take, with one
//! line, before anything that size is allocated (Rust aborts the process when an allocation
//! fails). How much memory there is is the caller's to say ([`Overrides::memory`]): the CLI
//! asks the operating system, a web page has no such limit to read.
//!
//! [`Overrides::memory`]: crate::Overrides::memory

use squiggle_train::Bytes;

use crate::Overrides;

/// Refuses `what`, needing about `bytes`, when that is more than the memory `overrides` say
/// this process may still take.
///
/// # Errors
/// One line: what, how much it needs, how much there is.
pub fn ensure_fits(overrides: &Overrides, what: &str, bytes: f64) -> Result<(), String> {
    if let Some(free) = available(overrides)
        && bytes > free as f64
    {
        return Err(format!(
            "{what} needs about {} of memory; this process can take about {}",
            Bytes(bytes),
            Bytes(free as f64)
        ));
    }
    Ok(())
}

/// The bytes this process may still take, where the caller can tell.
pub fn available(overrides: &Overrides) -> Option<u64> {
    overrides.memory.and_then(|probe| probe())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_does_not_fit_is_refused_in_one_line() {
        let overrides = Overrides {
            memory: Some(|| Some(1 << 30)),
            ..Overrides::default()
        };
        let message = ensure_fits(&overrides, "the network", 1e30).unwrap_err();
        assert_eq!(
            message,
            "the network needs about 1.0e21 GB of memory; this process can take about 1.1 GB"
        );
        ensure_fits(&overrides, "a byte", 1.0).unwrap();
        // A host that cannot tell checks nothing.
        ensure_fits(&Overrides::default(), "the network", 1e30).unwrap();
    }
}
