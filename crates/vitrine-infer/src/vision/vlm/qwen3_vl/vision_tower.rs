//! Qwen3-VL's vision encoder: a ViT over 16-pixel patches (the Conv3d patch
//! embedding is a matmul, since its kernel equals its stride and each row is
//! one kernel's input), learned position embeddings bilinearly resampled to
//! the image's grid, 2-D rotary attention over the whole image, a 2×2 patch
//! merger into the language model's width, and DeepStack features taken
//! from chosen blocks for the first decoder layers.

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{layer_norm, linear, Activation, LayerNorm, Linear, VarBuilder};

use super::config::{grid_side, VisionConfig};
use crate::error::{InferError, Result};
use crate::text::CancelToken;

const LN_EPS: f64 = 1e-6;
const ROPE_THETA: f32 = 10_000.0;
/// Cap on one attention score matrix (elements), so a large image is
/// attended a few heads at a time instead of all at once.
const MAX_SCORES: usize = 64 << 20;

struct Block {
    norm1: LayerNorm,
    norm2: LayerNorm,
    qkv: Linear,
    proj: Linear,
    fc1: Linear,
    fc2: Linear,
    act: Activation,
}

/// Folds 2×2 neighbouring patches into one token of the decoder's width.
struct Merger {
    norm: LayerNorm,
    /// DeepStack mergers normalise after the 2×2 fold, the main one before.
    norm_after_fold: bool,
    fc1: Linear,
    fc2: Linear,
    folded: usize,
}

impl Merger {
    fn new(cfg: &VisionConfig, norm_after_fold: bool, vb: VarBuilder) -> candle_core::Result<Self> {
        let folded = cfg.hidden_size * cfg.spatial_merge_size * cfg.spatial_merge_size;
        let norm_dim = if norm_after_fold {
            folded
        } else {
            cfg.hidden_size
        };
        Ok(Self {
            norm: layer_norm(norm_dim, LN_EPS, vb.pp("norm"))?,
            norm_after_fold,
            fc1: linear(folded, folded, vb.pp("linear_fc1"))?,
            fc2: linear(folded, cfg.out_hidden_size, vb.pp("linear_fc2"))?,
            folded,
        })
    }

    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let xs = if self.norm_after_fold {
            self.norm.forward(&xs.reshape(((), self.folded))?)?
        } else {
            self.norm.forward(xs)?.reshape(((), self.folded))?
        };
        // The merger's activation is exact GELU whatever the config says.
        let xs = self.fc1.forward(&xs)?.gelu_erf()?;
        self.fc2.forward(&xs)
    }
}

pub struct VisionTower {
    patch_embed: Linear,
    pos_embed: Tensor,
    blocks: Vec<Block>,
    merger: Merger,
    /// (block index, its DeepStack merger), in feature order.
    deepstack: Vec<(usize, Merger)>,
    grid_side: usize,
    merge: usize,
    heads: usize,
    head_dim: usize,
    hidden: usize,
    dtype: DType,
}

