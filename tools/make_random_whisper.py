#!/usr/bin/env python3
"""Writes whisper.cpp ggml model files with the exact tensor names and shapes of a real Whisper size and seeded random
weights, so that transcription cost can be measured without the real weights (their transcripts are noise; their cost
is real).

Layout, as whisper.cpp's loader (whisper_model_load) reads it: magic "ggml", 11 int32 hyper-parameters, the mel filter
bank (int32 n_mel, int32 n_fft, float32 values), the vocabulary (int32 count, then length-prefixed byte strings), then
each tensor as int32 n_dims, int32 name length, int32 type, int32 ne[n_dims] (ggml order: fastest dimension first),
the name, the data. Types follow the loader: F32 for biases, layer norms and positional embeddings, F16 for the
convolutions (F32 in an F32 file), the file's type (F16 or Q8_0) for every matrix and the token embedding.

The vocabulary and the 80-band filters come from whisper.cpp's test stub; large-v3's 128 bands are computed here
(librosa's Slaney mel filters, as openai/whisper's mel_filters.npz holds them).

Usage (repository root):
    /usr/bin/python3 tools/make_random_whisper.py --size base --type f16 --out .models/whisper-random/ggml-base-random-f16.bin
"""
import argparse
import os
import struct
import sys

import numpy as np

GGML_MAGIC = 0x67676D6C
GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_Q8_0 = 0, 1, 8
# The file header's ftype: GGML_FTYPE_MOSTLY_F16 = 1, GGML_FTYPE_MOSTLY_Q8_0 = 7, quantised files add version * 1000.
FILE_TYPES = {"f32": (0, GGML_TYPE_F32), "f16": (1, GGML_TYPE_F16), "q8_0": (7 + 2 * 1000, GGML_TYPE_Q8_0)}
QK8_0 = 32

# n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels
SIZES = {
    "tiny": (51865, 1500, 384, 6, 4, 448, 384, 6, 4, 80),
    "base": (51865, 1500, 512, 8, 6, 448, 512, 8, 6, 80),
    "small": (51865, 1500, 768, 12, 12, 448, 768, 12, 12, 80),
    "medium": (51865, 1500, 1024, 16, 24, 448, 1024, 16, 24, 80),
    "large-v3": (51866, 1500, 1280, 20, 32, 448, 1280, 20, 32, 128),
}

DEFAULT_STUB = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "models", "whisper", "for-tests-ggml-tiny.bin")


def read_stub(path):
    """The stub's mel filters (80 x 201) and vocabulary (raw byte strings)."""
    with open(path, "rb") as f:
        if struct.unpack("<I", f.read(4))[0] != GGML_MAGIC:
            sys.exit(f"{path}: not a ggml whisper file")
        f.read(11 * 4)
        n_mel, n_fft = struct.unpack("<2i", f.read(8))
        filters = np.frombuffer(f.read(n_mel * n_fft * 4), dtype="<f4").reshape(n_mel, n_fft)
        (count,) = struct.unpack("<i", f.read(4))
        vocab = []
        for _ in range(count):
            (length,) = struct.unpack("<I", f.read(4))
            vocab.append(f.read(length))
    return filters, vocab


