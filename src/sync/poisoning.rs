//! Carrying std's poisoning through the tracked guards.

use std::panic::Location;
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::tracker::{HeldToken, LockMeta, Method, Mode};

/// std's try-result as "acquired, and whether poisoned" or "would block". A guard and a flag
/// rather than std's `LockResult`: built from the larger result, the guard was copied to the
/// caller with the result's padding (`hot_loop`, `lockwatch-std`).
#[inline(always)]
pub(super) fn try_std<G>(r: TryLockResult<G>) -> Option<(G, bool)> {
    match r {
        Ok(guard) => Some((guard, false)),
        Err(TryLockError::Poisoned(e)) => Some((e.into_inner(), true)),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// std's blocking result as the guard and whether the lock was poisoned.
#[inline(always)]
pub(super) fn blocking<G>(r: LockResult<G>) -> (G, bool) {
    match r {
        Ok(guard) => (guard, false),
        Err(e) => (e.into_inner(), true),
    }
}

/// Wraps a std guard with its token, as std's result again.
#[inline(always)]
pub(super) fn wrap<G, W>(
    (guard, poisoned): (G, bool),
    token: HeldToken,
    make: impl FnOnce(G, HeldToken) -> W,
) -> LockResult<W> {
    let guard = make(guard, token);
    if poisoned {
        Err(PoisonError::new(guard))
    } else {
        Ok(guard)
    }
}

/// A tracked try-acquisition keeping std's poisoning.
pub(super) fn wrap_try<G, W>(
    meta: &LockMeta,
    mode: Mode,
    method: Method,
    site: &'static Location<'static>,
    attempt: impl FnOnce() -> TryLockResult<G>,
    make: impl FnOnce(G, HeldToken) -> W,
) -> TryLockResult<W> {
    let mut poisoned = false;
    let (inner, token) = meta.try_lock_result(mode, method, site, || match attempt() {
        Ok(guard) => Ok(guard),
        Err(TryLockError::Poisoned(e)) => {
            poisoned = true;
            Ok(e.into_inner())
        }
        Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
    })?;
    let guard = make(inner, token);
    if poisoned {
        Err(TryLockError::Poisoned(PoisonError::new(guard)))
    } else {
        Ok(guard)
    }
}
