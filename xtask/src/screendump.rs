//! What a QEMU `screendump` (binary PPM, P6) shows: its size and whether
//! anything is drawn on it, for a scenario's log.

use anyhow::{Context, Result, bail};

/// A screen at least this many pixels off its background colour has
/// something drawn on it (a line of Linux's console text is thousands; the
/// blinking cursor alone is about a hundred).
const DRAWN: usize = 500;

/// `800x600, 5123 of 480000 pixels differ from the background #000000: drawn`.
pub fn describe(ppm: &[u8]) -> Result<String> {
    let (width, height, pixels) = parse(ppm)?;
    let background = most_common(pixels);
    let differ = pixels.chunks_exact(3).filter(|p| *p != background).count();
    let verdict = if differ >= DRAWN { "drawn" } else { "blank" };
    Ok(format!(
        "{width}x{height}, {differ} of {} pixels differ from the background #{:02x}{:02x}{:02x}: {verdict}",
        width * height,
        background[0],
        background[1],
        background[2]
    ))
}

/// Width, height and the RGB bytes of a P6 file with 8-bit samples.
fn parse(ppm: &[u8]) -> Result<(usize, usize, &[u8])> {
    // Header: "P6", width, height, maxval, each after whitespace, then one
    // whitespace byte and the samples (no comments in QEMU's).
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while ppm.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        let start = at;
        while ppm.get(at).is_some_and(|b| !b.is_ascii_whitespace()) {
            at += 1;
        }
        if start == at {
            bail!(
                "not a PPM file: its header ends after {} fields",
                fields.len()
            );
        }
        fields.push(std::str::from_utf8(&ppm[start..at]).context("PPM header")?);
    }
    if fields[0] != "P6" {
        bail!("not a binary PPM (P6) file: magic {:?}", fields[0]);
    }
    let number = |i: usize| -> Result<usize> {
        fields[i]
            .parse()
            .with_context(|| format!("PPM header field {:?}", fields[i]))
    };
    let (width, height, maxval) = (number(1)?, number(2)?, number(3)?);
    if maxval != 255 {
        bail!("PPM maxval {maxval}: only 8-bit samples are read");
    }
    let pixels = ppm.get(at + 1..).unwrap_or(&[]);
    let need = width * height * 3;
    if pixels.len() < need {
        bail!(
            "PPM {width}x{height} needs {need} bytes of samples, the file has {}",
            pixels.len()
        );
    }
    Ok((width, height, &pixels[..need]))
}

fn most_common(pixels: &[u8]) -> [u8; 3] {
    let mut counts = std::collections::HashMap::new();
    for p in pixels.chunks_exact(3) {
        *counts.entry([p[0], p[1], p[2]]).or_insert(0usize) += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(colour, n)| (*n, *colour))
        .map_or([0; 3], |(colour, _)| colour)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ppm(width: usize, height: usize, lit: usize) -> Vec<u8> {
        let mut v = format!("P6\n{width} {height}\n255\n").into_bytes();
        for i in 0..width * height {
            v.extend_from_slice(if i < lit { &[0xaa; 3] } else { &[0; 3] });
        }
        v
    }

    #[test]
    fn text_on_black_is_drawn_and_black_is_blank() {
        assert_eq!(
            describe(&ppm(100, 20, 600)).unwrap(),
            "100x20, 600 of 2000 pixels differ from the background #000000: drawn"
        );
        assert!(describe(&ppm(100, 20, 10)).unwrap().ends_with(": blank"));
    }

    #[test]
    fn a_short_or_foreign_file_is_an_error() {
        let mut short = ppm(10, 10, 0);
        short.truncate(50);
        assert!(
            describe(&short)
                .unwrap_err()
                .to_string()
                .contains("needs 300 bytes")
        );
        assert!(describe(b"P3\n1 1\n255\n0 0 0").is_err());
        assert!(describe(b"").is_err());
    }
}
