//! A contact sheet: frames in a grid, each fitted whole into a square tile (letterboxed, so a
//! wrong aspect or an off-centre face stays visible) with a caption under it.

use std::path::Path;

use plotters::prelude::*;

use super::ensure_font;
use crate::data::frame::Frame;

const CAPTION: u32 = 16;
const GAP: u32 = 4;

/// Writes `tiles` (frame, caption) as a PNG grid of `columns` tiles of `tile` px.
pub fn write_contact_sheet(
    path: &Path,
    title: &str,
    tiles: &[(Frame, String)],
    tile: u32,
    columns: u32,
) -> Result<(), String> {
    ensure_font();
    let columns = columns.max(1);
    let rows = (tiles.len() as u32).div_ceil(columns).max(1);
    let (cell_w, cell_h) = (tile + GAP, tile + CAPTION + GAP);
    let (w, h) = (columns * cell_w + GAP, rows * cell_h + GAP + 24);
    let mut canvas = image::RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
    let mut origins = vec![];
    for (k, (frame, _)) in tiles.iter().enumerate() {
        let (col, row) = (k as u32 % columns, k as u32 / columns);
        let (x0, y0) = (GAP + col * cell_w, 24 + GAP + row * cell_h);
        let bg = image::RgbImage::from_pixel(tile, tile, image::Rgb([64, 64, 64]));
        image::imageops::replace(&mut canvas, &bg, x0 as i64, y0 as i64);
        let s = tile as f64 / frame.width.max(frame.height).max(1) as f64;
        let (fw, fh) = (
            ((frame.width as f64 * s).round() as usize).clamp(1, tile as usize),
            ((frame.height as f64 * s).round() as usize).clamp(1, tile as usize),
        );
        let fitted = frame.resize(fw, fh);
        let img = image::RgbImage::from_raw(fw as u32, fh as u32, fitted.data)
            .ok_or("frame buffer size")?;
        let (dx, dy) = ((tile - fw as u32) / 2, (tile - fh as u32) / 2);
        image::imageops::replace(&mut canvas, &img, (x0 + dx) as i64, (y0 + dy) as i64);
        origins.push((x0, y0));
    }
    let mut buf = canvas.into_raw();
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let draw = || -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            root.draw(&Text::new(
                title.to_string(),
                (6, 4),
                ("sans-serif", 16).into_font(),
            ))?;
            for ((_, caption), (x0, y0)) in tiles.iter().zip(&origins) {
                let max_chars = (tile / 7).max(4) as usize;
                let text: String = caption.chars().take(max_chars).collect();
                root.draw(&Text::new(
                    text,
                    (*x0 as i32, (*y0 + tile + 2) as i32),
                    ("sans-serif", 12).into_font(),
                ))?;
            }
            root.present()?;
            Ok(())
        };
        draw().map_err(|e| format!("{}: {e}", path.display()))?;
    }
    image::RgbImage::from_raw(w, h, buf)
        .ok_or("canvas buffer size")?
        .save(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_land_in_a_grid_letterboxed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sheet.png");
        // A wide red frame and a tall green one.
        let red = Frame::new(40, 20, [255u8, 0, 0].repeat(800));
        let green = Frame::new(10, 40, [0u8, 255, 0].repeat(400));
        let tiles = vec![(red, "#1 happy".to_string()), (green, "#2 sad".to_string())];
        write_contact_sheet(&path, "audit", &tiles, 64, 2).unwrap();
        let img = image::open(&path).unwrap().into_rgb8();
        assert_eq!(img.dimensions(), (2 * 68 + 4, 84 + 4 + 24));
        let at = |x: u32, y: u32| img.get_pixel(x, y).0;
        // Tile 1: red across the middle row, grey above the letterboxed band.
        assert_eq!(at(4 + 32, 28 + 32), [255, 0, 0]);
        assert_eq!(at(4 + 32, 28 + 2), [64, 64, 64]);
        // Tile 2: green in the middle column, grey at the sides.
        assert_eq!(at(72 + 32, 28 + 32), [0, 255, 0]);
        assert_eq!(at(72 + 2, 28 + 32), [64, 64, 64]);
    }
}
