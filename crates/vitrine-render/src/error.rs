use thiserror::Error;

#[derive(Debug, Error)]
pub enum RenderError {
    #[error(
        "no graphics adapter found (neither a GPU nor a software one); on Debian, \
         `apt-get install mesa-vulkan-drivers libvulkan1` provides lavapipe, a software Vulkan"
    )]
    NoAdapter,
    #[error("could not open the graphics device: {0}")]
    Device(String),
    #[error("reading the rendered image back failed: {0}")]
    Readback(String),
    #[error("image size {0}px is out of range (16..=8192)")]
    BadSize(u32),
    #[error("size chart: {0}")]
    SizeChart(String),
    #[error("unknown size `{0}` (expected S, M, L, XL or XXL)")]
    UnknownSize(String),
    #[error("photo: {0}")]
    Photo(String),
    #[error("glTF: {0}")]
    Gltf(String),
    #[error("could not write the animation: {0}")]
    Animation(String),
    #[error("could not encode or write the image: {0}")]
    Image(#[from] image::ImageError),
}

pub type Result<T> = std::result::Result<T, RenderError>;
