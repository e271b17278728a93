//! Vitrine's own CPU engine: GGUF weights memory-mapped and multiplied in
//! their quantized formats by kernels picked at run time from the CPU's
//! features (AVX-512 VNNI on weights repacked at load into 16-row panels,
//! AVX2/FMA on the file's rows, a portable scalar fallback), so the default
//! release build is fast on any x86-64 machine without `target-cpu=native`.
//!
//! candle remains the engine on GPUs and for architectures this module does
//! not know; see docs/ARCHITECTURE.md for why the CPU path is our own.

#[cfg(target_arch = "x86_64")]
mod avx2;
pub mod matmul;
pub mod model;
pub mod packed;
pub mod quant;
#[cfg(target_arch = "x86_64")]
mod vnni512;

pub use matmul::{best_level, kernel_level, matmul, matmul_with, KernelLevel, QMatrix, Storage};
pub use model::{Arch, NativeModel};

/// Threads for the native engine: `RAYON_NUM_THREADS` (what `--threads`
/// sets) or every core.
pub fn default_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
