//! The student of the fast scorer: a network small enough to run once per row in a few
//! microseconds. Each categorical value has an embedding (one more per column for an unseen
//! value), each numeric column a value direction and a missing-value embedding, and each
//! auxiliary input (a column's frequency surprise, `asinh`-squashed) a direction; their sum passes
//! one ReLU layer and a linear output. It is fitted by least squares (Adam, lazy on the
//! embedding rows a batch touches) to the teacher's standardised head NLL, in `asinh` space so
//! that the heavy tail of anomalous rows does not swamp the fit of ordinary ones.

use crate::encoding::{NumericColumn, UNSEEN};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Hidden width. 64 keeps one row's forward pass near 6k multiply-adds (a few microseconds).
pub const HIDDEN: usize = 64;
/// Passes over the teacher rows.
pub(crate) const EPOCHS: usize = 40;
/// Rows per Adam step.
const BATCH: usize = 64;
/// Adam step size at the start; it decays to a tenth by a cosine.
const LR: f32 = 3e-3;
/// Numeric inputs are clamped z-scores, as the score network sees them.
const Z_CLAMP: f32 = 10.0;

/// The fitted student (see the module note).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Student {
    /// Numeric columns (the first cells of a row): two embedding rows each (value, missing).
    pub n_num: usize,
    /// Per categorical column, its first embedding row; it has `cards[j] + 1` rows (last: unseen).
    pub offsets: Vec<u32>,
    pub cards: Vec<u32>,
    /// Embedding rows x HIDDEN.
    pub emb: Vec<f32>,
    /// Auxiliary inputs per row, and their directions (n_aux x HIDDEN).
    pub n_aux: usize,
    pub aux_w: Vec<f32>,
    pub b1: Vec<f32>,
    /// Output weights of the hidden layer.
    pub w2: Vec<f32>,
    pub b2: f32,
}

/// Adam moments of one parameter vector.
struct Moments {
    m: Vec<f32>,
    v: Vec<f32>,
}

impl Moments {
    fn new(n: usize) -> Moments {
        Moments { m: vec![0.0; n], v: vec![0.0; n] }
    }

    /// One Adam update of every parameter (bias-corrected with step `t`).
    fn step(&mut self, p: &mut [f32], g: &[f32], lr: f32, t: i32) {
        self.step_span(p, g, 0..p.len(), lr, t);
    }

    /// One Adam update of `p[span]` from `g[span]`.
    fn step_span(&mut self, p: &mut [f32], g: &[f32], span: std::ops::Range<usize>, lr: f32, t: i32) {
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let c1 = 1.0 - b1.powi(t);
        let c2 = 1.0 - b2.powi(t);
        let (m, v) = (&mut self.m[span.clone()], &mut self.v[span.clone()]);
        for (((p, g), m), v) in p[span.clone()].iter_mut().zip(&g[span]).zip(m).zip(v) {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
        }
    }
}

impl Student {
    /// An untrained student for `n_num` numeric and categorical columns of cardinalities `cards`.
    fn new(n_num: usize, cards: &[usize], n_aux: usize, rng: &mut ChaCha8Rng) -> Student {
        let mut offsets = Vec::with_capacity(cards.len());
        let mut rows = 2 * n_num;
        for &k in cards {
            offsets.push(rows as u32);
            rows += k + 1;
        }
        // the first layer sums one row per column: scale so the sum has about unit variance
        let inputs = (n_num + cards.len() + n_aux).max(1) as f32;
        let a = (3.0 / inputs).sqrt();
        let emb = (0..rows * HIDDEN).map(|_| rng.random_range(-a..a)).collect();
        let aux_w = (0..n_aux * HIDDEN).map(|_| rng.random_range(-a..a)).collect();
        let o = (3.0 / HIDDEN as f32).sqrt();
        let w2 = (0..HIDDEN).map(|_| rng.random_range(-o..o)).collect();
        Student { n_num, offsets, cards: cards.iter().map(|&k| k as u32).collect(), emb, n_aux, aux_w, b1: vec![0.0; HIDDEN], w2, b2: 0.0 }
    }

    /// Embedding row of categorical column `j`'s code (unseen and out-of-range codes share the last).
    fn row_of(&self, j: usize, code: u32) -> usize {
        let k = self.cards[j];
        self.offsets[j] as usize + if code == UNSEEN || code >= k { k as usize } else { code as usize }
    }

