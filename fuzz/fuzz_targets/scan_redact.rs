//! Fuzz target: scan + redact over arbitrary bytes. The logic (and the invariants it
//! checks) lives in `customs::scan::fuzz::scan_and_redact`; this is only the shim.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = customs::scan::fuzz::scan_and_redact(data) {
        panic!("invariant broken: {broken}");
    }
});
