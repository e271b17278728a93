//! Choosing where tensors live: CUDA, then Metal, then the CPU, unless the
//! user forces one with `VITRINE_DEVICE` or a flag.

use candle_core::Device;

use crate::error::{InferError, Result};

pub const DEVICE_ENV: &str = "VITRINE_DEVICE";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DevicePref {
    #[default]
    Auto,
    Cpu,
    Cuda,
    Metal,
}

impl std::str::FromStr for DevicePref {
    type Err = InferError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "" | "auto" => DevicePref::Auto,
            "cpu" => DevicePref::Cpu,
            "cuda" | "gpu" => DevicePref::Cuda,
            "metal" => DevicePref::Metal,
            other => return Err(InferError::Device(other.to_string())),
        })
    }
}

impl DevicePref {
    /// The preference from `VITRINE_DEVICE`, `Auto` when unset.
    pub fn from_env() -> Result<Self> {
        std::env::var(DEVICE_ENV).unwrap_or_default().parse()
    }
}

pub fn select_device(pref: DevicePref) -> Result<Device> {
    match pref {
        DevicePref::Cpu => Ok(Device::Cpu),
        DevicePref::Cuda => {
            if candle_core::utils::cuda_is_available() {
                Device::new_cuda(0).map_err(|e| InferError::Device(format!("cuda: {e}")))
            } else {
                Err(InferError::Device(
                    "cuda (build with `--features cuda`)".into(),
                ))
            }
        }
        DevicePref::Metal => {
            if candle_core::utils::metal_is_available() {
                Device::new_metal(0).map_err(|e| InferError::Device(format!("metal: {e}")))
            } else {
                Err(InferError::Device(
                    "metal (build with `--features metal`)".into(),
                ))
            }
        }
        DevicePref::Auto => {
            if candle_core::utils::cuda_is_available() {
                if let Ok(d) = Device::new_cuda(0) {
                    return Ok(d);
                }
            }
            if candle_core::utils::metal_is_available() {
                if let Ok(d) = Device::new_metal(0) {
                    return Ok(d);
                }
            }
            Ok(Device::Cpu)
        }
    }
}

pub fn device_name(device: &Device) -> &'static str {
    match device {
        Device::Cpu => "cpu",
        Device::Cuda(_) => "cuda",
        Device::Metal(_) => "metal",
    }
}
