//! The integration tests that can share one process: one binary (it links once). Tests that
//! need a process of their own (global settings, child processes, a policy that panics, a
//! counting allocator, the verdict table per lock family) keep their own files beside this
//! folder. Tests here give their locks class names of their own and look only at the reports
//! naming them, or capture their own reports.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod adversarial;
mod arc_guards;
mod atomics;
mod atomics_parity;
mod capture;
mod classes;
mod condvar;
mod export;
mod instance_graph;
mod labels;
mod lazy_init;
mod module_graph;
mod once_cell;
mod parity;
mod parking_lot_0_13;
mod parking_lot_reads;
mod reader_preferring;
mod readme;
mod serde_parity;
mod std_surface;
mod stress;
mod thread_names;
