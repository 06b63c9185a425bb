//! Tracked versions of the [`lock_api`](::lock_api) wrappers, generic over the raw lock.
