//! Arbitrary tables (strings of any length and Unicode, NULL patterns, ragged rows, any text in
//! numeric columns) into the row encoder: building a vocabulary and numeric statistics, coding
//! rows, and scoring them with trained models (categorical, and numeric + categorical) must give
//! an error or finite scores, never a panic.
#![no_main]

use arbitrary::Arbitrary;
use gnsm_core::encoding::TableBuilder;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    names: Vec<String>,
    /// the first `n_numeric % (names + 1)` columns are numeric
    n_numeric: u8,
    max_categories: u8,
    rows: Vec<Vec<Option<String>>>,
    /// rows scored by the tiny 3-column model
    probes: Vec<[Option<String>; 3]>,
    /// rows scored by the tiny numeric + categorical model (any text in the numeric column)
    mixed_probes: Vec<[Option<String>; 3]>,
}

fuzz_target!(|input: Input| {
    let n_numeric = input.n_numeric as usize % (input.names.len() + 1);
    let mut builder = TableBuilder::with_numeric(input.names.clone(), n_numeric, input.max_categories as usize);
    let mut pushed = true;
    for row in &input.rows {
        let r: Vec<Option<&str>> = row.iter().map(|v| v.as_deref()).collect();
        if builder.push_row(&r).is_err() {
            pushed = false;
            break;
        }
    }
    if pushed {
        if let Ok((encoder, table)) = builder.finish() {
            assert_eq!(table.n_rows, input.rows.len());
            // every training row codes back to its own values
            for (i, row) in input.rows.iter().enumerate() {
                let codes = encoder.encode_row(row).expect("a training row encodes");
                assert_eq!(codes, table.row(i));
                for (j, &c) in codes.iter().enumerate() {
                    let _ = encoder.display(j, c);
                }
            }
        }
    }
    let model = gnsm_fuzz::tiny_model();
    for probe in &input.probes {
        let codes = model.features.encoder.encode_row(probe).expect("3 values for 3 columns");
        let score = model.score_codes(&codes).expect("coded rows score");
        assert!(score.is_finite(), "score {score} for {probe:?}");
    }
    let mixed = gnsm_fuzz::tiny_mixed_model();
    for probe in &input.mixed_probes {
        match mixed.features.encoder.encode_row(probe) {
            Ok(codes) => {
                let score = mixed.score_codes(&codes).expect("coded rows score");
                assert!(score.is_finite(), "score {score} for {probe:?}");
                let (s, cols) = mixed.explain(&codes).expect("explain");
                assert!(s.is_finite() && cols.iter().all(|c| c.contribution.is_finite() && c.contribution >= 0.0));
            }
            Err(gnsm_core::Error::BadNumber { .. }) => {}
            Err(e) => panic!("unexpected error {e} for {probe:?}"),
        }
    }
    if let Some(probe) = input.probes.first() {
        let codes = model.features.encoder.encode_row(probe).unwrap();
        let (score, cols) = model.explain(&codes).expect("explain");
        assert!(score.is_finite() && cols.iter().all(|c| c.contribution.is_finite() && c.contribution >= 0.0));
    }
});
