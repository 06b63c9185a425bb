//! The verdict table against `lockwatch::sync`.
#![cfg(feature = "enabled")]

mod common;

use common::{assert_quiet, assert_reported, reports_about};
use lockwatch::sync::{Mutex, RwLock};
use lockwatch::ReportKind;

macro_rules! mutex {
    ($name:expr) => {
        lockwatch::named(Mutex::new(()), $name)
    };
}
macro_rules! rwlock {
    ($name:expr) => {
        lockwatch::named(RwLock::new(()), $name)
    };
}
macro_rules! lock {
    ($m:expr) => {
        $m.lock().unwrap()
    };
}
macro_rules! try_lock {
    ($m:expr) => {
        $m.try_lock().ok()
    };
}
macro_rules! read {
    ($l:expr) => {
        $l.read().unwrap()
    };
}
macro_rules! write {
    ($l:expr) => {
        $l.write().unwrap()
    };
}

include!("common/verdicts.rs");
