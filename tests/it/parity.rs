//! One body, run against std / parking_lot and against lockwatch's facades: what a program can
//! observe must be the same (results, poisoning, errors, Debug output). In the disabled build
//! both sides are the same types, which this also checks compiles.

use std::sync::Arc;
use std::time::Duration;

macro_rules! std_family {
    ($name:ident, $path:path) => {
        mod $name {
            use super::*;
            use $path::{Condvar, Mutex, RwLock, TryLockError};

            pub fn observe() -> Vec<String> {
                let mut seen = Vec::new();
                let m = Arc::new(Mutex::new(vec![1, 2]));
                m.lock().unwrap().push(3);
                seen.push(format!("{:?}", m));
                seen.push(format!("{:?}", m.lock().unwrap()));
                {
                    let _g = m.lock().unwrap();
                    seen.push(format!(
                        "{}",
                        matches!(m.try_lock(), Err(TryLockError::WouldBlock))
                    ));
                }
                let m2 = Arc::clone(&m);
                let _ = std::thread::spawn(move || {
                    let _g = m2.lock().unwrap();
                    panic!("poison it");
                })
                .join();
                seen.push(format!("poisoned={}", m.is_poisoned()));
                let recovered = m.lock().unwrap_or_else(|e| e.into_inner());
                seen.push(format!("recovered={:?}", *recovered));
                drop(recovered);
                seen.push(format!(
                    "try={}",
                    matches!(m.try_lock(), Err(TryLockError::Poisoned(_)))
                ));
                m.clear_poison();
                seen.push(format!("cleared={}", !m.is_poisoned()));
                let m = Arc::try_unwrap(m).unwrap();
                seen.push(format!("{:?}", m.into_inner().unwrap()));

                let mut rw = RwLock::<u32>::default();
                *rw.get_mut().unwrap() = 5;
                {
                    let r1 = rw.read().unwrap();
                    seen.push(format!(
                        "read={} try_write_blocks={}",
                        *r1,
                        rw.try_write().is_err()
                    ));
                }
                *rw.write().unwrap() += 1;
                seen.push(format!("{:?} {:?}", rw, RwLock::from(7)));

                let pair = Arc::new((Mutex::new(false), Condvar::new()));
                let other = Arc::clone(&pair);
                let t = std::thread::spawn(move || {
                    *other.0.lock().unwrap() = true;
                    other.1.notify_all();
                });
                let guard = pair
                    .1
                    .wait_timeout_while(pair.0.lock().unwrap(), Duration::from_secs(10), |ready| {
                        !*ready
                    })
                    .unwrap();
                seen.push(format!(
                    "ready={} timed_out={}",
                    *guard.0,
                    guard.1.timed_out()
                ));
                drop(guard);
                t.join().unwrap();
                seen
            }
        }
    };
}

