//! The decoder against `lzma-rust2`: streams its encoder writes (every
//! preset and lc/lp/pb coreboot and xz use, with and without a known size)
//! must come back byte for byte, and damaged ones must end in an error,
//! never a panic.

use super::*;
use alloc::vec;
use lzma_rust2::{LzmaOptions, LzmaWriter};
use std::io::Write;

/// A .lzma stream of `data` ("alone" header; `known_size` false writes
/// the unknown size and an end marker, as `xz --format=lzma` does).
fn compress(data: &[u8], options: &LzmaOptions, known_size: bool) -> Vec<u8> {
    let size = known_size.then_some(data.len() as u64);
    let mut w = LzmaWriter::new_use_header(Vec::new(), options, size).expect("encoder");
    w.write_all(data).expect("encode");
    w.finish().expect("finish")
}

/// Text-like data with long and short repeats, then noise.
fn sample(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let words: [&[u8]; 6] = [
        b"baton ",
        b"parks ",
        b"the APs ",
        b"\0\0\0\0",
        b"kexec\n",
        b"0x1000 ",
    ];
    let mut out = Vec::new();
    while out.len() < len {
        match rand() % 8 {
            0..5 => out.extend_from_slice(words[(rand() % 6) as usize]),
            5 if out.len() > 300 => {
                let from = out.len() - 1 - (rand() % 300) as usize;
                for i in 0..(rand() % 40) as usize {
                    out.push(out[from + i % (out.len() - from)]);
                }
            }
            _ => out.push(rand() as u8),
        }
    }
    out.truncate(len);
    out
}

fn round_trip(data: &[u8], options: &LzmaOptions, known_size: bool) {
    let stream = compress(data, options, known_size);
    let mut out = vec![0u8; data.len()];
    let got = decode(&stream, &mut out, 8 << 10).unwrap_or_else(|e| {
        panic!(
            "{} bytes, lc={} lp={} pb={}, known size {known_size}: {e}",
            data.len(),
            options.lc,
            options.lp,
            options.pb
        )
    });
    assert_eq!(got, data.len());
    assert!(out == data, "{} bytes decoded differently", data.len());
}

#[test]
fn every_preset_round_trips() {
    let data = sample(200_000, 7);
    for preset in 0..=9 {
        let mut options = LzmaOptions::with_preset(preset);
        options.dict_size = 1 << 20;
        round_trip(&data, &options, true);
    }
}

#[test]
fn every_literal_and_position_setting_round_trips() {
    let data = sample(40_000, 11);
    for (lc, lp, pb) in [
        (0, 0, 0),
        (3, 0, 2),
        (8, 0, 0),
        (0, 4, 4),
        (4, 4, 4),
        (1, 2, 3),
        (8, 4, 4),
    ] {
        let mut options = LzmaOptions::with_preset(6);
        (options.lc, options.lp, options.pb) = (lc, lp, pb);
        round_trip(&data, &options, true);
    }
}

#[test]
fn an_unknown_size_ends_at_the_end_marker() {
    let options = LzmaOptions::with_preset(6);
    for data in [vec![], vec![0u8; 100_000], sample(70_000, 3)] {
        round_trip(&data, &options, false);
        // The output buffer may be larger: the marker ends the stream.
        let stream = compress(&data, &options, false);
        let mut out = vec![0u8; data.len() + 100];
        assert_eq!(decode(&stream, &mut out, 1024), Ok(data.len()));
        assert!(out[..data.len()] == data[..]);
    }
}

#[test]
fn incompressible_and_empty_data_round_trip() {
    let options = LzmaOptions::with_preset(6);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..50_000)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 56) as u8
        })
        .collect();
    round_trip(&noise, &options, true);
    round_trip(&[], &options, true);
    round_trip(&[42], &options, true);
}

#[test]
fn far_distances_use_the_direct_bits() {
    // A 1 MiB block repeated after noise: matches reach back 1 MiB, so
    // the distance slots past 14 (direct bits plus the align coder) are used.
    let block = sample(1 << 20, 5);
    let mut data = block.clone();
    data.extend_from_slice(&block);
    let mut options = LzmaOptions::with_preset(6);
    options.dict_size = 4 << 20;
    round_trip(&data, &options, true);
}

#[test]
fn a_smaller_output_gets_the_first_bytes() {
    let data = sample(50_000, 9);
    let stream = compress(&data, &LzmaOptions::with_preset(6), true);
    let mut out = vec![0u8; 1234];
    assert_eq!(decode(&stream, &mut out, 1024), Ok(1234));
    assert!(out == data[..1234]);
}

