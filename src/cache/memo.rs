//! The per-model score memo: a bounded map from a coded row to its score, so a repeated row costs
//! one network pass per backend instead of one per occurrence. A table model's memo starts with
//! the scores stored with the model (`WarmScores`), so a new backend skips the common rows.

use crate::gucs;
use std::cell::RefCell;
use std::collections::HashMap;

/// Coded rows to scores, hashed with foldhash (SipHash cost more than the memo's look-up itself).
type Scores = HashMap<Vec<u32>, f64, foldhash::fast::RandomState>;

/// Scores of coded rows already seen by this backend, at most `gnsm.score_cache_rows` of them.
#[derive(Default)]
pub struct ScoreMemo {
    scores: RefCell<Scores>,
}

impl ScoreMemo {
    /// The memoised score of `codes`, or `compute(codes)` (then remembered while there is room).
    pub fn get_or_compute(&self, codes: &[u32], compute: impl FnOnce(&[u32]) -> f64) -> f64 {
        let cap = gucs::score_cache_rows();
        if cap == 0 {
            // disabled: drop what an earlier statement memoised, so the setting holds at once
            self.scores.borrow_mut().clear();
            return compute(codes);
        }
        if let Some(&s) = self.scores.borrow().get(codes) {
            return s;
        }
        let s = compute(codes);
        {
            let mut scores = self.scores.borrow_mut();
            if scores.len() >= cap {
                // a full clear keeps the bound strict and costs one re-fill; rows in a scan arrive
                // in storage order, so there is no useful recency to preserve
                scores.clear();
            }
            scores.insert(codes.to_vec(), s);
        }
        s
    }

    /// A memo that starts with a model's warm scores (format 7: its repeated training rows'
    /// exact scores), as many as `gnsm.score_cache_rows` allows, most frequent first.
    pub fn warm<'a>(rows: impl Iterator<Item = (&'a [u32], f64)>) -> ScoreMemo {
        let cap = gucs::score_cache_rows();
        let scores: Scores = rows.take(cap).map(|(r, s)| (r.to_vec(), s)).collect();
        ScoreMemo { scores: RefCell::new(scores) }
    }

    /// Rows memoised now.
    pub fn len(&self) -> usize {
        self.scores.borrow().len()
    }
}
