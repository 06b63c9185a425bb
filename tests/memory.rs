//! Dropped locks leave nothing behind in the graph; classes stay bounded by the code.
#![cfg(feature = "enabled")]

use lockwatch::sync::Mutex;

#[test]
fn churn_of_nested_same_class_locks_leaves_no_instance_nodes() {
    let outer = Mutex::new(());
    let before = lockwatch::graph_stats();
    for _ in 0..10_000 {
        let pair: Vec<Mutex<u32>> = (0..2).map(|_| Mutex::new(0)).collect();
        let _o = outer.lock().unwrap();
        let _a = pair[0].lock().unwrap();
        let _b = pair[1].lock().unwrap(); // a same-class edge between two fresh instances
    }
    let after = lockwatch::graph_stats();
    assert_eq!(after.instance_nodes, 0, "{after:?}");
    assert_eq!(after.instance_edges, 0, "{after:?}");
    // Two classes (outer, pair) and their class edge, whatever the number of iterations.
    assert!(
        after.class_nodes <= before.class_nodes + 2,
        "{before:?} -> {after:?}"
    );
    assert!(
        after.class_edges <= before.class_edges + 1,
        "{before:?} -> {after:?}"
    );
}
