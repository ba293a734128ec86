//! The fast scorer (issue 13, ADR 011): the exact score needs 41 forward passes of the score
//! network per distinct row; the fast one replaces the density head's NLL of those passes by a
//! `Student` fitted to it after training, and keeps the frequency terms, which cost a few table
//! lookups. One row then costs one small forward pass (about 6k multiply-adds) instead of 45
//! MFLOP.
//!
//! The student learns from the head's training rows and from perturbed copies of them (one or
//! two values replaced by a random value of the column), scored by the exact pipeline, so that
//! it has seen what broken rows look like, not only ordinary ones. Its own calibration (the
//! `Evidence` of the fast sum on the head's rows) makes its scores the same unit as the exact
//! ones.

mod student;

pub use student::{Student, HIDDEN};

use crate::encoding::{CodedTable, NUMERIC_MISSING};
use crate::error::{Error, Result};
use crate::head::DensityHead;
use crate::model::Evidence;
use crate::score::FeatureMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Perturbed copies per head row that the teacher scores: one with one value replaced, one with
/// two.
const PERTURBED_PER_ROW: usize = 2;

/// A fitted fast scorer (see the module note).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FastScorer {
    pub student: Student,
    /// (mean, spread) of the teacher's head NLL: the student predicts `asinh((nll - mean) / spread)`.
    pub head_mean: f64,
    pub head_spread: f64,
    /// Standardisation and calibration of the sum with the student's head term.
    pub evidence: Evidence,
}

/// What the fast scorer is fitted from: the exact pipeline's parts and the head's rows.
pub struct Teacher<'a> {
    pub features: &'a FeatureMap,
    pub head: &'a DensityHead,
    /// The exact score's evidence terms (for the head NLL's mean and spread and the frequency
    /// features' positions).
    pub evidence: &'a Evidence,
    /// The training table and the rows the head was fitted on, with their feature vectors.
    pub table: &'a CodedTable,
    pub rows: &'a [usize],
    pub row_features: &'a [f64],
}

