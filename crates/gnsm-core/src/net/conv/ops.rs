//! Spatial kernels on channels-last (HWC) maps: im2col/col2im for 3x3 "same" convolutions,
//! 2x2 average pooling, nearest 2x upsampling, each with its adjoint, and the conv GEMM glue.
//!
//! All maps are row-major `h x w` pixels of `c` contiguous channels; a pixel is one GEMM row.

use crate::kernels::{add_bias_rows, add_col_sums, gemm};
use crate::net::tabular::Tensor;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Row-major view helper for activations.
pub(super) fn view(n: usize, m: usize, s: &[f32]) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((n, m), &s[..n * m]).expect("activation shape")
}

/// Mutable row-major view helper for activations.
pub(super) fn view_mut(n: usize, m: usize, s: &mut [f32]) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((n, m), &mut s[..n * m]).expect("activation shape")
}

/// Writes the 3x3 zero-padded neighbourhoods of `x` (`h x w x c`) as rows of `col`
/// (`h*w x 9c`, tap-major: tap `ky*3+kx` occupies columns `(ky*3+kx)*c..+c`).
pub(super) fn im2col(x: &[f32], h: usize, w: usize, c: usize, col: &mut [f32]) {
    debug_assert!(x.len() >= h * w * c && col.len() >= h * w * 9 * c);
    let row_len = 9 * c;
    for r in 0..h {
        for q in 0..w {
            let dst = &mut col[(r * w + q) * row_len..(r * w + q + 1) * row_len];
            for ky in 0..3 {
                // source row r + ky - 1; out of range rows are the zero padding
                let sr = (r + ky).wrapping_sub(1);
                for kx in 0..3 {
                    let sq = (q + kx).wrapping_sub(1);
                    let d = &mut dst[(ky * 3 + kx) * c..(ky * 3 + kx + 1) * c];
                    if sr < h && sq < w {
                        let s = (sr * w + sq) * c;
                        d.copy_from_slice(&x[s..s + c]);
                    } else {
                        d.fill(0.0);
                    }
                }
            }
        }
    }
}

/// `im2col` transposed: writes `colt` (`9c x h*w`, row `(ky*3+kx)*c + k` holds channel k of
/// every pixel's tap) via `xt` scratch (`c x h*w`). The forward GEMM reads this layout as its
/// left operand with unit row stride, which matrixmultiply packs with contiguous loads; the
/// row-major `im2col` matrix would make it gather with stride 9c (measured ~3x slower).
pub(super) fn im2col_t(x: &[f32], h: usize, w: usize, c: usize, xt: &mut [f32], colt: &mut [f32]) {
    let p = h * w;
    debug_assert!(x.len() >= p * c && xt.len() >= p * c && colt.len() >= p * 9 * c);
    // channel-major copy, so each tap of each channel is a shifted copy of image rows
    for (i, px) in x[..p * c].chunks_exact(c).enumerate() {
        for (k, &v) in px.iter().enumerate() {
            xt[k * p + i] = v;
        }
    }
    for ky in 0..3 {
        for kx in 0..3 {
            for k in 0..c {
                let src = &xt[k * p..(k + 1) * p];
                let dst = &mut colt[((ky * 3 + kx) * c + k) * p..((ky * 3 + kx) * c + k + 1) * p];
                for r in 0..h {
                    let out = &mut dst[r * w..(r + 1) * w];
                    let sr = (r + ky).wrapping_sub(1);
                    if sr >= h {
                        out.fill(0.0);
                        continue;
                    }
                    let row = &src[sr * w..(sr + 1) * w];
                    // column q reads source column q + kx - 1; the one falling off is padding
                    match kx {
                        0 => {
                            out[0] = 0.0;
                            out[1..].copy_from_slice(&row[..w - 1]);
                        }
                        1 => out.copy_from_slice(row),
                        _ => {
                            out[..w - 1].copy_from_slice(&row[1..]);
                            out[w - 1] = 0.0;
                        }
                    }
                }
            }
        }
    }
}

