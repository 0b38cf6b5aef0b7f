"""The trained transforms in exact integer arithmetic: a string decodes to one digit everywhere.

Introduced in notebook 04. TensorFlow's float32 kernels round differently from release to release
(and from CPU to CPU), so the same latents could decode to digits that differ by a grey level
here and there, and the same digit could round to different latents. A codec cannot allow that,
so `codec` runs both trained transforms in fixed point instead, as Ballé, Johnston and Minnen
recommend ("Integer networks for data compression with latent-variable models", ICLR 2019):

- each layer's weights become integers with a power-of-two scale chosen per layer, keeping 20
  significant bits; the pixel scaling (1/255 in, 255 out) is folded into the first and last layer;
- activations are integers with 16 fractional bits, clipped to ±2**28 (about ±4096);
- products are summed exactly, leaky ReLU divides by 5 with floor division, and each layer rounds
  its sum back to 16 fractional bits.

Matrix products run as float64 BLAS calls on integer-valued operands, split into two pieces where
needed so that every partial sum is an integer below 2**53: the result is then exact whatever
order BLAS adds in. The outputs differ from the float32 model's by far less than a grey level,
enough to move a rounded pixel by one in a small share of pixels; they are identical on every
machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gains import GAIN_BITS

ACTIVATION_BITS = 16
WEIGHT_BITS = 20
MAX_ACTIVATION = 2**28 - 1
MAX_FRACTION_BITS = 50  # a layer's sums keep this many fractional bits at most (trained: <= 40)
_EXACT_BITS = 53  # integers below 2**53 are exact in float64
_KERNEL, _STRIDE = 5, 2
_PAD_BEFORE = 1  # 'same' padding of a 5x5 kernel at stride 2 on even sizes: 1 before, 2 after
_CHUNK = 500  # digits per batch, which bounds memory to about 100 MB


@dataclass(frozen=True)
class FixedPointLayer:
    """One layer in fixed point: ``kind`` is "conv", "dense" or "conv_transpose".

    `weights` are integers in Keras' layout at scale 2**`weight_bits`; `bias` is at the scale of
    the sums, 2**(input bits + weight bits); `shift` takes a sum back to ACTIVATION_BITS.
    `output_shape` reshapes a dense layer's output for a following convolution.
    """

    kind: str
    weights: np.ndarray
    bias: np.ndarray
    weight_bits: int
    shift: int
    leaky: bool
    output_shape: tuple = ()

    @property
    def matrix(self) -> np.ndarray:
        """The weights as the float64 matrix the layer multiplies by."""
        if self.kind == "conv_transpose":  # [kh, kw, out, in] -> [in, kh * kw * out]
            return self.weights.transpose(3, 0, 1, 2).reshape(self.weights.shape[3], -1) * 1.0
        return self.weights.reshape(-1, self.weights.shape[-1]) * 1.0

    @property
    def piece_bits(self) -> int:
        """The widest input pieces whose products with the weights sum exactly in float64."""
        rows = self.matrix.shape[0]
        return _EXACT_BITS - WEIGHT_BITS - 1 - int(np.ceil(np.log2(rows)))


_KINDS = {"Conv2D": "conv", "Dense": "dense", "Conv2DTranspose": "conv_transpose"}


def _leaky(name: str, activation: str) -> bool:
    if activation not in ("leaky_relu", "linear"):
        raise ValueError(f"Layer {name} uses activation {activation!r}; the fixed-point "
                         f"transforms support leaky_relu and linear only.")
    return activation == "leaky_relu"


def quantize_layer(kind, kernel, bias, leaky, input_bits, input_divisor=1, output_factor=1,
                   output_shape=()):
    """Converts float32 weights to a FixedPointLayer. The layer's inputs are divided by the
    integer `input_divisor` and its outputs multiplied by the integer `output_factor`, both
    folded into the weights in float64 before they are rounded."""
    kernel = np.asarray(kernel, np.float32).astype(np.float64) / input_divisor * output_factor
    bias = np.asarray(bias, np.float32).astype(np.float64) * output_factor
    largest = float(np.abs(kernel).max(initial=0.0))
    if not largest < 2.0**20:
        raise ValueError(f"A {kind} layer's weights reach {largest:.3g}, far beyond any trained "
                         f"model's; this model cannot be coded.")
    exponent = np.frexp(largest)[1] if largest > 0 else 0
    weight_bits = WEIGHT_BITS - int(exponent)
    scaled_bias = np.ldexp(float(np.abs(bias).max(initial=0.0)), weight_bits + input_bits)
    if weight_bits + input_bits > MAX_FRACTION_BITS or not scaled_bias < 2.0**60:
        raise ValueError(
            f"A {kind} layer's weights (largest {largest:.3g}) are too small beside its biases "
            f"for exact integer arithmetic; this model cannot be coded.")
    weights = np.rint(np.ldexp(kernel, weight_bits)).astype(np.int64)
    bias_int = np.rint(np.ldexp(bias, weight_bits + input_bits)).astype(np.int64)
    shift = input_bits + weight_bits - ACTIVATION_BITS
    return FixedPointLayer(kind, weights, bias_int, weight_bits, shift, bool(leaky),
                           tuple(output_shape))


class FixedPointTransform:
    """A stack of fixed-point layers: integer inputs with `input_bits` fractional bits in,
    integers with ACTIVATION_BITS fractional bits out (see `round_output`)."""

    def __init__(self, layers: list, input_bits: int = 0):
        self.layers = list(layers)
        self.input_bits = int(input_bits)
        self._matrices = [(layer.matrix, layer.piece_bits) for layer in self.layers]

    @classmethod
    def from_arrays(cls, entries: list[dict], arrays: dict, prefix: str, input_divisor: int = 1,
                    output_factor: int = 1, input_bits: int = 0):
        """A transform from its layer entries (`architecture.architecture`) and a model file's
        arrays ("<prefix>/<layer name>/kernel" and "/bias"): Conv2D / Dense / Conv2DTranspose
        layers (with Flatten and Reshape between them). Inputs are divided by `input_divisor`
        (255 turns pixels into [0, 1]) and have `input_bits` fractional bits; outputs are
        multiplied by `output_factor`."""
        weighted = [entry for entry in entries if entry["type"] in _KINDS]
        layers, bits = [], input_bits
        for index, entry in enumerate(weighted):
            following = entries[entries.index(entry) + 1:]
            reshape = next((tuple(e["target_shape"]) for e in following[:1]
                            if e["type"] == "Reshape"), ())
            name = f"{prefix}/{entry['name']}"
            layers.append(quantize_layer(
                _KINDS[entry["type"]], arrays[f"{name}/kernel"], arrays[f"{name}/bias"],
                _leaky(name, entry["activation"]), bits, input_divisor if index == 0 else 1,
                output_factor if index == len(weighted) - 1 else 1, reshape))
            bits = ACTIVATION_BITS
        return cls(layers, input_bits)

    def __call__(self, inputs) -> np.ndarray:
        """Integer outputs (int64, ACTIVATION_BITS fractional bits) for integer inputs."""
        inputs = np.asarray(inputs, np.int64)
        if len(inputs) == 0:  # the output shape of an empty batch, from a batch of one
            return self._run(np.zeros((1, *inputs.shape[1:]), np.int64))[:0]
        return np.concatenate([self._run(inputs[start:start + _CHUNK])
                               for start in range(0, len(inputs), _CHUNK)])

    def _run(self, x):
        x = np.clip(x, -MAX_ACTIVATION, MAX_ACTIVATION).astype(np.float64)
        for layer, (matrix, piece_bits) in zip(self.layers, self._matrices):
            x = _apply(layer, matrix, piece_bits, x)
        return x.astype(np.int64)

    def parameters(self) -> list[np.ndarray]:
        """Every integer that defines the computation, in order (for fingerprints)."""
        arrays = [np.array([self.input_bits, ACTIVATION_BITS, MAX_ACTIVATION], np.int64)]
        for layer in self.layers:
            arrays += [np.array([layer.weight_bits, layer.shift, layer.leaky, *layer.output_shape],
                                np.int64), layer.weights, layer.bias]
        return arrays


def round_output(values: np.ndarray, bits: int = ACTIVATION_BITS) -> np.ndarray:
    """Fixed-point values with `bits` fractional bits rounded to the nearest integer, ties to
    even (as `tf.round`)."""
    values = np.asarray(values, np.int64)
    quotient = values >> bits
    remainder = values - (quotient << bits)
    half = 1 << (bits - 1)
    up = (remainder > half) | ((remainder == half) & (quotient % 2 == 1))
    return quotient + up


def _exact_matmul(x: np.ndarray, matrix: np.ndarray, piece_bits: int) -> np.ndarray:
    """x @ matrix, exactly, as int64: x holds integers (as float64, |x| <= 2**28), the matrix
    integers of at most WEIGHT_BITS bits. Inputs wider than `piece_bits` are split in two."""
    if np.abs(x).max(initial=0) < 2.0**piece_bits:
        return (x @ matrix).astype(np.int64)
    high = np.floor(np.ldexp(x, -piece_bits))
    low = x - np.ldexp(high, piece_bits)
    return (low @ matrix).astype(np.int64) + ((high @ matrix).astype(np.int64) << piece_bits)


def _patches(x: np.ndarray) -> np.ndarray:
    """The 5x5 patches a 'same' convolution at stride 2 reads (NHWC), one row per output pixel,
    in the kernel's (row, column, channel) order."""
    n, height, width, channels = x.shape
    out_h, out_w = -(-height // _STRIDE), -(-width // _STRIDE)
    after_h = (out_h - 1) * _STRIDE + _KERNEL - height - _PAD_BEFORE
    after_w = (out_w - 1) * _STRIDE + _KERNEL - width - _PAD_BEFORE
    padded = np.pad(x, ((0, 0), (_PAD_BEFORE, after_h), (_PAD_BEFORE, after_w), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (_KERNEL, _KERNEL), axis=(1, 2))
    windows = windows[:, ::_STRIDE, ::_STRIDE]  # [n, out_h, out_w, channels, kh, kw]
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * out_h * out_w, -1)


def _scatter_transpose(per_input: np.ndarray, n: int, height: int, width: int) -> np.ndarray:
    """Adds each input pixel's 5x5 block of outputs into place for a 'same' transposed
    convolution at stride 2 (NHWC), in exact int64 arithmetic."""
    per_input = per_input.reshape(n, height, width, _KERNEL, _KERNEL, -1)
    span_h, span_w = _STRIDE * (height - 1) + 1, _STRIDE * (width - 1) + 1
    canvas = np.zeros((n, span_h + _KERNEL - 1, span_w + _KERNEL - 1, per_input.shape[-1]),
                      np.int64)
    for a in range(_KERNEL):
        for b in range(_KERNEL):
            canvas[:, a:a + span_h:_STRIDE, b:b + span_w:_STRIDE] += per_input[:, :, :, a, b]
    return canvas[:, _PAD_BEFORE:_PAD_BEFORE + _STRIDE * height,
                  _PAD_BEFORE:_PAD_BEFORE + _STRIDE * width]


def _apply(layer: FixedPointLayer, matrix: np.ndarray, piece_bits: int, x: np.ndarray):
    n = len(x)
    if layer.kind == "dense":
        sums = _exact_matmul(x.reshape(n, -1), matrix, piece_bits)
    elif layer.kind == "conv":
        out_h, out_w = -(-x.shape[1] // _STRIDE), -(-x.shape[2] // _STRIDE)
        sums = _exact_matmul(_patches(x), matrix, piece_bits).reshape(n, out_h, out_w, -1)
    else:
        per_input = _exact_matmul(x.reshape(-1, x.shape[-1]), matrix, piece_bits)
        sums = _scatter_transpose(per_input, n, x.shape[1], x.shape[2])
    sums += layer.bias
    if layer.leaky:
        sums = np.where(sums < 0, sums // 5, sums)
    if layer.shift > 0:
        out = (sums + (1 << (layer.shift - 1))) >> layer.shift
    else:
        out = sums << -layer.shift
    out = np.clip(out, -MAX_ACTIVATION, MAX_ACTIVATION).astype(np.float64)
    return out.reshape((n, *layer.output_shape)) if layer.output_shape else out


@dataclass(frozen=True)
class ExactTransforms:
    """Analysis and synthesis transforms of one trained model, in fixed point.

    A variable-rate model's transforms at one λ (notebook 08) also have integer `gains` and
    `inverse_gains` (int64 [C], GAIN_BITS fractional bits, from `gains.fixed_point_gains`): the
    analysis output times the gains is rounded to the latents, and the symbols times the inverse
    gains enter the synthesis transform (built with ACTIVATION_BITS input bits). Every product
    is exact in int64.
    """

    analysis: FixedPointTransform
    synthesis: FixedPointTransform
    gains: np.ndarray | None = None
    inverse_gains: np.ndarray | None = None

    def latents(self, digits: np.ndarray) -> np.ndarray:
        """uint8 digits [N, 28, 28, 1] to integer latents [N, C] (int64): round(analysis(x)),
        or round(analysis(x) · gain)."""
        outputs = self.analysis(np.asarray(digits, np.int64))
        if self.gains is None:
            return round_output(outputs)
        return round_output(outputs * self.gains, ACTIVATION_BITS + GAIN_BITS)

    def digits(self, latents: np.ndarray) -> np.ndarray:
        """Integer latents [N, C] to uint8 digits [N, 28, 28, 1]: synthesis(latents), or
        synthesis(latents · inverse gain)."""
        inputs = np.asarray(latents, np.int64)
        if self.inverse_gains is not None:
            inputs = round_output(inputs * self.inverse_gains, GAIN_BITS - ACTIVATION_BITS)
        pixels = round_output(self.synthesis(inputs))
        return np.clip(pixels, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class HyperpriorTransforms(ExactTransforms):
    """A hyperprior model's transforms (notebook 09): its "latents" are [z | y], the side
    latents z = round(hyper_analysis(|analysis(x)|)) and then the latents y = round(analysis(x));
    the synthesis transform reads y alone. `hyper_analysis` takes the analysis output as it is,
    with its ACTIVATION_BITS fractional bits."""

    hyper_analysis: FixedPointTransform | None = None

    @property
    def side_dims(self) -> int:
        """How many side latents the hyper-analysis transform outputs."""
        return int(self.hyper_analysis.layers[-1].weights.shape[-1])

    def latents(self, digits: np.ndarray) -> np.ndarray:
        outputs = self.analysis(np.asarray(digits, np.int64))
        side = round_output(self.hyper_analysis(np.abs(outputs)))
        return np.concatenate([side, round_output(outputs)], axis=1)

    def digits(self, latents: np.ndarray) -> np.ndarray:
        return super().digits(np.asarray(latents, np.int64)[:, self.side_dims:])
