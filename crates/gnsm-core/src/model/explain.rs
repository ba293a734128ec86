//! Per-column explanations of a row's score: each column's share of the score norm, and how much
//! lower the score gets when the column's value is replaced by the model's best candidate.

use super::Model;
use crate::encoding::{format_number, NUMERIC_MISSING};
use crate::error::Result;

/// One explained column of a row.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnExplanation {
    pub column: String,
    pub value: String,
    /// How much lower the anomaly score gets when this value is replaced by `most_likely`
    /// (0 when no other value makes the row less anomalous).
    pub contribution: f64,
    /// Share of this column's block in the squared score norm, averaged over the 20 levels.
    pub share: f64,
    /// The value that makes the row least anomalous among the model's best candidates
    /// (the current value when none beats it).
    pub most_likely: String,
}

impl Model {
    /// Explains one coded row: its score and, per column, its contribution and the value the model
    /// would rather see there.
    pub fn explain(&self, codes: &[u32]) -> Result<(f64, Vec<ColumnExplanation>)> {
        let fm = &self.features;
        fm.check_codes(codes)?;
        self.require_network()?;
        let d = fm.encoder.input_dim();
        let pass = fm.feature_pass(&[codes], true);
        // the row's score and its variants' by the model's scorer, so that explain agrees with
        // gnsm_score (the network pass above is still what gives the shares and candidates)
        let score = match &self.fast {
            Some(fast) => fast.score(fm, codes),
            None => self.score_features(&pass.features),
        };
        // candidates per categorical column: every value of a small vocabulary (<= 16, most
        // columns), else the 8 values the network favours (mean softmax over levels) plus the most
        // frequent one; per numeric column: the training quantiles (and NULL where training had
        // NULLs). Each is tried in place of the current value in one batched pass.
        let p = fm.n_num();
        let mut candidates: Vec<(usize, u32, String)> = Vec::new();
        for (j, col) in fm.encoder.numeric.iter().enumerate() {
            let mut cells: Vec<(u32, String)> = col.quantiles.iter().map(|&q| (col.cell_of(q), format_number(q))).collect();
            if col.missing > 0 {
                cells.push((NUMERIC_MISSING, "NULL".to_string()));
            }
            candidates.extend(cells.into_iter().filter(|(c, _)| *c != codes[j]).map(|(c, text)| (j, c, text)));
        }
        let mut off = p;
        for (j, &k) in fm.block_sizes().iter().enumerate().map(|(j, k)| (j + p, k)) {
            let probs = &pass.mean_probs[off..off + k];
            let mut order: Vec<u32> = (0..k as u32).collect();
            order.sort_by(|a, b| probs[*b as usize].total_cmp(&probs[*a as usize]));
            let mut picks: Vec<u32> = order.into_iter().take(if k <= 16 { k } else { 8 }).collect();
            picks.push(0); // vocabularies are sorted by count: code 0 is the most frequent value
            picks.sort_unstable();
            picks.dedup();
            candidates.extend(picks.into_iter().filter(|&c| c != codes[j]).map(|c| (j, c, fm.encoder.display(j, c))));
            off += k;
        }
        debug_assert_eq!(off, d);
        let variants: Vec<Vec<u32>> = candidates
            .iter()
            .map(|(j, c, _)| {
                let mut v = codes.to_vec();
                v[*j] = *c;
                v
            })
            .collect();
        let refs: Vec<&[u32]> = variants.iter().map(Vec::as_slice).collect();
        let variant_scores: Vec<f64> = match &self.fast {
            Some(fast) => refs.iter().map(|v| fast.score(fm, v)).collect(),
            None => {
                let nf = fm.n_features();
                fm.features(&refs, None).chunks_exact(nf).map(|f| self.score_features(f)).collect()
            }
        };
        let mut best: Vec<Option<(f64, &str)>> = vec![None; codes.len()];
        for ((j, _, text), &s) in candidates.iter().zip(&variant_scores) {
            if best[*j].is_none_or(|(b, _)| s < b) {
                best[*j] = Some((s, text));
            }
        }
        let out = fm
            .encoder
            .names()
            .into_iter()
            .enumerate()
            .map(|(j, column)| {
                let value = fm.encoder.display(j, codes[j]);
                let (contribution, most_likely) = match best[j] {
                    Some((s, text)) if s < score => (score - s, text.to_string()),
                    _ => (0.0, value.clone()),
                };
                ColumnExplanation { column, value, contribution, share: pass.shares[j], most_likely }
            })
            .collect();
        Ok((score, out))
    }
}
