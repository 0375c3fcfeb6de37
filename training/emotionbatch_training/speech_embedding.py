"""Google's speech_embedding (the openWakeWord front end: a pretrained keyword-spotting encoder, 96-d per 80 ms over
0.775 s of context) run in PyTorch from its two ONNX files, since Python has no ONNX Runtime here. Only the operators
those two graphs use are implemented. The embedding network is convolutional along time (valid convolutions, pools of
stride 2 x 2 x 2), so one pass over a whole clip equals openWakeWord's 76-frame windows every 8 frames; the graph's
two Reshapes (NHWC window in, [N, 96] out) are skipped for that.

Operators supply the files by path (`--model-dir`); the shared copy is ../shared/models/speech-embedding.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

MEL_FILE = "melspectrogram.onnx"
EMBEDDING_FILE = "embedding_model.onnx"
DIM = 96
WINDOW_FRAMES = 76  # mel frames (10 ms) one embedding sees
STRIDE_FRAMES = 8  # one embedding per 80 ms
FRAME_SECONDS = STRIDE_FRAMES * 0.01


def fingerprint(model_dir: Path) -> str:
    """Short hash of the two model files: a cache of frames belongs to the files that computed it."""
    digest = hashlib.sha256()
    for name in (MEL_FILE, EMBEDDING_FILE):
        digest.update(hashlib.sha256((Path(model_dir) / name).read_bytes()).digest())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Trunk:
    """Where model.embedding_finetune splits the encoder: its last `convs` convolutions are trained from the
    activations before them (the "trunk", cached: `channels` x `width` mel columns per row). Embedding e reads trunk
    rows [stride e, stride e + stride + context). With 3 or 5 tuned convolutions: 96 x 2 per 40 ms row, stride 2,
    context 6 or 8 (the valid (3, 1) convolutions among them)."""
    convs: int
    channels: int
    width: int
    stride: int
    context: int

    @property
    def dim(self) -> int:
        return self.channels * self.width

    def rows(self, embeddings: slice) -> slice:
        """The trunk rows that give the embeddings [start, stop)."""
        return slice(self.stride * embeddings.start, self.stride * embeddings.stop + self.context)

    def embeddings(self, rows: int) -> int:
        """How many embeddings R trunk rows give."""
        return (rows - self.context) // self.stride


class OnnxGraph:
    """An ONNX graph evaluated node by node with torch operators (those of the two speech_embedding graphs)."""

    def __init__(self, path: Path):
        graph = onnx.load(str(path)).graph
        self.nodes = list(graph.node)
        self.input_name = graph.input[0].name
        self.output_name = graph.output[0].name
        self.weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}

    def between(self, first: int, last: int) -> "OnnxGraph":
        """The nodes first..last (inclusive) as a graph of their own, sharing these weights."""
        part = object.__new__(OnnxGraph)
        part.nodes = self.nodes[first: last + 1]
        part.input_name = self.nodes[first].input[0]
        part.output_name = self.nodes[last].output[0]
        part.weights = self.weights
        return part

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, weights: Optional[dict[str, torch.Tensor]] = None) -> torch.Tensor:
        """weights: the initializers by name, where a module holds them (so they move with it); else the file's."""
        return self.run(x, weights)

    def run(self, x: torch.Tensor, weights: Optional[dict[str, torch.Tensor]] = None) -> torch.Tensor:
        """As calling it, but differentiable (for trained weights)."""
        env = dict(self.weights if weights is None else weights)
        env[self.input_name] = x
        for node in self.nodes:
            env[node.output[0]] = _run(node, [env[name] if name else None for name in node.input])
        return env[self.output_name]


