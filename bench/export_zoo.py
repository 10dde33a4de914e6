#!/usr/bin/env python3
"""Exports the model zoo of bench/ort_comparison_bench with PyTorch's ONNX exporter (Debian's python3-torch and
python3-torchvision; scripts/setup.sh installs them).

Usage: export_zoo.py OUTPUT_DIR [NAME...]

Writes OUTPUT_DIR/<name>.onnx for each model (all unless NAMEs are given): torchvision's resnet18, resnet50,
mobilenet_v2, mobilenet_v3_large, efficientnet_b0, squeezenet1_1, densenet121, convnext_tiny and vit_b_16 on
float32 [batch, 3, 224, 224], and BERT-style encoders (4 layers x 256, 4 heads, GELU) on int64 token ids
[batch, 128] and [batch, 384]. Opset 13, constant folding on, the first dimension symbolic and named "batch"
(conveyor: --dim batch=8). Random initialisation (nothing is downloaded), BatchNorm statistics measured on
random images so activations stay O(1) (torchvision's identity BatchNorms would leave random-init networks
with vanishing, denormal activations, which time unlike real ones). Deterministic: fixed seeds.
Models already in OUTPUT_DIR are kept.
"""
import os
import sys
import warnings

import torch
import torchvision

OPSET = 13
IMAGE_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "squeezenet1_1",
                "densenet121", "convnext_tiny", "vit_b_16"]
ENCODER_SEQS = [128, 384]


class Encoder(torch.nn.Module):
    """Token and position embeddings, a transformer encoder, the first token's state through a Linear head."""

    def __init__(self, seq, vocab=30522, d_model=256, nhead=4, layers=4, ffn=1024, classes=2):
        super().__init__()
        self.tokens = torch.nn.Embedding(vocab, d_model)
        self.positions = torch.nn.Parameter(torch.randn(1, seq, d_model) * 0.02)
        layer = torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=ffn, dropout=0.0,
                                                 activation="gelu", batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = torch.nn.Linear(d_model, classes)

    def forward(self, input_ids):
        x = self.encoder(self.tokens(input_ids) + self.positions)
        return self.head(x[:, 0])


def calibrated(model):
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not norms:
        return model.eval()
    with torch.no_grad():
        for bn in norms:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
            bn.reset_running_stats()
            bn.momentum = None
        model.train()
        model(torch.randn(2, 3, 224, 224))
    return model.eval()


def zoo():
    """name -> (function building the module, example input, input name)."""
    models = {}
    for name in IMAGE_MODELS:
        models[name] = (lambda name=name: calibrated(getattr(torchvision.models, name)(weights=None)),
                        torch.randn(1, 3, 224, 224), "input")
    for seq in ENCODER_SEQS:
        models[f"encoder_seq{seq}"] = (lambda seq=seq: Encoder(seq).eval(),
                                       torch.randint(0, 30522, (1, seq), dtype=torch.int64), "input_ids")
    return models


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: export_zoo.py OUTPUT_DIR [NAME...]")
    out_dir, wanted = sys.argv[1], sys.argv[2:]
    models = zoo()
    unknown = [name for name in wanted if name not in models]
    if unknown:
        sys.exit(f"export_zoo.py: unknown model(s) {', '.join(unknown)}; known: {', '.join(models)}")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    warnings.filterwarnings("ignore")  # exporter chatter
    for index, (name, (build, example, input_name)) in enumerate(models.items()):
        if wanted and name not in wanted:
            continue
        path = os.path.join(out_dir, f"{name}.onnx")
        if os.path.exists(path):
            print(f"{name}: kept {path}")
            continue
        torch.manual_seed(index)
        module = build()
        # Not under no_grad: there PyTorch's fused encoder fast path would be traced, which has no ONNX export.
        torch.onnx.export(module, (example,), path + ".part", input_names=[input_name], output_names=["logits"],
                          dynamic_axes={input_name: {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=OPSET, do_constant_folding=True)
        os.replace(path + ".part", path)
        print(f"{name}: wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)", flush=True)


if __name__ == "__main__":
    main()
