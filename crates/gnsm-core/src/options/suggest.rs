//! "Did you mean": the valid option key an unknown key most likely meant.

use super::VALID_KEYS;

/// Names other libraries use for gnsm's options (scikit-learn, PyTorch, PyOD), so a typo-free
/// but foreign key still gets a useful "did you mean".
const FOREIGN_NAMES: &[(&str, &str)] = &[
    ("learning_rate", "lr"),
    ("random_state", "seed"),
    ("random_seed", "seed"),
    ("n_jobs", "threads"),
    ("workers", "threads"),
    ("n_components", "gmm_components"),
    ("epochs", "steps"),
    ("iterations", "steps"),
    ("max_iter", "steps"),
    ("hidden_size", "width"),
    ("hidden", "width"),
    ("layers", "depth"),
    ("n_layers", "depth"),
    ("timeout", "max_seconds"),
    ("batch", "batch_size"),
];

/// Edit distance between two keys (Levenshtein, over characters).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The valid key an unknown key most likely meant: a known foreign name, or the nearest key
/// within a third of its length in edits (at least 2), so unrelated keys get no suggestion.
pub fn closest_key(unknown: &str) -> Option<&'static str> {
    let lower = unknown.to_ascii_lowercase();
    if let Some((_, key)) = FOREIGN_NAMES.iter().find(|(foreign, _)| *foreign == lower) {
        return Some(key);
    }
    let (key, distance) = VALID_KEYS.iter().map(|k| (*k, edit_distance(&lower, k))).min_by_key(|&(_, d)| d)?;
    (distance <= (lower.chars().count() / 3).max(2)).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::parse;

    fn p(json: &str) -> Result<crate::options::TrainOptions, crate::options::OptionError> {
        parse(Some(&serde_json::from_str(json).unwrap()), 2)
    }

    #[test]
    fn test_unknown_keys_get_the_closest_valid_key() {
        let hint = |json: &str| p(json).unwrap_err().hint;
        assert_eq!(hint(r#"{"stepz": 1}"#).as_deref(), Some("did you mean \"steps\"?"));
        assert_eq!(hint(r#"{"Width": 64}"#).as_deref(), Some("did you mean \"width\"?"));
        assert_eq!(hint(r#"{"learning_rate": 0.1}"#).as_deref(), Some("did you mean \"lr\"?"));
        assert_eq!(hint(r#"{"keep_version": 2}"#).as_deref(), Some("did you mean \"keep_versions\"?"));
        assert_eq!(hint(r#"{"colour": "red"}"#), None, "an unrelated key gets no suggestion");
        assert!(VALID_KEYS.iter().all(|k| closest_key(k) == Some(*k)));
        assert!(FOREIGN_NAMES.iter().all(|(_, k)| VALID_KEYS.contains(k)));
    }
}