/// Adjoint of `im2col`: scatter-ADDS every row of `dcol` back onto the pixels it was read from.
pub(super) fn col2im_add(dcol: &[f32], h: usize, w: usize, c: usize, dx: &mut [f32]) {
    debug_assert!(dx.len() >= h * w * c && dcol.len() >= h * w * 9 * c);
    let row_len = 9 * c;
    for r in 0..h {
        for q in 0..w {
            let src = &dcol[(r * w + q) * row_len..(r * w + q + 1) * row_len];
            for ky in 0..3 {
                let sr = (r + ky).wrapping_sub(1);
                if sr >= h {
                    continue;
                }
                for kx in 0..3 {
                    let sq = (q + kx).wrapping_sub(1);
                    if sq >= w {
                        continue;
                    }
                    let s = (sr * w + sq) * c;
                    let g = &src[(ky * 3 + kx) * c..(ky * 3 + kx + 1) * c];
                    for (d, v) in dx[s..s + c].iter_mut().zip(g) {
                        *d += v;
                    }
                }
            }
        }
    }
}

/// 2x2 average pooling of `x` (`h x w x c`) into `y` (`h/2 x w/2 x c`).
pub(super) fn avgpool2(x: &[f32], h: usize, w: usize, c: usize, y: &mut [f32]) {
    let (h2, w2) = (h / 2, w / 2);
    for r in 0..h2 {
        for q in 0..w2 {
            let o = &mut y[(r * w2 + q) * c..(r * w2 + q + 1) * c];
            let a = ((2 * r) * w + 2 * q) * c;
            let b = ((2 * r + 1) * w + 2 * q) * c;
            for k in 0..c {
                o[k] = 0.25 * (x[a + k] + x[a + c + k] + x[b + k] + x[b + c + k]);
            }
        }
    }
}

/// Adjoint of `avgpool2`: ADDS a quarter of each pooled gradient to its four source pixels.
pub(super) fn avgpool2_backward_add(dy: &[f32], h: usize, w: usize, c: usize, dx: &mut [f32]) {
    let (h2, w2) = (h / 2, w / 2);
    for r in 0..h2 {
        for q in 0..w2 {
            let g = &dy[(r * w2 + q) * c..(r * w2 + q + 1) * c];
            for s in [((2 * r) * w + 2 * q) * c, ((2 * r + 1) * w + 2 * q) * c] {
                let (d0, d1) = dx[s..s + 2 * c].split_at_mut(c);
                for k in 0..c {
                    let v = 0.25 * g[k];
                    d0[k] += v;
                    d1[k] += v;
                }
            }
        }
    }
}

/// Nearest 2x upsampling of `x` (`h/2 x w/2 x c`) ADDED onto `y` (`h x w x c`): the decoder
/// adds the skip connection already in `y`.
pub(super) fn upsample2_add(x: &[f32], h: usize, w: usize, c: usize, y: &mut [f32]) {
    let w2 = w / 2;
    for r in 0..h {
        for q in 0..w {
            let s = ((r / 2) * w2 + q / 2) * c;
            for (o, v) in y[(r * w + q) * c..(r * w + q + 1) * c].iter_mut().zip(&x[s..s + c]) {
                *o += v;
            }
        }
    }
}

/// Adjoint of `upsample2_add`: `dx` (`h/2 x w/2 x c`) is SET to the sum of its four children.
pub(super) fn upsample2_backward(dy: &[f32], h: usize, w: usize, c: usize, dx: &mut [f32]) {
    let (h2, w2) = (h / 2, w / 2);
    for r in 0..h2 {
        for q in 0..w2 {
            let o = &mut dx[(r * w2 + q) * c..(r * w2 + q + 1) * c];
            let a = ((2 * r) * w + 2 * q) * c;
            let b = ((2 * r + 1) * w + 2 * q) * c;
            for k in 0..c {
                o[k] = dy[a + k] + dy[a + c + k] + dy[b + k] + dy[b + c + k];
            }
        }
    }
}

/// Spatial size of a map.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    pub h: usize,
    pub w: usize,
}

/// Forward im2col workspace: the channel-major input copy and the (transposed) im2col matrix.
#[derive(Debug, Clone, Default)]
pub(super) struct Im2col {
    pub xt: Vec<f32>,
    pub col: Vec<f32>,
}

/// One 3x3 convolution: weight `w` (`9*cin x cout`) and bias `b` as tensors of the flat vector.
#[derive(Debug, Clone, Copy)]
pub(super) struct Conv {
    pub w: Tensor,
    pub b: Tensor,
}