impl VisionTower {
    pub fn new(cfg: &VisionConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let h = cfg.hidden_size;
        let (c, t, p) = (cfg.in_channels, cfg.temporal_patch_size, cfg.patch_size);
        let pe = vb.pp("patch_embed").pp("proj");
        let weight = pe
            .get((h, c, t, p, p), "weight")?
            .reshape((h, c * t * p * p))?;
        let bias = pe.get(h, "bias")?;
        let pos_embed = vb
            .pp("pos_embed")
            .get((cfg.num_position_embeddings, h), "weight")?;
        let mut blocks = Vec::with_capacity(cfg.depth);
        for i in 0..cfg.depth {
            let b = vb.pp("blocks").pp(i);
            blocks.push(Block {
                norm1: layer_norm(h, LN_EPS, b.pp("norm1"))?,
                norm2: layer_norm(h, LN_EPS, b.pp("norm2"))?,
                qkv: linear(h, 3 * h, b.pp("attn").pp("qkv"))?,
                proj: linear(h, h, b.pp("attn").pp("proj"))?,
                fc1: linear(h, cfg.intermediate_size, b.pp("mlp").pp("linear_fc1"))?,
                fc2: linear(cfg.intermediate_size, h, b.pp("mlp").pp("linear_fc2"))?,
                act: cfg.hidden_act,
            });
        }
        let merger = Merger::new(cfg, false, vb.pp("merger"))?;
        let deepstack = cfg
            .deepstack_visual_indexes
            .iter()
            .enumerate()
            .map(|(i, &block)| {
                Ok((
                    block,
                    Merger::new(cfg, true, vb.pp("deepstack_merger_list").pp(i))?,
                ))
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            patch_embed: Linear::new(weight, Some(bias)),
            pos_embed,
            blocks,
            merger,
            deepstack,
            grid_side: grid_side(cfg.num_position_embeddings),
            merge: cfg.spatial_merge_size,
            heads: cfg.num_heads,
            head_dim: h / cfg.num_heads,
            hidden: h,
            dtype: vb.dtype(),
        })
    }

    /// Image tokens `(grid_h·grid_w / merge², out_hidden)` and the DeepStack
    /// features (same shape, one per chosen block) of one image's patches.
    pub fn forward(
        &self,
        patches: &Tensor,
        grid_h: usize,
        grid_w: usize,
        cancel: &CancelToken,
    ) -> Result<(Tensor, Vec<Tensor>)> {
        let m = self.merge;
        if grid_h == 0 || grid_w == 0 || !grid_h.is_multiple_of(m) || !grid_w.is_multiple_of(m) {
            return Err(InferError::Backend(format!(
                "patch grid {grid_h}×{grid_w} is not a multiple of the merge size {m}"
            )));
        }
        let device = patches.device().clone();
        let mut xs = self.patch_embed.forward(&patches.to_dtype(self.dtype)?)?;
        xs = (xs + self.position_embeddings(grid_h, grid_w, &device)?)?;
        let (cos, sin) = self.rotary(grid_h, grid_w, &device)?;
        let mut features = Vec::with_capacity(self.deepstack.len());
        for (i, block) in self.blocks.iter().enumerate() {
            if cancel.is_cancelled() {
                return Err(InferError::Cancelled);
            }
            xs = self.block(block, &xs, &cos, &sin)?;
            for (_, merger) in self.deepstack.iter().filter(|(b, _)| *b == i) {
                features.push(merger.forward(&xs)?);
            }
        }
        Ok((self.merger.forward(&xs)?, features))
    }

    fn block(&self, b: &Block, xs: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        let n = xs.dim(0)?;
        let qkv = b
            .qkv
            .forward(&b.norm1.forward(xs)?)?
            .reshape((n, 3, self.heads, self.head_dim))?
            .to_dtype(DType::F32)?;
        // (1, heads, n, head_dim) for the rotary kernel and the matmuls.
        let part = |i: usize| -> candle_core::Result<Tensor> {
            qkv.narrow(1, i, 1)?
                .squeeze(1)?
                .transpose(0, 1)?
                .unsqueeze(0)?
                .contiguous()
        };
        let q = candle_nn::rotary_emb::rope(&part(0)?, cos, sin)?;
        let k = candle_nn::rotary_emb::rope(&part(1)?, cos, sin)?;
        let v = part(2)?;
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let per_chunk = (MAX_SCORES / (n * n).max(1)).clamp(1, self.heads);
        let mut outs = Vec::new();
        let mut h0 = 0;
        while h0 < self.heads {
            let hn = per_chunk.min(self.heads - h0);
            let q = q.narrow(1, h0, hn)?;
            let k = k.narrow(1, h0, hn)?;
            let v = v.narrow(1, h0, hn)?;
            let scores = (q.matmul(&k.t()?)? * scale)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            outs.push(probs.matmul(&v)?);
            h0 += hn;
        }
        let attn = Tensor::cat(&outs, 1)?
            .squeeze(0)?
            .transpose(0, 1)?
            .reshape((n, self.hidden))?
            .to_dtype(self.dtype)?;
        let xs = (xs + b.proj.forward(&attn)?)?;
        let mlp = b
            .fc2
            .forward(&b.fc1.forward(&b.norm2.forward(&xs)?)?.apply(&b.act)?)?;
        Ok((xs + mlp)?)
    }

