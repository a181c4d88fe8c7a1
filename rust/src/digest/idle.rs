//! A file's BLAKE3 computed in the background, on CPU time nothing else wants.
//!
//! Gating and statistics keep every core busy while they run, but between and
//! around them (Python building tables and plans) a core sits idle. A digest
//! started when a sample is gated runs on a background thread that steps
//! aside while any analysis kernel runs (kernels hold a [`busy`] guard; the
//! thread checks between subtrees of about 50 µs), and is of Linux's
//! `SCHED_IDLE` class, which the scheduler runs only on otherwise idle cores.
//! (Idle priority alone is not enough: rayon's workers yield their core while
//! they look for work, and a yielded core went to the digest for a whole
//! scheduler tick: gating took 3 ms longer.) When the digest is wanted, the
//! thread returns to normal priority and the rayon pool hashes whatever is
//! left beside it ([`super::tree`] lets any number of hashers share the work).

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::tree::Subtrees;

/// The background thread's id (> 0) once it has gone idle, 0 before, and
/// [`BOOSTED`] once the digest is wanted.
const BOOSTED: i32 = -1;

/// Analysis kernels running now (see [`busy`]).
static BUSY: AtomicUsize = AtomicUsize::new(0);

/// Marks an analysis kernel as running until dropped: background digests
/// wait meanwhile.
pub struct Busy(());

pub fn busy() -> Busy {
    BUSY.fetch_add(1, Ordering::AcqRel);
    Busy(())
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How long a waiting digest sleeps before looking again.
const NAP: Duration = Duration::from_micros(100);

/// A BLAKE3 digest being computed in the background.
pub struct IdleDigest {
    work: Arc<Subtrees<'static>>,
    thread: Option<JoinHandle<()>>,
    tid: Arc<AtomicI32>,
    done: Option<String>,
    /// The process that started it: a forked child has neither the thread
    /// nor the pool's threads, and must not wait for them.
    pid: u32,
}

impl IdleDigest {
    /// Starts hashing `bytes` on a background thread at idle priority.
    ///
    /// # Safety
    /// `bytes` must stay valid and unchanged until the returned value is
    /// dropped: the thread reads them until then (it is joined on drop).
    pub unsafe fn start(bytes: &[u8]) -> IdleDigest {
        // SAFETY: the caller keeps the bytes alive until `self` is dropped,
        // and `Drop` joins the only other reader first.
        let bytes: &'static [u8] = unsafe { std::mem::transmute::<&[u8], &'static [u8]>(bytes) };
        let work = Arc::new(Subtrees::new(bytes));
        let tid = Arc::new(AtomicI32::new(0));
        // A thread beside the pool's: not when the pool is told to use one
        // core (then `finish` hashes it all there).
        let thread = (rayon::current_num_threads() > 1).then(|| {
            std::thread::Builder::new()
                .name("cd38-digest".into())
                .spawn({
                    let (work, tid) = (work.clone(), tid.clone());
                    move || {
                        go_idle(&tid);
                        populate(work.bytes(), &tid);
                        loop {
                            while BUSY.load(Ordering::Acquire) > 0
                                && tid.load(Ordering::Acquire) != BOOSTED
                                && !work.stopped()
                            {
                                std::thread::sleep(NAP);
                            }
                            if !work.step() {
                                break;
                            }
                        }
                    }
                })
                // No thread (out of resources): `finish` hashes it all.
                .ok()
        });
        IdleDigest {
            work,
            thread: thread.flatten(),
            tid,
            done: None,
            pid: std::process::id(),
        }
    }

    /// The hex digest: the background thread back to normal priority, the
    /// rest hashed on the rayon pool beside it.
    pub fn finish(&mut self) -> String {
        if let Some(d) = &self.done {
            return d.clone();
        }
        if std::process::id() != self.pid {
            // A forked child: hash here, on this thread alone.
            std::mem::forget(self.thread.take());
            let hex = blake3::hash(self.work.bytes()).to_hex().to_string();
            self.done = Some(hex.clone());
            return hex;
        }
        boost(&self.tid);
        rayon::broadcast(|_| self.work.work());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // Every subtree is done once every hasher has returned; should the
        // thread have died mid-subtree, the digest is computed afresh.
        let hash = self.work.root().unwrap_or_else(|| {
            self.work.stop();
            blake3::hash(self.work.bytes())
        });
        let hex = hash.to_hex().to_string();
        self.done = Some(hex.clone());
        hex
    }
}

impl Drop for IdleDigest {
    fn drop(&mut self) {
        if std::process::id() != self.pid {
            // A forked child: the thread is the parent's, not to be joined.
            std::mem::forget(self.thread.take());
            return;
        }
        // Unfinished: stop after the current subtree, promptly.
        self.work.stop();
        boost(&self.tid);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Bytes mapped per populating step.
const POPULATE_STEP: usize = 4 << 20;

/// Maps a file's pages into the process ahead of use, step by step, until an
/// analysis kernel starts (it would meet them mapped, not fault on each) or
/// the digest is wanted. Advice only: errors (an old kernel, memory that is
/// not a file mapping) just end it.
fn populate(bytes: &[u8], tid: &AtomicI32) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = (bytes.as_ptr() as usize) / PAGE * PAGE;
        let end = bytes.as_ptr() as usize + bytes.len();
        let mut at = start;
        while at < end
            && BUSY.load(Ordering::Acquire) == 0
            && tid.load(Ordering::Acquire) != BOOSTED
        {
            let len = POPULATE_STEP.min(end - at);
            // SAFETY: advice on pages of a mapping the caller keeps alive
            // (page-aligned down to the page holding the first byte); reads
            // nothing into Rust memory.
            let r =
                unsafe { libc::madvise(at as *mut libc::c_void, len, libc::MADV_POPULATE_READ) };
            if r != 0 {
                return;
            }
            at += len;
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (bytes, tid);
}

/// Puts the calling thread in the idle scheduling class (Linux), unless the
/// digest is already wanted; records its id for [`boost`].
fn go_idle(tid: &AtomicI32) {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: plain system calls on the calling thread (0 = self).
        unsafe {
            if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) != 0 {
                return;
            }
            let me = libc::gettid();
            if tid
                .compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                // Boosted before it could say who it is: back to normal.
                libc::sched_setscheduler(0, libc::SCHED_OTHER, &param);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = tid;
}

/// Returns the background thread (if idle) to the normal class.
fn boost(tid: &AtomicI32) {
    let prev = tid.swap(BOOSTED, Ordering::AcqRel);
    #[cfg(target_os = "linux")]
    if prev > 0 {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: a system call on a thread of this process, which is alive:
        // it is joined only after this returns. Failure leaves it idle, which
        // only slows it while other threads run.
        unsafe {
            libc::sched_setscheduler(prev, libc::SCHED_OTHER, &param);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = prev;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_digest_equals_the_plain_one() {
        let data: Vec<u8> = (0..7_340_033u32)
            .map(|i| (i.wrapping_mul(2_246_822_519) >> 11) as u8)
            .collect();
        for len in [0, 1000, 1 << 20, data.len()] {
            let bytes = &data[..len];
            // SAFETY: `bytes` outlives `d`.
            let mut d = unsafe { IdleDigest::start(bytes) };
            assert_eq!(d.finish(), blake3::hash(bytes).to_hex().to_string());
            assert_eq!(d.finish(), blake3::hash(bytes).to_hex().to_string());
        }
        // Dropped while hashing: joins without finishing.
        // SAFETY: `data` outlives the digest.
        drop(unsafe { IdleDigest::start(&data) });
    }
}
