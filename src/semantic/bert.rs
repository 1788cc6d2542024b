//! A BERT encoder for one unpadded text at a time, over candle's tensors: what a
//! sentence-embedding model runs per question and per paragraph.
//!
//! Written here rather than taken from candle-transformers for speed: every linear layer
//! multiplies as (W · xᵀ)ᵀ. candle asks gemm for a row-major result, gemm works
//! column-major and transposes the problem, and with x · Wᵀ (candle-transformers' way) it
//! then repacks the whole weight matrix for every text: a third of a short question's
//! embedding time (`perf`). As W · xᵀ the weights are read in place, and the tokens (a few
//! dozen rows) are what is packed. Measured on one core: 385 against 513 µs for a
//! 20-token 384 → 1536 layer. One text needs no attention mask and no padding, and
//! inference no dropout, so the code is the network and nothing else. The query, key and
//! value projections are one product. candle-transformers' BERT stays as the tests'
//! independent reference (`tests/common/tiny_bert.rs`).

use candle_core::{Device, Module, Result, Tensor};
use candle_nn::{LayerNorm, VarBuilder};
use serde::Deserialize;

/// What the encoder needs of a model's `config.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: Activation,
    pub max_position_embeddings: usize,
    #[serde(default = "two")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
}

fn two() -> usize {
    2
}

fn default_eps() -> f64 {
    1e-12
}

/// The feed-forward activation (`hidden_act`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Activation {
    /// GELU with the exact erf (BERT's, all-MiniLM-L6-v2's).
    #[serde(rename = "gelu")]
    Gelu,
    /// GELU's tanh approximation.
    #[serde(alias = "gelu_new", alias = "gelu_pytorch_tanh", rename = "gelu_fast")]
    GeluTanh,
    #[serde(rename = "relu")]
    Relu,
}

/// y = x · Wᵀ + b, computed as (W · xᵀ)ᵀ + b (see the module's comment).
struct Dense {
    /// `[out, in]`, contiguous.
    weight: Tensor,
    bias: Tensor,
}

impl Dense {
    fn load(vb: VarBuilder, inputs: usize, outputs: usize) -> Result<Dense> {
        Ok(Dense {
            weight: vb.get((outputs, inputs), "weight")?.contiguous()?,
            bias: vb.get(outputs, "bias")?,
        })
    }

    /// One product for several layers fed the same input (query, key, value).
    fn stacked(parts: Vec<Dense>) -> Result<Dense> {
        let weights: Vec<&Tensor> = parts.iter().map(|d| &d.weight).collect();
        let biases: Vec<&Tensor> = parts.iter().map(|d| &d.bias).collect();
        Ok(Dense {
            weight: Tensor::cat(&weights, 0)?,
            bias: Tensor::cat(&biases, 0)?,
        })
    }

    /// `x`: `[tokens, in]` → `[tokens, out]`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.weight.matmul(&x.t()?)?.t()?.broadcast_add(&self.bias)
    }
}

struct Layer {
    qkv: Dense,
    attention_out: Dense,
    attention_norm: LayerNorm,
    intermediate: Dense,
    out: Dense,
    out_norm: LayerNorm,
}

/// A loaded encoder.
pub struct Bert {
    /// The input word embeddings, `[vocabulary, hidden]` row-major: kept as plain numbers
    /// (not a tensor) so that the words' own vectors can be read in place
    /// ([`Bert::word_vector`]); a text's rows are copied out of it.
    word: Vec<f32>,
    hidden: usize,
    position: Tensor,
    token_type: Tensor,
    embeddings_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    activation: Activation,
}

