//! Rewrites an ONNX graph so that `candle_onnx::simple_eval` can run it.
//!
//! candle-onnx 0.11 lacks a few operators the PP-OCR models use
//! (`GlobalAveragePool`, `HardSigmoid`, `ConvTranspose`), runs `Conv` only
//! with the same stride on both axes, and rejects an input whose batch
//! dimension is declared as the value -1 rather than as a symbol. Each of
//! these is expressible exactly with operators it does have, so the model is
//! lowered once after loading instead of patching the crate.

use candle_core::Tensor;
use candle_onnx::onnx::{
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto::dimension,
    type_proto, AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto,
};

use crate::error::{InferError, Result};

/// What [`lower_for_candle`] rewrote, for logs and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Lowered {
    pub global_average_pool: usize,
    pub hard_sigmoid: usize,
    pub uneven_stride_conv: usize,
    pub conv_transpose: usize,
    pub negative_input_dims: usize,
    pub constants_hoisted: usize,
}

/// Rewrite `model` in place into operators candle-onnx evaluates. With
/// `native_depthwise`, depthwise convolutions with uneven strides are left
/// alone for [`OnnxRunner`](super::onnx_runner::OnnxRunner), which runs
/// them directly.
pub fn lower_for_candle(model: &mut ModelProto, native_depthwise: bool) -> Result<Lowered> {
    let graph = model
        .graph
        .as_mut()
        .ok_or_else(|| bad("the model has no graph"))?;
    let mut done = Lowered {
        negative_input_dims: symbolic_negative_dims(graph),
        constants_hoisted: hoist_constants(graph),
        ..Lowered::default()
    };
    let nodes = std::mem::take(&mut graph.node);
    let mut out = Vec::with_capacity(nodes.len());
    for (index, node) in nodes.into_iter().enumerate() {
        let mut ctx = Rewrite {
            prefix: format!("vitrine_lowered_{index}"),
            graph: &mut *graph,
            out: &mut out,
        };
        match node.op_type.as_str() {
            "GlobalAveragePool" => {
                ctx.global_average_pool(node);
                done.global_average_pool += 1;
            }
            "HardSigmoid" => {
                ctx.hard_sigmoid(node);
                done.hard_sigmoid += 1;
            }
            "Conv"
                if uneven_strides(&node).is_some()
                    && !(native_depthwise && is_depthwise(&node, ctx.graph)) =>
            {
                ctx.uneven_stride_conv(node);
                done.uneven_stride_conv += 1;
            }
            "ConvTranspose" => {
                ctx.conv_transpose(node)?;
                done.conv_transpose += 1;
            }
            _ => out.push(node),
        }
    }
    graph.node = out;
    Ok(done)
}

fn bad(reason: impl Into<String>) -> InferError {
    InferError::Backend(format!("ONNX lowering: {}", reason.into()))
}

/// ONNX exporters sometimes write a dynamic batch as `dim_value: -1`;
/// candle-onnx compares that literally with the input's size.
fn symbolic_negative_dims(graph: &mut GraphProto) -> usize {
    let mut n = 0;
    for input in &mut graph.input {
        let Some(type_proto::Value::TensorType(tt)) =
            input.r#type.as_mut().and_then(|t| t.value.as_mut())
        else {
            continue;
        };
        let Some(shape) = tt.shape.as_mut() else {
            continue;
        };
        for d in &mut shape.dim {
            if matches!(d.value, Some(dimension::Value::DimValue(v)) if v < 0) {
                d.value = Some(dimension::Value::DimParam("batch".into()));
                n += 1;
            }
        }
    }
    n
}

/// `Constant` nodes holding a tensor become initializers, so that weights
/// stored that way are recognised (and converted only once by the runner).
fn hoist_constants(graph: &mut GraphProto) -> usize {
    let before = graph.node.len();
    let nodes = std::mem::take(&mut graph.node);
    for node in nodes {
        let value = (node.op_type == "Constant" && node.output.len() == 1)
            .then(|| attr(&node, "value").and_then(|a| a.t.clone()))
            .flatten();
        match value {
            Some(mut tensor) => {
                tensor.name = node.output[0].clone();
                graph.initializer.push(tensor);
            }
            None => graph.node.push(node),
        }
    }
    before - graph.node.len()
}

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn ints_attr(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}

fn uneven_strides(node: &NodeProto) -> Option<(i64, i64)> {
    match ints_attr(node, "strides").as_deref() {
        Some(&[h, w]) if h != w => Some((h, w)),
        _ => None,
    }
}

