//! Which of a group's populations each event belongs to.
//!
//! Gated populations nest, so few distinct membership patterns occur; each
//! event gets the index of its pattern (its class), and the shared passes count
//! a row once per class instead of once per population.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::gating::Members;

/// A population as the statistics read it.
#[derive(Clone, Copy, Debug)]
pub enum Pop<'a> {
    /// Every event.
    All,
    /// Sorted, distinct event indices.
    Sorted(&'a [u32]),
    /// Node `.1` of a gating result, as its bits.
    Bits(&'a Members, usize),
}

impl<'a> Pop<'a> {
    /// Members, of `n` events.
    pub fn len(&self, n: usize) -> usize {
        match *self {
            Pop::All => n,
            Pop::Sorted(m) => m.len(),
            Pop::Bits(m, g) => m.count(g),
        }
    }

    /// The members as a sorted list (`None`: every event); bits are unpacked.
    pub fn list(&self) -> Option<Cow<'a, [u32]>> {
        match *self {
            Pop::All => None,
            Pop::Sorted(m) => Some(Cow::Borrowed(m)),
            Pop::Bits(m, g) => Some(Cow::Owned(m.indices(g))),
        }
    }
}

/// Events per piece of the (parallel) classification.
const PIECE: usize = 1 << 16;

pub(crate) struct Membership {
    /// Per event, its class.
    pub class: Vec<u8>,
    /// Per class, its populations as bits.
    pub patterns: Vec<u32>,
    /// The class of events in none of the populations, if any.
    pub empty: Option<u8>,
    /// Events in at least one of the populations.
    pub union: usize,
}

/// Classes of `n` events for `pops` (at most 32); None when more than `max`
/// (at most 256) patterns occur.
pub(crate) fn classify(n: usize, pops: &[Pop<'_>], max: usize) -> Option<Membership> {
    let everyone = pops
        .iter()
        .enumerate()
        .filter(|(_, m)| matches!(m, Pop::All))
        .fold(0u32, |a, (i, _)| a | 1 << i);
    let mut class = vec![0u8; n];
    // Each piece: its events' masks, then local pattern indices.
    let local: Vec<Option<Vec<u32>>> = class
        .par_chunks_mut(PIECE)
        .enumerate()
        // One mask buffer per worker, not per piece: a fresh 256 KiB each
        // time is 64 page faults.
        .map_init(Vec::new, |mask: &mut Vec<u32>, (pi, out)| {
            let start = pi * PIECE;
            mask.clear();
            mask.resize(out.len(), everyone);
            for (i, m) in pops.iter().enumerate() {
                match *m {
                    Pop::All => {}
                    Pop::Sorted(m) => {
                        let lo = m.partition_point(|&e| (e as usize) < start);
                        let hi = m.partition_point(|&e| (e as usize) < start + out.len());
                        for &e in &m[lo..hi] {
                            mask[e as usize - start] |= 1 << i;
                        }
                    }
                    Pop::Bits(m, g) => or_bits(mask, m, g, start / 64, i as u32),
                }
            }
            local_classes(mask, out, max, pops.len() <= 16)
        })
        .collect();
    // The pieces' patterns, numbered in piece order.
    let mut patterns: Vec<u32> = Vec::new();
    let mut maps: Vec<Vec<u8>> = Vec::with_capacity(local.len());
    for l in &local {
        let mut map = Vec::new();
        for &m in l.as_ref()? {
            let c = match patterns.iter().position(|&x| x == m) {
                Some(c) => c,
                None => {
                    if patterns.len() == max {
                        return None;
                    }
                    patterns.push(m);
                    patterns.len() - 1
                }
            };
            map.push(c as u8);
        }
        maps.push(map);
    }
    let empty = patterns.iter().position(|&m| m == 0).map(|c| c as u8);
    let outside: usize = class
        .par_chunks_mut(PIECE)
        .zip(maps.par_iter())
        .map(|(out, map)| {
            let mut none = 0;
            for c in out.iter_mut() {
                *c = map[*c as usize];
                none += (Some(*c) == empty) as usize;
            }
            none
        })
        .sum();
    Some(Membership {
        union: n - outside,
        class,
        patterns,
        empty,
    })
}

/// Writes each event's index among the piece's own patterns; returns those.
/// A small hash table finds a pattern's index: events of different classes
/// interleave, so a linear search would run (and mispredict) on most events.
fn local_classes(mask: &[u32], out: &mut [u8], max: usize, narrow: bool) -> Option<Vec<u32>> {
    if narrow {
        return local_classes_direct(mask, out, max);
    }
    const SLOTS: usize = 256;
    let slot = |m: u32| (m.wrapping_mul(0x9E37_79B1) >> 24) as usize;
    let mut table = [(0u32, u8::MAX); SLOTS];
    let mut patterns: Vec<u32> = Vec::new();
    for (o, &m) in out.iter_mut().zip(mask) {
        let mut h = slot(m);
        loop {
            let (key, c) = table[h];
            if c == u8::MAX {
                // A new pattern.
                if patterns.len() == max {
                    return None;
                }
                patterns.push(m);
                table[h] = (m, (patterns.len() - 1) as u8);
                *o = (patterns.len() - 1) as u8;
                break;
            }
            if key == m {
                *o = c;
                break;
            }
            h = (h + 1) % SLOTS;
        }
    }
    Some(patterns)
}

/// [`local_classes`] for masks of at most 16 bits: a table indexed by the
/// mask itself, no hashing or probing.
fn local_classes_direct(mask: &[u32], out: &mut [u8], max: usize) -> Option<Vec<u32>> {
    let mut table = vec![u8::MAX; 1 << 16];
    let mut patterns: Vec<u32> = Vec::new();
    for (o, &m) in out.iter_mut().zip(mask) {
        let slot = &mut table[(m & 0xFFFF) as usize];
        if *slot == u8::MAX {
            if patterns.len() == max {
                return None;
            }
            patterns.push(m);
            *slot = (patterns.len() - 1) as u8;
        }
        *o = *slot;
    }
    Some(patterns)
}

/// Sets bit `bit` of `mask[e]` for every member e of node `g` of `m` among
/// the events from word `w0` on (`mask` starts there).
fn or_bits(mask: &mut [u32], m: &Members, g: usize, w0: usize, bit: u32) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU running this has AVX2 (just checked).
        unsafe { or_bits_avx2(mask, m, g, w0, bit) };
        return;
    }
    or_bits_body(mask, m, g, w0, bit);
}

/// [`or_bits`] compiled for AVX2: the bit of each of a word's 64 events is a
/// shift by a different count, which only AVX2 does across lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn or_bits_avx2(mask: &mut [u32], m: &Members, g: usize, w0: usize, bit: u32) {
    or_bits_body(mask, m, g, w0, bit);
}

/// Bit by bit, without a branch per event (masks are whole words but the last).
#[inline(always)]
fn or_bits_body(mask: &mut [u32], m: &Members, g: usize, w0: usize, bit: u32) {
    for (wi, part) in mask.chunks_mut(64).enumerate() {
        let w = m.word(g, w0 + wi);
        if w != 0 {
            for (b, x) in part.iter_mut().enumerate() {
                *x |= ((w >> b) as u32 & 1) << bit;
            }
        }
    }
}
