//! Arbitrary bytes into the model decoder: an error or a model, never a panic, hang or huge
//! allocation; a decoded model scores without panicking and re-encodes to bytes that decode.
#![no_main]

use gnsm_core::model::Model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = Model::from_bytes(data) {
        gnsm_fuzz::exercise(&model, false);
        let again = Model::from_bytes(&model.to_bytes()).expect("a decoded model re-encodes");
        assert_eq!(again.features.encoder.n_cols(), model.features.encoder.n_cols());
    }
});
