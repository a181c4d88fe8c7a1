//! Evaluating the whole gate tree on one block of consecutive rows.
//!
//! A block is small enough that its rows and every per-row buffer stay in
//! cache. Each population is a selection: the sorted offsets (u16) of its rows
//! in the block. Nodes run in plan order, each on its parent's selection, so
//! a population's rows are visited only when its parent holds them. A
//! dimension is computed once per block, for its basis's rows (see
//! `program`), the first time a gate needs it.

use super::kernels;
use super::program::{Basis, Operand, Program, Test};
use crate::compensation::apply::Sample;
use crate::gating::BoolOp;

/// Rows per block; offsets must fit in u16.
pub(super) const BLOCK: usize = 1024;
const WORDS: usize = BLOCK / 64;

/// Per-thread buffers for [`block`], sized once for the program.
pub(super) struct Scratch<T> {
    /// 0, 1, ..., BLOCK − 1: the selection of every row.
    all: Vec<u16>,
    /// Per node, its selection (the first `len[i]` entries).
    sel: Vec<Vec<u16>>,
    len: Vec<usize>,
    /// Per node read by a boolean gate, its selection as a bit set.
    bits: Vec<Vec<u64>>,
    work: Work<T>,
}

/// The buffers dimensions and tests are computed in.
struct Work<T> {
    /// Per load, its gathered columns (column j at `j * BLOCK`), and whether
    /// they (and its dimensions) are computed for the current block.
    cols: Vec<Vec<T>>,
    done: Vec<bool>,
    /// Per dimension, its values aligned with its basis's selection, and (if
    /// it scatters) at their rows' offsets.
    dense: Vec<Vec<f64>>,
    scat: Vec<Vec<f64>>,
    /// Per dimension of the widest gate, values gathered from `scat`.
    picked: Vec<Vec<f64>>,
    tmp: Vec<f64>,
    /// Per row of the parent's selection, 1 if the row passes the test.
    flags: Vec<u64>,
    /// A boolean gate's operands combined, as a bit set.
    acc: Vec<u64>,
}

impl<T: Sample> Scratch<T> {
    pub(super) fn new(prog: &Program) -> Scratch<T> {
        let nodes = prog.steps.len();
        let buf = |used: bool| if used { vec![0.0; BLOCK] } else { Vec::new() };
        Scratch {
            all: (0..BLOCK as u32).map(|r| r as u16).collect(),
            sel: vec![vec![0; BLOCK]; nodes],
            len: vec![0; nodes],
            bits: prog
                .operand
                .iter()
                .map(|&o| if o { vec![0; WORDS] } else { Vec::new() })
                .collect(),
            work: Work {
                cols: prog
                    .loads
                    .iter()
                    .map(|l| vec![T::default(); l.columns.len() * BLOCK])
                    .collect(),
                done: vec![false; prog.loads.len()],
                dense: prog.dims.iter().map(|d| buf(d.is_some())).collect(),
                scat: prog
                    .dims
                    .iter()
                    .map(|d| buf(d.as_ref().is_some_and(|d| d.scatter)))
                    .collect(),
                picked: vec![vec![0.0; BLOCK]; prog.max_gate_dims()],
                tmp: vec![0.0; BLOCK],
                flags: vec![0; BLOCK],
                acc: vec![0; WORDS],
            },
        }
    }
}

/// The event matrix and where the block starts in it.
pub(super) struct Rows<'a, T> {
    pub values: &'a [T],
    pub p: usize,
    /// Index of the block's first row.
    pub first: usize,
    /// Rows in the block (1..=BLOCK).
    pub n: usize,
}

fn selection<'s>(all: &'s [u16], sel: &'s [Vec<u16>], len: &[usize], b: Basis) -> &'s [u16] {
    match b {
        None => all,
        Some(i) => &sel[i][..len[i]],
    }
}

/// Whether [`block`] may use the AVX2 build: the CPU has it (checked once).
pub(super) fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Where a block's members go: the chunk's membership bits, node by node
/// ([`CHUNK_WORDS`] words each), and the chunk's count per node.
pub(super) struct Marks<'a> {
    pub words: &'a mut [u64],
    pub counts: &'a mut [u32],
    /// The block's first word within each node's run.
    pub at: usize,
}

