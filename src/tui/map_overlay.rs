//! An attention map as the workbench draws it: a small grid of values (heat) or group
//! indices (bottleneck assignment), its colours, and the grid blended over the frame it was
//! computed on (the Attention and Inspect views, and their exports).

use std::path::Path;

use image::RgbImage;

/// A small 2-D grid of values (heat) or group indices (assignment).
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub w: usize,
    pub h: usize,
    pub values: Vec<f32>,
    /// Number of groups for an assignment grid (values are group indices), 0 for heat.
    pub groups: usize,
    pub label: String,
}

/// Min-max normalised values in [0, 1].
pub fn normalised(values: &[f32]) -> Vec<f32> {
    let (lo, hi) = values
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let span = hi - lo;
    values
        .iter()
        .map(|&v| if span > 0.0 { (v - lo) / span } else { 0.0 })
        .collect()
}

/// Distinct colours of assignment groups (the view's cells use the same).
pub const GROUP_RGB: [[u8; 3]; 8] = [
    [230, 25, 75],
    [60, 180, 75],
    [255, 225, 25],
    [0, 130, 200],
    [245, 130, 48],
    [145, 30, 180],
    [70, 240, 240],
    [240, 50, 230],
];

/// Blue → green → red for a value in [0, 1]: the colour scale of maps blended over frames.
pub fn jet(v: f32) -> [u8; 3] {
    let v = v.clamp(0.0, 1.0);
    [
        (255.0 * v) as u8,
        (255.0 * (1.0 - (2.0 * v - 1.0).abs())) as u8,
        (255.0 * (1.0 - v)) as u8,
    ]
}

/// `frame` with a colour per grid cell laid over it at half opacity.
fn blend(frame: &RgbImage, grid: &Grid, colour: impl Fn(usize) -> [u8; 3]) -> RgbImage {
    let (fw, fh) = frame.dimensions();
    let mut out = frame.clone();
    for (x, y, px) in out.enumerate_pixels_mut() {
        let gx = ((x as usize * grid.w) / fw.max(1) as usize).min(grid.w - 1);
        let gy = ((y as usize * grid.h) / fh.max(1) as usize).min(grid.h - 1);
        let c = colour(gy * grid.w + gx);
        let a = 0.5;
        for (p, c) in px.0.iter_mut().zip(c) {
            *p = (*p as f32 * (1.0 - a) + c as f32 * a) as u8;
        }
    }
    out
}

/// The frame with the heat map (min–max normalised, [`jet`] colours) blended on top.
pub fn blend_heat(frame: &RgbImage, heat: &Grid) -> RgbImage {
    let norm = normalised(&heat.values);
    blend(frame, heat, |i| jet(norm[i]))
}

/// The frame with each position coloured by its bottleneck group.
pub fn blend_groups(frame: &RgbImage, groups: &Grid) -> RgbImage {
    blend(frame, groups, |i| {
        GROUP_RGB[groups.values[i] as usize % GROUP_RGB.len()]
    })
}

/// `grid` blended over the frame in `frame_png`, enlarged (bilinear) to at least
/// `min_side` pixels on its shorter side; under a heat map, its colour scale from the lowest
/// (left) to the highest value (right).
pub fn compose_over_frame(
    frame_png: &Path,
    grid: &Grid,
    min_side: u32,
) -> Result<RgbImage, String> {
    let frame = image::open(frame_png)
        .map_err(|e| format!("{}: {e}", frame_png.display()))?
        .to_rgb8();
    let (w, h) = frame.dimensions();
    let scale = min_side.div_ceil(w.min(h).max(1)).max(1);
    let frame = image::imageops::resize(
        &frame,
        w * scale,
        h * scale,
        image::imageops::FilterType::Triangle,
    );
    let blended = if grid.groups > 0 {
        blend_groups(&frame, grid)
    } else {
        blend_heat(&frame, grid)
    };
    if grid.groups > 0 {
        return Ok(blended);
    }
    let (bw, bh) = blended.dimensions();
    let (gap, strip) = (6, 14);
    let mut out = RgbImage::from_pixel(bw, bh + gap + strip, image::Rgb([255, 255, 255]));
    image::imageops::replace(&mut out, &blended, 0, 0);
    for x in 0..bw {
        let colour = image::Rgb(jet(x as f32 / (bw - 1).max(1) as f32));
        for y in bh + gap..bh + gap + strip {
            out.put_pixel(x, y, colour);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heat_map_over_a_frame_is_enlarged_blended_and_has_its_colour_scale_below() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("frame.png");
        RgbImage::from_pixel(64, 64, image::Rgb([128, 128, 128]))
            .save(&png)
            .unwrap();
        // Low everywhere but the bottom-right cell.
        let heat = Grid {
            w: 2,
            h: 2,
            values: vec![0.0, 0.0, 0.0, 1.0],
            groups: 0,
            label: "heat".into(),
        };
        let out = compose_over_frame(&png, &heat, 200).unwrap();
        let (w, h) = out.dimensions();
        assert_eq!(w, 256, "64 px × 4, the first scale reaching 200");
        assert!(h > 256 + 6, "a colour scale under the picture: {h}");
        let [r, g, b] = out.get_pixel(200, 200).0;
        assert!(
            r > 180 && r > b + 100 && g < 100,
            "hot cell is red over grey: {r} {g} {b}"
        );
        let [r, _, b] = out.get_pixel(40, 40).0;
        assert!(
            b > 180 && b > r + 100,
            "cold cell is blue over grey: {r} {b}"
        );
        assert_eq!(
            out.get_pixel(0, h - 1).0,
            jet(0.0),
            "scale starts at the lowest"
        );
        assert_eq!(
            out.get_pixel(w - 1, h - 1).0,
            jet(1.0),
            "and ends at the highest"
        );
        // Groups: no scale, the picture alone.
        let groups = Grid { groups: 4, ..heat };
        assert_eq!(
            compose_over_frame(&png, &groups, 200).unwrap().dimensions(),
            (256, 256)
        );
    }
}
