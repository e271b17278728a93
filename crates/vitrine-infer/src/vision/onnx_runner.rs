//! Runs a (lowered) ONNX graph node by node: candle-onnx evaluates each
//! node, except depthwise convolutions, which go to the direct CPU kernel.
//!
//! `candle_onnx::simple_eval` converts every initializer again on each call
//! and keeps every intermediate tensor to the end, and candle runs a
//! grouped convolution as one small convolution per channel: the PP-OCR
//! networks, built of depthwise-separable blocks, spent most of their time
//! there. Here the constants are converted once, each node is handed to
//! candle-onnx as a one-node graph, intermediates are dropped after their
//! last use, and depthwise convolutions use [`depthwise_cpu_with`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use candle_core::Tensor;
use candle_onnx::onnx::{GraphProto, ModelProto, NodeProto, ValueInfoProto};

use super::depthwise::{depthwise_cpu_with, Geometry};
use crate::error::{InferError, Result};

/// A graph ready to run on the CPU.
pub struct OnnxRunner {
    steps: Vec<Step>,
    constants: HashMap<String, Tensor>,
    input: String,
    output: String,
    /// Values no later step reads, dropped after each step.
    dead_after: Vec<Vec<String>>,
}

enum Step {
    /// One node as a one-node model, for candle-onnx.
    Node {
        op: String,
        model: Box<ModelProto>,
        inputs: Vec<String>,
    },
    Depthwise {
        input: String,
        output: String,
        taps: Vec<f32>,
        bias: Vec<f32>,
        kernel: usize,
        stride: (usize, usize),
        /// Top, left, bottom, right.
        pads: [usize; 4],
    },
}

impl Step {
    fn inputs(&self) -> Vec<&str> {
        match self {
            Step::Node { inputs, .. } => inputs.iter().map(String::as_str).collect(),
            Step::Depthwise { input, .. } => vec![input.as_str()],
        }
    }

    fn op(&self) -> &str {
        match self {
            Step::Node { op, .. } => op,
            Step::Depthwise { .. } => "Conv (depthwise)",
        }
    }
}

fn bad(reason: impl Into<String>) -> InferError {
    InferError::Backend(format!("ONNX runner: {}", reason.into()))
}

impl OnnxRunner {
    /// Prepare `model`, whose graph must have one input and one output and
    /// only operators candle-onnx knows (see
    /// [`lower_for_candle`](super::onnx_lowering::lower_for_candle)).
    pub fn new(model: ModelProto) -> Result<Self> {
        let graph = model.graph.ok_or_else(|| bad("the model has no graph"))?;
        let mut constants = HashMap::new();
        for t in &graph.initializer {
            constants.insert(t.name.clone(), candle_onnx::eval::get_tensor(t, &t.name)?);
        }
        let input = graph
            .input
            .iter()
            .map(|i| i.name.clone())
            .find(|n| !constants.contains_key(n))
            .ok_or_else(|| bad("the model has no input"))?;
        let output = graph
            .output
            .first()
            .map(|o| o.name.clone())
            .ok_or_else(|| bad("the model has no output"))?;
        let mut steps = Vec::with_capacity(graph.node.len());
        for node in graph.node {
            steps.push(match depthwise(&node, &constants)? {
                Some(step) => step,
                None => one_node(node),
            });
        }
        let mut last_use: HashMap<&str, usize> = HashMap::new();
        for (i, step) in steps.iter().enumerate() {
            for name in step.inputs() {
                last_use.insert(name, i);
            }
        }
        let mut dead_after = vec![Vec::new(); steps.len()];
        for (name, i) in last_use {
            if name != output && !constants.contains_key(name) {
                dead_after[i].push(name.to_string());
            }
        }
        Ok(Self {
            steps,
            constants,
            input,
            output,
            dead_after,
        })
    }

    /// The graph's output for input `x`.
    pub fn run(&self, x: Tensor) -> Result<Tensor> {
        self.run_timed(x, None)
    }

    /// [`run`](Self::run), adding each operator's time to `times`.
    pub fn profile(&self, x: Tensor, times: &mut HashMap<String, Duration>) -> Result<Tensor> {
        self.run_timed(x, Some(times))
    }

