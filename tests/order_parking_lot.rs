//! The verdict table against `lockwatch::parking_lot`.
#![cfg(feature = "enabled")]

mod common;

use common::{assert_quiet, assert_reported, reports_about};
use lockwatch::parking_lot::{Mutex, RwLock};
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
        $m.lock()
    };
}
macro_rules! try_lock {
    ($m:expr) => {
        $m.try_lock()
    };
}
macro_rules! read {
    ($l:expr) => {
        $l.read()
    };
}
macro_rules! write {
    ($l:expr) => {
        $l.write()
    };
}

include!("common/verdicts.rs");
