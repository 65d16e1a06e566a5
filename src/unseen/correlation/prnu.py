"""Sensor noise (PRNU) fingerprints: residuals, fingerprints and peak-to-correlation energy.

Photo-response non-uniformity is a fixed, multiplicative pattern ``K`` of each camera
sensor: a picture is roughly ``I * (1 + K) + noise``. Its trace in one picture, the
*noise residual* ``W = I - denoise(I)``, is weak; averaged over many pictures of one
camera body it becomes that camera's fingerprint, and a picture whose residual
correlates with the fingerprint at the right alignment was taken by that sensor.

Method (Lukas, Fridrich and Goljan 2006; Chen et al. 2008; binarised as in Bayram,
Sencar and Memon 2012):

* residual: the luminance of a fixed centre crop (``crop_side``, at most 512 px) in
  stored (sensor) orientation, denoised in the wavelet domain (Daubechies-4, four
  levels, Mihcak's local-variance Wiener shrinkage with sigma0 = 3 grey levels, the
  minimum variance estimate over 3/5/7/9 px windows); then zero-meaned (row and column
  means removed: linear artefacts of the readout and of colour interpolation) and
  Wiener-filtered in the DFT domain (periodic artefacts such as JPEG blocks flattened);
* storage: only the residual's sign, one bit per pixel (32 KiB for a 512 px crop), so
  a 250,000-picture case holds at most ~8 GB of residuals and reads a bounded amount
  per fingerprint. Binarisation costs some signal (about 2/pi in correlation), which
  the 512 px crop more than pays for;
* fingerprint of a camera body: the mean of the signed residuals of at most
  ``MAX_ORIGINALS`` of its camera originals of one picture size, zero-meaned and
  Wiener-filtered again;
* detection: the cross-correlation of a picture's signed residual with the
  fingerprint over all circular shifts (FFT), and the peak-to-correlation energy
  ``PCE = sign(peak) * peak^2 / mean(C^2 outside an 11 x 11 neighbourhood)``, the
  peak taken within ``PEAK_RADIUS`` px of zero shift (a picture of the same size is
  not shifted; a pixel or two of slack absorbs centring of odd sizes).

Not handled (stated, not hidden): resized, cropped or digitally zoomed copies (the
crop must come from the same sensor pixels, so only pictures of the camera's own
size, or that size turned by 90 degrees, are compared), and in-camera lens-distortion
correction.
"""

from __future__ import annotations

import numpy as np

MAX_CROP = 512  # px, side of the square centre crop the residual is taken from
MIN_CROP = 128  # px; smaller pictures carry too few pixels for a reliable link
SIGMA0 = 3.0  # grey levels: the noise the denoiser assumes (literature value)
LEVELS = 4
WINDOWS = (3, 5, 7, 9)
PEAK_RADIUS = 2  # px around zero shift where the correlation peak may lie
EXCLUDE = 5  # px: half-width of the peak neighbourhood left out of the energy
MAX_ORIGINALS = 50  # camera originals averaged into one fingerprint
MIN_ORIGINALS = 3  # fewer make no fingerprint


def crop_side(width: int, height: int) -> int:
    """The side of the square centre crop for a picture of this size (0: too small)."""
    side = min(MAX_CROP, width, height) // 8 * 8
    return side if side >= MIN_CROP else 0


def centre_crop(arr: np.ndarray, side: int) -> np.ndarray:
    """The ``side`` x ``side`` centre of a 2-d array."""
    top, left = (arr.shape[0] - side) // 2, (arr.shape[1] - side) // 2
    return arr[top : top + side, left : left + side]


