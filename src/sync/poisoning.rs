//! Carrying std's poisoning through the tracked guards.

use std::panic::Location;
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::tracker::{HeldToken, LockMeta, Method, Mode};

/// std's try-result as "acquired (maybe poisoned)" or "would block".
pub(super) fn try_std<G>(r: TryLockResult<G>) -> Option<LockResult<G>> {
    match r {
        Ok(guard) => Some(Ok(guard)),
        Err(TryLockError::Poisoned(e)) => Some(Err(e)),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Wraps a std guard (or its poisoned form) with its token.
pub(super) fn wrap<G, W>(
    result: LockResult<G>,
    token: HeldToken,
    make: impl FnOnce(G, HeldToken) -> W,
) -> LockResult<W> {
    match result {
        Ok(inner) => Ok(make(inner, token)),
        Err(e) => Err(PoisonError::new(make(e.into_inner(), token))),
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
