//! Qwen3-VL's language model: Qwen3 decoder layers (per-head RMS norms on
//! queries and keys, grouped-query attention, SwiGLU) with multimodal RoPE,
//! whose three position components (time, row, column) drive interleaved
//! slices of each head's rotary frequencies, and DeepStack: visual features
//! added to the image tokens' hidden states after the first layers.
//!
//! Written here rather than taken from candle-transformers' `qwen3_vl`,
//! whose 0.11 text path attends without a causal mask over multi-token
//! inputs, rotates by 1-D positions only and cannot clear its KV cache.

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::kv_cache::ConcatKvCache;
use candle_nn::{embedding, linear_b, linear_no_bias, rms_norm, Activation, Embedding, Linear};
use candle_nn::{RmsNorm, VarBuilder};

use super::config::{MropeLayout, Qwen3VlConfig};
use crate::error::{InferError, Result};
use crate::text::CancelToken;

/// A token's (time, row, column) position.
pub type Position = [u32; 3];

struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    q_norm: RmsNorm,
    k_norm: RmsNorm,
    gate: Linear,
    up: Linear,
    down: Linear,
    input_norm: RmsNorm,
    post_norm: RmsNorm,
    cache: ConcatKvCache,
}

/// Visual inputs of a prefill: the image tokens' span in the sequence and
/// the DeepStack features for it, one per early layer.
pub struct VisualSpan<'a> {
    pub start: usize,
    pub len: usize,
    pub deepstack: &'a [Tensor],
}

pub struct TextDecoder {
    embed: Embedding,
    layers: Vec<Layer>,
    norm: RmsNorm,
    lm_head: Linear,
    inv_freq: Vec<f32>,
    mrope: MropeLayout,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    act: Activation,
    dtype: DType,
    device: Device,
    /// Tokens in the KV cache.
    cached: usize,
}

impl TextDecoder {
    pub fn new(cfg: &Qwen3VlConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let t = &cfg.text_config;
        let hd = cfg.text_head_dim();
        let (h, nh, nkv) = (t.hidden_size, t.num_attention_heads, t.num_key_value_heads);
        let vm = vb.pp("model").pp("language_model");
        let embed = embedding(t.vocab_size, h, vm.pp("embed_tokens"))?;
        let mut layers = Vec::with_capacity(t.num_hidden_layers);
        for i in 0..t.num_hidden_layers {
            let l = vm.pp("layers").pp(i);
            let a = l.pp("self_attn");
            let m = l.pp("mlp");
            let bias = t.attention_bias;
            layers.push(Layer {
                q: linear_b(h, nh * hd, bias, a.pp("q_proj"))?,
                k: linear_b(h, nkv * hd, bias, a.pp("k_proj"))?,
                v: linear_b(h, nkv * hd, bias, a.pp("v_proj"))?,
                o: linear_b(nh * hd, h, bias, a.pp("o_proj"))?,
                q_norm: rms_norm(hd, t.rms_norm_eps, a.pp("q_norm"))?,
                k_norm: rms_norm(hd, t.rms_norm_eps, a.pp("k_norm"))?,
                gate: linear_no_bias(h, t.intermediate_size, m.pp("gate_proj"))?,
                up: linear_no_bias(h, t.intermediate_size, m.pp("up_proj"))?,
                down: linear_no_bias(t.intermediate_size, h, m.pp("down_proj"))?,
                input_norm: rms_norm(h, t.rms_norm_eps, l.pp("input_layernorm"))?,
                post_norm: rms_norm(h, t.rms_norm_eps, l.pp("post_attention_layernorm"))?,
                cache: ConcatKvCache::new(2),
            });
        }
        let norm = rms_norm(h, t.rms_norm_eps, vm.pp("norm"))?;
        // A checkpoint's own output layer wins; otherwise the embeddings are
        // tied (Qwen3-VL-2B ships none).
        let lm_head = if vb.contains_tensor("lm_head.weight") || !cfg.tied_embeddings() {
            linear_no_bias(h, t.vocab_size, vb.pp("lm_head"))?
        } else {
            Linear::new(embed.embeddings().clone(), None)
        };
        let theta = cfg.rope_theta();
        let inv_freq = (0..hd / 2)
            .map(|i| (1.0 / theta.powf((2 * i) as f64 / hd as f64)) as f32)
            .collect();
        Ok(Self {
            embed,
            layers,
            norm,
            lm_head,
            inv_freq,
            mrope: cfg.mrope(),
            heads: nh,
            kv_heads: nkv,
            head_dim: hd,
            act: t.hidden_act,
            dtype: vb.dtype(),
            device: vb.device().clone(),
            cached: 0,
        })
    }

