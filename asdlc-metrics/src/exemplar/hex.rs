//! Hex digits of trace and span ids: checked, decoded and written.
//!
//! Checking is on a request's path (a `traceparent` carries 52 digits), so
//! it takes eight digits at a time: one `u64` holds eight ASCII bytes and a
//! few integer operations check all of them at once (SWAR). A
//! digit-by-digit loop, even through a lookup table, cost ~7 instructions a
//! digit (~360 per request). Decoding works the same way; writing is at
//! scrape time and stays simple.

/// Which letters a reader accepts as digits.
#[derive(Clone, Copy)]
pub(super) enum Case {
    /// `a`–`f` only: W3C Trace Context.
    Lower,
    /// `a`–`f` and `A`–`F`: ids as applications write them.
    Any,
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
const LOW_NIBBLES: u64 = u64::from_ne_bytes([0x0f; 8]);

/// Per byte of `x`, its high bit set where `lo <= byte <= hi`.
///
/// Exact for bytes below 0x80: adding at most 0x80 to one cannot carry into
/// the next. A byte of 0x80 or more may disturb the bytes above it, which is
/// why [`valid`] rejects a word holding one as a whole.
#[inline]
const fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    let at_least_lo = x.wrapping_add(ONES * (0x80 - lo as u64));
    let above_hi = x.wrapping_add(ONES * (0x7f - hi as u64));
    at_least_lo & !above_hi & HIGH
}

/// Per byte of `x` (eight ASCII digits, the first in the lowest byte), the
/// high bit set where it is a letter of `case`.
#[inline]
fn letters(x: u64, case: Case) -> u64 {
    match case {
        Case::Lower => in_range(x, b'a', b'f'),
        Case::Any => in_range(x, b'a', b'f') | in_range(x, b'A', b'F'),
    }
}

/// `HIGH` when all eight bytes of `x` are digits of `case`, given
/// `letters(x, case)`.
#[inline]
fn valid(x: u64, letters: u64) -> u64 {
    // `& !x` drops the bytes of 0x80 and more (see `in_range`).
    (in_range(x, b'0', b'9') | letters) & !x
}

/// Whether `digits` (a multiple of eight) are all hex digits of `case`,
/// without decoding them: about half the work of [`decode`].
#[cfg(test)]
fn all_digits(digits: &[u8], case: Case) -> bool {
    let mut words = digits.chunks_exact(8);
    let bad = (&mut words).fold(0, |bad, word| {
        bad | not_digits(&word.try_into().unwrap_or([0; 8]), case)
    });
    words.remainder().is_empty() && bad == 0
}

/// Per byte of `x`, its high bit set where `byte >= lo`; exact for bytes
/// below 0x80 (see [`in_range`]).
#[inline(always)]
const fn at_least(x: u64, lo: u8) -> u64 {
    x.wrapping_add(ONES * (0x80 - lo as u64))
}

/// Per byte of `x`, its high bit set where it is a digit of `case` (exact
/// for bytes below 0x80), and other bits of no meaning.
///
/// The ranges' bounds are thresholds a byte passes in order: a digit of
/// `0`–`9` passes one (`>= '0'`), of `a`–`f` three (`>= '0'`, `>= ':'`,
/// `>= 'a'`), and every other byte an even number. So the XOR of the
/// thresholds is the test: one addition per bound and an XOR, where a
/// range check is two additions and two masks.
#[inline(always)]
const fn digit_bits(x: u64, case: Case) -> u64 {
    let lower =
        at_least(x, b'0') ^ at_least(x, b'9' + 1) ^ at_least(x, b'a') ^ at_least(x, b'f' + 1);
    match case {
        Case::Lower => lower,
        Case::Any => lower ^ at_least(x, b'A') ^ at_least(x, b'F' + 1),
    }
}

/// The bytes of `digits` (`N` a multiple of eight) that are not digits of
/// `case`: their high bits, OR-ed over the words. Zero when all are
/// digits.
///
/// No branch per word: a caller checking several fields ORs their results
/// and tests once.
// Always inlined: the length is then a constant, and the words unroll into
// straight-line code beside the caller's own checks.
#[inline(always)]
pub(super) fn not_digits<const N: usize>(digits: &[u8; N], case: Case) -> u64 {
    const { assert!(N % 8 == 0, "whole words") };
    let mut bad = 0;
    for i in 0..N / 8 {
        let word: [u8; 8] = digits[8 * i..8 * i + 8].try_into().unwrap_or([0; 8]);
        let x = u64::from_le_bytes(word);
        // `| x`: a byte of 0x80 or more is no digit, and may have disturbed
        // the bytes above it (see `in_range`).
        bad |= !digit_bits(x, case) | x;
    }
    bad & HIGH
}