    fn run_timed(
        &self,
        x: Tensor,
        mut times: Option<&mut HashMap<String, Duration>>,
    ) -> Result<Tensor> {
        let mut values: HashMap<String, Tensor> = HashMap::from([(self.input.clone(), x)]);
        for (step, dead) in self.steps.iter().zip(&self.dead_after) {
            let started = Instant::now();
            let get = |name: &str| {
                values
                    .get(name)
                    .or_else(|| self.constants.get(name))
                    .cloned()
                    .ok_or_else(|| bad(format!("value {name} is not computed")))
            };
            match step {
                Step::Node { model, inputs, .. } => {
                    let mut given = HashMap::with_capacity(inputs.len());
                    for name in inputs {
                        given.insert(name.clone(), get(name)?);
                    }
                    values.extend(candle_onnx::simple_eval(model, given)?);
                }
                Step::Depthwise {
                    input,
                    output,
                    taps,
                    bias,
                    kernel,
                    stride,
                    pads,
                } => {
                    let x = get(input)?;
                    let (_, c, h, w) = x.dims4()?;
                    if c != bias.len() {
                        return Err(bad(format!(
                            "depthwise convolution {output} has {} channels, its input {c}",
                            bias.len()
                        )));
                    }
                    let out_size = |size: usize, before: usize, after: usize, s: usize| {
                        (size + before + after)
                            .checked_sub(*kernel)
                            .map(|v| v / s + 1)
                            .ok_or_else(|| bad(format!("input too small for {output}")))
                    };
                    let geometry = Geometry {
                        kernel: *kernel,
                        stride: *stride,
                        pad: (pads[0], pads[1]),
                        out: (
                            out_size(h, pads[0], pads[2], stride.0)?,
                            out_size(w, pads[1], pads[3], stride.1)?,
                        ),
                    };
                    let y = depthwise_cpu_with(&x, taps, bias, &geometry)?;
                    values.insert(output.clone(), y);
                }
            }
            for name in dead {
                values.remove(name);
            }
            if let Some(times) = times.as_deref_mut() {
                *times.entry(step.op().to_string()).or_default() += started.elapsed();
            }
        }
        values
            .remove(&self.output)
            .ok_or_else(|| bad(format!("the graph did not produce {}", self.output)))
    }
}

fn one_node(node: NodeProto) -> Step {
    let inputs: Vec<String> = node
        .input
        .iter()
        .filter(|n| !n.is_empty())
        .cloned()
        .collect();
    let outputs = node
        .output
        .iter()
        .map(|name| ValueInfoProto {
            name: name.clone(),
            ..ValueInfoProto::default()
        })
        .collect();
    let kernel = node
        .attribute
        .iter()
        .find(|a| a.name == "kernel_shape")
        .map(|a| {
            a.ints
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join("x")
        });
    let op = match kernel {
        Some(k) => format!("{} {k}", node.op_type),
        None => node.op_type.clone(),
    };
    Step::Node {
        op,
        model: Box::new(ModelProto {
            graph: Some(GraphProto {
                node: vec![node],
                output: outputs,
                ..GraphProto::default()
            }),
            ..ModelProto::default()
        }),
        inputs,
    }
}

/// A `Conv` with one group per channel, a constant square kernel and no
/// dilation, as a [`Step::Depthwise`].
fn depthwise(node: &NodeProto, constants: &HashMap<String, Tensor>) -> Result<Option<Step>> {
    if node.op_type != "Conv" {
        return Ok(None);
    }
    let attr = |name: &str| node.attribute.iter().find(|a| a.name == name);
    let group = attr("group").map_or(1, |a| a.i);
    let Some(weight) = node.input.get(1).and_then(|n| constants.get(n)) else {
        return Ok(None);
    };
    let dims = weight.dims();
    let square = dims.len() == 4 && dims[1] == 1 && dims[2] == dims[3];
    let no_dilation = attr("dilations").is_none_or(|a| a.ints.iter().all(|&d| d == 1));
    let explicit_pads = attr("auto_pad").is_none_or(|a| a.s.is_empty() || a.s == b"NOTSET");
    if group <= 1 || !square || dims[0] as i64 != group || !no_dilation || !explicit_pads {
        return Ok(None);
    }
    let (channels, kernel) = (dims[0], dims[2]);
    let stride = match attr("strides").map(|a| a.ints.as_slice()) {
        None => (1, 1),
        Some(&[s]) if s > 0 => (s as usize, s as usize),
        Some(&[sy, sx]) if sy > 0 && sx > 0 => (sy as usize, sx as usize),
        Some(_) => return Ok(None),
    };
    let pads = match attr("pads").map(|a| a.ints.as_slice()) {
        None => [0; 4],
        Some(&[t, l, b, r]) if t >= 0 && l >= 0 && b >= 0 && r >= 0 => {
            [t as usize, l as usize, b as usize, r as usize]
        }
        Some(_) => return Ok(None),
    };
    let taps = weight.flatten_all()?.to_vec1::<f32>()?;
    let bias = match node.input.get(2).filter(|n| !n.is_empty()) {
        None => vec![0.0; channels],
        Some(name) => match constants.get(name) {
            Some(b) => b.flatten_all()?.to_vec1::<f32>()?,
            None => return Ok(None),
        },
    };
    if bias.len() != channels {
        return Ok(None);
    }
    Ok(Some(Step::Depthwise {
        input: node.input[0].clone(),
        output: node.output[0].clone(),
        taps,
        bias,
        kernel,
        stride,
        pads,
    }))
}
