//! The benchmark's picture: rows of (image, ground truth, prediction, gnsm heatmap) tiles, the
//! worst-scored maps first, each row marked on its left by a bar (red: ranked anomalous, green:
//! ranked normal), written as one PNG.

use gnsm_core::map::codec::rgb_to_png;
use gnsm_core::map::{LabelMap, RgbImage};

/// Side of one tile in pixels (maps and images are resampled to it).
const TILE: usize = 128;
/// Gap between tiles, and width of the row marker bar.
const GAP: usize = 4;

/// One row of the figure.
pub struct FigureRow<'a> {
    pub image: &'a RgbImage,
    pub truth: &'a LabelMap,
    pub prediction: &'a LabelMap,
    /// The heatmap as decoded RGB (any size).
    pub heatmap: RgbImage,
    /// True for a row the score ranked anomalous.
    pub flagged: bool,
}

/// The colour of a label: dark background, light classes (horse masks have classes 0 and 1).
fn label_colour(l: u16) -> [u8; 3] {
    match l {
        0 => [30, 30, 30],
        1 => [235, 235, 235],
        k => [(60 * k % 256) as u8, (110 * k % 256) as u8, (170 * k % 256) as u8],
    }
}

/// A label map as an RGB image.
fn colour(map: &LabelMap) -> RgbImage {
    RgbImage { height: map.height, width: map.width, pixels: map.labels.iter().flat_map(|&l| label_colour(l)).collect() }
}

/// Copies `img`, resampled to a tile, into `canvas` (width `cw`) at (`top`, `left`).
fn blit(canvas: &mut [u8], cw: usize, top: usize, left: usize, img: &RgbImage) {
    let tile = img.resize_bilinear(TILE, TILE);
    for r in 0..TILE {
        let dst = ((top + r) * cw + left) * 3;
        canvas[dst..dst + TILE * 3].copy_from_slice(&tile.pixels[r * TILE * 3..(r + 1) * TILE * 3]);
    }
}

/// The figure as PNG bytes: one row per entry of `rows`, in order, on a white canvas.
pub fn figure_png(rows: &[FigureRow]) -> Vec<u8> {
    let cw = GAP + 4 * (TILE + GAP) + GAP;
    let ch = rows.len() * (TILE + GAP) + GAP;
    let mut canvas = vec![255u8; cw * ch * 3];
    for (i, row) in rows.iter().enumerate() {
        let top = GAP + i * (TILE + GAP);
        let bar = if row.flagged { [200, 30, 30] } else { [30, 160, 60] };
        for r in top..top + TILE {
            for c in 0..GAP {
                canvas[(r * cw + c) * 3..(r * cw + c) * 3 + 3].copy_from_slice(&bar);
            }
        }
        let tiles = [row.image.clone(), colour(row.truth), colour(row.prediction), row.heatmap.clone()];
        for (j, t) in tiles.iter().enumerate() {
            blit(&mut canvas, cw, top, GAP + GAP + j * (TILE + GAP), t);
        }
    }
    rgb_to_png(&RgbImage { height: ch, width: cw, pixels: canvas }).expect("the figure is within the PNG size limits")
}
