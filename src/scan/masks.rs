//! Byte-class bit masks of 16-byte blocks: bit `i` of a mask is set when byte `i` of the
//! block is in the class. The full-text passes of the scanner (digits and capitals,
//! base64 seeds) classify each block once with a few SIMD compares and a `movemask`,
//! then visit only the set bits; most blocks of prose set none.
//!
//! On x86_64 this is SSE2 (part of the x86_64 baseline) through `safe_arch`'s safe
//! wrappers of the intrinsics; elsewhere a scalar loop computes the same masks (a
//! property test checks the two agree on every byte).

/// Sixteen bytes, ready to be classified.
#[derive(Clone, Copy)]
pub(crate) struct Block(Repr);

/// One boolean per byte of a [`Block`]; [`Lanes::bits`] turns them into a mask.
#[derive(Clone, Copy)]
pub(crate) struct Lanes(LanesRepr);

#[cfg(target_arch = "x86_64")]
type Repr = safe_arch::m128i;
#[cfg(target_arch = "x86_64")]
type LanesRepr = safe_arch::m128i;
#[cfg(not(target_arch = "x86_64"))]
type Repr = [u8; 16];
#[cfg(not(target_arch = "x86_64"))]
type LanesRepr = u16;

#[cfg(target_arch = "x86_64")]
impl Block {
    /// The block of these bytes (one unaligned load).
    #[inline(always)]
    pub fn load(bytes: &[u8; 16]) -> Self {
        Block(safe_arch::load_unaligned_m128i(bytes))
    }

    /// Bytes in `lo..=hi` (unsigned; `hi - lo` below 255).
    #[inline(always)]
    pub fn range(self, lo: u8, hi: u8) -> Lanes {
        use safe_arch::{add_i8_m128i, cmp_lt_mask_i8_m128i, set_splat_i8_m128i};
        // `b - lo` (wrapping) below `hi - lo + 1`, as a signed compare after moving 0
        // to -128.
        let shifted = add_i8_m128i(
            self.0,
            set_splat_i8_m128i(0x80u8.wrapping_sub(lo).cast_signed()),
        );
        let limit = (hi - lo).wrapping_add(0x81).cast_signed();
        Lanes(cmp_lt_mask_i8_m128i(shifted, set_splat_i8_m128i(limit)))
    }

    /// Bytes equal to `b`.
    #[inline(always)]
    pub fn eq(self, b: u8) -> Lanes {
        use safe_arch::{cmp_eq_mask_i8_m128i, set_splat_i8_m128i};
        Lanes(cmp_eq_mask_i8_m128i(
            self.0,
            set_splat_i8_m128i(b.cast_signed()),
        ))
    }
}

#[cfg(target_arch = "x86_64")]
impl Lanes {
    /// Bytes in either.
    #[inline(always)]
    pub fn or(self, other: Lanes) -> Lanes {
        Lanes(safe_arch::bitor_m128i(self.0, other.0))
    }

    /// Bit `i` set for byte `i` in the class.
    #[inline(always)]
    pub fn bits(self) -> u16 {
        safe_arch::move_mask_i8_m128i(self.0) as u16
    }
}

#[cfg(not(target_arch = "x86_64"))]
impl Block {
    /// The block of these bytes.
    #[inline(always)]
    pub fn load(bytes: &[u8; 16]) -> Self {
        Block(*bytes)
    }

    /// Bytes in `lo..=hi` (unsigned; `hi - lo` below 255).
    #[inline(always)]
    pub fn range(self, lo: u8, hi: u8) -> Lanes {
        self.mask(|b| b.wrapping_sub(lo) <= hi - lo)
    }

    /// Bytes equal to `b`.
    #[inline(always)]
    pub fn eq(self, b: u8) -> Lanes {
        self.mask(|x| x == b)
    }

    fn mask(self, class: impl Fn(u8) -> bool) -> Lanes {
        Lanes(
            self.0
                .iter()
                .enumerate()
                .fold(0u16, |m, (i, &b)| m | (u16::from(class(b)) << i)),
        )
    }
}

#[cfg(not(target_arch = "x86_64"))]
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
                assert_eq!(
                    block.range(lo, hi).bits(),
                    naive(&bytes, |x| (lo..=hi).contains(&x)),
                    "{lo}..={hi} on {bytes:?}"
                );
            }
            assert_eq!(block.eq(b).bits(), naive(&bytes, |x| x == b));
        }
    }

    proptest::proptest! {
        #[test]
        fn masks_equal_byte_tests(
            bytes in proptest::array::uniform16(proptest::num::u8::ANY),
            lo in proptest::num::u8::ANY,
            width in 0u8..255,
            eq in proptest::num::u8::ANY,
        ) {
            let hi = lo.saturating_add(width);
            let block = Block::load(&bytes);
            proptest::prop_assert_eq!(
                block.range(lo, hi).bits(),
                naive(&bytes, |x| (lo..=hi).contains(&x))
            );
            proptest::prop_assert_eq!(
                block.range(lo, hi).or(block.eq(eq)).bits(),
                naive(&bytes, |x| (lo..=hi).contains(&x) || x == eq)
            );
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
