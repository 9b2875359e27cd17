"""Reading WAV and FLAC headers directly: sampling rate, frames and channels without libsndfile.

Listing a corpus probes every clip; ``soundfile.info`` costs about 100 µs a file, a direct read
of the first bytes about a tenth of that. Anything unusual (RF64, WAVE_FORMAT_EXTENSIBLE without
a plain data chunk, FLAC with an ID3 prefix or unknown length) returns None and the caller falls
back to soundfile, so this is a shortcut, never a second opinion.
"""

from __future__ import annotations

import os
import struct

_HEAD = 4096  # WAV chunks before "data" (LIST, fact, ...) fit in the first few kB


def _flac(head: bytes) -> tuple[int, int, int] | None:
    # fLaC, then the first metadata block, which must be STREAMINFO (type 0, 34 bytes).
    if len(head) < 42 or head[4] & 0x7F != 0:
        return None
    info = head[8:42]
    packed = int.from_bytes(info[10:18], "big")  # 20 bits rate, 3 channels-1, 5 bps-1, 36 frames
    sampling_rate = packed >> 44
    channels = ((packed >> 41) & 0x7) + 1
    frames = packed & 0xFFFFFFFFF
    if sampling_rate == 0 or frames == 0:  # "unknown length" is written as 0: let soundfile count
        return None
    return sampling_rate, frames, channels


def _wav(head: bytes, file_size: int) -> tuple[int, int, int] | None:
    if len(head) < 12 or head[8:12] != b"WAVE":
        return None
    offset, fmt = 12, None
    while offset + 8 <= len(head):
        chunk_id, size = head[offset : offset + 4], struct.unpack_from("<I", head, offset + 4)[0]
        body = offset + 8
        if chunk_id == b"fmt " and body + 16 <= len(head):
            _, channels, sampling_rate, _, block_align, _ = struct.unpack_from("<HHIIHH", head, body)
            fmt = (channels, sampling_rate, block_align)
        elif chunk_id == b"data":
            if fmt is None or fmt[2] == 0 or fmt[1] == 0 or size == 0xFFFFFFFF:
                return None
            channels, sampling_rate, block_align = fmt
            available = max(0, file_size - body)  # a truncated file holds fewer frames than it says
            return sampling_rate, min(size, available) // block_align, channels
        offset = body + size + (size & 1)  # chunks are padded to even sizes
    return None


def parse_header(head: bytes, file_size: int) -> tuple[int, int, int] | None:
    """``(sampling_rate, frames, channels)`` from a WAV or FLAC file's first bytes, or None."""
    if head[:4] == b"fLaC":
        return _flac(head)
    if head[:4] == b"RIFF":
        return _wav(head, file_size)
    return None


def read_header(path: str) -> tuple[int, int, int] | None:
    """The header of the file at ``path`` (raises OSError as ``open`` does), or None to ask soundfile.

    Plain ``os`` calls: a buffered ``open`` costs three times as much, per clip.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        return parse_header(os.read(fd, _HEAD), os.fstat(fd).st_size)
    finally:
        os.close(fd)
