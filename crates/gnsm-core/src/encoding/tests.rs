//! Tests of the encoding: vocabularies, unseen values, the category cap, the builder, numeric
//! columns and number printing.

use super::*;
use crate::error::{Error, Result};

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

#[test]
fn test_vocab_orders_by_count_and_keeps_null() {
    let rows = vec![vec![Some("a")], vec![Some("b")], vec![Some("b")], vec![None]];
    let enc = Encoder::fit(&names(&["x"]), &rows, 10).unwrap();
    assert_eq!(enc.columns[0].values[0], Some("b".to_string()));
    assert_eq!(enc.columns[0].len(), 3);
    assert_ne!(enc.columns[0].code(None), UNSEEN);
    assert_eq!(enc.columns[0].code(Some("zzz")), UNSEEN);
}

#[test]
fn test_unseen_block_is_all_inactive() {
    let rows = vec![vec![Some("a"), Some("x")], vec![Some("b"), Some("y")]];
    let enc = Encoder::fit(&names(&["p", "q"]), &rows, 10).unwrap();
    let codes = enc.encode_row(&[Some("a"), Some("new")]).unwrap();
    let mut l = vec![0.0; enc.input_dim()];
    enc.input_into(&codes, 1.0, &mut l);
    assert_eq!(l.iter().filter(|&&v| v == 0.0).count(), 1);
    assert!(l[2..].iter().all(|&v| v == LOG_EPS));
}

#[test]
fn test_category_cap_names_the_column() {
    let rows: Vec<Vec<Option<String>>> = (0..20).map(|i| vec![Some(i.to_string())]).collect();
    let err = Encoder::fit(&names(&["id"]), &rows, 10).unwrap_err();
    assert_eq!(err, Error::TooManyCategories { column: "id".into(), distinct: 11, cap: 10 });
}

#[test]
fn test_builder_matches_fit_and_drops_evicted_values() {
    let rows = vec![vec![Some("a"), None], vec![Some("b"), Some("y")], vec![Some("b"), Some("y")]];
    let enc = Encoder::fit(&names(&["p", "q"]), &rows, 10).unwrap();
    let mut b = TableBuilder::new(names(&["p", "q"]), 10);
    b.push_row(&[Some("zz"), Some("gone")]).unwrap();
    for r in &rows[1..] {
        b.push_row(r).unwrap();
    }
    b.replace_row(0, &rows[0]).unwrap();
    let (enc2, table) = b.finish().unwrap();
    assert_eq!(enc2, enc);
    assert_eq!(table, enc.encode_rows(&rows).unwrap());
}

#[test]
fn test_builder_stops_at_the_category_cap() {
    let mut b = TableBuilder::new(names(&["id"]), 3);
    for i in 0..3 {
        b.push_row(&[Some(&i.to_string())]).unwrap();
    }
    assert!(matches!(b.push_row(&[Some("x")]), Err(Error::TooManyCategories { distinct: 4, cap: 3, .. })));
}

#[test]
fn test_identical_rows_are_refused() {
    let rows = vec![vec![Some("a")], vec![Some("a")]];
    assert!(matches!(Encoder::fit(&names(&["x"]), &rows, 10), Err(Error::InsufficientData { .. })));
}

/// A builder with numeric column "x" then categorical column "c".
fn mixed(rows: &[(Option<&str>, &str)]) -> Result<(Encoder, CodedTable)> {
    let mut b = TableBuilder::with_numeric(names(&["x", "c"]), 1, 10);
    for (x, c) in rows {
        b.push_row(&[*x, Some(c)])?;
    }
    b.finish()
}

