//! Elementwise passes on both cores: the one definition the activation kernels and the
//! elementwise ops share. Below [`PAR_MIN`] elements a pass stays on the calling thread (the
//! fork-join would cost more than it saves). Each output element is computed from its inputs
//! alone, so the results are the same bits as a sequential pass.

use rayon::prelude::*;

use super::recycle;

/// Element count from which an elementwise pass splits its work over the threads, and the
/// chunk each task takes.
pub(crate) const PAR_MIN: usize = 1 << 16;
pub(crate) const PAR_CHUNK: usize = 1 << 14;

/// `f(x)` for every element of `xs`, in order (into a recycled buffer when there is one).
pub(crate) fn map1<T: Copy + Sync, U: Copy + Send + 'static>(xs: &[T], f: impl Fn(T) -> U + Sync) -> Vec<U> {
    let mut out = recycle::take(xs.len());
    if xs.len() < PAR_MIN {
        out.extend(xs.iter().map(|&a| f(a)));
    } else {
        xs.par_iter().with_min_len(PAR_CHUNK).map(|&a| f(a)).collect_into_vec(&mut out);
    }
    out
}

/// `f(x, y)` for every pair of elements of two slices of one length, in order.
pub(crate) fn map2<T: Copy + Sync, U: Copy + Send + 'static>(
    xs: &[T],
    ys: &[T],
    f: impl Fn(T, T) -> U + Sync,
) -> Vec<U> {
    let mut out = recycle::take(xs.len().min(ys.len()));
    if xs.len() < PAR_MIN {
        out.extend(xs.iter().zip(ys).map(|(&a, &b)| f(a, b)));
    } else {
        xs.par_iter().zip(ys).with_min_len(PAR_CHUNK).map(|(&a, &b)| f(a, b)).collect_into_vec(&mut out);
    }
    out
}

/// `f(x, y)` where `xs` repeats `ys` (a bias, a scalar) along its length: `ys` is paired with
/// each consecutive run of `ys.len()` elements of `xs` (`xs.len()` must be a multiple of it).
/// With `swap`, `f(y, x)`.
pub(crate) fn map2_tail<T: Copy + Sync, U: Copy + Send + Sync + 'static>(
    xs: &[T],
    ys: &[T],
    swap: bool,
    zero: U,
    f: impl Fn(T, T) -> U + Sync,
) -> Vec<U> {
    let m = ys.len();
    let row = |out: &mut [U], x: &[T]| {
        for ((o, &a), &b) in out.iter_mut().zip(x).zip(ys) {
            *o = if swap { f(b, a) } else { f(a, b) };
        }
    };
    let mut out = recycle::zeroed(xs.len(), zero);
    if m == 0 {
        return out;
    }
    if xs.len() < PAR_MIN {
        out.chunks_exact_mut(m).zip(xs.chunks_exact(m)).for_each(|(o, x)| row(o, x));
        return out;
    }
    // Whole rows per task, so each chunk starts at the first element of `ys`.
    let chunk = PAR_CHUNK.div_ceil(m) * m;
    out.par_chunks_mut(chunk).zip(xs.par_chunks(chunk)).for_each(|(o, x)| {
        o.chunks_exact_mut(m).zip(x.chunks_exact(m)).for_each(|(o, x)| row(o, x));
    });
    out
}