def slaney_mel_filters(n_mels, sample_rate=16000, n_fft=400):
    """librosa.filters.mel(sr, n_fft, n_mels) with its defaults (Slaney scale and area normalisation)."""
    def hz_to_mel(hz):
        hz = np.asanyarray(hz, dtype=np.float64)
        f_sp, min_log_hz = 200.0 / 3, 1000.0
        min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
        return np.where(hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep, hz / f_sp)

    def mel_to_hz(mel):
        mel = np.asanyarray(mel, dtype=np.float64)
        f_sp, min_log_hz = 200.0 / 3, 1000.0
        min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
        return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)

    fft_freqs = np.linspace(0, sample_rate / 2, 1 + n_fft // 2)
    mel_freqs = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sample_rate / 2), n_mels + 2))
    fdiff = np.diff(mel_freqs)
    ramps = mel_freqs[:, None] - fft_freqs[None, :]
    weights = np.zeros((n_mels, len(fft_freqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_freqs[2 : n_mels + 2] - mel_freqs[:n_mels]))[:, None]
    return weights.astype(np.float32)


def tensors(h):
    """(name, ggml shape, kind) in the order whisper.cpp's converter writes them; kind: vector, matrix or conv."""
    n_vocab, n_audio_ctx, a, _, n_audio_layer, n_text_ctx, t, _, n_text_layer, n_mels = h
    yield "encoder.positional_embedding", (a, n_audio_ctx), "vector"
    yield "encoder.conv1.weight", (3, n_mels, a), "conv"
    yield "encoder.conv1.bias", (1, a), "vector"
    yield "encoder.conv2.weight", (3, a, a), "conv"
    yield "encoder.conv2.bias", (1, a), "vector"
    for i in range(n_audio_layer):
        yield from block(f"encoder.blocks.{i}", a, cross=False)
    yield "encoder.ln_post.weight", (a,), "norm"
    yield "encoder.ln_post.bias", (a,), "vector"
    yield "decoder.positional_embedding", (t, n_text_ctx), "vector"
    yield "decoder.token_embedding.weight", (t, n_vocab), "matrix"
    for i in range(n_text_layer):
        yield from block(f"decoder.blocks.{i}", t, cross=True)
    yield "decoder.ln.weight", (t,), "norm"
    yield "decoder.ln.bias", (t,), "vector"


def block(prefix, d, cross):
    attentions = ["attn", "cross_attn"] if cross else ["attn"]
    for attn in attentions:
        yield f"{prefix}.{attn}.query.weight", (d, d), "matrix"
        yield f"{prefix}.{attn}.query.bias", (d,), "vector"
        yield f"{prefix}.{attn}.key.weight", (d, d), "matrix"
        yield f"{prefix}.{attn}.value.weight", (d, d), "matrix"
        yield f"{prefix}.{attn}.value.bias", (d,), "vector"
        yield f"{prefix}.{attn}.out.weight", (d, d), "matrix"
        yield f"{prefix}.{attn}.out.bias", (d,), "vector"
        yield f"{prefix}.{attn}_ln.weight", (d,), "norm"
        yield f"{prefix}.{attn}_ln.bias", (d,), "vector"
    yield f"{prefix}.mlp_ln.weight", (d,), "norm"
    yield f"{prefix}.mlp_ln.bias", (d,), "vector"
    yield f"{prefix}.mlp.0.weight", (d, 4 * d), "matrix"
    yield f"{prefix}.mlp.0.bias", (4 * d,), "vector"
    yield f"{prefix}.mlp.2.weight", (4 * d, d), "matrix"
    yield f"{prefix}.mlp.2.bias", (d,), "vector"


def quantize_q8_0(values):
    blocks = values.reshape(-1, QK8_0)
    scale = np.abs(blocks).max(axis=1) / 127.0
    inverse = np.divide(1.0, scale, out=np.zeros_like(scale), where=scale > 0)
    quants = np.round(blocks * inverse[:, None]).astype(np.int8)
    out = np.empty(len(blocks), dtype=[("d", "<f2"), ("qs", "i1", QK8_0)])
    out["d"] = scale.astype(np.float16)
    out["qs"] = quants
    return out.tobytes()


def write(out, size, file_type, seed, stub):
    hparams = SIZES[size]
    header_ftype, matrix_type = FILE_TYPES[file_type]
    filters, vocab = read_stub(stub)
    n_mels = hparams[-1]
    if n_mels != filters.shape[0]:
        filters = slaney_mel_filters(n_mels)
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    temporary = out + ".tmp"
    with open(temporary, "wb") as f:
        f.write(struct.pack("<I", GGML_MAGIC))
        f.write(struct.pack("<11i", *hparams, header_ftype))
        f.write(struct.pack("<2i", *filters.shape))
        f.write(filters.astype("<f4").tobytes())
        f.write(struct.pack("<i", len(vocab)))
        for token in vocab:
            f.write(struct.pack("<I", len(token)))
            f.write(token)
        for name, shape, kind in tensors(hparams):
            count = int(np.prod(shape))
            if kind == "norm":
                values = np.ones(count, dtype=np.float32)
            else:
                # Small weights, as at initialisation, keep activations finite through 32 layers.
                values = (rng.standard_normal(count, dtype=np.float32) * 0.02).astype(np.float32)
            if kind in ("vector", "norm"):
                ttype, data = GGML_TYPE_F32, values.astype("<f4").tobytes()
            elif kind == "conv":
                ttype = GGML_TYPE_F32 if matrix_type == GGML_TYPE_F32 else GGML_TYPE_F16
                data = values.astype("<f4" if ttype == GGML_TYPE_F32 else "<f2").tobytes()
            elif matrix_type == GGML_TYPE_Q8_0:
                ttype, data = GGML_TYPE_Q8_0, quantize_q8_0(values)
            else:
                ttype = matrix_type
                data = values.astype("<f4" if ttype == GGML_TYPE_F32 else "<f2").tobytes()
            encoded = name.encode()
            f.write(struct.pack("<3i", len(shape), len(encoded), ttype))
            f.write(struct.pack(f"<{len(shape)}i", *shape))
            f.write(encoded)
            f.write(data)
    os.replace(temporary, out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), required=True)
    parser.add_argument("--type", choices=sorted(FILE_TYPES), default="f16")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stub", default=DEFAULT_STUB, help="whisper.cpp's multilingual test stub (vocabulary, 80 mel filters)")
    args = parser.parse_args()
    write(args.out, args.size, args.type, args.seed, args.stub)
    print(f"{args.out}: {os.path.getsize(args.out):,} bytes ({args.size}, {args.type}, seed {args.seed})")


if __name__ == "__main__":
    main()
