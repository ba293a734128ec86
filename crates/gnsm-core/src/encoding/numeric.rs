//! One numeric column: its training statistics (z-scoring, NULL rate, explanation quantiles),
//! its cells (the bits of the f32 z-score), its independent negative log-likelihood, and how
//! numbers are parsed from and printed as text.

use crate::error::{Error, Result};
use crate::stats::nearest_rank;
use serde::{Deserialize, Serialize};

/// Cell of a numeric column whose value is NULL or NaN: the canonical quiet-NaN bits.
pub const NUMERIC_MISSING: u32 = 0x7FC0_0000;

/// Largest |z| the network sees: training z-scores beyond it are rare (Chebyshev: < 0.25% of any
/// column), and clamping keeps an absurd value (1e300) from saturating every activation.
pub const Z_CLAMP: f32 = 20.0;

/// Largest |z| the frequency model charges for: beyond a million standard deviations every value
/// scores alike (keeps 0.5 z^2 finite for infinite inputs).
pub const Z_CAP: f64 = 1e6;

/// Training quantiles kept per numeric column: the values explanations try in place of a
/// row's value.
pub const EXPLAIN_QUANTILES: [f64; 9] = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99];

/// Training statistics of one numeric column: its z-scoring, NULL rate and a few quantiles.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NumericColumn {
    /// Column name as the user wrote it.
    pub name: String,
    /// Mean of the finite training values (0 when there are none).
    pub mean: f64,
    /// Standard deviation of the finite training values, floored (see `NumericColumn::fit`).
    pub std: f64,
    /// Training rows with a value (finite or infinite).
    pub present: u64,
    /// Training rows with NULL or NaN.
    pub missing: u64,
    /// Nearest-rank training values at `EXPLAIN_QUANTILES`, deduplicated (empty without values).
    pub quantiles: Vec<f64>,
}

/// Parses a numeric column's text (as Postgres prints float4/float8/numeric/integers, or any
/// Rust float syntax, surrounding spaces allowed); NaN comes back as NaN.
pub fn parse_number(column: &str, text: &str) -> Result<f64> {
    text.trim().parse::<f64>().map_err(|_| {
        let shown: String = text.chars().take(40).collect();
        Error::BadNumber { column: column.to_string(), value: shown }
    })
}

impl NumericColumn {
    /// Statistics of raw values (NaN = missing). The spread is floored so that a constant column
    /// still has a scale: 0.1% of the value's magnitude (at least 0.001), so 5.0 against a
    /// constant 5.0 is z = 0 and 6.0 is z = 200.
    pub fn fit(name: &str, values: impl Iterator<Item = f64>) -> NumericColumn {
        let (mut present, mut missing) = (0u64, 0u64);
        let mut finite: Vec<f64> = Vec::new();
        for v in values {
            if v.is_nan() {
                missing += 1;
            } else {
                present += 1;
                if v.is_finite() {
                    finite.push(v);
                }
            }
        }
        // moments of x / max|x|, scaled back: sums of values near 1e308 would overflow
        let scale = finite.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(f64::MIN_POSITIVE);
        let n = finite.len().max(1) as f64;
        let mean_s = finite.iter().map(|x| x / scale).sum::<f64>() / n;
        let var_s = finite.iter().map(|x| (x / scale - mean_s) * (x / scale - mean_s)).sum::<f64>() / n;
        let mean = mean_s * scale;
        let spread = (var_s.sqrt() * scale).min(f64::MAX);
        let floor = mean.abs().max(1.0) * 1e-3;
        let std = if spread > floor { spread } else { floor };
        finite.sort_by(f64::total_cmp);
        let mut quantiles: Vec<f64> = if finite.is_empty() {
            Vec::new()
        } else {
            EXPLAIN_QUANTILES.iter().map(|&q| nearest_rank(&finite, q)).collect()
        };
        quantiles.dedup();
        NumericColumn { name: name.to_string(), mean, std, present, missing, quantiles }
    }

    /// The cell of a raw value (NaN = missing).
    pub fn cell_of(&self, value: f64) -> u32 {
        if value.is_nan() {
            return NUMERIC_MISSING;
        }
        // an f64 beyond the f32 range becomes an infinite z, which is what it is for the model
        let z = ((value - self.mean) / self.std) as f32;
        z.to_bits()
    }

    /// The cell of a value as text (None = NULL).
    pub fn cell(&self, value: Option<&str>) -> Result<u32> {
        match value {
            None => Ok(NUMERIC_MISSING),
            Some(t) => Ok(self.cell_of(parse_number(&self.name, t)?)),
        }
    }

    /// The z-score in a cell, None when missing.
    pub fn z(cell: u32) -> Option<f32> {
        let z = f32::from_bits(cell);
        (!z.is_nan()).then_some(z)
    }

    /// What the network sees for a cell: the clamped z-score, 0 (the mean) when missing.
    pub fn net_input(cell: u32) -> f32 {
        NumericColumn::z(cell).map_or(0.0, |z| z.clamp(-Z_CLAMP, Z_CLAMP))
    }

    /// Negative log-likelihood of a cell under the column's independent model: a smoothed NULL
    /// rate `(missing + 1) / (n + 2)`, and for a value a standard normal on its z-score.
    pub fn nll(&self, cell: u32) -> f64 {
        let n = (self.present + self.missing) as f64;
        let p_missing = (self.missing as f64 + 1.0) / (n + 2.0);
        match NumericColumn::z(cell) {
            None => -p_missing.ln(),
            Some(z) => {
                let z = (z as f64).abs().min(Z_CAP);
                -(1.0 - p_missing).ln() + 0.5 * z * z + 0.5 * (2.0 * std::f64::consts::PI).ln()
            }
        }
    }

    /// The raw value a cell stands for (approximate: z-scores are kept in f32).
    pub fn value_of(&self, cell: u32) -> Option<f64> {
        NumericColumn::z(cell).map(|z| self.mean + z as f64 * self.std)
    }
}

/// `v` rounded to the shortest decimal that identifies its f32 (values outside the f32 range
/// are kept).
pub(super) fn f32_digits(v: f64) -> f64 {
    let f = v as f32;
    if f.is_finite() {
        format!("{f}").parse().unwrap_or(v)
    } else {
        v
    }
}

/// A number as explanations show it: shortest round-trip digits, exponent form when very large
/// or very small (Rust's plain form would print 1e300 as 301 digits).
pub fn format_number(v: f64) -> String {
    if v == 0.0 || (1e-4..1e15).contains(&v.abs()) || !v.is_finite() {
        match v {
            f64::INFINITY => "Infinity".into(),
            f64::NEG_INFINITY => "-Infinity".into(),
            _ => format!("{v}"),
        }
    } else {
        format!("{v:e}")
    }
}