/// Words of membership bits per node and chunk.
pub(super) const CHUNK_WORDS: usize = CHUNK / 64;
/// Rows per parallel task: fixed, so the split never depends on the thread count.
pub(super) const CHUNK: usize = 16 * BLOCK;

/// Evaluate every node on the block; mark each node's members in `out`.
/// With `avx2` (and a CPU that has it), the same code compiled for AVX2 runs: twice the lanes in the row-parallel loops, and the same IEEE
/// operations (Rust never fuses a multiply and an add), so the same bits.
#[inline]
pub(super) fn block<T: Sample>(
    prog: &Program,
    s: &mut Scratch<T>,
    rows: &Rows<'_, T>,
    out: &mut Marks<'_>,
    avx2: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if avx2 && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU running this reports AVX2 (checked just above; the
        // check is a cached load), so every instruction of `block_avx2` exists.
        unsafe { block_avx2(prog, s, rows, out) };
        return;
    }
    block_body(prog, s, rows, out, false);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn block_avx2<T: Sample>(
    prog: &Program,
    s: &mut Scratch<T>,
    rows: &Rows<'_, T>,
    out: &mut Marks<'_>,
) {
    block_body(prog, s, rows, out, true);
}

/// The body of [`block`], inlined into both builds with every kernel.
#[inline(always)]
fn block_body<T: Sample>(
    prog: &Program,
    s: &mut Scratch<T>,
    rows: &Rows<'_, T>,
    out: &mut Marks<'_>,
    avx2: bool,
) {
    let Scratch {
        all,
        sel,
        len,
        bits,
        work,
    } = s;
    work.done.fill(false);
    let all = &all[..rows.n];
    for (i, step) in prog.steps.iter().enumerate() {
        let (earlier, rest) = sel.split_at_mut(i);
        let mine = &mut rest[0];
        let parent = selection(all, earlier, len, step.parent);
        let m = parent.len();
        let hits = if m == 0 {
            0
        } else {
            match &step.test {
                Test::Boolean { op, operands } => {
                    boolean(*op, operands, bits, &mut work.acc, parent, &mut work.flags)
                }
                geometric => {
                    for &d in dims_of(geometric) {
                        let li = prog.dims[d].as_ref().map_or(0, |d| d.load);
                        if !work.done[li] {
                            let basis = selection(all, earlier, len, prog.loads[li].basis);
                            work.load(prog, li, rows, basis, avx2);
                            work.done[li] = true;
                        }
                    }
                    work.test(prog, geometric, step.parent, parent);
                }
            }
            kernels::compact(parent, &work.flags[..m], mine)
        };
        len[i] = hits;
        let dst = &mut out.words[i * CHUNK_WORDS + out.at..][..WORDS];
        kernels::bits_of(&mine[..hits], dst);
        if prog.operand[i] {
            bits[i].copy_from_slice(dst);
        }
        out.counts[i] += hits as u32;
    }
}

fn dims_of(t: &Test) -> &[usize] {
    match t {
        Test::Rect { dims, .. } | Test::Ellipsoid { dims, .. } => dims,
        Test::Polygon { dims, .. } => dims,
        Test::Boolean { .. } => &[],
    }
}

#[inline(always)]
/// `flags[k]` = 1 where row `sel[k]` is in the combination of the operands' bit sets.
fn boolean(
    op: BoolOp,
    operands: &[(usize, bool)],
    bits: &[Vec<u64>],
    acc: &mut [u64],
    sel: &[u16],
    flags: &mut [u64],
) {
    let word = |&(o, complement): &(usize, bool), w: usize| {
        let b = bits[o].get(w).copied().unwrap_or(0);
        if complement {
            !b
        } else {
            b
        }
    };
    for (w, a) in acc.iter_mut().enumerate() {
        let mut it = operands.iter().map(|o| word(o, w));
        let first = it.next().unwrap_or(0);
        let x = it.fold(first, |x, y| if op == BoolOp::Or { x | y } else { x & y });
        *a = if op == BoolOp::Not { !x } else { x };
    }
    for (f, &r) in flags.iter_mut().zip(sel) {
        *f = acc[r as usize / 64] >> (r % 64) & 1;
    }
}

#[inline(always)]
/// Writes `out` (one value per selected row) from a load's gathered columns.
fn read<T: Sample>(op: &Operand, cols: &[T], out: &mut [f64]) {
    match op {
        Operand::Column(j) => kernels::widen(&cols[j * BLOCK..][..out.len()], out),
        Operand::Compensated(terms) => kernels::dot(cols, BLOCK, terms, out),
    }
}

#[inline(always)]
/// A dimension's values for the rows of `sel` (the selection of `parent`):
/// its own aligned values when `parent` is its basis, else gathered into `slot`.
fn values<'w>(
    prog: &Program,
    d: usize,
    parent: Basis,
    sel: &[u16],
    dense: &'w [Vec<f64>],
    scat: &[Vec<f64>],
    slot: &'w mut [f64],
) -> &'w [f64] {
    let m = sel.len();
    let aligned = prog.dims[d]
        .as_ref()
        .is_some_and(|x| prog.loads[x.load].basis == parent);
    if aligned {
        &dense[d][..m]
    } else {
        kernels::pick(&scat[d], sel, &mut slot[..m]);
        &slot[..m]
    }
}

