//! Byte-class bit masks of 16-byte blocks: bit `i` of a mask is set when byte `i` of the
//! block is in the class. The scanner's shared pass over the text (digits, capitals and
//! the blocks the base64 search starts from, see `detectors/shapes.rs`) classifies each
//! block with a few SIMD compares and a `movemask`, then visits only the set bits.
//!
//! On x86_64 this is SSE2 (part of the x86_64 baseline) through `safe_arch`'s safe
//! wrappers of the intrinsics: the crate forbids `unsafe`, and a safe
//! `#[target_feature]` function still needs `unsafe` to be called from code without
//! the attribute, even for a feature the target always has. Elsewhere a scalar loop
//! computes the same masks (the tests below check both against byte tests, and the
//! scalar path is what every other architecture runs).

#[cfg(target_arch = "x86_64")]
pub(crate) use sse2::Block;

#[cfg(not(target_arch = "x86_64"))]
pub(crate) use scalar::Block;

/// SSE2, one compare per class and one `movemask` per mask.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use safe_arch::{
        add_i8_m128i, bitor_m128i, cmp_lt_mask_i8_m128i, load_unaligned_m128i, m128i,
        move_mask_i8_m128i, set_splat_i8_m128i,
    };

    /// Sixteen bytes, ready to be classified.
    #[derive(Clone, Copy)]
    pub(crate) struct Block(m128i);

    /// One boolean per byte of a [`Block`]; [`Lanes::bits`] turns them into a mask.
    #[derive(Clone, Copy)]
    pub(crate) struct Lanes(m128i);

    impl Block {
        /// The block of these bytes (one unaligned load).
        #[inline(always)]
        pub fn load(bytes: &[u8; 16]) -> Self {
            Block(load_unaligned_m128i(bytes))
        }

        /// Bytes in `lo..=hi` (unsigned; `hi - lo` below 255).
        #[inline(always)]
        pub fn range(self, lo: u8, hi: u8) -> Lanes {
            // `b - lo` (wrapping) below `hi - lo + 1`, as a signed compare after moving
            // 0 to -128.
            let shifted = add_i8_m128i(
                self.0,
                set_splat_i8_m128i(0x80u8.wrapping_sub(lo).cast_signed()),
            );
            let limit = (hi - lo).wrapping_add(0x81).cast_signed();
            Lanes(cmp_lt_mask_i8_m128i(shifted, set_splat_i8_m128i(limit)))
        }
    }

    impl Lanes {
        /// Bytes in either.
        #[inline(always)]
        pub fn or(self, other: Lanes) -> Lanes {
            Lanes(bitor_m128i(self.0, other.0))
        }

        /// Bit `i` set for byte `i` in the class.
        #[inline(always)]
        pub fn bits(self) -> u16 {
            move_mask_i8_m128i(self.0) as u16
        }
    }
}

/// The same masks, a byte at a time: what other architectures run, and what the tests
/// hold the SIMD masks to.
#[cfg(any(test, not(target_arch = "x86_64")))]
mod scalar {
    /// Sixteen bytes, ready to be classified.
    #[derive(Clone, Copy)]
    pub(crate) struct Block([u8; 16]);

    /// One bit per byte of a [`Block`].
    #[derive(Clone, Copy)]
    pub(crate) struct Lanes(u16);

    impl Block {
        /// The block of these bytes.
        #[inline(always)]
        pub fn load(bytes: &[u8; 16]) -> Self {
            Block(*bytes)
        }

        /// Bytes in `lo..=hi` (unsigned; `hi - lo` below 255).
        #[inline(always)]
        pub fn range(self, lo: u8, hi: u8) -> Lanes {
            Lanes(self.0.iter().enumerate().fold(0u16, |m, (i, &b)| {
                m | (u16::from(b.wrapping_sub(lo) <= hi - lo) << i)
            }))
        }
    }

    impl Lanes {
        /// Bytes in either.
        #[inline(always)]
        pub fn or(self, other: Lanes) -> Lanes {
            Lanes(self.0 | other.0)
        }

        /// Bit `i` set for byte `i` in the class.
        #[inline(always)]
        pub fn bits(self) -> u16 {
            self.0
        }
    }
}

