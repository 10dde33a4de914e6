#!/usr/bin/env python3
"""Exports models with PyTorch's ONNX exporter and writes PyTorch's own outputs beside them.

Usage: export_models.py OUTPUT_DIR [CASE...]

For each model and export (case "<model>_opset<N>", or "<model>_opset13_nofold" for an export without the
exporter's constant folding; all of them unless CASEs are named) it writes
OUTPUT_DIR/<case>/model.onnx, one input_<name>.npy per graph input and one output_<name>.npy per graph output
(PyTorch's result on those inputs), and appends a line to OUTPUT_DIR/cases.txt:
"<case> <input names> <output names> <symbolic dims>", names comma-separated, dims as "batch=2,seq=16"
(the sizes of the saved inputs) or "-" when the model has none.
Needs Debian's python3-torch, python3-torchvision and python3-numpy (scripts/setup.sh installs them).
Deterministic: fixed seeds, one thread, eval mode, random initialisation (nothing is downloaded).
"""
import os
import sys
import warnings

import numpy as np
import torch
import torchvision

OPSETS = (11, 13, 17)
# (opset, do_constant_folding, case suffix): the exporter's default (folding on) at every opset, and one
# export with folding off, which leaves the shape arithmetic (Shape, Gather, Concat, ...) to conveyor.
EXPORTS = [(opset, True, f"_opset{opset}") for opset in OPSETS] + [(13, False, "_opset13_nofold")]


class TextClassifier(torch.nn.Module):
    """BERT-style classifier: token + learned position embeddings, a transformer encoder (GELU, padding mask
    from attention_mask), masked mean pool, Linear head."""

    def __init__(self, vocab=100, max_len=32, d_model=64, nhead=4, layers=2, ffn=128, classes=3):
        super().__init__()
        self.tokens = torch.nn.Embedding(vocab, d_model)
        self.positions = torch.nn.Parameter(torch.randn(1, max_len, d_model) * 0.02)
        layer = torch.nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward=ffn, dropout=0.0, activation="gelu", batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(d_model)
        self.head = torch.nn.Linear(d_model, classes)

    def forward(self, input_ids, attention_mask):
        seq = input_ids.shape[1]
        x = self.tokens(input_ids) + self.positions[:, :seq]
        x = self.encoder(x, src_key_padding_mask=attention_mask == 0)
        keep = attention_mask.unsqueeze(-1).to(x.dtype)
        pooled = (self.norm(x) * keep).sum(dim=1) / keep.sum(dim=1)
        return self.head(pooled)


def calibrate_batchnorm(model, images):
    """Random BatchNorm scales and shifts, then running statistics measured on `images`.

    torchvision's initialisation leaves every BatchNorm an identity (mean 0, variance 1, scale 1, shift 0),
    which would not test BN folding, and random-init MobileNetV2 then produces ~1e-9 logits, which would make
    an absolute comparison meaningless. Measured statistics keep every activation, and the logits, O(1).
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in norms:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the calibration batch
        model.train()
        model(images)
    return model.eval()


def models():
    """(name, module, inputs {name: tensor}, output names, dynamic axes or None)."""
    torch.manual_seed(0)
    calibration = torch.randn(8, 3, 64, 64)
    resnet = calibrate_batchnorm(torchvision.models.resnet18(weights=None), calibration)
    torch.manual_seed(1)
    mobilenet = calibrate_batchnorm(torchvision.models.mobilenet_v2(weights=None), calibration)
    torch.manual_seed(2)
    text = TextClassifier().eval()

    torch.manual_seed(3)
    image = torch.randn(1, 3, 64, 64)
    image2 = torch.randn(2, 3, 64, 64)
    ids = torch.randint(0, 100, (2, 16), dtype=torch.int64)
    mask = torch.ones(2, 16, dtype=torch.int64)
    mask[1, 11:] = 0  # the second sequence is padded
    return [
        ("resnet18", resnet, {"input": image}, ["logits"], None),
        # Symbolic batch: the test fixes it with ImportOptions::dims.
        ("mobilenet_v2", mobilenet, {"input": image2}, ["logits"],
         {"input": {0: "batch"}, "logits": {0: "batch"}}),
        # Symbolic batch and sequence length (the positions are sliced to the input's length).
        ("text_classifier", text, {"input_ids": ids, "attention_mask": mask}, ["logits"],
         {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
          "logits": {0: "batch"}}),
    ]


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: export_models.py OUTPUT_DIR [CASE...]")
    out_dir, wanted = sys.argv[1], set(sys.argv[2:])
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")  # exporter chatter (tracer warnings, constant folding notes)

    lines = []
    for name, module, inputs, output_names, dynamic_axes in models():
        cases = [(opset, fold, name + suffix) for opset, fold, suffix in EXPORTS]
        cases = [(opset, fold, case) for opset, fold, case in cases if not wanted or case in wanted]
        if not cases:
            continue
        with torch.no_grad():
            outputs = module(*inputs.values())
        if isinstance(outputs, torch.Tensor):
            outputs = (outputs,)
        dims = {dim: inputs[input_name].shape[axis]
                for input_name, axes in (dynamic_axes or {}).items() if input_name in inputs
                for axis, dim in axes.items()}
        dims_text = ",".join(f"{dim}={size}" for dim, size in dims.items()) or "-"
        for opset, fold, case in cases:
            case_dir = os.path.join(out_dir, case)
            os.makedirs(case_dir, exist_ok=True)
            torch.onnx.export(module, tuple(inputs.values()), os.path.join(case_dir, "model.onnx"),
                              input_names=list(inputs), output_names=output_names,
                              dynamic_axes=dynamic_axes, opset_version=opset,
                              do_constant_folding=fold)
            for input_name, value in inputs.items():
                np.save(os.path.join(case_dir, f"input_{input_name}.npy"), value.numpy())
            for output_name, value in zip(output_names, outputs):
                np.save(os.path.join(case_dir, f"output_{output_name}.npy"), value.numpy())
            lines.append(f"{case} {','.join(inputs)} {','.join(output_names)} {dims_text}")

    unknown = wanted - {line.split()[0] for line in lines}
    if unknown:
        sys.exit(f"export_models.py: unknown case(s) {', '.join(sorted(unknown))}")
    with open(os.path.join(out_dir, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"exported {len(lines)} models (torch {torch.__version__}, torchvision {torchvision.__version__})")


if __name__ == "__main__":
    main()
