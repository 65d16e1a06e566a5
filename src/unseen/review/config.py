"""Settings of the review server: one typed object, each entry with its default and reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    """Knobs of ``unseen serve``; the defaults are the safe ones."""

    # A session unused for this long ends; the reviewer logs in again (seconds).
    idle_timeout_s: int = 30 * 60
    # Only write a session's last-seen time when it is older than this (seconds), so a
    # page of 240 thumbnails does not write to the case 240 times.
    touch_interval_s: int = 30
    # Gentle break prompt once a session has revealed this many items ...
    break_after_reveals: int = 40
    # ... or looked at revealed media for this long in total (seconds).
    break_after_seconds: int = 120
    # Thumbnails per grid page (the unit reviews hundreds at a glance).
    page_size: int = 240
    similar_limit: int = 24
    # A full-size reveal gives a media link that works for this long (seconds).
    media_token_s: int = 300
    # Largest picture read whole and sent to the browser (bytes); videos are streamed.
    max_image_bytes: int = 256 * 1024 * 1024
    # Pictures are checked and converted in a child process capped at this much address
    # space (it holds the file, the decoded pixels and a display copy) ...
    decode_memory_bytes: int = 1024 * 1024 * 1024
    # ... this much CPU time (seconds), and killed after this long on the clock.
    decode_cpu_s: int = 20
    decode_timeout_s: int = 30
    # Pixels one decode may produce; 0 derives it from the memory above.
    decode_pixels: int = 0
    # Thumbnails leave the server greyscale and blurred by this radius (thumbnail
    # pixels), whatever the page does; the clear one needs a reveal grant ...
    thumb_blur_radius: int = 8
    # ... that works for this long (seconds: long enough to fetch, not to keep) ...
    thumb_token_s: int = 20
    # ... for at most this many thumbnails per session in any minute.
    thumb_reveals_per_minute: int = 60
    # Default thumbnail blur for new users (CSS pixels); each user can change theirs.
    default_blur_px: int = 16
    # Failed logins allowed (per account and per address) before back-off starts ...
    login_free_failures: int = 3
    # ... then each attempt waits this long, doubling per failure, up to the cap (s) ...
    login_backoff_s: float = 1.0
    login_backoff_max_s: float = 15 * 60
    # ... and an account is locked after this many, until an admin unlocks it.
    login_lockout_after: int = 10
    # Mark the session cookie Secure (only when served behind HTTPS).
    secure_cookies: bool = False

    @property
    def max_decode_pixels(self) -> int:
        """Pixels one decode may produce: about 12 bytes each fit the child's memory
        (RGBA while decoding, an RGB copy, the JPEG encoder's buffers), after the file;
        or ``decode_pixels`` when set."""
        if self.decode_pixels:
            return self.decode_pixels
        return max(0, self.decode_memory_bytes - self.max_image_bytes) // 12
