use lockwatch::named;
use lockwatch::parking_lot::RwLock;
fn main() {
    let l: Vec<RwLock<()>> = [0, 1, 1, 1]
        .iter()
        .map(|c| named(RwLock::new(()), &format!("c{c}")))
        .collect();
    std::thread::scope(|s| {
        s.spawn(|| {
            let a = l[1].write();
            let b = l[3].write();
            drop(a);
            drop(b);
            let r = l[1].read();
            drop(r);
            let w = l[2].write();
            drop(w);
        });
    });
    std::thread::scope(|s| {
        s.spawn(|| {
            let g0 = l[0].write();
            let g1 = l[1].write();
            drop(g1);
            let g1 = l[1].write();
            drop(g0);
            let g0 = l[0].write();
            drop((g0, g1));
        });
    });
    println!(
        "{} reports, {:?}",
        lockwatch::reports().len(),
        lockwatch::graph_stats()
    );
}
