//! `Serialize` and `Deserialize` for the tracked types (the `serde` feature), as serde has them
//! for std's `Mutex`, `RwLock` and atomics and lock_api (parking_lot's `serde` feature) for
//! its locks: a struct that derives them keeps deriving them when its imports are swapped.
//!
//! Serializing locks (`lock`, or `read` for an `RwLock`) and is tracked as that acquisition,
//! made at the line that called `serialize` (for a derived impl, inside serde); a poisoned
//! std lock fails with serde's own message. Deserializing makes a new lock whose class is
//! the line that called `deserialize` and the protected type, so the locks one derived impl
//! makes are one class. Atomics serialize a `Relaxed` load, as serde's do.

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Error as _, Serialize, Serializer};
use user_la::{GetThreadId, RawMutex, RawRwLock};

use crate::lock_api;
use crate::sync;

impl<T: ?Sized + Serialize> Serialize for sync::Mutex<T> {
    #[track_caller]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.lock() {
            Ok(locked) => locked.serialize(serializer),
            Err(_) => Err(S::Error::custom("lock poison error while serializing")),
        }
    }
}

impl<T: ?Sized + Serialize> Serialize for sync::RwLock<T> {
    #[track_caller]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.read() {
            Ok(locked) => locked.serialize(serializer),
            Err(_) => Err(S::Error::custom("lock poison error while serializing")),
        }
    }
}

impl<R: RawMutex, T: ?Sized + Serialize> Serialize for lock_api::Mutex<R, T> {
    #[track_caller]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.lock().serialize(serializer)
    }
}

impl<R: RawRwLock, T: ?Sized + Serialize> Serialize for lock_api::RwLock<R, T> {
    #[track_caller]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.read().serialize(serializer)
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized + Serialize> Serialize
    for lock_api::ReentrantMutex<R, G, T>
{
    #[track_caller]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.lock().serialize(serializer)
    }
}

/// `Deserialize` for a lock: a new one around the value read (its class: the caller's line).
macro_rules! deserialize_new {
    ($([$($gen:tt)*] $ty:ty = $new:path;)*) => {$(
        impl<'de, $($gen)*> Deserialize<'de> for $ty {
            #[track_caller]
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = T::deserialize(deserializer)?;
                Ok($new(value))
            }
        }
    )*};
}

deserialize_new! {
    [T: Deserialize<'de>] sync::Mutex<T> = sync::Mutex::new;
    [T: Deserialize<'de>] sync::RwLock<T> = sync::RwLock::new;
    [R: RawMutex, T: Deserialize<'de>] lock_api::Mutex<R, T> = lock_api::Mutex::new;
    [R: RawRwLock, T: Deserialize<'de>] lock_api::RwLock<R, T> = lock_api::RwLock::new;
    [R: RawMutex, G: GetThreadId, T: Deserialize<'de>] lock_api::ReentrantMutex<R, G, T> =
        lock_api::ReentrantMutex::new;
}

/// serde's impls for std's atomics, for the tracked ones.
macro_rules! atomics {
    ($($ty:ident)*) => {$(
        impl Serialize for sync::atomic::$ty {
            #[track_caller]
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                // As serde's (and std's `Debug`): a relaxed load.
                self.load(sync::atomic::Ordering::Relaxed).serialize(serializer)
            }
        }

        impl<'de> Deserialize<'de> for sync::atomic::$ty {
            #[track_caller]
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = Deserialize::deserialize(deserializer)?;
                Ok(sync::atomic::$ty::new(value))
            }
        }
    )*};
}

atomics! {
    AtomicBool AtomicI8 AtomicI16 AtomicI32 AtomicI64 AtomicIsize
    AtomicU8 AtomicU16 AtomicU32 AtomicU64 AtomicUsize
}
