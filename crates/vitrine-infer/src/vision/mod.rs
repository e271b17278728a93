//! Photo understanding models. The built-in one is an EfficientNet-Lite0
//! ImageNet classifier whose weights ship as a legacy PyTorch checkpoint;
//! [`torch_legacy`] converts that to safetensors once, at fetch time, and
//! [`efficientnet_lite`] runs it with candle.

mod depthwise;
pub mod efficientnet_lite;
mod pickle_guard;
pub mod torch_legacy;

pub use efficientnet_lite::{preprocess, EfficientNetLite0, INPUT_SIZE, NUM_CLASSES};
pub use torch_legacy::{convert_pth_to_safetensors, read_legacy_pth};