    /// The first layer's pre-activation of a row into `a1`, and the embedding rows it used with
    /// their weights into `used` (a row's numeric value weight is its clamped z-score).
    fn layer1(&self, codes: &[u32], aux: &[f32], a1: &mut [f32; HIDDEN], used: &mut Vec<(usize, f32)>) {
        a1.copy_from_slice(&self.b1);
        for (x, w) in aux.iter().zip(self.aux_w.chunks_exact(HIDDEN)) {
            for (a, wh) in a1.iter_mut().zip(w) {
                *a += x * wh;
            }
        }
        used.clear();
        for (i, &cell) in codes[..self.n_num].iter().enumerate() {
            match NumericColumn::z(cell) {
                Some(z) => used.push((2 * i, z.clamp(-Z_CLAMP, Z_CLAMP))),
                None => used.push((2 * i + 1, 1.0)),
            }
        }
        for (j, &code) in codes[self.n_num..].iter().enumerate() {
            used.push((self.row_of(j, code), 1.0));
        }
        for &(r, w) in used.iter() {
            for (a, e) in a1.iter_mut().zip(&self.emb[r * HIDDEN..(r + 1) * HIDDEN]) {
                *a += w * e;
            }
        }
    }

    /// The student's output for a coded row and its auxiliary inputs (the `asinh` of the
    /// standardised head NLL).
    pub fn predict(&self, codes: &[u32], aux: &[f32]) -> f32 {
        let mut a1 = [0.0f32; HIDDEN];
        let mut used = Vec::with_capacity(codes.len());
        self.layer1(codes, aux, &mut a1, &mut used);
        let mut y = self.b2;
        for (a, w) in a1.iter().zip(&self.w2) {
            y += a.max(0.0) * w;
        }
        y
    }

    /// Whether the stored shapes agree with each other and with `n_num` numeric and categorical
    /// columns of cardinalities `cards` (a reader's check on foreign bytes).
    pub fn is_valid(&self, n_num: usize, cards: &[usize], n_aux: usize) -> bool {
        let rows = 2 * n_num + cards.iter().map(|k| k + 1).sum::<usize>();
        let mut expect = 2 * n_num;
        let offsets_ok = self.offsets.len() == cards.len()
            && self.offsets.iter().zip(cards).all(|(&o, &k)| {
                let ok = o as usize == expect;
                expect += k + 1;
                ok
            });
        self.n_num == n_num
            && offsets_ok
            && self.cards.iter().map(|&k| k as usize).eq(cards.iter().copied())
            && self.emb.len() == rows * HIDDEN
            && self.n_aux == n_aux
            && self.aux_w.len() == n_aux * HIDDEN
            && self.aux_w.iter().all(|v| v.is_finite())
            && self.b1.len() == HIDDEN
            && self.w2.len() == HIDDEN
            && self.emb.iter().chain(&self.b1).chain(&self.w2).chain(std::iter::once(&self.b2)).all(|v| v.is_finite())
    }

