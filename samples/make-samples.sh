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

# place NAME VOICE PITCH SPEED START "sentence": the sentence alone, starting START seconds into the call.
place() {
  local name=$1 voice=$2 pitch=$3 speed=$4 start=$5 sentence=$6
  espeak-ng -v "$voice" -p "$pitch" -s "$speed" -w "$tmp/$name-raw.wav" "$sentence"
  sox "$tmp/$name-raw.wav" -r 16000 -c 1 "$tmp/$name.wav" pad "$start" 0
}

# A two-channel call centre recording: the agent on the left channel, the customer on the right, each party's voice
# leaking onto the other line at -25 dB and 120 ms late (line echo), the customer talking over the agent once; G.711
# mu-law at 8 kHz.
place agent-0 en-us 50 160 0.5 "Thank you for calling. My name is Anna, how can I help you today?"
place customer-0 en-gb+m3 40 150 5.0 "Hello. My internet has been down for three days, and nobody called me back."
place agent-1 en-us 50 160 10.5 "I am very sorry about that. Let me check your account right away."
place customer-1 en-gb+m3 35 185 13.2 "This is the third time I am calling! I am really angry about this."
place agent-2 en-us 50 160 18.5 "I understand. I have booked a technician for tomorrow morning, free of charge."
place customer-2 en-gb+m3 40 150 23.5 "Well. I suppose that is something."
sox -m "$tmp/agent-0.wav" "$tmp/agent-1.wav" "$tmp/agent-2.wav" "$tmp/agent.wav"
sox -m "$tmp/customer-0.wav" "$tmp/customer-1.wav" "$tmp/customer-2.wav" "$tmp/customer.wav"
sox "$tmp/agent.wav" "$tmp/agent-echo.wav" pad 0.12 0
sox "$tmp/customer.wav" "$tmp/customer-echo.wav" pad 0.12 0
sox -m -v 1 "$tmp/agent.wav" -v 0.056 "$tmp/customer-echo.wav" "$tmp/left.wav" pad 0 0.5
sox -m -v 1 "$tmp/customer.wav" -v 0.056 "$tmp/agent-echo.wav" "$tmp/right.wav" pad 0 0.5
sox -M "$tmp/left.wav" "$tmp/right.wav" "$tmp/call.wav"

# One format per file, so the samples also exercise the decoder's formats.
ffmpeg -loglevel error -y -i "$tmp/support.wav" -c:a pcm_s16le "$out/support-call.wav"
ffmpeg -loglevel error -y -i "$tmp/complaint.wav" -c:a libmp3lame -b:a 64k "$out/complaint.mp3"
ffmpeg -loglevel error -y -i "$tmp/good-news.wav" -c:a libopus -b:a 32k "$out/good-news.ogg"
# A stereo 44.1 kHz m4a: the worker downmixes and resamples.
ffmpeg -loglevel error -y -i "$tmp/bad-news.wav" -ac 2 -ar 44100 -c:a aac -b:a 96k "$out/bad-news.m4a"
ffmpeg -loglevel error -y -i "$tmp/call.wav" -ar 8000 -c:a pcm_mulaw "$out/two-channel-call.wav"
ls -l "$out"