def luminance(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of an (h, w, 3) uint8 array, as float32 grey levels."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    grey: np.ndarray = rgb.astype(np.float32) @ weights
    return grey


def denoise_residual(grey: np.ndarray) -> np.ndarray:
    """The noise residual of a grey image (side a multiple of 2**LEVELS), Mihcak-style.

    pywt and scipy are imported here, not with the module: deciding which pictures the
    analyser applies to (``crop_side``, also for every ``unseen status``) needs neither,
    and scipy.ndimage alone takes 0.2 s to import."""
    import pywt

    coeffs = pywt.wavedec2(grey, "db4", mode="periodization", level=LEVELS)
    noise_var = SIGMA0**2
    out: list[np.ndarray | tuple[np.ndarray, ...]] = [np.zeros_like(coeffs[0])]
    for bands in coeffs[1:]:
        out.append(tuple(_shrink(band, noise_var) for band in bands))
    residual: np.ndarray = pywt.waverec2(out, "db4", mode="periodization")
    return residual.astype(np.float32)


def _shrink(band: np.ndarray, noise_var: float) -> np.ndarray:
    """The noise part of one wavelet band: ``c * s0^2 / (local_var + s0^2)``."""
    from scipy.ndimage import uniform_filter

    band = band.astype(np.float32)  # float32 halves the filtering time; ample precision
    squared = band * band
    local = np.full(band.shape, np.inf, dtype=np.float32)
    for w in WINDOWS:
        est = np.maximum(uniform_filter(squared, size=w, mode="wrap") - noise_var, 0.0)
        local = np.minimum(local, est)
    noise: np.ndarray = band * noise_var / (local + noise_var)
    return noise


def zero_mean(x: np.ndarray) -> np.ndarray:
    """Remove column means, then row means (readout and interpolation artefacts)."""
    x = x - x.mean(axis=0, keepdims=True)
    centred: np.ndarray = x - x.mean(axis=1, keepdims=True)
    return centred


def wiener_dft(x: np.ndarray) -> np.ndarray:
    """Flatten the spectrum (Goljan's WienerInDFT): periodic artefacts lose their weight."""
    spectrum = np.fft.fft2(x)
    magnitude = (np.abs(spectrum) / np.sqrt(x.size)).astype(np.float32)
    noise_var = float(np.var(magnitude))
    shrunk = _shrink(magnitude, noise_var) if noise_var > 0 else magnitude
    ratio = np.divide(shrunk, magnitude, out=np.zeros_like(magnitude), where=magnitude > 0)
    filtered: np.ndarray = np.real(np.fft.ifft2(spectrum * ratio))
    return filtered.astype(np.float32)


def residual_bits(rgb: np.ndarray) -> tuple[int, bytes]:
    """The crop side and packed sign bits of a picture's residual ((0, b"") if too small)."""
    side = crop_side(rgb.shape[1], rgb.shape[0])
    if not side:
        return 0, b""
    grey = luminance(centre_crop(rgb, side))
    residual = wiener_dft(zero_mean(denoise_residual(grey)))
    return side, np.packbits(residual > 0).tobytes()


def signs(bits: bytes, side: int) -> np.ndarray:
    """Packed sign bits back to a (side, side) array of -1.0 / +1.0."""
    flat = np.unpackbits(np.frombuffer(bits, dtype=np.uint8), count=side * side)
    out: np.ndarray = flat.reshape(side, side).astype(np.float32) * 2.0 - 1.0
    return out


def fingerprint(residuals: list[np.ndarray]) -> np.ndarray:
    """A camera's fingerprint from the signed residuals of its originals (same side)."""
    mean = np.mean(np.stack(residuals), axis=0)
    return wiener_dft(zero_mean(mean))


class Matcher:
    """PCE of pictures against one fingerprint (its spectrum computed once)."""

    def __init__(self, print_: np.ndarray) -> None:
        centred = print_ - print_.mean()
        self.side = print_.shape[0]
        self._conj = np.conj(np.fft.rfft2(centred / (np.linalg.norm(centred) or 1.0)))

    def pce(self, residual: np.ndarray) -> float:
        """Signed peak-to-correlation energy of a signed residual (same side)."""
        x = residual - residual.mean()
        corr = np.fft.irfft2(np.fft.rfft2(x) * self._conj, s=x.shape)
        near = np.roll(corr, (PEAK_RADIUS, PEAK_RADIUS), axis=(0, 1))[
            : 2 * PEAK_RADIUS + 1, : 2 * PEAK_RADIUS + 1
        ]
        dy, dx = np.unravel_index(int(np.argmax(np.abs(near))), near.shape)
        peak = float(near[dy, dx])
        shift = (int(dy) - PEAK_RADIUS, int(dx) - PEAK_RADIUS)
        rolled = np.roll(corr, (EXCLUDE - shift[0], EXCLUDE - shift[1]), axis=(0, 1))
        mask = np.ones(corr.shape, dtype=bool)
        mask[: 2 * EXCLUDE + 1, : 2 * EXCLUDE + 1] = False
        energy = float(np.mean(rolled[mask] ** 2))
        return float(np.sign(peak) * peak * peak / energy) if energy > 0 else 0.0

    def best_pce(self, residual: np.ndarray, turned: bool) -> tuple[float, int]:
        """The PCE and quarter turns (0; or 1/3 for a picture of transposed size)."""
        if not turned:
            return self.pce(residual), 0
        found = [(self.pce(np.rot90(residual, k)), k) for k in (1, 3)]
        return max(found)
