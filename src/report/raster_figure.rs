//! Figures that are pictures: the reconstruction grid (rows original / masked /
//! reconstruction, one column per frame) and attention blended over a frame. The PNG holds
//! the pixels under a title, row names on the left; the SVG holds the same pixels as one
//! embedded PNG (a few hundred KB at most, where a rectangle per pixel made megabytes) with
//! the title and row names as text.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DynErr, ensure_font, err};

/// Width of the row-name column (none without row names) and height of the title bar.
const LEFT: u32 = 100;
const TOP: u32 = 40;
const RECON_ROWS: [&str; 3] = ["original", "masked", "recon"];

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn recon_grid(
    stem: &Path,
    title: &str,
    grid: &image::RgbImage,
) -> Result<Vec<PathBuf>, String> {
    raster_figure(stem, title, grid, &RECON_ROWS)
}

/// `grid` under `title`, with `rows` (equal bands, top to bottom) named on the left.
pub fn raster_figure(
    stem: &Path,
    title: &str,
    grid: &image::RgbImage,
    rows: &[&str],
) -> Result<Vec<PathBuf>, String> {
    ensure_font();
    let left = if rows.is_empty() { 0 } else { LEFT };
    let n = rows.len().max(1);
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let (gw, gh) = grid.dimensions();
    // Wide enough for the whole title (18 px DejaVu Sans Mono advances ~11 px a character).
    let width = (gw + left).max(12 + 11 * title.chars().count() as u32);
    // PNG: the composed pixels under a title bar, row names on the left.
    let mut canvas = image::RgbImage::from_pixel(width, gh + TOP, image::Rgb([255, 255, 255]));
    image::imageops::replace(&mut canvas, grid, left as i64, TOP as i64);
    let (cw, chh) = canvas.dimensions();
    let mut buf = canvas.into_raw();
    {
        let root = BitMapBackend::with_buffer(&mut buf, (cw, chh)).into_drawing_area();
        let lab = |root: &DrawingArea<BitMapBackend, Shift>| -> Result<(), DynErr> {
            root.draw(&Text::new(
                title.to_string(),
                (6, 10),
                ("sans-serif", 18).into_font(),
            ))?;
            for (i, l) in rows.iter().enumerate() {
                let y =
                    TOP as i32 + (i as i32 * gh as i32) / n as i32 + gh as i32 / (2 * n as i32) - 7;
                root.draw(&Text::new(
                    l.to_string(),
                    (6, y),
                    ("sans-serif", 14).into_font(),
                ))?;
            }
            Ok(())
        };
        lab(&root).map_err(err(&png))?;
        root.present().map_err(err(&png))?;
    }
    image::RgbImage::from_raw(cw, chh, buf)
        .ok_or("bad image buffer")?
        .save(&png)
        .map_err(err(&png))?;
    // SVG: text as text, the pixels as one embedded PNG.
    let mut bytes = Vec::new();
    grid.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(err(&svg))?;
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let (w, h) = (width, gh + TOP);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n\
         <text x=\"6\" y=\"26\" font-family=\"DejaVu Sans Mono, monospace\" font-size=\"18\">{}</text>\n",
        xml_escape(title)
    );
    for (i, l) in rows.iter().enumerate() {
        let y = TOP + (i as u32 * gh) / n as u32 + gh / (2 * n as u32) + 5;
        out.push_str(&format!(
            "<text x=\"6\" y=\"{y}\" font-family=\"DejaVu Sans Mono, monospace\" font-size=\"14\">{l}</text>\n"
        ));
    }
    out.push_str(&format!(
        "<image x=\"{left}\" y=\"{TOP}\" width=\"{gw}\" height=\"{gh}\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,{data}\"/>\n</svg>\n"
    ));
    std::fs::write(&svg, out).map_err(err(&svg))?;
    Ok(vec![png, svg])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_wider_than_the_picture_widens_the_figure() {
        let dir = tempfile::tempdir().unwrap();
        let picture = image::RgbImage::from_pixel(100, 100, image::Rgb([9, 9, 9]));
        let title = "b0 self · mean of queries · h1 · f1 · colour: blue lowest → red highest";
        let files = raster_figure(&dir.path().join("t"), title, &picture, &[]).unwrap();
        let (w, h) = image::image_dimensions(&files[0]).unwrap();
        assert!(w >= 11 * title.chars().count() as u32, "{w}");
        assert_eq!(h, 100 + TOP);
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert!(
            svg.contains(&format!("width=\"{w}\"")),
            "the SVG as wide as the PNG"
        );
    }

    #[test]
    fn the_svg_embeds_one_png_and_stays_small() {
        let dir = tempfile::tempdir().unwrap();
        // 16 frames of 160² in three rows: the size of a real figure.
        let grid = image::RgbImage::from_fn(16 * 162, 3 * 162, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
        });
        let files = recon_grid(&dir.path().join("r"), "step 400 <demo>", &grid).unwrap();
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert_eq!(svg.matches("<image").count(), 1);
        assert!(!svg.contains("<rect x"), "no rectangle per pixel");
        assert!(svg.contains("step 400 &lt;demo&gt;"));
        let b64 = svg
            .split("base64,")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let back = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(back, grid);
        assert_eq!(
            image::image_dimensions(&files[0]).unwrap(),
            (16 * 162 + 100, 3 * 162 + 40)
        );
    }
}
