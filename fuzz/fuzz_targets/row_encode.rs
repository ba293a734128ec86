//! Arbitrary tables (strings of any length and Unicode, NULL patterns, ragged rows) into the row
//! encoder: building a vocabulary, coding rows, and scoring them with a trained model must give
//! an error or finite scores, never a panic.
#![no_main]

use arbitrary::Arbitrary;
use gnsm_core::encoding::TableBuilder;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    names: Vec<String>,
    max_categories: u8,
    rows: Vec<Vec<Option<String>>>,
    /// rows scored by the tiny 3-column model
    probes: Vec<[Option<String>; 3]>,
}

fuzz_target!(|input: Input| {
    let mut builder = TableBuilder::new(input.names.clone(), input.max_categories as usize);
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
                for (col, &c) in encoder.columns.iter().zip(&codes) {
                    let _ = col.display(c);
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
    if let Some(probe) = input.probes.first() {
        let codes = model.features.encoder.encode_row(probe).unwrap();
        let (score, cols) = model.explain(&codes).expect("explain");
        assert!(score.is_finite() && cols.iter().all(|c| c.contribution.is_finite() && c.contribution >= 0.0));
    }
});
