//! Arbitrary text into the options parser (the `options jsonb` of gnsm_train): JSON or not, any
//! keys, types and magnitudes. Parsing and range validation give an error or options, never a
//! panic; accepted options survive their own JSON rendering.
#![no_main]

use gnsm_core::options::{parse, to_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return };
    if let Ok(opts) = parse(Some(&value), 2) {
        if opts.config.validate().is_ok() {
            let again = parse(Some(&to_json(&opts)), 2).expect("rendered options parse");
            assert_eq!(to_json(&again), to_json(&opts));
        }
    } else {
        let e = parse(Some(&value), 2).unwrap_err();
        assert!(e.message.len() < 400, "error message of {} bytes", e.message.len());
    }
});