impl<T: Sample> Work<T> {
    #[inline(always)]
    /// Gather load `li`'s columns for its basis's rows `basis` and compute its dimensions.
    fn load(&mut self, prog: &Program, li: usize, rows: &Rows<'_, T>, basis: &[u16], avx2: bool) {
        let l = &prog.loads[li];
        let m = basis.len();
        if m == 0 {
            return;
        }
        let cols = &mut self.cols[li];
        let scales = l.scaled.then_some(&l.scales[..]);
        let sel = l.basis.map(|_| basis);
        kernels::gather(
            rows.values,
            rows.p,
            rows.first,
            rows.n,
            sel,
            &l.columns,
            scales,
            cols,
            BLOCK,
            avx2,
        );
        for &d in &l.dims {
            let Some(dim) = &prog.dims[d] else { continue };
            let out = &mut self.dense[d][..m];
            let tmp = &mut self.tmp[..m];
            read(&dim.num, cols, out);
            if let Some((den, a, b, c)) = &dim.ratio {
                read(den, cols, tmp);
                for (o, &x2) in out.iter_mut().zip(tmp.iter()) {
                    *o = crate::transforms::ratio(*a, *b, *c, *o, x2);
                }
            }
            if let Some(t) = &dim.transform {
                t.apply_slice(out, tmp);
                out.copy_from_slice(tmp);
            }
            if dim.scatter {
                kernels::place(out, basis, &mut self.scat[d]);
            }
        }
    }

    #[inline(always)]
    /// `flags[k]` = 1 where row `sel[k]` (of `parent`'s selection) passes geometric test `t`.
    fn test(&mut self, prog: &Program, t: &Test, parent: Basis, sel: &[u16]) {
        let m = sel.len();
        let Work {
            dense,
            scat,
            picked,
            flags,
            ..
        } = self;
        let flags = &mut flags[..m];
        match t {
            Test::Rect { dims, mins, maxs } => {
                flags.fill(1);
                for ((&d, &lo), &hi) in dims.iter().zip(mins).zip(maxs) {
                    if let Some(slot) = picked.first_mut() {
                        let v = values(prog, d, parent, sel, dense, scat, slot);
                        kernels::rect(v, lo, hi, flags);
                    }
                }
            }
            Test::Polygon { dims, edges } => {
                if let [a, b, ..] = &mut picked[..] {
                    let x = values(prog, dims[0], parent, sel, dense, scat, a);
                    let y = values(prog, dims[1], parent, sel, dense, scat, b);
                    kernels::polygon(x, y, edges, flags);
                }
            }
            Test::Ellipsoid {
                dims,
                mean,
                inv_cov,
                d2,
            } => {
                let vs: Vec<&[f64]> = dims
                    .iter()
                    .zip(picked.iter_mut())
                    .map(|(&d, slot)| values(prog, d, parent, sel, dense, scat, slot))
                    .collect();
                for (k, f) in flags.iter_mut().enumerate() {
                    let d = super::geometry::ellipsoid_distance2(|i| vs[i][k], mean, inv_cov);
                    *f = (d <= *d2) as u64;
                }
            }
            Test::Boolean { .. } => flags.fill(0),
        }
    }
}
