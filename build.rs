//! Link settings for the release `opsbot` binary, for idle memory
//! (docs/benchmarks.md, "Idle memory"). Nothing here changes behaviour.
//!
//! A server's resident memory is mostly its own code: the kernel maps 64 KiB
//! around every page fault in the executable, so start-up code spread over the
//! whole `.text` makes nearly all of it resident. Two link options fix that:
//! - `--symbol-ordering-file=bench/layout/startup.order`: the functions that
//!   start-up, idle and a first command run (recorded by
//!   `bench/layout/record.sh`) are placed first and together. Names the file
//!   lists that a build no longer has are skipped silently, so a stale file
//!   costs memory, never a build; `bench/layout/record.sh` writes it anew.
//! - `-z pack-relative-relocs` (DT_RELR): the relative relocations the loader
//!   reads at start-up shrink from 24 bytes each to a bitmap. glibc's loader
//!   understands them from 2.36 on, so it is only used when the building
//!   machine's glibc is that new (the binary needs a glibc at least as new as
//!   the one it was linked against anyway).
//!
//! Only for release builds for x86_64-unknown-linux-gnu, whose default linker
//! is LLD (mold takes the same options; GNU ld does not know the ordering
//! one); debug and test builds link as cargo does.

use std::process::Command;

const ORDER: &str = "bench/layout/startup.order";

fn main() {
    println!("cargo:rerun-if-changed={ORDER}");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let target = std::env::var("TARGET").unwrap_or_default();
    if !release || target != "x86_64-unknown-linux-gnu" {
        return;
    }
    let link = |arg: &str| println!("cargo:rustc-link-arg-bin=opsbot={arg}");
    let order = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join(ORDER);
    if order.exists() {
        link(&format!("-Wl,--symbol-ordering-file={}", order.display()));
        link("-Wl,--no-warn-symbol-ordering");
    }
    if glibc_at_least(2, 36) {
        link("-Wl,-z,pack-relative-relocs");
    }
}

/// Whether this machine's glibc (`getconf GNU_LIBC_VERSION`: "glibc 2.36") is
/// at least `major.minor`; `false` when it cannot tell.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else { return false };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.trim().trim_start_matches("glibc ").split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        _ => false,
    }
}