    /// The position table resampled bilinearly to `grid_h × grid_w`
    /// (corners aligned), in the merge-block row order of the patches.
    fn position_embeddings(&self, grid_h: usize, grid_w: usize, device: &Device) -> Result<Tensor> {
        let side = self.grid_side;
        let axis = |len: usize| -> Vec<(usize, usize, f32)> {
            (0..len)
                .map(|i| {
                    let x = if len == 1 {
                        0.0
                    } else {
                        i as f64 * (side - 1) as f64 / (len - 1) as f64
                    };
                    let lo = (x.floor() as usize).min(side - 1);
                    let hi = (lo + 1).min(side - 1);
                    (lo, hi, (x - lo as f64) as f32)
                })
                .collect()
        };
        let (rows, cols) = (axis(grid_h), axis(grid_w));
        let n = grid_h * grid_w;
        let mut idx = vec![vec![0u32; n]; 4];
        let mut wts = vec![vec![0f32; n]; 4];
        for (k, (r, c)) in self.merge_order(grid_h, grid_w).enumerate() {
            let (r0, r1, dr) = rows[r];
            let (c0, c1, dc) = cols[c];
            let corners = [
                (r0, c0, (1.0 - dr) * (1.0 - dc)),
                (r0, c1, (1.0 - dr) * dc),
                (r1, c0, dr * (1.0 - dc)),
                (r1, c1, dr * dc),
            ];
            for (j, (rr, cc, w)) in corners.into_iter().enumerate() {
                idx[j][k] = (rr * side + cc) as u32;
                wts[j][k] = w;
            }
        }
        let idx = Tensor::from_vec(idx.concat(), 4 * n, device)?;
        let wts = Tensor::from_vec(wts.concat(), (4, n, 1), device)?.to_dtype(self.dtype)?;
        let gathered = self
            .pos_embed
            .index_select(&idx, 0)?
            .reshape((4, n, self.hidden))?;
        Ok(gathered.broadcast_mul(&wts)?.sum(0)?)
    }

    /// Cos and sin `(n, head_dim / 2)` of the 2-D rotary embedding: the
    /// first half of the frequencies turn with the patch row, the second
    /// with its column.
    fn rotary(&self, grid_h: usize, grid_w: usize, device: &Device) -> Result<(Tensor, Tensor)> {
        let dim = self.head_dim / 2;
        let inv: Vec<f32> = (0..dim / 2)
            .map(|i| 1.0 / ROPE_THETA.powf((2 * i) as f32 / dim as f32))
            .collect();
        let n = grid_h * grid_w;
        let mut freqs = Vec::with_capacity(n * dim);
        for (r, c) in self.merge_order(grid_h, grid_w) {
            freqs.extend(inv.iter().map(|f| r as f32 * f));
            freqs.extend(inv.iter().map(|f| c as f32 * f));
        }
        let freqs = Tensor::from_vec(freqs, (n, dim), device)?;
        Ok((freqs.cos()?, freqs.sin()?))
    }

    /// (row, column) of each patch in the order the rows of `patches` come.
    fn merge_order(&self, grid_h: usize, grid_w: usize) -> impl Iterator<Item = (usize, usize)> {
        let m = self.merge;
        (0..grid_h / m).flat_map(move |bh| {
            (0..grid_w / m).flat_map(move |bw| {
                (0..m).flat_map(move |ih| (0..m).map(move |iw| (bh * m + ih, bw * m + iw)))
            })
        })
    }
}
