"""Real podcast media for tests, made by other programs than ours, from a tone of known length.

The standard library's ``wave`` writes the tone; Debian's LAME encodes the MP3
(``lame``: .ci/run installs it) and FFmpeg's AAC encoder and MP4 muxer (the
``av`` wheel's own libraries) make the M4A. Transcripts and chapters are the
text formats their specifications show.
"""

from __future__ import annotations

import array
import json
import math
import os
import shutil
import subprocess
import wave
from pathlib import Path

import pytest

TONE_HZ = 440


def _tone(seconds: float, rate: int) -> array.array[int]:
    samples = int(seconds * rate)
    return array.array("h", (int(8000 * math.sin(2 * math.pi * TONE_HZ * i / rate)) for i in range(samples)))


def wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    """A mono 16-bit WAV file of a tone lasting ``seconds``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(_tone(seconds, rate).tobytes())
    return path


def lame_mp3(path: Path, seconds: float) -> Path:
    """An MP3 of ``seconds`` encoded by LAME (8 kbit/s mono: small files of any length)."""
    lame = shutil.which("lame")
    if lame is None:
        if os.environ.get("CI"):
            pytest.fail("lame is not installed (.ci/run installs Debian's lame)")
        pytest.skip("lame is not installed (apt-get install lame)")
    source = wav(path.with_name(f".{path.name}.wav"), seconds)
    subprocess.run([lame, "--quiet", "-b", "8", "-m", "m", str(source), str(path)], check=True, timeout=60)
    source.unlink()
    return path


def aac_m4a(path: Path, seconds: float, rate: int = 22050) -> Path:
    """An M4A (AAC in MP4) of ``seconds``, encoded and muxed by FFmpeg through PyAV."""
    av = pytest.importorskip("av")
    path.parent.mkdir(parents=True, exist_ok=True)
    tone = array.array("f", (s / 32768 for s in _tone(seconds, rate)))
    with av.open(str(path), "w", format="ipod") as out:
        stream = out.add_stream("aac", rate=rate, layout="mono")
        for start in range(0, len(tone), 1024):
            chunk = tone[start : start + 1024]
            frame = av.AudioFrame(format="flt", layout="mono", samples=len(chunk))
            frame.planes[0].update(chunk.tobytes())
            frame.sample_rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def vtt(path: Path) -> Path:
    """A WebVTT transcript (W3C WebVTT's own example's shape)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("WEBVTT\n\n00:00.000 --> 00:02.000\n<v Zoë>Welcome to the market.\n", encoding="utf-8")
    return path


def srt(path: Path) -> Path:
    """A SubRip transcript."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("1\n00:00:00,000 --> 00:00:02,000\nWelcome to the market.\n", encoding="utf-8")
    return path


def chapters(path: Path) -> Path:
    """A Podcasting 2.0 JSON chapters file (its jsonChapters.md's shape)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "version": "1.2.0",
        "chapters": [{"startTime": 0, "title": "Arrival"}, {"startTime": 30, "title": "Apricots"}],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