    pub fn vocab_size(&self) -> Result<usize> {
        Ok(self.lm_head.weight().dim(0)?)
    }

    pub fn cached_tokens(&self) -> usize {
        self.cached
    }

    pub fn clear_cache(&mut self) {
        for l in &mut self.layers {
            l.cache.reset();
        }
        self.cached = 0;
    }

    /// Token embeddings `(1, n, hidden)` of `ids`.
    pub fn embed(&self, ids: &[u32]) -> Result<Tensor> {
        let ids = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
        Ok(self.embed.forward(&ids)?)
    }

    /// Run `xs` `(1, n, hidden)` at `positions` after the cached tokens and
    /// return the last position's logits (f32). Cancellation is checked
    /// between layers, so a long prefill stops promptly.
    pub fn forward(
        &mut self,
        xs: Tensor,
        positions: &[Position],
        visual: Option<VisualSpan<'_>>,
        cancel: &CancelToken,
    ) -> Result<Tensor> {
        let (_, n, _) = xs.dims3()?;
        if positions.len() != n || n == 0 {
            return Err(InferError::Backend(format!(
                "{} positions for {n} tokens",
                positions.len()
            )));
        }
        let (cos, sin) = self.rotary(positions)?;
        let mask = if n > 1 {
            Some(causal_mask(n, self.cached, &self.device)?)
        } else {
            None
        };
        let mut xs = xs;
        let (heads, kv_heads, hd, act) = (self.heads, self.kv_heads, self.head_dim, self.act);
        for (i, layer) in self.layers.iter_mut().enumerate() {
            if cancel.is_cancelled() {
                // The cache now holds a partial pass; the caller clears it.
                return Err(InferError::Cancelled);
            }
            xs = layer_forward(
                layer,
                &xs,
                &cos,
                &sin,
                mask.as_ref(),
                heads,
                kv_heads,
                hd,
                act,
            )?;
            if let Some(v) = &visual {
                if let Some(feature) = v.deepstack.get(i) {
                    xs = add_to_span(&xs, v.start, v.len, feature)?;
                }
            }
        }
        self.cached += n;
        let last = xs.narrow(1, n - 1, 1)?;
        let logits = self.lm_head.forward(&self.norm.forward(&last)?)?;
        Ok(logits.flatten_all()?.to_dtype(DType::F32)?)
    }

    /// Cos and sin `(n, head_dim / 2)` of multimodal RoPE at `positions`.
    fn rotary(&self, positions: &[Position]) -> Result<(Tensor, Tensor)> {
        let half = self.inv_freq.len();
        let comps: Vec<usize> = (0..half).map(|j| self.mrope.component(j)).collect();
        let mut freqs = Vec::with_capacity(positions.len() * half);
        for p in positions {
            for (f, &c) in self.inv_freq.iter().zip(&comps) {
                freqs.push(p[c] as f32 * f);
            }
        }
        let freqs = Tensor::from_vec(freqs, (positions.len(), half), &self.device)?;
        Ok((
            freqs.cos()?.to_dtype(self.dtype)?,
            freqs.sin()?.to_dtype(self.dtype)?,
        ))
    }
}

#[allow(clippy::too_many_arguments)]
fn layer_forward(
    l: &mut Layer,
    xs: &Tensor,
    cos: &Tensor,
    sin: &Tensor,
    mask: Option<&Tensor>,
    heads: usize,
    kv_heads: usize,
    hd: usize,
    act: Activation,
) -> Result<Tensor> {
    let (b, n, _) = xs.dims3()?;
    let h = l.input_norm.forward(xs)?;
    let split = |t: Tensor, nh: usize| -> candle_core::Result<Tensor> {
        t.reshape((b, n, nh, hd))?.transpose(1, 2)?.contiguous()
    };
    let q = split(l.q.forward(&h)?, heads)?.apply(&l.q_norm)?;
    let k = split(l.k.forward(&h)?, kv_heads)?.apply(&l.k_norm)?;
    let v = split(l.v.forward(&h)?, kv_heads)?;
    let q = candle_nn::rotary_emb::rope(&q.contiguous()?, cos, sin)?;
    let k = candle_nn::rotary_emb::rope(&k.contiguous()?, cos, sin)?;
    let (k, v) = l.cache.append(&k, &v)?;
    let rep = heads / kv_heads;
    let k = candle_transformers::utils::repeat_kv(k, rep)?.contiguous()?;
    let v = candle_transformers::utils::repeat_kv(v, rep)?.contiguous()?;
    let scale = 1.0 / (hd as f64).sqrt();
    let scores = (q.matmul(&k.t()?)? * scale)?.to_dtype(DType::F32)?;
    let scores = match mask {
        Some(m) => scores.broadcast_add(m)?,
        None => scores,
    };
    let probs = candle_nn::ops::softmax_last_dim(&scores)?.to_dtype(v.dtype())?;
    let attn = probs
        .matmul(&v)?
        .transpose(1, 2)?
        .reshape((b, n, heads * hd))?;
    let xs = (xs + l.o.forward(&attn)?)?;
    let h = l.post_norm.forward(&xs)?;
    let mlp = l
        .down
        .forward(&(l.gate.forward(&h)?.apply(&act)? * l.up.forward(&h)?)?)?;
    Ok((xs + mlp)?)
}

