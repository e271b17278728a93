//! Qwen3-VL's `config.json` as Transformers writes it, and the checks that
//! make an untrusted one safe to build a model from: every dimension the
//! modules divide or index by is verified here, so a bad file is a clear
//! error rather than a shape panic deep in a matmul.

use candle_nn::Activation;
use serde::{Deserialize, Serialize};

/// Ceilings far above any released Qwen3-VL size; a config past them is
/// corrupt or hostile, and refusing it early avoids huge allocations.
const MAX_HIDDEN: usize = 1 << 16;
const MAX_LAYERS: usize = 1024;
const MAX_VOCAB: usize = 1 << 22;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Qwen3VlConfig {
    #[serde(default)]
    pub model_type: Option<String>,
    #[serde(default)]
    pub architectures: Vec<String>,
    pub text_config: TextConfig,
    pub vision_config: VisionConfig,
    pub image_token_id: u32,
    #[serde(default)]
    pub video_token_id: Option<u32>,
    pub vision_start_token_id: u32,
    pub vision_end_token_id: u32,
    #[serde(default)]
    pub tie_word_embeddings: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TextConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    #[serde(default)]
    pub head_dim: Option<usize>,
    #[serde(default = "default_text_act")]
    pub hidden_act: Activation,
    pub max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    pub rms_norm_eps: f64,
    #[serde(default)]
    pub rope_theta: Option<f64>,
    /// Transformers before 5.0 writes the M-RoPE layout here...
    #[serde(default)]
    pub rope_scaling: Option<RopeConfig>,
    /// ...and 5.0 here.
    #[serde(default)]
    pub rope_parameters: Option<RopeConfig>,
    #[serde(default)]
    pub attention_bias: bool,
    #[serde(default)]
    pub tie_word_embeddings: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RopeConfig {
    #[serde(default)]
    pub rope_type: Option<String>,
    #[serde(default)]
    pub rope_theta: Option<f64>,
    #[serde(default)]
    pub mrope_section: Option<Vec<usize>>,
    #[serde(default)]
    pub mrope_interleaved: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisionConfig {
    pub depth: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_heads: usize,
    #[serde(default = "default_channels", alias = "in_chans")]
    pub in_channels: usize,
    pub patch_size: usize,
    #[serde(default = "default_two")]
    pub spatial_merge_size: usize,
    #[serde(default = "default_two")]
    pub temporal_patch_size: usize,
    pub out_hidden_size: usize,
    pub num_position_embeddings: usize,
    #[serde(default)]
    pub deepstack_visual_indexes: Vec<usize>,
    #[serde(default = "default_vision_act")]
    pub hidden_act: Activation,
}

fn default_text_act() -> Activation {
    Activation::Silu
}
fn default_vision_act() -> Activation {
    Activation::GeluPytorchTanh
}
fn default_eps() -> f64 {
    1e-6
}
fn default_channels() -> usize {
    3
}
fn default_two() -> usize {
    2
}

/// Qwen3-VL's published layout for a 128-wide head.
const DEFAULT_MROPE_SECTION: [usize; 3] = [24, 20, 20];
const DEFAULT_ROPE_THETA: f64 = 5_000_000.0;

/// How the rotary frequencies of a head are split between the temporal,
/// height and width position ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MropeLayout {
    pub section: [usize; 3],
    /// Qwen3-VL interleaves (T H W T H W ... T T); Qwen2-VL put the three
    /// sections one after the other.
    pub interleaved: bool,
}

impl MropeLayout {
    /// Which position component (0 = t, 1 = h, 2 = w) drives frequency
    /// `j` of `half` (= head_dim / 2) frequencies.
    pub fn component(&self, j: usize) -> usize {
        let [t, h, _] = self.section;
        if self.interleaved {
            if j % 3 == 1 && j < 3 * self.section[1] {
                1
            } else if j % 3 == 2 && j < 3 * self.section[2] {
                2
            } else {
                0
            }
        } else if j < t {
            0
        } else if j < t + h {
            1
        } else {
            2
        }
    }
}

impl Qwen3VlConfig {
    pub fn text_head_dim(&self) -> usize {
        let t = &self.text_config;
        t.head_dim
            .unwrap_or(t.hidden_size / t.num_attention_heads.max(1))
    }

    fn rope(&self) -> RopeConfig {
        let t = &self.text_config;
        t.rope_parameters
            .clone()
            .or_else(|| t.rope_scaling.clone())
            .unwrap_or_default()
    }

    pub fn rope_theta(&self) -> f64 {
        self.rope()
            .rope_theta
            .or(self.text_config.rope_theta)
            .unwrap_or(DEFAULT_ROPE_THETA)
    }

    pub fn mrope(&self) -> MropeLayout {
        let rope = self.rope();
        let section = rope
            .mrope_section
            .as_deref()
            .and_then(|s| <[usize; 3]>::try_from(s).ok())
            .unwrap_or(DEFAULT_MROPE_SECTION);
        MropeLayout {
            section,
            interleaved: rope.mrope_interleaved.unwrap_or(true),
        }
    }

    /// Whether the output layer reuses the token embeddings.
    pub fn tied_embeddings(&self) -> bool {
        self.text_config
            .tie_word_embeddings
            .or(self.tie_word_embeddings)
            .unwrap_or(false)
    }

    /// Every check the modules rely on; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let family_ok = self.model_type.as_deref().is_none_or(|m| m == "qwen3_vl")
            && (self.architectures.is_empty()
                || self
                    .architectures
                    .iter()
                    .any(|a| a == "Qwen3VLForConditionalGeneration"));
        if !family_ok {
            return Err(format!(
                "model_type {:?} / architectures {:?} is not Qwen3-VL \
                 (supported: qwen3_vl, Qwen3VLForConditionalGeneration; the MoE variant is not)",
                self.model_type, self.architectures
            ));
        }
        let t = &self.text_config;
        let v = &self.vision_config;
        positive(&[
            ("text_config.vocab_size", t.vocab_size),
            ("text_config.hidden_size", t.hidden_size),
            ("text_config.intermediate_size", t.intermediate_size),
            ("text_config.num_attention_heads", t.num_attention_heads),
            ("text_config.num_key_value_heads", t.num_key_value_heads),
            (
                "text_config.max_position_embeddings",
                t.max_position_embeddings,
            ),
            ("vision_config.depth", v.depth),
            ("vision_config.hidden_size", v.hidden_size),
            ("vision_config.intermediate_size", v.intermediate_size),
            ("vision_config.num_heads", v.num_heads),
            ("vision_config.in_channels", v.in_channels),
            ("vision_config.patch_size", v.patch_size),
            ("vision_config.spatial_merge_size", v.spatial_merge_size),
            ("vision_config.temporal_patch_size", v.temporal_patch_size),
            ("vision_config.out_hidden_size", v.out_hidden_size),
            (
                "vision_config.num_position_embeddings",
                v.num_position_embeddings,
            ),
        ])?;
        for (name, value, max) in [
            ("text_config.hidden_size", t.hidden_size, MAX_HIDDEN),
            (
                "text_config.intermediate_size",
                t.intermediate_size,
                8 * MAX_HIDDEN,
            ),
            (
                "text_config.num_hidden_layers",
                t.num_hidden_layers,
                MAX_LAYERS,
            ),
            ("text_config.vocab_size", t.vocab_size, MAX_VOCAB),
            ("vision_config.hidden_size", v.hidden_size, MAX_HIDDEN),
            (
                "vision_config.intermediate_size",
                v.intermediate_size,
                8 * MAX_HIDDEN,
            ),
            ("vision_config.depth", v.depth, MAX_LAYERS),
            ("vision_config.patch_size", v.patch_size, 256),
            ("vision_config.spatial_merge_size", v.spatial_merge_size, 16),
            (
                "vision_config.temporal_patch_size",
                v.temporal_patch_size,
                16,
            ),
            ("vision_config.in_channels", v.in_channels, 4),
            (
                "vision_config.num_position_embeddings",
                v.num_position_embeddings,
                1 << 20,
            ),
        ] {
            if value > max {
                return Err(format!(
                    "{name} = {value} is implausibly large (limit {max})"
                ));
            }
        }
        if v.in_channels != 3 {
            return Err(format!(
                "vision_config.in_channels = {}; only RGB (3) images are supported",
                v.in_channels
            ));
        }
        if !t.num_attention_heads.is_multiple_of(t.num_key_value_heads) {
            return Err(format!(
                "text_config.num_attention_heads ({}) is not a multiple of num_key_value_heads ({})",
                t.num_attention_heads, t.num_key_value_heads
            ));
        }
        let head_dim = self.text_head_dim();
        if head_dim == 0 || !head_dim.is_multiple_of(2) {
            return Err(format!(
                "text head_dim = {head_dim} must be even and positive"
            ));
        }
        let mrope = self.mrope();
        let sum: usize = mrope.section.iter().sum();
        if sum != head_dim / 2 {
            return Err(format!(
                "mrope_section {:?} sums to {sum}, but the text head has {} rotary frequencies \
                 (head_dim {head_dim} / 2)",
                mrope.section,
                head_dim / 2
            ));
        }
        if let Some(kind) = self.rope().rope_type.as_deref() {
            if kind != "default" && kind != "mrope" {
                return Err(format!(
                    "rope_type `{kind}` is not supported (supported: default)"
                ));
            }
        }
        if !(self.rope_theta().is_finite() && self.rope_theta() > 0.0) {
            return Err(format!(
                "rope_theta = {} must be positive",
                self.rope_theta()
            ));
        }
        if !(t.rms_norm_eps.is_finite() && t.rms_norm_eps >= 0.0) {
            return Err(format!("rms_norm_eps = {} must be >= 0", t.rms_norm_eps));
        }
        if !v.hidden_size.is_multiple_of(v.num_heads) {
            return Err(format!(
                "vision_config.hidden_size ({}) is not a multiple of num_heads ({})",
                v.hidden_size, v.num_heads
            ));
        }
        let vision_head = v.hidden_size / v.num_heads;
        if !vision_head.is_multiple_of(4) {
            return Err(format!(
                "vision head size {vision_head} must be a multiple of 4 (2-D rotary embedding)"
            ));
        }
        let side = grid_side(v.num_position_embeddings);
        if side * side != v.num_position_embeddings {
            return Err(format!(
                "vision_config.num_position_embeddings = {} is not a square number",
                v.num_position_embeddings
            ));
        }
        if v.out_hidden_size != t.hidden_size {
            return Err(format!(
                "vision_config.out_hidden_size ({}) differs from text_config.hidden_size ({})",
                v.out_hidden_size, t.hidden_size
            ));
        }
        if let Some(&i) = v.deepstack_visual_indexes.iter().find(|&&i| i >= v.depth) {
            return Err(format!(
                "vision_config.deepstack_visual_indexes names block {i}, but depth is {}",
                v.depth
            ));
        }
        if v.deepstack_visual_indexes.len() > t.num_hidden_layers {
            return Err(format!(
                "{} DeepStack features for {} text layers",
                v.deepstack_visual_indexes.len(),
                t.num_hidden_layers
            ));
        }
        for (name, id) in [
            ("image_token_id", Some(self.image_token_id)),
            ("video_token_id", self.video_token_id),
            ("vision_start_token_id", Some(self.vision_start_token_id)),
            ("vision_end_token_id", Some(self.vision_end_token_id)),
        ] {
            if let Some(id) = id {
                if id as usize >= t.vocab_size {
                    return Err(format!(
                        "{name} = {id} is outside the vocabulary ({})",
                        t.vocab_size
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The side of the learned position-embedding grid.
pub fn grid_side(n: usize) -> usize {
    let mut s = (n as f64).sqrt() as usize;
    while s * s > n {
        s -= 1;
    }
    while (s + 1) * (s + 1) <= n {
        s += 1;
    }
    s
}

fn positive(fields: &[(&str, usize)]) -> Result<(), String> {
    match fields.iter().find(|(_, v)| *v == 0) {
        Some((name, _)) => Err(format!("{name} must be positive")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_layout_matches_qwen3_vl() {
        let m = MropeLayout {
            section: [24, 20, 20],
            interleaved: true,
        };
        let comps: Vec<usize> = (0..64).map(|j| m.component(j)).collect();
        assert_eq!(&comps[..6], &[0, 1, 2, 0, 1, 2]);
        // H and W stop after 20 of each; the tail is all temporal.
        assert_eq!(comps.iter().filter(|&&c| c == 1).count(), 20);
        assert_eq!(comps.iter().filter(|&&c| c == 2).count(), 20);
        assert_eq!(&comps[60..], &[0, 0, 0, 0]);
    }

    #[test]
    fn chunked_layout_is_three_runs() {
        let m = MropeLayout {
            section: [2, 1, 1],
            interleaved: false,
        };
        let comps: Vec<usize> = (0..4).map(|j| m.component(j)).collect();
        assert_eq!(comps, [0, 0, 1, 2]);
    }

    #[test]
    fn grid_side_of_squares() {
        assert_eq!(grid_side(2304), 48);
        assert_eq!(grid_side(64), 8);
        assert_eq!(grid_side(65), 8);
    }
}
