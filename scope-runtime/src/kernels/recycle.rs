//! Large output buffers kept for reuse on the thread that freed them.
//!
//! A fresh array of a megabyte or more comes from the OS as untouched pages, so every step of
//! a model that allocates its activations and gradients again pays a page fault per 4 KiB
//! (about a fifth of a millisecond per megabyte, comparable to the elementwise pass that fills
//! it) and glibc returns the memory on free. The elementwise passes and the convolutions take
//! their output buffer from here; a session run (at its end) and `Graph::clear_ops` give back
//! the values nothing else holds. Buffers only carry capacity: every taker overwrites all of
//! the elements it uses, so reuse never changes a result. The pool is per thread and bounded
//! ([`KEEP`] buffers, [`MAX_BYTES`] in all); below [`MIN_LEN`] elements malloc is cheap and
//! buffers are not kept.

use std::any::Any;
use std::cell::RefCell;

use ndarray::{ArcArray, Dimension};

/// Smallest buffer worth keeping, in elements (as the elementwise passes' threshold).
pub(crate) const MIN_LEN: usize = super::par::PAR_MIN;
/// Buffers kept per thread and element type.
const KEEP: usize = 24;
/// Bytes kept per thread and element type.
const MAX_BYTES: usize = 96 << 20;

thread_local! {
    static POOL: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

fn with<T: 'static, R>(f: impl FnOnce(&mut Vec<Vec<T>>) -> R) -> Option<R> {
    POOL.try_with(|pool| {
        let mut pool = pool.try_borrow_mut().ok()?;
        let at = match pool.iter().position(|b| b.is::<Vec<Vec<T>>>()) {
            Some(at) => at,
            None => {
                pool.push(Box::new(Vec::<Vec<T>>::new()));
                pool.len() - 1
            }
        };
        pool[at].downcast_mut::<Vec<Vec<T>>>().map(f)
    })
    .ok()
    .flatten()
}

/// An empty vector with room for `n` elements: a kept buffer of at most twice that when there
/// is one, else a new allocation.
pub(crate) fn take<T: Copy + 'static>(n: usize) -> Vec<T> {
    if n >= MIN_LEN
        && let Some(Some(mut v)) = with::<T, _>(|kept| {
            let at = kept.iter().position(|v| v.capacity() >= n && v.capacity() <= 2 * n)?;
            Some(kept.swap_remove(at))
        })
    {
        v.clear();
        return v;
    }
    Vec::with_capacity(n)
}

/// [`take`], filled with `zero` (for kernels that write through a mutable view).
pub(crate) fn zeroed<T: Copy + 'static>(n: usize, zero: T) -> Vec<T> {
    let mut v = take(n);
    v.resize(n, zero);
    v
}

/// Keeps `v`'s buffer for a later [`take`] on this thread, if it is large and there is room.
pub(crate) fn give<T: Copy + 'static>(v: Vec<T>) {
    if v.capacity() < MIN_LEN {
        return;
    }
    let bytes = v.capacity() * std::mem::size_of::<T>();
    with::<T, _>(|kept| {
        let held: usize = kept.iter().map(|k| k.capacity() * std::mem::size_of::<T>()).sum();
        if kept.len() < KEEP && held + bytes <= MAX_BYTES {
            kept.push(v);
        }
    });
}

/// Gives back the buffer of a shared array when this is its last handle.
pub(crate) fn give_shared<T: Copy + 'static, D: Dimension>(a: ArcArray<T, D>) {
    if a.len() >= MIN_LEN && a.is_unique() {
        let (v, _) = a.into_owned().into_raw_vec_and_offset();
        give(v);
    }
}
