//! Which of a group's populations each event belongs to.
//!
//! Gated populations nest, so few distinct membership patterns occur; each
//! event gets the index of its pattern (its class), and the shared passes count
//! a row once per class instead of once per population.

use rayon::prelude::*;

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

/// Classes of `n` events for `pops` (at most 32; `None` = every event); None
/// when more than `max` (at most 256) patterns occur.
pub(crate) fn classify(n: usize, pops: &[Option<&[u32]>], max: usize) -> Option<Membership> {
    let everyone = pops
        .iter()
        .enumerate()
        .filter(|(_, m)| m.is_none())
        .fold(0u32, |a, (i, _)| a | 1 << i);
    let mut class = vec![0u8; n];
    // Each piece: its events' masks, then local pattern indices.
    let local: Vec<Option<Vec<u32>>> = class
        .par_chunks_mut(PIECE)
        .enumerate()
        .map(|(pi, out)| {
            let start = pi * PIECE;
            let mut mask = vec![everyone; out.len()];
            for (i, m) in pops.iter().enumerate() {
                let Some(m) = m else { continue };
                let lo = m.partition_point(|&e| (e as usize) < start);
                let hi = m.partition_point(|&e| (e as usize) < start + out.len());
                for &e in &m[lo..hi] {
                    mask[e as usize - start] |= 1 << i;
                }
            }
            local_classes(&mask, out, max, pops.len() <= 16)
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