/// `(n, past + n)`: token i sees the cache and tokens up to itself.
fn causal_mask(n: usize, past: usize, device: &Device) -> Result<Tensor> {
    let mask: Vec<f32> = (0..n)
        .flat_map(|i| {
            (0..past + n).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 })
        })
        .collect();
    Ok(Tensor::from_vec(mask, (n, past + n), device)?)
}

/// `xs` with `add` added to rows `start..start + len` of its sequence.
fn add_to_span(xs: &Tensor, start: usize, len: usize, add: &Tensor) -> Result<Tensor> {
    let (_, n, _) = xs.dims3()?;
    if start + len > n || add.dim(0)? != len {
        return Err(InferError::Backend(format!(
            "DeepStack feature of {} rows for span {start}..{} of {n}",
            add.dim(0)?,
            start + len
        )));
    }
    let span = (xs.narrow(1, start, len)? + add.unsqueeze(0)?.to_dtype(xs.dtype())?)?;
    let mut parts = Vec::with_capacity(3);
    if start > 0 {
        parts.push(xs.narrow(1, 0, start)?);
    }
    parts.push(span);
    if start + len < n {
        parts.push(xs.narrow(1, start + len, n - start - len)?);
    }
    Ok(Tensor::cat(&parts, 1)?)
}

/// Embeddings with rows `start..start + len` replaced by `rows`.
pub fn replace_span(xs: &Tensor, start: usize, rows: &Tensor) -> Result<Tensor> {
    let (_, n, _) = xs.dims3()?;
    let len = rows.dim(0)?;
    if start + len > n {
        return Err(InferError::Backend(format!(
            "{len} image embeddings do not fit at {start} of {n} tokens"
        )));
    }
    let mut parts = Vec::with_capacity(3);
    if start > 0 {
        parts.push(xs.narrow(1, 0, start)?);
    }
    parts.push(rows.unsqueeze(0)?.to_dtype(xs.dtype())?);
    if start + len < n {
        parts.push(xs.narrow(1, start + len, n - start - len)?);
    }
    Ok(Tensor::cat(&parts, 1)?)
}

/// Positions of a prompt with one image: text counts up on all three
/// components; the image's merged tokens sit at (s, s + row, s + col) after
/// `s` text tokens; text after the image resumes one past the largest
/// position so far. Returns the positions and the next free position.
pub fn prompt_positions(
    len: usize,
    image_start: usize,
    rows: usize,
    cols: usize,
) -> (Vec<Position>, u32) {
    let mut out = Vec::with_capacity(len);
    let s = image_start as u32;
    for i in 0..image_start.min(len) {
        let i = i as u32;
        out.push([i, i, i]);
    }
    for r in 0..rows as u32 {
        for c in 0..cols as u32 {
            out.push([s, s + r, s + c]);
        }
    }
    let mut next = if rows * cols > 0 {
        s + (rows.max(cols) as u32)
    } else {
        s
    };
    while out.len() < len {
        out.push([next; 3]);
        next += 1;
    }
    out.truncate(len);
    (out, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_resume_after_the_image_grid() {
        // 2 text tokens, a 2×3 image, 2 text tokens.
        let (p, next) = prompt_positions(10, 2, 2, 3);
        assert_eq!(p[0], [0, 0, 0]);
        assert_eq!(p[1], [1, 1, 1]);
        assert_eq!(p[2], [2, 2, 2]);
        assert_eq!(p[4], [2, 2, 4]);
        assert_eq!(p[5], [2, 3, 2]);
        assert_eq!(p[7], [2, 3, 4]);
        // max so far is 4 → text resumes at 5.
        assert_eq!(p[8], [5, 5, 5]);
        assert_eq!(p[9], [6, 6, 6]);
        assert_eq!(next, 7);
    }

    #[test]
    fn text_only_positions_count_up() {
        let (p, next) = prompt_positions(3, 3, 0, 0);
        assert_eq!(p, vec![[0, 0, 0], [1, 1, 1], [2, 2, 2]]);
        assert_eq!(next, 3);
    }
}