/// One group per channel, with a constant weight of shape (C, 1, k, k).
fn is_depthwise(node: &NodeProto, graph: &GraphProto) -> bool {
    let group = attr(node, "group").map_or(1, |a| a.i);
    let weight = node
        .input
        .get(1)
        .and_then(|w| graph.initializer.iter().find(|t| &t.name == w));
    matches!(weight.map(|w| w.dims.as_slice()), Some(&[c, 1, _, _]) if group > 1 && c == group)
}

fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: values.to_vec(),
        ..AttributeProto::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: value,
        ..AttributeProto::default()
    }
}

struct Rewrite<'a> {
    prefix: String,
    graph: &'a mut GraphProto,
    out: &'a mut Vec<NodeProto>,
}

impl Rewrite<'_> {
    fn name(&self, what: &str) -> String {
        format!("{}_{what}", self.prefix)
    }

    fn push(&mut self, op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) {
        self.out.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            name: output.to_string(),
            op_type: op.into(),
            attribute,
            ..NodeProto::default()
        });
    }

    fn f32_const(&mut self, what: &str, dims: &[i64], data: Vec<f32>) -> String {
        let name = self.name(what);
        self.graph.initializer.push(TensorProto {
            name: name.clone(),
            dims: dims.to_vec(),
            data_type: DataType::Float as i32,
            float_data: data,
            ..TensorProto::default()
        });
        name
    }

    fn i64_const(&mut self, what: &str, data: &[i64]) -> String {
        let name = self.name(what);
        self.graph.initializer.push(TensorProto {
            name: name.clone(),
            dims: vec![data.len() as i64],
            data_type: DataType::Int64 as i32,
            int64_data: data.to_vec(),
            ..TensorProto::default()
        });
        name
    }

    /// The value of `name` when it is an initializer or a `Constant` node's
    /// output seen so far.
    fn constant(&self, name: &str) -> Option<Result<Tensor>> {
        let proto = self
            .graph
            .initializer
            .iter()
            .find(|t| t.name == name)
            .or_else(|| {
                self.out
                    .iter()
                    .find(|n| {
                        n.op_type == "Constant" && n.output.first().is_some_and(|o| o == name)
                    })
                    .and_then(|n| attr(n, "value"))
                    .and_then(|a| a.t.as_ref())
            })?;
        Some(candle_onnx::eval::get_tensor(proto, name).map_err(InferError::from))
    }

    /// The mean over the spatial axes, keeping them as size 1.
    fn global_average_pool(&mut self, mut node: NodeProto) {
        node.op_type = "ReduceMean".into();
        node.attribute = vec![ints("axes", &[2, 3]), int("keepdims", 1)];
        self.out.push(node);
    }

    /// `clip(alpha * x + beta, 0, 1)`, with ONNX's defaults 0.2 and 0.5.
    fn hard_sigmoid(&mut self, node: NodeProto) {
        let float = |name: &str, default: f32| attr(&node, name).map_or(default, |a| a.f);
        let (alpha, beta) = (float("alpha", 0.2), float("beta", 0.5));
        let alpha = self.f32_const("alpha", &[], vec![alpha]);
        let beta = self.f32_const("beta", &[], vec![beta]);
        let zero = self.f32_const("zero", &[], vec![0.0]);
        let one = self.f32_const("one", &[], vec![1.0]);
        let (scaled, shifted) = (self.name("scaled"), self.name("shifted"));
        self.push("Mul", &[&node.input[0], &alpha], &scaled, vec![]);
        self.push("Add", &[&scaled, &beta], &shifted, vec![]);
        self.push("Clip", &[&shifted, &zero, &one], &node.output[0], vec![]);
    }

    /// A stride-(sh, sw) convolution is the stride-1 one sampled every sh
    /// rows and sw columns from the first; the extra work is confined to the
    /// few downsampling layers of the recogniser.
    fn uneven_stride_conv(&mut self, mut node: NodeProto) {
        let Some((sh, sw)) = uneven_strides(&node) else {
            self.out.push(node);
            return;
        };
        let output = std::mem::replace(&mut node.output[0], self.name("dense"));
        for a in &mut node.attribute {
            if a.name == "strides" {
                a.ints = vec![1, 1];
            }
        }
        let dense = node.output[0].clone();
        self.out.push(node);
        let starts = self.i64_const("starts", &[0, 0]);
        let ends = self.i64_const("ends", &[i64::MAX, i64::MAX]);
        let axes = self.i64_const("axes", &[2, 3]);
        let steps = self.i64_const("steps", &[sh, sw]);
        self.push(
            "Slice",
            &[&dense, &starts, &ends, &axes, &steps],
            &output,
            vec![],
        );
    }

    /// A transposed convolution whose kernel equals its stride (no overlap,
    /// no padding) writes each input pixel into its own kh×kw output block:
    /// a 1×1 convolution to Cout·kh·kw channels followed by depth-to-space.
    fn conv_transpose(&mut self, node: NodeProto) -> Result<()> {
        let kernel = ints_attr(&node, "kernel_shape");
        let strides = ints_attr(&node, "strides").unwrap_or_else(|| vec![1, 1]);
        let zeros = |name: &str| ints_attr(&node, name).is_none_or(|v| v.iter().all(|&x| x == 0));
        let ones = |name: &str| ints_attr(&node, name).is_none_or(|v| v.iter().all(|&x| x == 1));
        let group = attr(&node, "group").map_or(1, |a| a.i);
        let supported = kernel.as_deref() == Some(&strides[..])
            && strides.len() == 2
            && zeros("pads")
            && zeros("output_padding")
            && ones("dilations")
            && group == 1
            && attr(&node, "output_shape").is_none()
            && attr(&node, "auto_pad").is_none_or(|a| a.s == b"NOTSET");
        if !supported {
            return Err(bad(format!(
                "ConvTranspose {} has overlapping or padded kernels, which are not supported",
                node.name
            )));
        }
        let (kh, kw) = (strides[0], strides[1]);
        let w = self.constant(&node.input[1]).ok_or_else(|| {
            bad(format!(
                "ConvTranspose {}: weight is not a constant",
                node.name
            ))
        })??;
        let (cin, cout, _, _) = w.dims4()?;
        // (Cin, Cout, kh, kw) → (Cout·kh·kw, Cin, 1, 1), output channel order (o, a, b).
        let w = w.permute((1, 2, 3, 0))?.contiguous()?.reshape((
            cout * (kh * kw) as usize,
            cin,
            1,
            1,
        ))?;
        let w_dims: Vec<i64> = w.dims().iter().map(|&d| d as i64).collect();
        let w_data = w.flatten_all()?.to_vec1::<f32>()?;
        let w = self.f32_const("weight", &w_dims, w_data);

        let cout = cout as i64;
        let z = self.name("blocks");
        self.push("Conv", &[&node.input[0], &w], &z, vec![]);
        let shape = self.name("shape");
        self.push("Shape", &[&z], &shape, vec![]);
        let (i_n, i_hw) = (self.i64_const("i_n", &[0]), self.i64_const("i_hw", &[2, 3]));
        let (n, hw) = (self.name("n"), self.name("hw"));
        self.push("Gather", &[&shape, &i_n], &n, vec![int("axis", 0)]);
        self.push("Gather", &[&shape, &i_hw], &hw, vec![int("axis", 0)]);
        let split = self.i64_const("split", &[cout, kh, kw]);
        let shape6 = self.name("shape6");
        self.push("Concat", &[&n, &split, &hw], &shape6, vec![int("axis", 0)]);
        let (r6, t6) = (self.name("r6"), self.name("t6"));
        self.push("Reshape", &[&z, &shape6], &r6, vec![]);
        // (N, Cout, kh, kw, H, W) → (N, Cout, H, kh, W, kw)
        self.push(
            "Transpose",
            &[&r6],
            &t6,
            vec![ints("perm", &[0, 1, 4, 2, 5, 3])],
        );
        let k = self.i64_const("k", &[kh, kw]);
        let (hw_out, c) = (self.name("hw_out"), self.i64_const("c", &[cout]));
        self.push("Mul", &[&hw, &k], &hw_out, vec![]);
        let shape4 = self.name("shape4");
        self.push("Concat", &[&n, &c, &hw_out], &shape4, vec![int("axis", 0)]);
        match node.input.get(2).filter(|b| !b.is_empty()) {
            None => self.push("Reshape", &[&t6, &shape4], &node.output[0], vec![]),
            Some(bias) => {
                let y = self.name("unbiased");
                self.push("Reshape", &[&t6, &shape4], &y, vec![]);
                let bshape = self.i64_const("bias_shape", &[1, cout, 1, 1]);
                let b4 = self.name("bias4");
                self.push("Reshape", &[bias, &bshape], &b4, vec![]);
                self.push("Add", &[&y, &b4], &node.output[0], vec![]);
            }
        }
        Ok(())
    }
}
