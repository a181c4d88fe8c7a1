//! Order statistics from histograms of order keys: the first histogram's
//! buckets (the top bits of each key) say where each wanted rank lies; only the
//! keys of those buckets are kept, and a radix selection on the following bits
//! narrows them down to a few, which a comparison selection finishes.

use super::OrderKey;

pub(crate) const fn buckets<T: OrderKey>() -> usize {
    1 << T::TOP_BITS
}

/// Distance between two histograms: a few cache lines more than one, so that
/// the same bucket of different histograms neither shares an L1 set nor
/// aliases modulo 4 KiB (which stalls loads behind stores).
pub(crate) const fn stride<T: OrderKey>() -> usize {
    buckets::<T>() + 48
}

#[inline(always)]
pub(crate) fn top<T: OrderKey>(key: T::Key) -> usize {
    T::digit(key, T::KEY_BITS - T::TOP_BITS, T::TOP_BITS)
}

/// The (bucket, offset in bucket) of each sorted rank in histogram `h`.
pub(crate) fn locate_ranks(h: &[u32], ranks: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(ranks.len());
    let mut r = ranks.iter().copied().peekable();
    let mut below = 0usize;
    for (b, &count) in h.iter().enumerate() {
        let c = count as usize;
        while let Some(rank) = r.next_if(|&rank| rank < below + c) {
            out.push((b, rank - below));
        }
        below += c;
    }
    out
}

/// Below this many keys a comparison selection finishes the job.
const SMALL: usize = 2048;

/// The keys at offsets `offs` (ascending) among `keys`, all of which agree
/// above bit `shift`: a histogram of the next 12 bits says which digit each
/// offset falls in, and only the keys of those digits go on (one filtering
/// for all offsets, which usually share a digit).
fn radix_select<T: OrderKey>(
    keys: &mut [T::Key],
    offs: &[usize],
    shift: u32,
    out: &mut Vec<T::Key>,
) {
    const BITS: u32 = 12;
    if keys.len() <= SMALL || shift == 0 {
        let mut start = 0;
        for &off in offs {
            if off >= start {
                keys[start..].select_nth_unstable(off - start);
                start = off + 1;
            }
            out.push(keys[off]);
        }
        return;
    }
    let bits = shift.min(BITS);
    let shift = shift - bits;
    let mut hist = vec![0usize; 1 << bits];
    for &key in keys.iter() {
        hist[T::digit(key, shift, bits)] += 1;
    }
    // Per offset: its digit and its offset among that digit's keys.
    let (mut d, mut below) = (0usize, 0usize);
    let mut at = Vec::with_capacity(offs.len());
    for &off in offs {
        while below + hist[d] <= off {
            below += hist[d];
            d += 1;
        }
        at.push((d, off - below));
    }
    let mut i = 0;
    while i < at.len() {
        let d = at[i].0;
        let same = at[i..].iter().take_while(|a| a.0 == d).count();
        let mut sub: Vec<T::Key> = keys
            .iter()
            .copied()
            .filter(|&key| T::digit(key, shift, bits) == d)
            .collect();
        let sub_offs: Vec<usize> = at[i..i + same].iter().map(|a| a.1).collect();
        radix_select::<T>(&mut sub, &sub_offs, shift, out);
        i += same;
    }
}

/// The values at the given offsets (ascending) among `keys`, every key of
/// one bucket, in any order; NaN for an offset past the end.
pub(crate) fn select_in_bucket<T: OrderKey>(keys: &mut [T::Key], offsets: &[usize]) -> Vec<f64> {
    let fits = offsets.iter().take_while(|&&o| o < keys.len()).count();
    let mut out = Vec::with_capacity(offsets.len());
    radix_select::<T>(keys, &offsets[..fits], T::KEY_BITS - T::TOP_BITS, &mut out);
    let mut v: Vec<f64> = out.into_iter().map(T::from_key).collect();
    v.resize(offsets.len(), f64::NAN);
    v
}