/// Writes the folded form of `bytes` to `out` (as long as `bytes`): ASCII letters in
/// lowercase, ASCII digits as they are, a space for every other byte. Returns, for each
/// 64 bytes (the last ones padded), the mask of the ASCII letters and digits among
/// them: the fold computes it anyway, so the trigger pass needs no second look at the
/// folded text to find where words start.
#[inline(never)]
pub(crate) fn fold(bytes: &[u8], out: &mut [u8], words: &mut Vec<u64>) {
    words.clear();
    words.reserve(bytes.len().div_ceil(64));
    let (blocks, rest) = bytes.as_chunks::<64>();
    let (out_blocks, out_rest) = out.as_chunks_mut::<64>();
    for (block, folded) in blocks.iter().zip(out_blocks) {
        words.push(fold64(block, folded));
    }
    if !rest.is_empty() {
        let mut block = [0u8; 64];
        let mut folded = [0u8; 64];
        if let Some(b) = block.get_mut(..rest.len()) {
            b.copy_from_slice(rest);
        }
        let word = fold64(&block, &mut folded);
        if let (Some(o), Some(f)) = (out_rest.get_mut(..rest.len()), folded.get(..rest.len())) {
            o.copy_from_slice(f);
        }
        // Padding is no word (a zero byte is not alphanumeric).
        words.push(word);
    }
}

/// One 64-byte block of [`fold`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn fold64(block: &[u8; 64], out: &mut [u8; 64]) -> u64 {
    use safe_arch::{
        add_i8_m128i, bitand_m128i, bitor_m128i, bitxor_m128i, cmp_lt_mask_i8_m128i,
        load_unaligned_m128i, move_mask_i8_m128i, set_splat_i8_m128i, store_unaligned_m128i,
    };
    // `b - lo` (wrapping) below `hi - lo + 1`, as a signed compare after moving 0 to
    // -128 (as `Block::range`).
    let range = |v, lo: u8, hi: u8| {
        let shifted = add_i8_m128i(v, set_splat_i8_m128i(0x80u8.wrapping_sub(lo).cast_signed()));
        cmp_lt_mask_i8_m128i(
            shifted,
            set_splat_i8_m128i((hi - lo).wrapping_add(0x81).cast_signed()),
        )
    };
    let space = set_splat_i8_m128i(0x20);
    let (quarters, _) = block.as_chunks::<16>();
    let (outs, _) = out.as_chunks_mut::<16>();
    let mut word = 0u64;
    for (q, (quarter, folded)) in quarters.iter().zip(outs).enumerate() {
        let v = load_unaligned_m128i(quarter);
        // Letters in lowercase; digits already have the 0x20 bit.
        let lower = bitor_m128i(v, space);
        let alnum = bitor_m128i(range(lower, b'a', b'z'), range(v, b'0', b'9'));
        // `lower` where alphanumeric, a space elsewhere.
        let f = bitxor_m128i(bitand_m128i(bitxor_m128i(lower, space), alnum), space);
        store_unaligned_m128i(folded, f);
        word |= u64::from(move_mask_i8_m128i(alnum) as u16) << (16 * q);
    }
    word
}

/// One 64-byte block of [`fold`], a byte at a time.
#[cfg(not(target_arch = "x86_64"))]
fn fold64(block: &[u8; 64], out: &mut [u8; 64]) -> u64 {
    let mut word = 0u64;
    for (i, (&b, o)) in block.iter().zip(out.iter_mut()).enumerate() {
        let alnum = b.is_ascii_alphanumeric();
        *o = if alnum { b.to_ascii_lowercase() } else { b' ' };
        word |= u64::from(alnum) << i;
    }
    word
}