macro_rules! parking_lot_family {
    ($name:ident, $path:path) => {
        mod $name {
            use super::*;
            use $path::{
                Condvar, FairMutex, FairMutexGuard, Mutex, MutexGuard, ReentrantMutex, RwLock,
                RwLockUpgradableReadGuard, RwLockWriteGuard,
            };

            pub fn observe() -> Vec<String> {
                let mut seen = Vec::new();
                let m = Mutex::new((1, 2));
                {
                    let g = m.lock();
                    seen.push(format!(
                        "{:?} locked={} try={}",
                        *g,
                        m.is_locked(),
                        m.try_lock().is_none()
                    ));
                }
                let mut second = MutexGuard::map(m.lock(), |p| &mut p.1);
                *second = 9;
                drop(second);
                let g = m.lock();
                let refused = MutexGuard::try_map(g, |_| None::<&mut u8>);
                seen.push(format!("try_map_refused={}", refused.is_err()));
                drop(refused);
                seen.push(format!(
                    "{:?} {:?}",
                    m,
                    m.try_lock_for(Duration::from_millis(1)).map(|g| *g)
                ));

                let f = FairMutex::new(1);
                {
                    let mut g = f.lock();
                    *g += 1;
                    FairMutexGuard::bump(&mut g);
                    FairMutexGuard::unlock_fair(g);
                }
                seen.push(format!("{:?}", f.into_inner()));

                let rw = RwLock::new(10);
                {
                    let a = rw.read();
                    // parking_lot 0.13 has no `read_recursive` (its `RecursiveRwLock` does).
                    #[cfg(not(feature = "parking_lot_0_13"))]
                    let b = rw.read_recursive();
                    #[cfg(feature = "parking_lot_0_13")]
                    let b = rw.try_read().unwrap();
                    seen.push(format!("{} excl={}", *a + *b, rw.is_locked_exclusive()));
                }
                {
                    let up = rw.upgradable_read();
                    seen.push(format!(
                        "reader_beside_upgradable={}",
                        rw.try_read().is_some()
                    ));
                    let mut w = RwLockUpgradableReadGuard::upgrade(up);
                    *w += 1;
                    let r = RwLockWriteGuard::downgrade(w);
                    seen.push(format!(
                        "after_downgrade={} write_blocked={}",
                        *r,
                        rw.try_write().is_none()
                    ));
                }
                let re = ReentrantMutex::new(3);
                {
                    let a = re.lock();
                    let b = re.lock();
                    seen.push(format!(
                        "re={} owned={}",
                        *a + *b,
                        re.is_owned_by_current_thread()
                    ));
                }
                let pair = Arc::new((Mutex::new(0), Condvar::new()));
                let other = Arc::clone(&pair);
                let t = std::thread::spawn(move || {
                    *other.0.lock() = 1;
                    other.1.notify_all();
                });
                let mut g = pair.0.lock();
                let timed_out = pair
                    .1
                    .wait_while_for(&mut g, |v| *v == 0, Duration::from_secs(10))
                    .timed_out();
                seen.push(format!("cv={} timed_out={}", *g, timed_out));
                drop(g);
                t.join().unwrap();
                #[cfg(feature = "arc_lock")]
                {
                    use $path::{
                        ArcMutexGuard, ArcRwLockUpgradableReadGuard, ArcRwLockWriteGuard, RawMutex,
                    };
                    let m = Arc::new(Mutex::new(vec![1]));
                    let mut g: ArcMutexGuard<RawMutex, Vec<i32>> = m.lock_arc();
                    g.push(2);
                    seen.push(format!(
                        "arc {:?} {:?} try={} count={}",
                        *g,
                        *ArcMutexGuard::mutex(&g),
                        m.try_lock_arc().is_some(),
                        Arc::strong_count(&m)
                    ));
                    let back = ArcMutexGuard::into_arc(g);
                    seen.push(format!(
                        "into_arc {} {}",
                        Arc::ptr_eq(&back, &m),
                        m.is_locked()
                    ));
                    let l = Arc::new(RwLock::new(5));
                    let u = l.upgradable_read_arc();
                    let r = l.try_read_arc().map(|r| *r);
                    let w = l.try_write_arc().is_some();
                    let mut wg = ArcRwLockUpgradableReadGuard::upgrade(u);
                    *wg += 1;
                    let rg = ArcRwLockWriteGuard::downgrade(wg);
                    seen.push(format!("rw {r:?} {w} {rg} {}", l.try_write_arc().is_none()));
                }
                seen
            }
        }
    };
}

std_family!(plain_std, std::sync);
std_family!(watched_std, lockwatch::sync);
#[cfg(not(feature = "parking_lot_0_13"))]
parking_lot_family!(plain_parking_lot, parking_lot);
#[cfg(feature = "parking_lot_0_13")]
parking_lot_family!(plain_parking_lot, parking_lot_0_13);
parking_lot_family!(watched_parking_lot, lockwatch::parking_lot);

#[test]
fn lockwatch_sync_behaves_like_std() {
    assert_eq!(watched_std::observe(), plain_std::observe());
}

#[test]
fn lockwatch_parking_lot_behaves_like_parking_lot() {
    assert_eq!(watched_parking_lot::observe(), plain_parking_lot::observe());
}