impl Bert {
    /// The encoder of these weights (names as Hugging Face's `BertModel` saves them, with
    /// or without a `bert.` prefix).
    pub fn load(vb: VarBuilder, config: &Config) -> Result<Bert> {
        let vb = if vb.contains_tensor("embeddings.word_embeddings.weight") {
            vb
        } else {
            vb.pp("bert")
        };
        let h = config.hidden_size;
        if config.num_attention_heads == 0 || !h.is_multiple_of(config.num_attention_heads) {
            candle_core::bail!(
                "hidden_size {h} is not a multiple of num_attention_heads {}",
                config.num_attention_heads
            );
        }
        let eps = config.layer_norm_eps;
        let e = vb.pp("embeddings");
        // Copied out of its tensor first, before the layers are loaded: the copy and the
        // tensor (47 MB each for all-MiniLM-L6-v2) then never sit beside all the layers'
        // weights, and loading peaks no higher than before (`ask`'s peak RSS 247 MB when
        // this came last, 205 MB now: /usr/bin/time on the bundled briefing).
        let word: Vec<f32> = e
            .get((config.vocab_size, h), "word_embeddings.weight")?
            .flatten_all()?
            .to_vec1()?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let l = vb.pp(format!("encoder.layer.{i}"));
                let a = l.pp("attention");
                Ok(Layer {
                    qkv: Dense::stacked(vec![
                        Dense::load(a.pp("self.query"), h, h)?,
                        Dense::load(a.pp("self.key"), h, h)?,
                        Dense::load(a.pp("self.value"), h, h)?,
                    ])?,
                    attention_out: Dense::load(a.pp("output.dense"), h, h)?,
                    attention_norm: candle_nn::layer_norm(h, eps, a.pp("output.LayerNorm"))?,
                    intermediate: Dense::load(
                        l.pp("intermediate.dense"),
                        h,
                        config.intermediate_size,
                    )?,
                    out: Dense::load(l.pp("output.dense"), config.intermediate_size, h)?,
                    out_norm: candle_nn::layer_norm(h, eps, l.pp("output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<Layer>>>()?;
        Ok(Bert {
            word,
            hidden: h,
            position: e.get(
                (config.max_position_embeddings, h),
                "position_embeddings.weight",
            )?,
            token_type: e.get((config.type_vocab_size, h), "token_type_embeddings.weight")?,
            embeddings_norm: candle_nn::layer_norm(h, eps, e.pp("LayerNorm"))?,
            layers,
            heads: config.num_attention_heads,
            activation: config.hidden_act,
        })
    }

    /// The input embedding of token `id` (`hidden` numbers), or `None` past the vocabulary.
    pub fn word_vector(&self, id: u32) -> Option<&[f32]> {
        let start = (id as usize).checked_mul(self.hidden)?;
        self.word.get(start..start + self.hidden)
    }

    /// How many tokens the vocabulary holds.
    pub fn vocabulary(&self) -> usize {
        self.word.len() / self.hidden.max(1)
    }

    /// The last layer's vector of each token of `ids` (one text, segment 0): `[tokens,
    /// hidden]`.
    pub fn forward(&self, ids: &[u32]) -> Result<Tensor> {
        let n = ids.len();
        let mut rows = Vec::with_capacity(n * self.hidden);
        for &id in ids {
            let row = self.word_vector(id).ok_or_else(|| {
                candle_core::Error::Msg(format!("token {id} is outside the vocabulary"))
            })?;
            rows.extend_from_slice(row);
        }
        let x = Tensor::from_vec(rows, (n, self.hidden), &Device::Cpu)?
            .add(&self.position.narrow(0, 0, n)?)?
            .broadcast_add(&self.token_type.narrow(0, 0, 1)?)?;
        let mut x = self.embeddings_norm.forward(&x)?;
        for layer in &self.layers {
            x = self.layer(layer, &x)?;
        }
        Ok(x)
    }

    fn layer(&self, l: &Layer, x: &Tensor) -> Result<Tensor> {
        let ((n, h), heads) = (x.dims2()?, self.heads);
        let size = h / heads;
        let qkv = l.qkv.forward(x)?;
        // [tokens, hidden] → [heads, tokens, head size]
        let split = |i: usize| -> Result<Tensor> {
            qkv.narrow(1, i * h, h)?
                .reshape((n, heads, size))?
                .transpose(0, 1)?
                .contiguous()
        };
        let (q, k, v) = (split(0)?, split(1)?, split(2)?);
        let scores = (q.matmul(&k.t()?)? / (size as f64).sqrt())?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = probs
            .matmul(&v)?
            .transpose(0, 1)?
            .contiguous()?
            .reshape((n, h))?;
        let attended = l
            .attention_norm
            .forward(&l.attention_out.forward(&context)?.add(x)?)?;
        let inner = l.intermediate.forward(&attended)?;
        let inner = match self.activation {
            Activation::Gelu => gelu_erf(&inner)?,
            Activation::GeluTanh => inner.gelu()?,
            Activation::Relu => inner.relu()?,
        };
        l.out_norm.forward(&l.out.forward(&inner)?.add(&attended)?)
    }
}

/// GELU with erf, x · (1 + erf(x / √2)) / 2, of an f32 tensor.
///
/// candle's `gelu_erf` calls libm's `erff` for each element, which branches on |x| and past
/// 0.84 computes two `expf`: 15 % of a paragraph's embedding on one core (`perf`). [`erf`]
/// is branch-free, so this loop vectorises: a 50-word paragraph 24.3 → 19.4 ms, a
/// question 6.6 → 5.8 ms (`cargo bench --bench semantic`, one core).
fn gelu_erf(x: &Tensor) -> Result<Tensor> {
    let mut v = x.flatten_all()?.to_vec1::<f32>()?;
    for y in &mut v {
        *y = 0.5 * *y * (1.0 + erf(*y * std::f32::consts::FRAC_1_SQRT_2));
    }
    Tensor::from_vec(v, x.shape(), x.device())
}

/// erf as the rational function of XLA's and Eigen's `float` erf (odd polynomial of degree
/// 13 over one of degree 8, x clamped to ±4, where erf is ±1 to within 2e-8): at most 4.5e-7
/// from the exact value (measured over ±6 in steps of 6e-6; the unit test below checks the
/// GELU built on it against candle's, over libm's `erff`), far below the 8-bit rounding of
/// stored vectors (≈ 4e-3).
fn erf(x: f32) -> f32 {
    // Plain products and sums: `mul_add` is a library call where the CPU target lacks FMA.
    const P: [f32; 7] = [
        -2.726_142_4e-10,
        2.770_681_5e-8,
        -2.101_024e-6,
        -5.692_506_2e-5,
        -7.349_906_4e-4,
        -2.954_6e-3,
        -1.609_603_3e-2,
    ];
    const Q: [f32; 5] = [
        -1.456_607_15e-5,
        -2.133_740_5e-4,
        -1.682_827e-3,
        -7.373_329_3e-3,
        -1.426_473_9e-2,
    ];
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = P.iter().fold(0.0, |acc, c| acc * x2 + c);
    let q = Q.iter().fold(0.0, |acc, c| acc * x2 + c);
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_activations_of_hugging_face_configs_are_read_by_their_names() {
        let read = |name: &str| serde_json::from_str::<Activation>(&format!("\"{name}\"")).ok();
        assert_eq!(read("gelu"), Some(Activation::Gelu));
        for tanh in ["gelu_new", "gelu_pytorch_tanh", "gelu_fast"] {
            assert_eq!(read(tanh), Some(Activation::GeluTanh), "{tanh}");
        }
        assert_eq!(read("relu"), Some(Activation::Relu));
        assert_eq!(read("silu"), None);
    }

    #[test]
    fn a_layer_is_x_times_w_transposed_plus_b() {
        let x = Tensor::new(&[[1f32, 2., 3.], [4., 5., 6.]], &Device::Cpu).unwrap();
        let dense = Dense {
            weight: Tensor::new(&[[1f32, 0., -1.], [0.5, 0.5, 0.5]], &Device::Cpu).unwrap(),
            bias: Tensor::new(&[10f32, 0.], &Device::Cpu).unwrap(),
        };
        let y: Vec<Vec<f32>> = dense.forward(&x).unwrap().to_vec2().unwrap();
        assert_eq!(y, vec![vec![8., 3.], vec![8., 7.5]]);
        let stacked = Dense::stacked(vec![
            Dense {
                weight: dense.weight.narrow(0, 0, 1).unwrap(),
                bias: dense.bias.narrow(0, 0, 1).unwrap(),
            },
            Dense {
                weight: dense.weight.narrow(0, 1, 1).unwrap(),
                bias: dense.bias.narrow(0, 1, 1).unwrap(),
            },
        ])
        .unwrap();
        let z: Vec<Vec<f32>> = stacked.forward(&x).unwrap().to_vec2().unwrap();
        assert_eq!(z, y);
    }

    #[test]
    fn gelu_stays_within_two_millionths_of_the_exact_one() {
        // Every 1/1000 from -12 to 11.999 (both tails, where erf saturates, included), as a
        // matrix like a layer's, against candle's GELU over libm's `erff`.
        let xs: Vec<f32> = (-12_000..12_000).map(|i| i as f32 / 1000.0).collect();
        let x = Tensor::from_vec(xs.clone(), (3, xs.len() / 3), &Device::Cpu).unwrap();
        let ours: Vec<f32> = gelu_erf(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let exact: Vec<f32> = x
            .gelu_erf()
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let worst = ours
            .iter()
            .zip(&exact)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 2e-6, "GELU off by {worst}");
        assert!(worst > 0.0, "the comparison compared nothing");
        assert_eq!(gelu_erf(&x).unwrap().dims(), x.dims());
        for x in [0.1f32, 0.5, 1.0, 2.0, 3.5] {
            assert_eq!(erf(-x), -erf(x));
        }
        assert!((erf(9.0) - 1.0).abs() < 1e-6 && erf(0.0) == 0.0);
    }
}
