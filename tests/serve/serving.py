"""What the serve tests share: models and pipeline files made for the test, a real `conveyor serve`
process on loopback ports, and gRPC stubs generated from the project's .proto with protoc and
grpc_python_plugin. Nothing is mocked: the tests talk to the server as users' clients do."""

import io
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import requests
from PIL import Image

BINARY = os.environ["CONVEYOR_BINARY"]
SOURCE = Path(os.environ["CONVEYOR_SOURCE_DIR"])
LABELS = [f"label_{i}" for i in range(10)]


def jpeg(width, height, seed=0):
    """A JPEG of noise: costly to decode when large."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=90)
    return out.getvalue()


class Workdir:
    """A temporary folder with a tiny CNN, its labels and the test's pipeline files."""

    def __init__(self):
        self.path = Path(tempfile.mkdtemp(prefix="conveyor-serve-test-"))
        subprocess.run([BINARY, "zoo", "tinycnn", "-o", str(self.path / "tinycnn.onnx")], check=True,
                       stdout=subprocess.DEVNULL)
        (self.path / "labels.txt").write_text("\n".join(LABELS) + "\n")
        shutil.copy(SOURCE / "examples" / "data" / "vocab.txt", self.path / "vocab.txt")

    def write(self, name, yaml_text):
        file = self.path / name
        file.write_text(textwrap.dedent(yaml_text))
        return file

    def classifier(self, name="classify", max_in_flight=16, file=None, size=224, extra=""):
        """JPEG bytes -> decode (one worker, its own core) -> preprocess -> tinycnn -> softmax -> top-3
        with labels (unpinned). `file` may be in a subfolder: the model's paths point back up."""
        up = "../" * (len(Path(file).parts) - 1) if file else ""
        return self.write(file or f"{name}.yaml", f"""\
            name: {name}
            max_in_flight: {max_in_flight}
            queue_capacity: 64
            {extra}
            stages:
              - name: decode
                op: image.decode
                cores: 1
              - name: preprocess
                op: image.preprocess
                cores: none
                args: {{input: image, output: pixels, size: [{size}, {size}]}}
              - name: model
                op: onnx
                cores: none
                args: {{path: {up}tinycnn.onnx, inputs: {{input: pixels}}}}
              - name: softmax
                op: post.softmax
                cores: none
                args: {{input: logits, output: probs}}
              - name: top3
                op: post.topk
                cores: none
                args: {{input: probs, k: 3, labels: {up}labels.txt}}
            """)

    def tokenizer(self, name="tokenize"):
        return self.write(f"{name}.yaml", f"""\
            name: {name}
            stages:
              - name: tokenize
                op: text.wordpiece
                cores: none
                args: {{input: text, vocab: vocab.txt, max_length: 16}}
            """)

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


class Server:
    """`conveyor serve` on free loopback ports; stop() sends a signal and returns the exit code."""

    def __init__(self, models, *options):
        self.process = subprocess.Popen(
            [BINARY, "serve", *map(str, models), "--http-port", "0", "--grpc-port", "0", *options],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.http = self.grpc = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("conveyor serve exited:\n" + "".join(self.lines))
            self.lines.append(line)
            if m := re.search(r"HTTP on http://[\d.]+:(\d+)", line):
                self.http = int(m.group(1))
            if m := re.search(r"gRPC on [\d.]+:(\d+)", line):
                self.grpc = int(m.group(1))
            if "ready;" in line:
                break
        else:
            raise RuntimeError("conveyor serve did not become ready:\n" + "".join(self.lines))
        self.url = f"http://127.0.0.1:{self.http}"

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        rest, _ = self.process.communicate(timeout=timeout)
        self.lines.append(rest)
        return self.process.returncode

    def output(self):
        return "".join(self.lines)


def wait_in_flight(server, model, count, timeout=30):
    """Waits until /metrics shows `count` requests of `model` in flight."""
    deadline = time.monotonic() + timeout
    pattern = re.compile(r'^conveyor_in_flight\{model="' + re.escape(model) + r'"\} (\S+)$', re.M)
    while time.monotonic() < deadline:
        m = pattern.search(requests.get(server.url + "/metrics", timeout=30).text)
        if m and float(m.group(1)) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} requests of {model} were never in flight at once")


def infer_url(server, model):
    return f"{server.url}/v2/models/{model}/infer"


def bytes_request(name, data, binary=True, **parameters):
    """An infer body with one BYTES [1] input, as JSON or in the binary tensor data extension; returns
    (body, headers)."""
    if not binary:
        body = {"inputs": [{"name": name, "shape": [1], "datatype": "BYTES", "data": [data.decode("latin-1")]}]}
        if parameters:
            body["parameters"] = parameters
        return json.dumps(body).encode(), {"Content-Type": "application/json"}
    header = {"inputs": [{"name": name, "shape": [1], "datatype": "BYTES",
                          "parameters": {"binary_data_size": len(data) + 4}}]}
    if parameters:
        header["parameters"] = parameters
    text = json.dumps(header).encode()
    return text + struct.pack("<I", len(data)) + data, {"Inference-Header-Content-Length": str(len(text))}


def post_image(server, model, image, **parameters):
    body, headers = bytes_request("bytes", image, **parameters)
    return requests.post(infer_url(server, model), data=body, headers=headers, timeout=60)


def grpc_modules():
    """The KServe v2 gRPC stubs, generated now from src/serve/proto/grpc_service.proto."""
    out = Path(tempfile.mkdtemp(prefix="conveyor-grpc-stubs-"))
    proto_dir = SOURCE / "src" / "serve" / "proto"
    subprocess.run(["protoc", f"--python_out={out}", f"--grpc_out={out}",
                    "--plugin=protoc-gen-grpc=" + shutil.which("grpc_python_plugin"), f"-I{proto_dir}",
                    str(proto_dir / "grpc_service.proto")], check=True)
    sys.path.insert(0, str(out))
    import grpc_service_pb2
    import grpc_service_pb2_grpc
    return grpc_service_pb2, grpc_service_pb2_grpc