impl FastScorer {
    /// Fits the student to the teacher's head NLL on the head rows and perturbed copies of them.
    /// The student's epochs shrink if fitting them all would run past `deadline` (the fit's
    /// `max_seconds`); otherwise the same seed gives the same student.
    pub fn fit(t: &Teacher, seed: u64, deadline: Instant, pool: &rayon::ThreadPool, interrupt: &mut dyn FnMut() -> bool) -> Result<FastScorer> {
        let fm = t.features;
        let nf = fm.n_features();
        let hd = fm.n_head_features();
        let p = fm.n_num();
        let cards = fm.block_sizes().to_vec();
        let (head_mean, head_spread) = t.evidence.terms[0];
        // perturbed copies: a value of a random column replaced by a random value of that column
        // (numeric: another head row's cell, or missing)
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_FA57);
        let width = t.table.n_cols;
        let mut perturbed: Vec<u32> = Vec::with_capacity(t.rows.len() * PERTURBED_PER_ROW * width);
        for &r in t.rows {
            for changes in 1..=PERTURBED_PER_ROW {
                let mut row = t.table.row(r).to_vec();
                for _ in 0..changes {
                    let j = rng.random_range(0..width);
                    row[j] = if j < p {
                        if rng.random_bool(0.1) {
                            NUMERIC_MISSING
                        } else {
                            t.table.row(t.rows[rng.random_range(0..t.rows.len())])[j]
                        }
                    } else {
                        rng.random_range(0..cards[j - p] as u32)
                    };
                }
                perturbed.extend(row);
            }
        }
        let variant_rows: Vec<&[u32]> = perturbed.chunks_exact(width).collect();
        let mut variant_features = Vec::with_capacity(variant_rows.len() * nf);
        for chunk in variant_rows.chunks(4096) {
            if interrupt() {
                return Err(Error::Interrupted);
            }
            variant_features.extend(fm.features(chunk, Some(pool)));
        }
        // targets: the head NLL of every teacher row, standardised and squashed
        let mut rows: Vec<&[u32]> = t.rows.iter().map(|&r| t.table.row(r)).collect();
        rows.extend(&variant_rows);
        let targets: Vec<f32> = t
            .row_features
            .chunks_exact(nf)
            .chain(variant_features.chunks_exact(nf))
            .map(|f| (((t.head.score(&f[..hd]) - head_mean) / head_spread).asinh()) as f32)
            .collect();
        let n_aux = FastScorer::n_aux(fm);
        let aux: Vec<f32> = rows.iter().flat_map(|r| FastScorer::aux(fm, r)).collect();
        let seconds = deadline.saturating_duration_since(Instant::now()).as_secs_f64();
        let student = Student::fit(p, &cards, &rows, n_aux, &aux, &targets, seed, seconds, interrupt).ok_or(Error::Interrupted)?;
        let mut fast = FastScorer { student, head_mean, head_spread, evidence: t.evidence.clone() };
        // the exact score's standardisation (so each term weighs what it weighs there), calibrated
        // on the fast sums of the head rows (so the unit is the same: the share of training rows)
        let sums: Vec<f64> = t
            .rows
            .iter()
            .zip(t.row_features.chunks_exact(nf))
            .map(|(&r, f)| t.evidence.raw_sum(fast.head_nll(fm, t.table.row(r)), f))
            .collect();
        fast.evidence = t.evidence.calibrated_on(sums);
        Ok(fast)
    }

    /// Forward passes of a score network of `forward_flops` per row that fitting the student
    /// costs per teacher row, for the training's time reserve: `EPOCHS` passes over the row of
    /// about 3 x (inputs x `HIDDEN`) multiply-adds, scalar and on one thread where the network's
    /// GEMMs use every core. `SCALAR_PENALTY` is measured: 160 categorical columns (D = 2,400,
    /// W = 256): 380 us of student fit per teacher row against 26 us per forward pass on 2 threads
    /// (14.6 passes), where the operation count alone says 0.70.
    pub fn cost_in_forwards(n_inputs: usize, forward_flops: f64) -> f64 {
        const SCALAR_PENALTY: f64 = 21.0;
        student::EPOCHS as f64 * 3.0 * (n_inputs * HIDDEN) as f64 / forward_flops.max(1.0) * SCALAR_PENALTY
    }

    /// Student inputs per row: one embedding per column and one auxiliary input per categorical
    /// column when the model counts values.
    pub fn n_inputs(n_num: usize, n_cat: usize, counts_values: bool) -> usize {
        n_num + n_cat + if counts_values { n_cat } else { 0 }
    }

    /// Auxiliary inputs per row: one per categorical column when the model counts values.
    fn n_aux(fm: &FeatureMap) -> usize {
        if fm.pairwise.is_some() || fm.frequency.is_some() {
            fm.block_sizes().len()
        } else {
            0
        }
    }

    /// A row's auxiliary inputs: each categorical column's frequency surprise (its pairwise term,
    /// else its independent-columns NLL), `asinh`-squashed. They carry what the head's network
    /// features mostly measure, which column is out of place, so the student learns the rest.
    fn aux(fm: &FeatureMap, codes: &[u32]) -> Vec<f32> {
        FastScorer::column_terms(fm, codes).into_iter().map(|t| t.asinh() as f32).collect()
    }

    /// Each categorical column's frequency surprise: its pairwise term, else its IndepNLL term.
    fn column_terms(fm: &FeatureMap, codes: &[u32]) -> Vec<f64> {
        let p = fm.n_num();
        match (&fm.pairwise, &fm.frequency) {
            (Some(pair), _) => pair.column_terms(&codes[p..]),
            (None, Some(freq)) => codes[p..].iter().enumerate().map(|(j, &c)| freq.column_nll(j, c)).collect(),
            (None, None) => Vec::new(),
        }
    }

    /// The student's estimate of the head NLL from a row and its auxiliary inputs.
    fn head_nll_with(&self, codes: &[u32], aux: &[f32]) -> f64 {
        (self.student.predict(codes, aux) as f64).sinh() * self.head_spread + self.head_mean
    }

    /// The student's estimate of the head NLL of a coded row.
    pub fn head_nll(&self, fm: &FeatureMap, codes: &[u32]) -> f64 {
        self.head_nll_with(codes, &FastScorer::aux(fm, codes))
    }

    /// Calibrated fast score of a coded row (already checked against the feature map). The
    /// column terms are computed once, for the student's inputs and the pairwise feature (the
    /// same sum, in the same order, as `FeatureMap::frequency_features`).
    pub fn score(&self, fm: &FeatureMap, codes: &[u32]) -> f64 {
        let terms = FastScorer::column_terms(fm, codes);
        let aux: Vec<f32> = terms.iter().map(|t| t.asinh() as f32).collect();
        let f = match &fm.pairwise {
            Some(_) => fm.frequency_features_with_pair_sum(codes, terms.iter().sum()),
            None => fm.frequency_features(codes),
        };
        self.evidence.score(self.head_nll_with(codes, &aux), &f)
    }

    /// Whether the stored parts fit this feature map (a reader's check on foreign bytes).
    pub fn is_valid(&self, fm: &FeatureMap) -> bool {
        self.student.is_valid(fm.n_num(), fm.block_sizes(), FastScorer::n_aux(fm))
            && self.head_mean.is_finite()
            && self.head_spread.is_finite()
            && self.head_spread > 0.0
            && self.evidence.is_valid(fm.n_features())
    }
}