/// Eight digits, the first in the lowest byte, as four bytes (the first in
/// the lowest byte), with `HIGH` when all eight are digits of `case`.
#[inline]
fn word(x: u64, case: Case) -> (u32, u64) {
    let letters = letters(x, case);
    // A digit's low nibble is its value; a letter's is 1–6, nine short.
    let nibbles = (x & LOW_NIBBLES) + (letters >> 7) * 9;
    // Each even byte takes its odd neighbour as its low nibble, then the
    // four even bytes close up.
    let pairs = (nibbles << 4 | nibbles >> 8) & 0x00ff_00ff_00ff_00ff;
    let quads = (pairs | pairs >> 8) & 0x0000_ffff_0000_ffff;
    #[allow(clippy::cast_possible_truncation)] // the four bytes are the low 32 bits
    let bytes = (quads | quads >> 16) as u32;
    (bytes, valid(x, letters))
}

/// `2 * N` hex digits of `case` as `N` bytes; `None` for any other length
/// or any byte that is not such a digit. `N` is a multiple of four.
#[inline]
pub(super) fn decode<const N: usize>(digits: &[u8], case: Case) -> Option<[u8; N]> {
    const { assert!(N % 4 == 0, "eight digits a word") };
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    // One test at the end, not a branch per word: ids are valid far more
    // often than not.
    let mut valid = HIGH;
    for i in 0..N / 4 {
        // In bounds: `digits` is `2 * N` long, checked above.
        let chunk: [u8; 8] = digits[8 * i..8 * i + 8].try_into().ok()?;
        let (value, ok) = word(u64::from_le_bytes(chunk), case);
        valid &= ok;
        out[4 * i..4 * i + 4].copy_from_slice(&value.to_le_bytes());
    }
    (valid == HIGH).then_some(out)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` as lowercase hex digits.
pub(super) fn push(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules, one digit at a time: what `decode` must agree with.
    fn digit(c: u8, case: Case) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' if matches!(case, Case::Any) => Some(c - b'A' + 10),
            _ => None,
        }
    }

    fn by_digit<const N: usize>(digits: &[u8], case: Case) -> Option<[u8; N]> {
        if digits.len() != 2 * N {
            return None;
        }
        let mut out = [0u8; N];
        for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = digit(pair[0], case)? << 4 | digit(pair[1], case)?;
        }
        Some(out)
    }

    #[test]
    fn every_byte_in_every_position_decodes_as_the_rules_say() {
        let valid = *b"0123456789abcdefABCDEF0f9a8b7c6d";
        for case in [Case::Lower, Case::Any] {
            assert_eq!(
                decode::<16>(&valid, case),
                by_digit::<16>(&valid, case),
                "uppercase is valid in Case::Any only"
            );
            for position in 0..valid.len() {
                for byte in 0..=255u8 {
                    let mut digits = valid;
                    digits[position] = byte;
                    let expected = by_digit::<16>(&digits, case);
                    assert_eq!(
                        decode::<16>(&digits, case),
                        expected,
                        "{byte:#04x} at {position}"
                    );
                    assert_eq!(all_digits(&digits, case), expected.is_some());
                }
            }
        }
    }

    #[test]
    fn random_digit_strings_decode_as_the_rules_say() {
        // Bytes near every edge the word arithmetic has (around the digit
        // and letter ranges, and 0x80 and up, which carry), drawn by a
        // fixed xorshift so that a failure replays.
        let alphabet = b"/09:@AFG`afg\x7f\x80\xb0\xffx-";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200_000 {
            let mut digits = [0u8; 16];
            for d in &mut digits {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Mostly valid digits, so that valid words are common too.
                *d = if state % 4 == 0 {
                    alphabet[(state >> 8) as usize % alphabet.len()]
                } else {
                    b"0123456789abcdefABCDEF"[(state >> 8) as usize % 22]
                };
            }
            for case in [Case::Lower, Case::Any] {
                let expected = by_digit::<8>(&digits, case);
                assert_eq!(decode::<8>(&digits, case), expected, "{digits:?}");
                assert_eq!(all_digits(&digits, case), expected.is_some());
            }
        }
    }

    #[test]
    fn lengths_other_than_twice_the_bytes_are_refused() {
        assert_eq!(decode::<4>(b"0123456", Case::Lower), None);
        assert!(!all_digits(b"0123456789", Case::Lower), "not whole words");
        assert_eq!(decode::<4>(b"012345678", Case::Lower), None);
        assert_eq!(
            decode::<4>(b"00f067aa", Case::Lower),
            Some([0x00, 0xf0, 0x67, 0xaa])
        );
    }

    #[test]
    fn writing_is_lowercase_and_reads_back() {
        let bytes = [0x00, 0x0f, 0xa5, 0xff, 0x10, 0x7e, 0xc3, 0x01];
        let mut text = Vec::new();
        push(&mut text, &bytes);
        assert_eq!(text, b"000fa5ff107ec301");
        assert_eq!(decode::<8>(&text, Case::Lower), Some(bytes));
    }
}
