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
