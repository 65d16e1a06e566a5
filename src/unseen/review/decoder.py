"""The review server's picture decoder, run as a child process on one evidence file.

Run as ``python -I -m unseen.review.decoder FORMATS MAX_PIXELS MEMORY_BYTES CPU_S`` with
the file's bytes on standard input. The limits are set before Pillow is even imported,
so a hostile file meets a process that cannot use more than ``MEMORY_BYTES`` of address
space (RLIMIT_AS) or ``CPU_S`` seconds of CPU (RLIMIT_CPU); a crash, a hang or a memory
blow-up ends this process, never the server.

Only the formats named in ``FORMATS`` (the pipeline's allow-list) are opened: Pillow's
other plugins (EPS runs Ghostscript; TGA, PCX, ICNS, JP2, QOI ...) are never reached.
The pixel count claimed by the header is checked before any pixel is decoded; a JPEG
over budget is draft-decoded (DCT-domain downscale) to fit, anything else is refused.

Standard output: one byte, then a payload. ``O`` + a MIME type: the original bytes are a
picture the browser shows natively and within budget, send them unchanged (the examiner
sees exactly the evidence). ``J`` + JPEG bytes: a display copy. On refusal the exit
status is ``EXIT_REFUSED`` and standard error holds the reason, one line.

This module imports nothing from unseen (so ``-I`` start-up stays small).
"""

from __future__ import annotations

import resource
import sys

EXIT_REFUSED = 3
# Formats a browser shows as they are, by the MIME type they are sent with.
NATIVE = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
}


def limit(memory_bytes: int, cpu_s: int) -> None:
    """Cap this process's address space and CPU time (hard limits: no way back up)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))


def decode(data: bytes, formats: tuple[str, ...], max_pixels: int) -> tuple[bytes, bytes]:
    """(``b"O"``, MIME) or (``b"J"``, JPEG bytes) for ``data``; ValueError when refused."""
    import io

    from PIL import Image, UnidentifiedImageError

    if "HEIF" in formats:  # the optional [heic] extra, as in the pipeline
        try:
            import pi_heif

            pi_heif.register_heif_opener()
        except ImportError:
            formats = tuple(f for f in formats if f != "HEIF")
    Image.MAX_IMAGE_PIXELS = None  # our own budget below, checked from the header
    try:
        img = Image.open(io.BytesIO(data), formats=formats)
    except UnidentifiedImageError:
        raise ValueError("not a picture format the pipeline decodes; not shown") from None
    pixels = img.width * img.height
    if pixels <= max_pixels and img.format in NATIVE:
        return b"O", NATIVE[img.format].encode()
    if pixels > max_pixels:
        if img.format not in ("JPEG", "MPO"):
            raise ValueError(
                f"the header claims {img.width}x{img.height} ({pixels} pixels), over the "
                f"review server's budget of {max_pixels}; not decoded"
            )
        scale = next((s for s in (2, 4, 8) if pixels // (s * s) <= max_pixels), 0)
        if not scale:
            raise ValueError(
                f"the header claims {img.width}x{img.height} ({pixels} pixels), too many "
                f"even at 1/8 scale for the budget of {max_pixels}; not decoded"
            )
        img.draft("RGB", (img.width // scale, img.height // scale))
    try:
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=90)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"cannot decode for display: {exc}") from exc
    return b"J", out.getvalue()


def main(argv: list[str]) -> int:
    formats, max_pixels, memory, cpu = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    limit(memory, cpu)
    data = sys.stdin.buffer.read()
    try:
        kind, payload = decode(data, tuple(formats.split(",")), max_pixels)
    except MemoryError:
        sys.stderr.write("decoding needs more memory than the review server allows\n")
        return EXIT_REFUSED
    except ValueError as exc:
        sys.stderr.write(" ".join(str(exc).split())[:300] + "\n")
        return EXIT_REFUSED
    except Exception as exc:  # hostile bytes reach every corner of a decoder
        sys.stderr.write(f"the decoder failed on this file ({type(exc).__name__})\n")
        return EXIT_REFUSED
    sys.stdout.buffer.write(kind + payload)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
