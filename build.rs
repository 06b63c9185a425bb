//! Detects the compiler's minor version, so that the std methods newer than lockwatch's
//! `rust-version` are wrapped only where std has them (`cfg(lockwatch_rust_1_NN)`).

use std::process::Command;

/// The std additions lockwatch mirrors, by the minor version that stabilised them.
const GATES: &[u32] = &[81, 86, 91, 92, 95];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
    for gate in GATES {
        println!("cargo:rustc-check-cfg=cfg(lockwatch_rust_1_{gate})");
    }
    // If the version cannot be read, assume the oldest supported one: fewer methods, but a
    // build that works.
    let minor = rustc_minor().unwrap_or(0);
    for gate in GATES.iter().filter(|&&g| g <= minor) {
        println!("cargo:rustc-cfg=lockwatch_rust_1_{gate}");
    }
}

fn rustc_minor() -> Option<u32> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().ok()?;
    let version = String::from_utf8(out.stdout).ok()?;
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    let mut parts = version.split_whitespace().nth(1)?.split('.');
    (parts.next()? == "1").then_some(())?;
    parts.next()?.parse().ok()
}