    /// Fits a student to `targets` (one per row of `rows`, with `n_aux` auxiliary inputs per row
    /// in `aux`), deterministically for a seed as long as the epochs fit in `seconds` (else fewer
    /// epochs, timed on the first). `interrupt` is asked once per epoch.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        n_num: usize,
        cards: &[usize],
        rows: &[&[u32]],
        n_aux: usize,
        aux: &[f32],
        targets: &[f32],
        seed: u64,
        seconds: f64,
        interrupt: &mut dyn FnMut() -> bool,
    ) -> Option<Student> {
        let started = std::time::Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xFA57);
        let mut s = Student::new(n_num, cards, n_aux, &mut rng);
        let n = rows.len().min(targets.len());
        if n == 0 {
            return Some(s);
        }
        s.b2 = targets[..n].iter().sum::<f32>() / n as f32;
        let n_rows = s.emb.len() / HIDDEN;
        let mut emb_m = Moments::new(s.emb.len());
        let mut b1_m = Moments::new(HIDDEN);
        let mut w2_m = Moments::new(HIDDEN);
        let mut b2_m = Moments::new(1);
        let mut aux_m = Moments::new(s.aux_w.len());
        // lazy Adam on embeddings: each row keeps its own step count
        let mut row_steps = vec![0i32; n_rows];
        let mut g_emb = vec![0.0f32; s.emb.len()];
        let mut touched: Vec<usize> = Vec::new();
        let mut is_touched = vec![false; n_rows];
        let mut order: Vec<usize> = (0..n).collect();
        let steps_per_epoch = n.div_ceil(BATCH);
        let mut epochs = EPOCHS;
        let mut total = (epochs * steps_per_epoch) as f32;
        let mut t = 0i32;
        let (mut a1, mut used) = ([0.0f32; HIDDEN], Vec::new());
        let mut g_aux = vec![0.0f32; s.aux_w.len()];
        let mut epoch = 0;
        while epoch < epochs {
            if interrupt() {
                return None;
            }
            // after the first epoch its time is known: fewer epochs (and a cosine schedule that
            // ends with them) when all of them would not fit in the time left
            if epoch == 1 {
                let per_epoch = started.elapsed().as_secs_f64();
                let affordable = ((seconds / per_epoch.max(1e-9)) as usize).clamp(1, EPOCHS);
                if affordable < epochs {
                    epochs = affordable;
                    total = (epochs * steps_per_epoch) as f32;
                }
            }
            epoch += 1;
            order.shuffle(&mut rng);
            for batch in order.chunks(BATCH) {
                t += 1;
                let lr = LR * (0.1 + 0.9 * 0.5 * (1.0 + (std::f32::consts::PI * t as f32 / total).cos()));
                let mut g_b1 = [0.0f32; HIDDEN];
                let mut g_w2 = [0.0f32; HIDDEN];
                let mut g_b2 = 0.0f32;
                g_aux.fill(0.0);
                let scale = 1.0 / batch.len() as f32;
                for &i in batch {
                    let x = &aux[i * n_aux..(i + 1) * n_aux];
                    s.layer1(rows[i], x, &mut a1, &mut used);
                    let mut y = s.b2;
                    for (a, w) in a1.iter().zip(&s.w2) {
                        y += a.max(0.0) * w;
                    }
                    let dy = (y - targets[i]) * scale;
                    g_b2 += dy;
                    let mut da1 = [0.0f32; HIDDEN];
                    for h in 0..HIDDEN {
                        if a1[h] > 0.0 {
                            g_w2[h] += dy * a1[h];
                            da1[h] = dy * s.w2[h];
                        }
                    }
                    for (g, d) in g_b1.iter_mut().zip(&da1) {
                        *g += d;
                    }
                    for (xv, g) in x.iter().zip(g_aux.chunks_exact_mut(HIDDEN)) {
                        for (gh, d) in g.iter_mut().zip(&da1) {
                            *gh += xv * d;
                        }
                    }
                    for &(r, w) in &used {
                        if !is_touched[r] {
                            is_touched[r] = true;
                            touched.push(r);
                        }
                        for (g, d) in g_emb[r * HIDDEN..(r + 1) * HIDDEN].iter_mut().zip(&da1) {
                            *g += w * d;
                        }
                    }
                }
                b1_m.step(&mut s.b1, &g_b1, lr, t);
                w2_m.step(&mut s.w2, &g_w2, lr, t);
                aux_m.step(&mut s.aux_w, &g_aux, lr, t);
                let mut b2 = [s.b2];
                b2_m.step(&mut b2, &[g_b2], lr, t);
                s.b2 = b2[0];
                touched.sort_unstable();
                for &r in &touched {
                    row_steps[r] += 1;
                    let span = r * HIDDEN..(r + 1) * HIDDEN;
                    emb_m.step_span(&mut s.emb, &g_emb, span.clone(), lr, row_steps[r]);
                    g_emb[span].fill(0.0);
                    is_touched[r] = false;
                }
                touched.clear();
            }
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_student_learns_a_pairwise_target_and_maps_unseen_codes() {
        // target: 3 when columns 0 and 1 disagree, else 0 (an interaction no single column shows)
        let rows: Vec<Vec<u32>> = (0..2000u32).map(|i| vec![i % 3, (i / 3) % 3, i % 2]).collect();
        let targets: Vec<f32> = rows.iter().map(|r| if r[0] == r[1] { 0.0 } else { 3.0 }).collect();
        let refs: Vec<&[u32]> = rows.iter().map(Vec::as_slice).collect();
        // one auxiliary input: column 2's code, which the target ignores
        let aux: Vec<f32> = rows.iter().map(|r| r[2] as f32).collect();
        let s = Student::fit(0, &[3, 3, 2], &refs, 1, &aux, &targets, 1, f64::INFINITY, &mut || false).unwrap();
        assert!(s.is_valid(0, &[3, 3, 2], 1));
        let err: f32 = refs.iter().zip(&targets).zip(&aux).map(|((r, t), a)| (s.predict(r, &[*a]) - t).abs()).sum::<f32>() / refs.len() as f32;
        assert!(err < 0.3, "mean absolute error {err}");
        assert!(s.predict(&[UNSEEN, 0, 1], &[1.0]).is_finite());
        assert!(s.predict(&[7, 0, 1], &[1.0]).is_finite());
        // the same seed gives the same student; an interrupt stops it
        assert_eq!(s, Student::fit(0, &[3, 3, 2], &refs, 1, &aux, &targets, 1, f64::INFINITY, &mut || false).unwrap());
        assert!(Student::fit(0, &[3, 3, 2], &refs, 1, &aux, &targets, 1, f64::INFINITY, &mut || true).is_none());
        // no time at all: the first epoch (it times itself) and no more, a different student
        let short = Student::fit(0, &[3, 3, 2], &refs, 1, &aux, &targets, 1, 0.0, &mut || false).unwrap();
        assert_ne!(short, s);
        assert!(short.is_valid(0, &[3, 3, 2], 1));
        assert!(!s.is_valid(0, &[3, 3, 3], 1));
        assert!(!s.is_valid(0, &[3, 3, 2], 0));
    }
}
