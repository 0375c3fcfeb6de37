#!/usr/bin/env bash
# Regenerates the sample recordings with speech synthesis (espeak-ng) and sox/ffmpeg from Debian, so the samples carry
# no third-party audio. Each file is a few sentences separated by pauses, in a different container format.
# Usage: bash samples/make-samples.sh   (needs: apt-get install espeak-ng sox ffmpeg)
set -euo pipefail
cd "$(dirname "$0")"
out=recordings
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# speak NAME VOICE PITCH SPEED "sentence" ["sentence" ...]: one wav per sentence, joined with 0.8 s pauses.
speak() {
  local name=$1 voice=$2 pitch=$3 speed=$4; shift 4
  local parts=() i=0
  for sentence in "$@"; do
    espeak-ng -v "$voice" -p "$pitch" -s "$speed" -w "$tmp/$name-$i.wav" "$sentence"
    sox "$tmp/$name-$i.wav" -r 16000 -c 1 "$tmp/$name-$i-16k.wav" pad 0 0.8
    parts+=("$tmp/$name-$i-16k.wav"); i=$((i + 1))
  done
  sox "${parts[@]}" "$tmp/$name.wav" pad 0.5 0.5
}

speak support en-us 50 160 \
  "Thank you for calling. How can I help you today?" \
  "I have been waiting for two weeks and my order still has not arrived." \
  "I am sorry to hear that. Let me check the status for you right away."
speak complaint en-us+m3 35 190 \
  "This is absolutely unacceptable. I am furious." \
  "You promised me a refund three times and nothing happened!" \
  "I want to speak to your manager now."
speak good-news en-us+f3 70 175 \
  "Oh, that is wonderful news, thank you so much!" \
  "I am really happy with how everything turned out." \
  "You made my day."
speak bad-news en-gb 30 120 \
  "I am afraid the results were not what we hoped for." \
  "It has been a very difficult year for all of us." \
  "I miss him every single day."

# One format per file, so the samples also exercise the decoder's formats.
ffmpeg -loglevel error -y -i "$tmp/support.wav" -c:a pcm_s16le "$out/support-call.wav"
ffmpeg -loglevel error -y -i "$tmp/complaint.wav" -c:a libmp3lame -b:a 64k "$out/complaint.mp3"
ffmpeg -loglevel error -y -i "$tmp/good-news.wav" -c:a libopus -b:a 32k "$out/good-news.ogg"
# A stereo 44.1 kHz m4a: the worker downmixes and resamples.
ffmpeg -loglevel error -y -i "$tmp/bad-news.wav" -ac 2 -ar 44100 -c:a aac -b:a 96k "$out/bad-news.m4a"
ls -l "$out"