#[test]
fn test_numeric_columns_are_z_scored_and_come_first() {
    let (enc, t) = mixed(&[(Some("1"), "a"), (Some("3"), "b"), (None, "a"), (Some("NaN"), "b")]).unwrap();
    assert_eq!(enc.names(), vec!["x", "c"]);
    assert_eq!((enc.n_num(), enc.n_cols(), enc.input_dim()), (1, 2, 3));
    let x = &enc.numeric[0];
    assert_eq!((x.mean, x.std, x.present, x.missing), (2.0, 1.0, 2, 2));
    assert_eq!(NumericColumn::z(t.row(0)[0]), Some(-1.0));
    assert_eq!(NumericColumn::z(t.row(1)[0]), Some(1.0));
    assert_eq!((t.row(2)[0], t.row(3)[0]), (NUMERIC_MISSING, NUMERIC_MISSING));
    let cells = enc.encode_row(&[Some(" 12.5 "), Some("b")]).unwrap();
    assert_eq!(NumericColumn::z(cells[0]), Some(10.5));
    let mut input = vec![0.0; 3];
    enc.input_into(&cells, 1.0, &mut input);
    assert_eq!(input[0], 10.5);
    // clamped for the network, charged in full by the frequency model
    let far = enc.encode_row(&[Some("1e300"), Some("a")]).unwrap();
    enc.input_into(&far, 1.0, &mut input);
    assert_eq!(input[0], Z_CLAMP);
    assert!(enc.numeric_nll(&far).is_finite() && enc.numeric_nll(&far) > enc.numeric_nll(&cells));
    assert_eq!(enc.display(0, t.row(1)[0]), "3");
    assert_eq!(enc.display(0, NUMERIC_MISSING), "NULL");
    assert!(matches!(enc.encode_row(&[Some("abc"), Some("a")]), Err(Error::BadNumber { .. })));
}

#[test]
fn test_numeric_nll_policy() {
    let col = NumericColumn::fit("x", [1.0, 2.0, 3.0, f64::NAN].into_iter());
    let never_null = NumericColumn::fit("y", [1.0, 2.0, 3.0, 4.0].into_iter());
    // a NULL costs less where NULLs were seen in training
    assert!(col.nll(NUMERIC_MISSING) < never_null.nll(NUMERIC_MISSING));
    // further from the mean costs more; infinity is finite and the most expensive
    let (near, far) = (col.nll(col.cell_of(2.1)), col.nll(col.cell_of(9.0)));
    assert!(near < far && far < col.nll(col.cell_of(f64::INFINITY)));
    assert!(col.nll(col.cell_of(f64::NEG_INFINITY)).is_finite());
    assert_eq!(col.quantiles, vec![1.0, 2.0, 3.0]);
}

#[test]
fn test_numeric_statistics_survive_huge_values() {
    let col = NumericColumn::fit("x", [1e308, -1e308, 1.7e308].into_iter());
    assert!(col.mean.is_finite() && col.std.is_finite() && col.std > 0.0, "{col:?}");
    for v in [1e308, -1e308, 0.0, f64::INFINITY] {
        let z = NumericColumn::z(col.cell_of(v)).unwrap();
        assert!(!z.is_nan() && col.nll(col.cell_of(v)).is_finite());
    }
}

#[test]
fn test_constant_numeric_column_has_a_floored_scale() {
    let col = NumericColumn::fit("x", [5.0; 10].into_iter());
    assert_eq!(col.std, 5.0 * 1e-3);
    assert_eq!(NumericColumn::z(col.cell_of(6.0)), Some(200.0));
    // rows identical in every column are refused, a varying numeric column makes them learnable
    assert!(matches!(mixed(&[(Some("1"), "a"), (Some("1"), "a")]), Err(Error::InsufficientData { .. })));
    assert!(mixed(&[(Some("1"), "a"), (Some("2"), "a")]).is_ok());
    assert!(mixed(&[(Some("1"), "a"), (None, "a")]).is_ok());
}

#[test]
fn test_numeric_only_builder_and_reservoir_replace() {
    let mut b = TableBuilder::with_numeric(names(&["x"]), 1, 10);
    for v in ["1", "2", "100"] {
        b.push_row(&[Some(v)]).unwrap();
    }
    b.replace_row(2, &[Some("3")]).unwrap();
    let (enc, t) = b.finish().unwrap();
    assert_eq!((t.n_rows, t.n_cols, enc.input_dim()), (3, 1, 1));
    assert_eq!(enc.numeric[0].mean, 2.0);
}

#[test]
fn test_format_number() {
    assert_eq!(format_number(37.0), "37");
    assert_eq!(format_number(0.1), "0.1");
    assert_eq!(format_number(1e300), "1e300");
    assert_eq!(format_number(-2.5e-7), "-2.5e-7");
    assert_eq!(format_number(f64::NEG_INFINITY), "-Infinity");
}