def _run(node, inputs: list) -> torch.Tensor:
    a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
    op, x = node.op_type, inputs[0] if inputs else None
    if op == "Constant":
        return torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
    if op == "Unsqueeze":
        for axis in sorted(a["axes"] if "axes" in a else inputs[1].tolist()):
            x = x.unsqueeze(axis)
        return x
    if op == "Conv":
        kernel, bias = inputs[1], inputs[2] if len(inputs) > 2 else None
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise NotImplementedError(f"Conv auto_pad {a['auto_pad']!r}")
        nd = kernel.dim() - 2
        pads, strides = a.get("pads", [0] * 2 * nd), a.get("strides", [1] * nd)
        dilations, group = a.get("dilations", [1] * nd), a.get("group", 1)
        if pads[:nd] == pads[nd:]:  # symmetric: the convolution pads, so the exported graph has no Pad node
            padding, pads = tuple(pads[:nd]), [0] * 2 * nd
        else:
            padding = (0,) * nd
        if any(pads):
            x = F.pad(x, (pads[0], pads[1]) if nd == 1 else (pads[1], pads[3], pads[0], pads[2]))
        if nd == 1:
            return F.conv1d(x, kernel, bias, strides[0], padding[0], dilations[0], group)
        return F.conv2d(x, kernel, bias, tuple(strides), padding, tuple(dilations), group)
    if op == "MaxPool":
        kernel = a["kernel_shape"]
        pads = a.get("pads", [0, 0, 0, 0])
        if any(pads):
            x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]), value=-float("inf"))
        return F.max_pool2d(x, tuple(kernel), tuple(a.get("strides", kernel)))
    if op == "Clip":
        low = inputs[1] if len(inputs) > 1 else None
        high = inputs[2] if len(inputs) > 2 else None
        x = torch.maximum(x, low.to(x.dtype)) if low is not None else x
        return torch.minimum(x, high.to(x.dtype)) if high is not None else x
    if op == "ReduceMax":
        keep = bool(a.get("keepdims", 1))
        axes = tuple(a["axes"]) if "axes" in a else tuple(range(x.dim()))
        return x.amax(dim=axes, keepdim=keep)
    if op == "Reshape":
        shape = [x.shape[d] if s == 0 else s for d, s in enumerate(inputs[1].tolist())]
        return x.reshape(shape)
    if op == "Cast":
        return x.to({1: torch.float32, 6: torch.int32, 7: torch.int64, 11: torch.float64}[a["to"]])
    if op == "Max":
        for y in inputs[1:]:
            x = torch.maximum(x, y)
        return x
    simple = {"Transpose": lambda: x.permute(*a["perm"]), "Pow": lambda: torch.pow(x, inputs[1]),
              "Sub": lambda: x - inputs[1], "Add": lambda: x + inputs[1], "Mul": lambda: x * inputs[1],
              "Div": lambda: x / inputs[1], "MatMul": lambda: torch.matmul(x, inputs[1]), "Log": lambda: torch.log(x),
              "LeakyRelu": lambda: F.leaky_relu(x, a.get("alpha", 0.01))}
    if op not in simple:
        raise NotImplementedError(f"ONNX operator {op} (not in the speech_embedding graphs)")
    return simple[op]()


class SpeechEmbedding:
    """16 kHz float waveform -> [T', 96] embeddings, one per 80 ms (at least one)."""

    def __init__(self, model_dir: Path, tuned_convs: int = 3):
        model_dir = Path(model_dir)
        for name in (MEL_FILE, EMBEDDING_FILE):
            if not (model_dir / name).is_file():
                raise SystemExit(f"{model_dir / name} not found: the speech_embedding model is supplied by path")
        self.mel = OnnxGraph(model_dir / MEL_FILE)
        windowed = OnnxGraph(model_dir / EMBEDDING_FILE)
        nodes = windowed.nodes
        if nodes[0].op_type != "Reshape" or nodes[-1].op_type != "Reshape":
            raise SystemExit(f"{model_dir / EMBEDDING_FILE} is not the speech_embedding graph this code knows")
        self.windowed = windowed
        self.sliding = windowed.between(1, len(nodes) - 2)
        convs = [i for i, node in enumerate(self.sliding.nodes) if node.op_type == "Conv"]
        if not 1 <= tuned_convs < len(convs):
            raise ValueError(f"model.embedding_tuned_convs must be 1..{len(convs) - 1}, not {tuned_convs}")
        split = convs[-tuned_convs]
        self.trunk = self.sliding.between(0, split - 1)
        self.top = self.sliding.between(split, len(self.sliding.nodes) - 1)
        self.geometry = self._measure(tuned_convs)

    @torch.no_grad()
    def _measure(self, tuned_convs: int) -> Trunk:
        """The trunk's shape and how many of its rows an embedding reads, found by running the two parts (the
        graph's pools and valid convolutions fix them; probing is shorter than deriving them node by node)."""
        rows = self.trunk(torch.zeros(1, 1, WINDOW_FRAMES, 32))  # [1, C, R, W]
        channels, width = rows.shape[1], rows.shape[3]
        def embeddings(r: int) -> int:
            try:
                return self.top(torch.zeros(1, channels, r, width)).shape[2]
            except RuntimeError:  # too few rows for a valid convolution
                return 0
        first = next(r for r in range(1, 256) if embeddings(r) >= 1)
        stride = next(d for d in range(1, 256) if embeddings(first + d) >= 2)
        return Trunk(tuned_convs, channels, width, stride, first - stride)

    @torch.no_grad()
    def log_mel(self, wav: np.ndarray) -> torch.Tensor:
        """[T, 32] mel frames (10 ms), scaled as openWakeWord feeds them to the embedding (x / 10 + 2)."""
        x = torch.from_numpy((np.asarray(wav, np.float32) * 32767.0))[None]  # the graph expects int16-scaled samples
        m = self.mel(x)[0, 0] / 10.0 + 2.0
        if m.shape[0] < WINDOW_FRAMES:  # shorter than one window: padded with its own floor
            m = torch.cat([m, m.new_full((WINDOW_FRAMES - m.shape[0], m.shape[1]), float(m.min()))])
        return m

    @torch.no_grad()
    def __call__(self, wav: np.ndarray) -> np.ndarray:
        out = self.sliding(self.log_mel(wav)[None, None])  # [1, 96, T', 1]
        return out[0, :, :, 0].T.contiguous().numpy()

    @torch.no_grad()
    def trunk_activations(self, wav: np.ndarray) -> np.ndarray:
        """[R, geometry.dim] the activations before the tuned convolutions (channel-major per row), R >=
        geometry.stride E + geometry.context."""
        out = self.trunk(self.log_mel(wav)[None, None])  # [1, C, R, W]
        return out[0].permute(1, 0, 2).reshape(out.shape[2], -1).contiguous().numpy()

    @torch.no_grad()
    def windows(self, wav: np.ndarray) -> np.ndarray:
        """The same embeddings the way openWakeWord computes them: one 76-frame window at a time (for checks)."""
        m = self.log_mel(wav)
        starts = range(0, m.shape[0] - WINDOW_FRAMES + 1, STRIDE_FRAMES)
        batch = torch.stack([m[s:s + WINDOW_FRAMES] for s in starts])[..., None]
        return self.windowed(batch).reshape(len(starts), DIM).numpy()


