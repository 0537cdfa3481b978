//! A picture in a terminal graphics protocol (sixel, kitty, iTerm2 or half-blocks), drawn so
//! that ratatui still updates the text around it.
//!
//! ratatui-image puts the whole escape sequence of a picture into one anchor cell (kitty:
//! one per row) and marks the rest of the picture's cells "skip". ratatui's diff takes the
//! anchor's symbol for text and steps over as many cells as that text is wide — for a
//! 100 kB sixel, its width modulo 2^16, i.e. hundreds of cells past the picture. Whatever
//! followed there in row order was never written: the Attention view's second picture on
//! the same rows as the first stayed blank in xterm. An anchor is one cell wide on screen
//! as far as the diff is concerned (the sequence itself places the picture), so it gets a
//! forced width of 1.

use std::num::NonZeroU16;

use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::Rect;
use ratatui::widgets::{Clear, Widget};
use ratatui_image::Image;
use ratatui_image::protocol::Protocol;

/// `protocol`'s picture, or its area blank during the blank pass of a redraw (see
/// `image_redraw`).
pub struct Picture<'a> {
    protocol: &'a Protocol,
    blank: bool,
}

impl<'a> Picture<'a> {
    pub fn new(protocol: &'a Protocol, blank: bool) -> Self {
        Self { protocol, blank }
    }
}

impl Widget for Picture<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if self.blank {
            return Clear.render(area, buf);
        }
        Image::new(self.protocol).render(area, buf);
        let area = area.intersection(buf.area);
        for y in area.top()..area.bottom() {
            for x in area.left()..area.right() {
                let cell = &mut buf[(x, y)];
                if cell.symbol().starts_with('\x1b') {
                    cell.set_diff_option(CellDiffOption::ForcedWidth(NonZeroU16::MIN));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, RgbImage};
    use ratatui::text::Line;
    use ratatui_image::Resize;
    use ratatui_image::picker::{Picker, ProtocolType};

    fn protocol(kind: ProtocolType, cols: u16, rows: u16) -> Protocol {
        // Half-blocks' picker with the protocol swapped: a fixed 10×20 font, no terminal query.
        let mut picker = Picker::halfblocks();
        picker.set_protocol_type(kind);
        // A noisy picture makes a long sixel (its width as text is far past the buffer).
        let img = RgbImage::from_fn(u32::from(cols) * 10, u32::from(rows) * 20, |x, y| {
            image::Rgb([
                (x * 37 % 251) as u8,
                (y * 91 % 241) as u8,
                ((x ^ y) % 255) as u8,
            ])
        });
        picker
            .new_protocol(
                DynamicImage::ImageRgb8(img),
                Rect::new(0, 0, cols, rows),
                Resize::Scale(None),
            )
            .unwrap()
    }

    /// What the diff from an empty screen writes, as (x, y, first characters).
    fn written(buf: &Buffer) -> Vec<(u16, u16, String)> {
        Buffer::empty(buf.area)
            .diff(buf)
            .into_iter()
            .map(|(x, y, c)| (x, y, c.symbol().chars().take(2).collect()))
            .collect()
    }

    #[test]
    fn two_pictures_side_by_side_and_the_text_after_them_are_all_written() {
        for kind in [
            ProtocolType::Sixel,
            ProtocolType::Kitty,
            ProtocolType::Iterm2,
        ] {
            let mut buf = Buffer::empty(Rect::new(0, 0, 60, 12));
            let p = protocol(kind, 10, 4);
            Picture::new(&p, false).render(Rect::new(2, 1, 10, 4), &mut buf);
            Picture::new(&p, false).render(Rect::new(30, 1, 10, 4), &mut buf);
            Line::from("after").render(Rect::new(45, 2, 10, 1), &mut buf);
            let w = written(&buf);
            for (x, y) in [(2, 1), (30, 1)] {
                assert!(
                    w.iter()
                        .any(|(wx, wy, s)| (*wx, *wy) == (x, y) && s.starts_with('\x1b')),
                    "{kind:?}: no picture written at ({x}, {y}): {w:?}"
                );
            }
            assert!(
                w.iter().any(|(x, y, s)| (*x, *y) == (45, 2) && s == "a"),
                "{kind:?}: the text after the pictures is not written: {w:?}"
            );
        }
    }

    #[test]
    fn the_blank_pass_clears_the_area() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 6));
        Line::from("old text on the row").render(Rect::new(0, 0, 20, 1), &mut buf);
        let p = protocol(ProtocolType::Sixel, 10, 4);
        Picture::new(&p, true).render(Rect::new(0, 0, 10, 4), &mut buf);
        assert_eq!(buf[(0, 0)].symbol(), " ");
        assert_eq!(buf[(9, 0)].symbol(), " ");
        assert_eq!(buf[(10, 0)].symbol(), "n");
    }
}
