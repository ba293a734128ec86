//! The vocabulary of one categorical column: values ordered by training count, their codes, and
//! the lookup map rebuilt after deserialisation.

use super::UNSEEN;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The vocabulary of one categorical column, with training counts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnVocab {
    /// Column name as the user wrote it.
    pub name: String,
    /// Distinct values in first-seen order sorted by descending count; `None` is SQL NULL.
    pub values: Vec<Option<String>>,
    /// Training-row count of each value, aligned with `values`.
    pub counts: Vec<u64>,
    /// Non-NULL value -> code; probed with `&str`, so scoring allocates nothing.
    #[serde(skip)]
    index: HashMap<String, u32, foldhash::fast::RandomState>,
    #[serde(skip)]
    null_code: Option<u32>,
}

impl ColumnVocab {
    /// Builds a vocabulary from (value, count) pairs, most frequent first, ties by value.
    pub(super) fn from_counts(name: &str, mut pairs: Vec<(Option<String>, u64)>) -> Self {
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let (values, counts): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
        let mut vocab = ColumnVocab { name: name.to_string(), values, counts, index: HashMap::default(), null_code: None };
        vocab.rebuild_index();
        vocab
    }

    /// Rebuilds the lookup map (after deserialisation).
    pub fn rebuild_index(&mut self) {
        self.index = self.values.iter().enumerate().filter_map(|(i, v)| v.clone().map(|s| (s, i as u32))).collect();
        self.null_code = self.values.iter().position(Option::is_none).map(|i| i as u32);
    }

    /// Number of categories K of this column.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the column has no category (never for a fitted encoder).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Code of a value, or `UNSEEN`.
    pub fn code(&self, value: Option<&str>) -> u32 {
        match value {
            Some(v) => *self.index.get(v).unwrap_or(&UNSEEN),
            None => self.null_code.unwrap_or(UNSEEN),
        }
    }

    /// Human-readable value for a code (`NULL` for SQL NULL, `<unseen>` for UNSEEN).
    pub fn display(&self, code: u32) -> String {
        match self.values.get(code as usize) {
            Some(Some(v)) => v.clone(),
            Some(None) => "NULL".to_string(),
            None => "<unseen>".to_string(),
        }
    }
}