#[test]
fn a_larger_output_gets_the_announced_size() {
    let data = sample(5_000, 9);
    let stream = compress(&data, &LzmaOptions::with_preset(6), true);
    let mut out = vec![0u8; 6_000];
    assert_eq!(decode(&stream, &mut out, 1024), Ok(5_000));
}

#[test]
fn every_truncation_is_an_error() {
    let data = sample(8_000, 13);
    let stream = compress(&data, &LzmaOptions::with_preset(6), true);
    let mut out = vec![0u8; data.len()];
    for cut in 0..stream.len() - 1 {
        let got = decode(&stream[..cut], &mut out, 1024);
        assert!(got.is_err(), "cut at {cut} of {}: {got:?}", stream.len());
    }
    assert!(matches!(
        decode(&stream[..5], &mut out, 1024),
        Err(LzmaError::ShortHeader { len: 5 })
    ));
    assert!(matches!(
        decode(&stream[..100], &mut out, 1024),
        Err(LzmaError::Truncated { .. })
    ));
}

#[test]
fn damaged_streams_end_in_an_error_or_other_bytes_never_a_panic() {
    let data = sample(8_000, 17);
    let stream = compress(&data, &LzmaOptions::with_preset(6), true);
    let mut out = vec![0u8; data.len()];
    let mut x = 1u64;
    for _ in 0..2_000 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1442695040888963407);
        let mut bad = stream.clone();
        let at = 14 + (x >> 33) as usize % (bad.len() - 14);
        bad[at] ^= 1 << ((x >> 20) % 8);
        let _ = decode(&bad, &mut out, 1024);
    }
}

#[test]
fn the_header_is_checked() {
    let mut out = [0u8; 16];
    let mut stream = compress(b"hello", &LzmaOptions::with_preset(6), true);
    stream[0] = 225;
    assert_eq!(
        decode(&stream, &mut out, 1024),
        Err(LzmaError::BadProperties { byte: 225 })
    );
    // lc=8 lp=4: 768 << 12 probabilities.
    stream[0] = 8 + 4 * 9;
    let err = decode(&stream, &mut out, 1024).expect_err("6 MiB of tables");
    assert_eq!(
        err.to_string(),
        "header: lc=8 lp=4 needs 6148 KiB of tables (the decoder may use 1024 KiB)"
    );
    stream[0] = 93; // lc=3 lp=0 pb=2
    stream[13] = 1;
    assert_eq!(decode(&stream, &mut out, 1024), Err(LzmaError::BadStart));
}

#[test]
fn the_heap_needed_is_the_tables() {
    let stream = compress(b"hello", &LzmaOptions::with_preset(6), true);
    assert_eq!(stream[0], 93);
    assert_eq!(heap_needed(&stream), (LITERAL as u64 + 0x300 * 8) * 2);
    assert_eq!(heap_needed(&[]), 0);
    assert_eq!(heap_needed(&[225]), 0);
}

#[test]
fn a_match_before_the_start_is_refused() {
    // Hand-made: after the header, a range coder that decodes a match
    // as the first symbol (all-ones code: every bit decodes as 1).
    let mut stream = vec![93, 0, 0, 16, 0, 10, 0, 0, 0, 0, 0, 0, 0];
    stream.extend_from_slice(&[0, 0xff, 0xff, 0xff, 0xfe]);
    stream.extend_from_slice(&[0xff; 64]);
    let mut out = [0u8; 10];
    let err = decode(&stream, &mut out, 1024).expect_err("no byte to copy from");
    assert!(
        matches!(err, LzmaError::BadDistance { at: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn agrees_with_lzma_rust2_on_garbage() {
    use lzma_rust2::LzmaReader;
    use std::io::Read;
    let mut x = 7u64;
    for round in 0..300 {
        let mut stream = vec![93, 0, 0, 1, 0];
        stream.extend_from_slice(&(300u64).to_le_bytes());
        stream.push(0);
        for _ in 0..(round % 60 + 4) {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            stream.push((x >> 56) as u8);
        }
        let mut ours = vec![0u8; 300];
        let mine = decode(&stream, &mut ours, 1024);
        let mut theirs = vec![0u8; 300];
        let reference = LzmaReader::new_mem_limit(&stream[..], 1024, None)
            .ok()
            .and_then(|mut r| {
                let mut done = 0;
                while done < theirs.len() {
                    match r.read(&mut theirs[done..]) {
                        Ok(0) => break,
                        Ok(n) => done += n,
                        Err(_) => return None,
                    }
                }
                Some(done)
            });
        if let (Ok(n), Some(m)) = (&mine, reference) {
            assert_eq!(*n, m, "round {round}");
            assert!(ours[..*n] == theirs[..m], "round {round}");
        }
    }
}
