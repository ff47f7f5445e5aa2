//! Panics a library call expects: Burn panics on some damage it does not check for (a model
//! record whose tensors are integers), and driver probes may panic on a broken install.
//! Those are caught and become errors; while such a call runs, [`panic_expected`] says so on
//! its thread, so that a front end's panic hook can keep the caught panic's message off
//! stderr. The library never replaces the process's panic hook itself: that would silence
//! every other thread's panics while the call ran.

use std::cell::Cell;

thread_local! {
    /// Whether the call running on this thread expects to panic.
    static EXPECTED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `call`, catching a panic as `Err`; while it runs, [`panic_expected`] is true on this
/// thread.
///
/// # Errors
/// The panic's payload, when `call` panicked.
pub fn catch_expected<T>(call: impl FnOnce() -> T) -> std::thread::Result<T> {
    let before = EXPECTED.with(|e| e.replace(true));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call));
    EXPECTED.with(|e| e.set(before));
    caught
}

/// Whether the call running on this thread expects to panic (see [`catch_expected`]): a panic
/// hook that skips the message then keeps a caught, expected panic quiet.
pub fn panic_expected() -> bool {
    EXPECTED.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expected_panic_is_caught_and_said_only_while_the_call_runs() {
        assert!(!panic_expected());
        let caught = catch_expected(|| {
            assert!(panic_expected());
            panic!("damaged")
        });
        assert!(caught.is_err());
        assert!(!panic_expected(), "the flag ends with the call");
        assert_eq!(catch_expected(|| 7).ok(), Some(7));
        // Another thread does not expect this thread's panics.
        let other = std::thread::spawn(panic_expected);
        let _ = catch_expected(|| assert!(!other.join().unwrap()));
    }
}