/// The masks of the 64 bytes of `block`, four 16-byte blocks at a time, combined into
/// one 64-bit mask per class: `classify(block16) -> [u16; N]`.
#[inline(always)]
pub(crate) fn masks64<const N: usize>(
    block: &[u8; 64],
    classify: impl Fn(Block) -> [u16; N],
) -> [u64; N] {
    let (quarters, _) = block.as_chunks::<16>();
    let mut out = [0u64; N];
    for (q, quarter) in quarters.iter().enumerate() {
        let masks = classify(Block::load(quarter));
        for (o, m) in out.iter_mut().zip(masks) {
            *o |= u64::from(m) << (16 * q);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(bytes: &[u8; 16], class: impl Fn(u8) -> bool) -> u16 {
        (0..16).fold(0, |m, i| m | (u16::from(class(bytes[i])) << i))
    }

    /// The scalar masks of `bytes` for `lo..=hi`, and for it or `other`.
    fn scalar_masks(bytes: &[u8; 16], lo: u8, hi: u8, other: u8) -> (u16, u16) {
        let block = scalar::Block::load(bytes);
        let range = block.range(lo, hi);
        (range.bits(), range.or(block.range(other, other)).bits())
    }

    #[test]
    fn every_byte_in_every_lane() {
        for b in 0..=u8::MAX {
            let mut bytes = [0u8; 16];
            for (i, x) in bytes.iter_mut().enumerate() {
                *x = b.wrapping_add(i as u8 * 17);
            }
            let block = Block::load(&bytes);
            for (lo, hi) in [
                (b'0', b'9'),
                (b'A', b'Z'),
                (0xC0, 0xFF),
                (0, 0x2A),
                (0, 0),
                (1, 254),
            ] {
                let expected = naive(&bytes, |x| (lo..=hi).contains(&x));
                assert_eq!(
                    block.range(lo, hi).bits(),
                    expected,
                    "{lo}..={hi} on {bytes:?}"
                );
                assert_eq!(
                    scalar_masks(&bytes, lo, hi, lo).0,
                    expected,
                    "{lo}..={hi} on {bytes:?}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn masks_equal_byte_tests(
            bytes in proptest::array::uniform16(proptest::num::u8::ANY),
            lo in proptest::num::u8::ANY,
            width in 0u8..255,
            other in proptest::num::u8::ANY,
        ) {
            let hi = lo.saturating_add(width);
            let block = Block::load(&bytes);
            let range = block.range(lo, hi).bits();
            let either = block.range(lo, hi).or(block.range(other, other)).bits();
            proptest::prop_assert_eq!(range, naive(&bytes, |x| (lo..=hi).contains(&x)));
            proptest::prop_assert_eq!(either, naive(&bytes, |x| (lo..=hi).contains(&x) || x == other));
            proptest::prop_assert_eq!((range, either), scalar_masks(&bytes, lo, hi, other));
        }

        #[test]
        fn fold_lowercases_alphanumerics_and_marks_them(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        ) {
            let mut out = vec![0u8; bytes.len()];
            let mut words = Vec::new();
            fold(&bytes, &mut out, &mut words);
            let expected: Vec<u8> = bytes
                .iter()
                .map(|b| if b.is_ascii_alphanumeric() { b.to_ascii_lowercase() } else { b' ' })
                .collect();
            proptest::prop_assert_eq!(&out, &expected);
            proptest::prop_assert_eq!(words.len(), bytes.len().div_ceil(64));
            for (i, b) in bytes.iter().enumerate() {
                let bit = words.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1);
                proptest::prop_assert_eq!(bit, b.is_ascii_alphanumeric(), "{}", i);
            }
            // Past the end: no word.
            for i in bytes.len()..words.len() * 64 {
                let bit = words.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1);
                proptest::prop_assert!(!bit, "{}", i);
            }
        }

        #[test]
        fn masks64_places_each_quarter(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 64),
        ) {
            let mut block = [0u8; 64];
            block.copy_from_slice(&bytes);
            let [digits, high] = masks64(&block, |b| {
                [b.range(b'0', b'9').bits(), b.range(0x80, 0xFF).bits()]
            });
            let naive64 = |class: &dyn Fn(u8) -> bool| {
                (0..64).fold(0u64, |m, i| m | (u64::from(class(block[i])) << i))
            };
            proptest::prop_assert_eq!(digits, naive64(&|x| x.is_ascii_digit()));
            proptest::prop_assert_eq!(high, naive64(&|x| x >= 0x80));
        }
    }
}