impl Conv {
    /// Input channels.
    pub fn cin(&self) -> usize {
        self.w.rows / 9
    }

    /// Output channels.
    pub fn cout(&self) -> usize {
        self.w.cols
    }

    /// `y = conv(x) + b` (or `y += ...` when `accumulate`, for residual adds) on a map of shape
    /// `s`; `im` is scratch sized for it.
    pub fn forward(&self, params: &[f32], x: &[f32], s: Shape, im: &mut Im2col, y: &mut [f32], accumulate: bool) {
        let (p, cin, cout) = (s.h * s.w, self.cin(), self.cout());
        im2col_t(x, s.h, s.w, cin, &mut im.xt, &mut im.col);
        let beta = if accumulate { 1.0 } else { 0.0 };
        gemm(1.0, &view(9 * cin, p, &im.col).t(), &self.w.view(params), beta, &mut view_mut(p, cout, y));
        add_bias_rows(&mut y[..p * cout], self.b.slice(params));
    }

    /// Given `dy` (`h*w x cout`) and the forward input `x`, accumulates dW and db into `grads`
    /// and, when `dx` is given, ADDS the input gradient into it. `col`/`dcol` are scratch.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        params: &[f32],
        x: &[f32],
        s: Shape,
        dy: &[f32],
        col: &mut [f32],
        dcol: &mut [f32],
        grads: &mut [f32],
        dx: Option<&mut [f32]>,
    ) {
        let (h, w) = (s.h, s.w);
        let (p, cin, cout) = (h * w, self.cin(), self.cout());
        // the im2col matrix is recomputed rather than kept on the tape: it is 9x the activation
        // and rebuilding it costs a memory pass, small next to the GEMMs. Row-major here (not
        // `im2col_t`): the weight-gradient GEMM reads its transpose, which packs contiguously
        im2col(x, h, w, cin, col);
        gemm(1.0, &view(p, 9 * cin, col).t(), &view(p, cout, dy), 1.0, &mut self.w.view_mut(grads));
        add_col_sums(&dy[..p * cout], self.b.slice_mut(grads));
        if let Some(dx) = dx {
            gemm(1.0, &view(p, cout, dy), &self.w.view(params).t(), 0.0, &mut view_mut(p, 9 * cin, dcol));
            col2im_add(dcol, h, w, cin, dx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// <A x, y> == <x, A^T y> for every spatial kernel with its adjoint.
    #[test]
    fn test_spatial_kernels_are_adjoint() {
        let (h, w, c) = (4usize, 6usize, 3usize);
        let x: Vec<f32> = (0..h * w * c).map(|i| ((i * 37 % 11) as f32) - 5.0).collect();
        let small: Vec<f32> = (0..h * w * c / 4).map(|i| ((i * 13 % 7) as f32) - 3.0).collect();
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(u, v)| (*u as f64) * (*v as f64)).sum::<f64>();

        let mut col = vec![0.0; h * w * 9 * c];
        im2col(&x, h, w, c, &mut col);
        let g: Vec<f32> = (0..col.len()).map(|i| ((i * 7 % 5) as f32) - 2.0).collect();
        let mut back = vec![0.0; x.len()];
        col2im_add(&g, h, w, c, &mut back);
        assert_eq!(dot(&col, &g), dot(&x, &back));

        let (mut xt, mut colt) = (vec![0.0; x.len()], vec![0.0; col.len()]);
        im2col_t(&x, h, w, c, &mut xt, &mut colt);
        for p in 0..h * w {
            for j in 0..9 * c {
                assert_eq!(colt[j * h * w + p], col[p * 9 * c + j], "pixel {p} column {j}");
            }
        }

        let mut pooled = vec![0.0; small.len()];
        avgpool2(&x, h, w, c, &mut pooled);
        let mut back = vec![0.0; x.len()];
        avgpool2_backward_add(&small, h, w, c, &mut back);
        assert!((dot(&pooled, &small) - dot(&x, &back)).abs() < 1e-9);

        let mut up = vec![0.0; x.len()];
        upsample2_add(&small, h, w, c, &mut up);
        let mut back = vec![0.0; small.len()];
        upsample2_backward(&x, h, w, c, &mut back);
        assert_eq!(dot(&up, &x), dot(&small, &back));
    }
}