class EmbeddingFrontEnd(torch.nn.Module):
    """The encoder as a batched, exportable module: waveform [B, N] (16 kHz, zero past each length) + lengths [B] ->
    embeddings [B, E, 96] + mask [B, E]. Each clip's frames equal SpeechEmbedding run on that clip alone: the mel
    graph's 80 dB floor below the loudest bin is taken per clip (the graph itself takes it over the whole batch), and
    frames past a clip's end, or up to one window for a shorter clip, are its quietest frame (as log_mel pads).
    The weights come from the ONNX files at construction and are not part of a checkpoint, except with tuned_top:
    then the last tuned_convs convolutions' weights are parameters (trained, saved) and forward gives the trunk rows
    [B, R, geometry.dim] + mask [B, R] instead, which from_trunk turns into embeddings (so training can start from
    cached rows).
    """

    def __init__(self, model_dir: Path, tuned_top: bool = False, tuned_convs: int = 3):
        super().__init__()
        encoder = SpeechEmbedding(model_dir, tuned_convs)
        self.geometry = encoder.geometry
        w = encoder.mel.weights
        clips = [n for n in encoder.mel.nodes if n.op_type == "Clip"]
        if len(clips) != 2:
            raise SystemExit(f"{Path(model_dir) / MEL_FILE} is not the melspectrogram graph this code knows")
        # Only the frequency bins some mel band weighs (2..121 of 257 in the shipped file) are computed, real and
        # imaginary parts in one convolution: the same mel power for under half the STFT's cost.
        bins = torch.nonzero(w["1.melW"].abs().sum(1)).flatten()
        self.register_buffer("stft", torch.cat([w["0.stft.conv_real.weight"][bins], w["0.stft.conv_imag.weight"][bins]]),
                             persistent=False)
        self.register_buffer("mel_basis", w["1.melW"][bins], persistent=False)
        self.mel_floor, self.mel_ceiling = float(w[clips[0].input[1]]), float(w[clips[0].input[2]])
        self.db_ceiling = float(w[clips[1].input[2]])
        self.window, self.hop = int(self.stft.shape[-1]), 160
        self.sliding, self.trunk, self.top = encoder.sliding, encoder.trunk, encoder.top
        self.tuned_top = tuned_top
        tuned = {name for node in self.top.nodes if node.op_type == "Conv" for name in node.input[1:] if name} if tuned_top else set()
        self.weight_names = list(self.sliding.weights)
        for i, name in enumerate(self.weight_names):
            if name in tuned:
                self.register_parameter(f"embedding_weight_{i}", torch.nn.Parameter(self.sliding.weights[name].clone()))
            else:
                self.register_buffer(f"embedding_weight_{i}", self.sliding.weights[name], persistent=False)

    def _weights(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, f"embedding_weight_{i}") for i, name in enumerate(self.weight_names)}

    def from_trunk(self, rows: torch.Tensor, row_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Trunk rows [B, R, dim] (zero or anything past each clip's rows) + row_mask [B, R] -> embeddings [B, E, 96]
        + mask [B, E], through the tuned convolutions (differentiable). Valid convolutions read forwards only, so a
        clip's embeddings do not depend on the rows padded after it."""
        b, r = rows.shape[0], rows.shape[1]
        g = self.geometry
        x = rows.reshape(b, r, g.channels, g.width).permute(0, 2, 1, 3)
        out = self.top.run(x, self._weights())  # [B, 96, E, 1]
        embeddings = out[:, :, :, 0].transpose(1, 2)
        count = torch.div(row_mask.sum(1) - g.context, g.stride, rounding_mode="floor")
        mask = _first(count, embeddings)
        return embeddings * mask.unsqueeze(-1), mask

    def forward(self, waveform: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # No branches on shapes (the graph is exported with dynamic sizes): always one window of zeros more, so even
        # a tiny input has a frame; frames past each clip's own end are replaced below.
        x = (F.pad(waveform, (0, self.window)) * 32767.0).unsqueeze(1)
        spectrum = F.conv1d(x, self.stft, stride=self.hop)  # [B, 2 * bins, T]: real parts, then imaginary
        real, imag = spectrum.chunk(2, dim=1)
        power = real * real + imag * imag
        mel = torch.matmul(power.transpose(1, 2), self.mel_basis).clamp(self.mel_floor, self.mel_ceiling)
        db = 10.0 * torch.log(mel) / math.log(10.0)  # [B, T, 32]
        valid = torch.div(lengths - self.window, self.hop, rounding_mode="floor").clamp(min=0) + 1
        inside = (torch.arange(db.size(1), device=db.device).unsqueeze(0) < valid.unsqueeze(1)).unsqueeze(-1)  # [B, T, 1]
        peak = db.masked_fill(~inside, -1e30).amax(dim=(1, 2), keepdim=True)
        db = torch.minimum(torch.maximum(db, peak - 80.0), torch.full_like(db, self.db_ceiling))
        m = db / 10.0 + 2.0
        floor = m.masked_fill(~inside, 1e30).amin(dim=(1, 2), keepdim=True)
        m = torch.where(inside, m, floor.expand_as(m))
        # At least one window for any clip, without running the network over more frames than that: frames are read
        # through an index that repeats the last one (a floor frame: the 512 zeros above put 3 or more past every end).
        frames = torch._shape_as_tensor(m)[1]
        steps = torch.arange(torch.clamp(frames, min=WINDOW_FRAMES), device=m.device)
        m = m.index_select(1, torch.minimum(steps, frames - 1))
        count = torch.div(valid.clamp(min=WINDOW_FRAMES) - WINDOW_FRAMES, STRIDE_FRAMES, rounding_mode="floor") + 1
        if self.tuned_top:
            rows = self.trunk(m.unsqueeze(1), self._weights())  # [B, C, R, W]
            rows = rows.permute(0, 2, 1, 3).reshape(rows.size(0), rows.size(2), -1)
            row_mask = _first(self.geometry.stride * count + self.geometry.context, rows)
            return rows * row_mask.unsqueeze(-1), row_mask
        out = self.sliding(m.unsqueeze(1), self._weights())  # [B, 96, E, 1]
        embeddings = out[:, :, :, 0].transpose(1, 2)
        mask = _first(count, embeddings)
        return embeddings * mask.unsqueeze(-1), mask


def _first(count: torch.Tensor, sequences: torch.Tensor) -> torch.Tensor:
    """[B, T] mask of the first count[b] positions of sequences [B, T, ...], in their dtype."""
    steps = torch.arange(sequences.size(1), device=sequences.device)
    return (steps.unsqueeze(0) < count.unsqueeze(1)).to(sequences.dtype)


def embedding_frames(n: int, first: int, end: int) -> slice:
    """The embeddings (of n) whose whole 76-frame window lies within the 10 ms frames [first, end): what the encoder
    gives when it is run on that stretch alone, as the exported graph runs on the worker's utterance. A stretch
    shorter than one window gets the one embedding centred nearest its middle."""
    lo = -(-first // STRIDE_FRAMES)  # ceil
    hi = (end - WINDOW_FRAMES) // STRIDE_FRAMES
    if hi < lo:
        middle = ((first + end) / 2 - WINDOW_FRAMES / 2) / STRIDE_FRAMES
        lo = hi = int(round(middle))
    lo = min(max(0, lo), n - 1)
    return slice(lo, max(lo + 1, min(n, hi + 1)))


def frame_span(n: int, start: float, end: float) -> slice:
    """embedding_frames for a stretch in seconds, rounded outwards to 10 ms frames as segments.cut_frames does."""
    return embedding_frames(n, int(np.floor(start * 100 + 1e-6)), int(np.ceil(end * 100 - 1e-6)))
