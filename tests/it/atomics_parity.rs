//! One body per atomic type, run against std's and lockwatch's: the same observations.
//! std's methods newer than lockwatch's `rust-version` are called only where the compiler has
//! them (the `lockwatch_rust_1_NN` cfgs of build.rs), as lockwatch wraps them.
#![allow(clippy::incompatible_msrv)]

macro_rules! int_body {
    ($m:ident, $name:ident, $t:ty) => {
        pub mod $m {
            use super::atomics::{$name, Ordering::*};
            pub fn observe() -> Vec<String> {
                let a = $name::new(5);
                let mut seen = vec![format!("{:?}", a), format!("{:?}", $name::default())];
                seen.push(format!("{}", a.load(SeqCst)));
                a.store(7, Release);
                seen.push(format!("{}", a.swap(3, AcqRel)));
                seen.push(format!("{:?}", a.compare_exchange(3, 4, AcqRel, Acquire)));
                seen.push(format!("{:?}", a.compare_exchange(3, 9, AcqRel, Acquire)));
                let mut weak = a.compare_exchange_weak(4, 6, AcqRel, Acquire);
                while weak.is_err() {
                    weak = a.compare_exchange_weak(4, 6, AcqRel, Acquire);
                }
                seen.push(format!("{weak:?}"));
                seen.push(format!("{}", a.fetch_add(10, SeqCst)));
                seen.push(format!("{}", a.fetch_sub(1, SeqCst)));
                seen.push(format!("{}", a.fetch_and(0b1110, SeqCst)));
                seen.push(format!("{}", a.fetch_nand(0b0110, SeqCst)));
                seen.push(format!("{}", a.fetch_or(0b0001, SeqCst)));
                seen.push(format!("{}", a.fetch_xor(0b0011, SeqCst)));
                seen.push(format!("{}", a.fetch_max(50, SeqCst)));
                seen.push(format!("{}", a.fetch_min(20, SeqCst)));
                seen.push(format!(
                    "{:?}",
                    a.fetch_update(SeqCst, SeqCst, |v| Some(v.wrapping_add(1)))
                ));
                seen.push(format!("{:?}", a.fetch_update(SeqCst, SeqCst, |_| None)));
                #[cfg(lockwatch_rust_1_95)]
                seen.push(format!(
                    "{:?}",
                    a.try_update(SeqCst, SeqCst, |v| (v > 0).then(|| v - 1))
                ));
                #[cfg(lockwatch_rust_1_95)]
                seen.push(format!(
                    "{}",
                    a.update(SeqCst, SeqCst, |v| v.wrapping_mul(2))
                ));
                seen.push(format!("{}", unsafe { *a.as_ptr() }));
                let mut b = $name::from(8 as $t);
                *b.get_mut() += 1;
                seen.push(format!("{}", b.into_inner()));
                seen
            }
        }
    };
}

macro_rules! all_ints {
    ($module:ident [$($p:ident)::+] $($m:ident $name:ident $t:ty),+) => {
        mod $module {
            use $($p)::+ as atomics;
            $(int_body!($m, $name, $t);)+
        }
    };
}

all_ints!(plain [std::sync::atomic] i8 AtomicI8 i8, u8 AtomicU8 u8, i16 AtomicI16 i16, u16 AtomicU16 u16, i32 AtomicI32 i32,
    u32 AtomicU32 u32, i64 AtomicI64 i64, u64 AtomicU64 u64, isize AtomicIsize isize, usize AtomicUsize usize);

all_ints!(watched [lockwatch::sync::atomic] i8 AtomicI8 i8, u8 AtomicU8 u8, i16 AtomicI16 i16, u16 AtomicU16 u16, i32 AtomicI32 i32,
        u32 AtomicU32 u32, i64 AtomicI64 i64, u64 AtomicU64 u64, isize AtomicIsize isize, usize AtomicUsize usize);

macro_rules! bool_and_ptr_body {
    ($m:ident, $path:path) => {
        mod $m {
            use atomic::{AtomicBool, AtomicPtr, Ordering::*};
            use $path as atomic;
            pub fn observe() -> Vec<String> {
                let b = AtomicBool::new(false);
                let mut seen = vec![format!("{b:?} {:?}", AtomicBool::default())];
                seen.push(format!("{}", b.fetch_or(true, SeqCst)));
                seen.push(format!("{}", b.fetch_and(true, SeqCst)));
                seen.push(format!("{}", b.fetch_xor(true, SeqCst)));
                seen.push(format!("{}", b.fetch_nand(false, SeqCst)));
                #[cfg(lockwatch_rust_1_81)]
                seen.push(format!("{}", b.fetch_not(SeqCst)));
                seen.push(format!(
                    "{:?}",
                    b.compare_exchange(false, true, SeqCst, SeqCst)
                ));
                seen.push(format!("{}", b.swap(false, SeqCst)));
                seen.push(format!(
                    "{:?}",
                    b.fetch_update(SeqCst, SeqCst, |v| Some(!v))
                ));
                seen.push(format!("{}", AtomicBool::from(true).into_inner()));

                let mut data = [1u32, 2, 3, 4];
                let base = data.as_mut_ptr();
                let p = AtomicPtr::new(base);
                seen.push(format!("{}", p.load(SeqCst) == base));
                #[cfg(lockwatch_rust_1_91)]
                {
                    let before = p.fetch_ptr_add(2, SeqCst);
                    seen.push(format!("{} {}", before == base, unsafe { *p.load(SeqCst) }));
                    p.fetch_byte_sub(4, SeqCst);
                    seen.push(format!("{}", unsafe { *p.load(SeqCst) }));
                }
                seen.push(format!(
                    "{}",
                    AtomicPtr::<u8>::default().load(SeqCst).is_null()
                ));
                seen.push(format!(
                    "{:?}",
                    p.compare_exchange(base, base, SeqCst, SeqCst).is_err()
                ));
                seen
            }
        }
    };
}

bool_and_ptr_body!(std_bool_ptr, std::sync::atomic);
bool_and_ptr_body!(watched_bool_ptr, lockwatch::sync::atomic);

#[test]
fn every_integer_atomic_behaves_like_std() {
    assert_eq!(watched::i8::observe(), plain::i8::observe());
    assert_eq!(watched::u8::observe(), plain::u8::observe());
    assert_eq!(watched::i16::observe(), plain::i16::observe());
    assert_eq!(watched::u16::observe(), plain::u16::observe());
    assert_eq!(watched::i32::observe(), plain::i32::observe());
    assert_eq!(watched::u32::observe(), plain::u32::observe());
    assert_eq!(watched::i64::observe(), plain::i64::observe());
    assert_eq!(watched::u64::observe(), plain::u64::observe());
    assert_eq!(watched::isize::observe(), plain::isize::observe());
    assert_eq!(watched::usize::observe(), plain::usize::observe());
}

#[test]
fn bool_and_pointer_atomics_behave_like_std() {
    assert_eq!(watched_bool_ptr::observe(), std_bool_ptr::observe());
}
