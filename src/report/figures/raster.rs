//! A small indexed-colour picture with bitmap text, encoded as PNG: what the tumour pictures
//! are drawn on. Indexed colour (one byte a pixel, a 256-entry palette) keeps a thumbnail of MR
//! texture within its size bound; the glyphs are `font8x8`'s public-domain 8 × 8 bitmaps, so no
//! font file ships and the letters are the same on every machine.

use std::borrow::Cow;

/// Grey levels of the palette: indices `0..GREYS` run from black to white.
pub const GREYS: u8 = 251;

/// The palette's colours beside the greys.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ink {
    /// A grey level in [0, 1].
    Grey(f64),
    /// The mask's outline.
    Outline,
    /// The second mask's outline.
    Compare,
    /// Letters, digits and the scale bar.
    Text,
    /// The frame around the image.
    Frame,
}

/// The RGB of the outline and of the second outline: colours no grey pixel has.
pub const OUTLINE_RGB: [u8; 3] = [255, 215, 0];
pub const COMPARE_RGB: [u8; 3] = [0, 220, 255];
const TEXT_RGB: [u8; 3] = [255, 255, 255];
const FRAME_RGB: [u8; 3] = [16, 16, 24];

impl Ink {
    fn index(self) -> u8 {
        match self {
            Ink::Grey(g) => (g.clamp(0.0, 1.0) * f64::from(GREYS - 1)).round() as u8,
            Ink::Outline => GREYS,
            Ink::Compare => GREYS + 1,
            Ink::Text => GREYS + 2,
            Ink::Frame => GREYS + 3,
        }
    }
}

/// The pixels, row by row from the top, as palette indices.
#[derive(Debug, Clone)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    pixels: Vec<u8>,
}

impl Raster {
    /// A picture filled with the frame's colour.
    pub fn new(width: u32, height: u32) -> Raster {
        Raster {
            width,
            height,
            pixels: vec![Ink::Frame.index(); width as usize * height as usize],
        }
    }

    pub fn set(&mut self, x: u32, y: u32, ink: Ink) {
        if x < self.width && y < self.height {
            self.pixels[y as usize * self.width as usize + x as usize] = ink.index();
        }
    }

    pub fn fill(&mut self, x: u32, y: u32, width: u32, height: u32, ink: Ink) {
        for row in y..y + height {
            for column in x..x + width {
                self.set(column, row, ink);
            }
        }
    }

    /// Copies `other` with its top-left corner at (x, y).
    pub fn paste(&mut self, other: &Raster, x: u32, y: u32) {
        for row in 0..other.height {
            for column in 0..other.width {
                let (tx, ty) = (x + column, y + row);
                if tx < self.width && ty < self.height {
                    self.pixels[ty as usize * self.width as usize + tx as usize] =
                        other.pixels[row as usize * other.width as usize + column as usize];
                }
            }
        }
    }

    /// Writes `text` with its top-left corner at (x, y), 8 pixels a character (ASCII only;
    /// anything else is drawn as '?').
    pub fn text(&mut self, x: u32, y: u32, text: &str, ink: Ink) {
        for (n, c) in text.chars().enumerate() {
            let glyph = font8x8::legacy::BASIC_LEGACY[if c.is_ascii() { c as usize } else { '?' as usize }];
            for (row, bits) in glyph.iter().enumerate() {
                for column in 0..8 {
                    if bits >> column & 1 == 1 {
                        self.set(x + 8 * n as u32 + column, y + row as u32, ink);
                    }
                }
            }
        }
    }

    /// The width `text` takes, in pixels.
    pub fn text_width(text: &str) -> u32 {
        8 * text.chars().count() as u32
    }

    /// The picture as a PNG file (8-bit indexed colour).
    pub fn png(&self) -> Vec<u8> {
        let mut palette = Vec::with_capacity(3 * 256);
        for g in 0..GREYS {
            let v = (f64::from(g) * 255.0 / f64::from(GREYS - 1)).round() as u8;
            palette.extend_from_slice(&[v, v, v]);
        }
        for rgb in [OUTLINE_RGB, COMPARE_RGB, TEXT_RGB, FRAME_RGB] {
            palette.extend_from_slice(&rgb);
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_palette(Cow::Owned(palette));
        encoder.set_compression(png::Compression::High);
        // Writing to memory cannot fail; the dimensions are non-zero by construction.
        let mut writer = encoder.write_header().expect("PNG header in memory");
        writer.write_image_data(&self.pixels).expect("PNG data in memory");
        writer.finish().expect("PNG end in memory");
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The PNG decoded back to RGB rows.
    pub(crate) fn decode(png: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let pixels = buf[..info.buffer_size()]
            .chunks(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        (info.width, info.height, pixels)
    }

    #[test]
    fn a_picture_round_trips_through_png_with_its_colours() {
        let mut raster = Raster::new(20, 10);
        raster.set(1, 1, Ink::Grey(0.0));
        raster.set(2, 1, Ink::Grey(1.0));
        raster.set(3, 1, Ink::Outline);
        raster.set(4, 1, Ink::Compare);
        raster.text(0, 2, "L", Ink::Text);
        let (width, height, pixels) = decode(&raster.png());
        assert_eq!((width, height), (20, 10));
        assert_eq!(pixels[20 + 1], [0, 0, 0]);
        assert_eq!(pixels[20 + 2], [255, 255, 255]);
        assert_eq!(pixels[20 + 3], OUTLINE_RGB);
        assert_eq!(pixels[20 + 4], COMPARE_RGB);
        assert_eq!(pixels[0], FRAME_RGB);
        // 'L': a vertical stroke and a foot.
        let lit = pixels.iter().filter(|p| **p == TEXT_RGB).count();
        assert!(lit >= 8, "{lit} text pixels");
    }
}
