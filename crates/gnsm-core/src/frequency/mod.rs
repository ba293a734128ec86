//! Count-based models of the categorical columns, stored in every model next to the network:
//! `IndepNll` (independent columns, a density-head feature and the marginal) and `PairwiseNll`
//! (each value's worst conditional surprise given any other column, the frequency half of the
//! score blend; ADR 010). A code `>= K_j` (including `UNSEEN`) is a value not seen in training.
//! Counts come from the last `cards.len()` cells of each row: the categorical part, after any
//! numeric cells.

mod indep;
mod pairwise;

pub use indep::{count_codes, IndepNll};
pub use pairwise::{PairwiseNll, MAX_PAIR_ENTRIES};
