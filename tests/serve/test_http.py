"""KServe v2 REST against a real `conveyor serve`: every endpoint, JSON and binary tensors, the
datatypes the pipelines produce, malformed requests, curl, and /metrics checked by Prometheus's parser."""

import json
import socket
import struct
import subprocess
import unittest

import numpy as np
import requests
from prometheus_client.parser import text_string_to_metric_families

import serving


class HttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = serving.Workdir()
        cls.server = serving.Server([cls.work.classifier(), cls.work.tokenizer()], "--max-header-bytes", "4096",
                                    "--max-tensor-elements", "100000")
        cls.image = serving.jpeg(320, 240)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.work.remove()

    def get(self, path):
        return requests.get(self.server.url + path, timeout=30)

    def post(self, path, **kwargs):
        return requests.post(self.server.url + path, timeout=60, **kwargs)

    def assert_error(self, response, status, *words):
        self.assertEqual(response.status_code, status, response.text)
        message = response.json()["error"]
        for word in words:
            self.assertIn(word, message)

    def test_health_and_server_metadata(self):
        self.assertEqual(self.get("/v2/health/live").status_code, 200)
        self.assertEqual(self.get("/v2/health/ready").status_code, 200)
        metadata = self.get("/v2").json()
        self.assertEqual(metadata["name"], "conveyor")
        self.assertIn("binary_tensor_data", metadata["extensions"])

    def test_model_metadata_names_inputs_and_outputs(self):
        metadata = self.get("/v2/models/classify").json()
        self.assertEqual(metadata["inputs"], [{"name": "bytes", "datatype": "BYTES", "shape": [1]}])
        outputs = {o["name"]: o for o in metadata["outputs"]}
        self.assertEqual(set(outputs), {"topk_scores", "topk_indices", "topk_labels"})
        self.assertEqual(outputs["topk_indices"]["datatype"], "INT64")
        self.assertEqual(outputs["topk_labels"]["datatype"], "BYTES")
        self.assertEqual(self.get("/v2/models/classify/versions/1").json(), metadata)
        self.assertEqual(self.get("/v2/models/classify/ready").status_code, 200)
        tokens = self.get("/v2/models/tokenize").json()
        self.assertEqual(tokens["outputs"][0], {"name": "input_ids", "datatype": "INT64", "shape": [1, 16]})

    def test_unknown_model_and_version_are_404(self):
        self.assert_error(self.get("/v2/models/nope"), 404, "nope", "classify")
        self.assert_error(self.get("/v2/models/classify/versions/7"), 404, "version")
        self.assert_error(self.get("/v2/models/nope/ready"), 404)
        self.assert_error(self.post("/v2/models/nope/infer", json={"inputs": []}), 404)
        self.assert_error(self.get("/v2/nothing"), 404, "no route")

    def test_binary_image_classification(self):
        response = serving.post_image(self.server, "classify", self.image)
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        outputs = {o["name"]: o for o in body["outputs"]}
        self.assertEqual(body["model_name"], "classify")
        scores = np.array(outputs["topk_scores"]["data"], dtype=np.float32)
        indices = outputs["topk_indices"]["data"]
        self.assertEqual(len(scores), 3)
        self.assertTrue(np.all(np.diff(scores) <= 0), scores)
        self.assertTrue(np.all((scores > 0) & (scores <= 1)))
        self.assertEqual(outputs["topk_labels"]["data"], [serving.LABELS[i] for i in indices])

    def test_uint8_json_input_gives_the_same_answer(self):
        binary = serving.post_image(self.server, "classify", self.image).json()
        as_json = self.post("/v2/models/classify/infer", json={"inputs": [
            {"name": "bytes", "shape": [len(self.image)], "datatype": "UINT8", "data": list(self.image)}]})
        self.assertEqual(as_json.status_code, 200, as_json.text)
        self.assertEqual(as_json.json()["outputs"], binary["outputs"])

    def test_binary_outputs(self):
        header = {"inputs": [{"name": "bytes", "shape": [1], "datatype": "BYTES",
                              "parameters": {"binary_data_size": len(self.image) + 4}}],
                  "outputs": [{"name": "topk_scores", "parameters": {"binary_data": True}},
                              {"name": "topk_labels", "parameters": {"binary_data": True}},
                              {"name": "pixels"}]}
        text = json.dumps(header).encode()
        response = self.post("/v2/models/classify/infer", data=text + struct.pack("<I", len(self.image)) + self.image,
                             headers={"Inference-Header-Content-Length": str(len(text))})
        self.assertEqual(response.status_code, 200, response.text)
        length = int(response.headers["Inference-Header-Content-Length"])
        meta = json.loads(response.content[:length])
        scores_meta, labels_meta, pixels_meta = meta["outputs"]
        self.assertEqual(pixels_meta["shape"], [1, 3, 224, 224])
        self.assertEqual(len(pixels_meta["data"]), 3 * 224 * 224)
        tail = response.content[length:]
        scores = np.frombuffer(tail[:scores_meta["parameters"]["binary_data_size"]], dtype=np.float32)
        self.assertEqual(scores.shape, (3,))
        labels_bytes = tail[scores_meta["parameters"]["binary_data_size"]:]
        self.assertEqual(len(labels_bytes), labels_meta["parameters"]["binary_data_size"])
        labels, at = [], 0
        while at < len(labels_bytes):
            (n,) = struct.unpack_from("<I", labels_bytes, at)
            labels.append(labels_bytes[at + 4:at + 4 + n].decode())
            at += 4 + n
        self.assertEqual(len(labels), 3)
        self.assertTrue(all(label in serving.LABELS for label in labels))

    def test_uint8_input_and_text_tokens(self):
        text = "hello world".encode()
        response = self.post("/v2/models/tokenize/infer", json={"inputs": [
            {"name": "text", "shape": [len(text)], "datatype": "UINT8", "data": list(text)}]})
        self.assertEqual(response.status_code, 200, response.text)
        outputs = {o["name"]: o for o in response.json()["outputs"]}
        self.assertEqual(outputs["input_ids"]["shape"], [1, 16])
        mask = outputs["attention_mask"]["data"]
        self.assertEqual(mask[0], 1)
        self.assertEqual(mask[-1], 0)
        body, headers = serving.bytes_request("text", text, binary=False)
        same = self.post("/v2/models/tokenize/infer", data=body, headers=headers)
        self.assertEqual(same.json()["outputs"], response.json()["outputs"])

    def test_malformed_requests_are_400_naming_what(self):
        url = "/v2/models/classify/infer"
        self.assert_error(self.post(url, data=b"{not json"), 400, "not valid JSON")
        self.assert_error(self.post(url, json={"inputs": "x"}), 400, "inputs")
        self.assert_error(self.post(url, json={"inputs": [{"name": "bytes", "shape": [1], "datatype": "FP16",
                                                           "data": [1]}]}), 400, "FP16")
        self.assert_error(self.post(url, json={"inputs": [{"name": "bytes", "shape": [2], "datatype": "FP32",
                                                           "data": [1.0, 2.0]}]}), 400, "bytes", "BYTES")
        self.assert_error(self.post(url, json={"inputs": [{"name": "other", "shape": [1], "datatype": "BYTES",
                                                           "data": ["x"]}]}), 400, "no input 'other'")
        self.assert_error(self.post(url, json={"inputs": [{"name": "bytes", "shape": [3], "datatype": "BYTES",
                                                           "data": ["x"]}]}), 400, "1 elements", "3")
        self.assert_error(self.post(url, json={"inputs": [{"name": "bytes", "shape": [-1], "datatype": "BYTES",
                                                           "data": ["x"]}]}), 400, "shape")
        self.assert_error(self.post(url, json={"inputs": [{"name": "bytes", "shape": [1000000], "datatype": "UINT8",
                                                           "data": [1]}]}), 400, "max_tensor_elements")
        body = {"inputs": [{"name": "bytes", "shape": [len(self.image)], "datatype": "UINT8",
                            "data": list(self.image)}], "outputs": [{"name": "nope"}]}
        self.assert_error(self.post(url, json=body), 400, "output 'nope'", "topk_scores")
        # A corrupt image fails in its stage, which the error names.
        self.assert_error(serving.post_image(self.server, "classify", self.image[:200]), 400, "decode", "truncated")

    def test_binary_sizes_that_lie(self):
        url = "/v2/models/classify/infer"
        header = json.dumps({"inputs": [{"name": "bytes", "shape": [1], "datatype": "BYTES",
                                         "parameters": {"binary_data_size": 1000}}]}).encode()
        self.assert_error(self.post(url, data=header + b"\x04\x00\x00\x00abcd",
                                    headers={"Inference-Header-Content-Length": str(len(header))}), 400, "1000")
        self.assert_error(self.post(url, data=header, headers={"Inference-Header-Content-Length": "99999"}),
                          400, "Inference-Header-Content-Length")
        self.assert_error(self.post(url, data=header, headers={"Inference-Header-Content-Length": "ten"}), 400)
        # The element inside declares more bytes than follow: truncated binary data.
        short = json.dumps({"inputs": [{"name": "bytes", "shape": [1], "datatype": "BYTES",
                                        "parameters": {"binary_data_size": 8}}]}).encode()
        self.assert_error(self.post(url, data=short + b"\xff\x00\x00\x00abcd",
                                    headers={"Inference-Header-Content-Length": str(len(short))}), 400, "declares")

    def test_huge_headers_are_431(self):
        response = requests.get(self.server.url + "/v2", headers={"X-Big": "x" * 8000}, timeout=30)
        self.assertEqual(response.status_code, 431)
        self.assertIn("max_header_bytes", response.json()["error"])
        self.assertEqual(self.get("/v2/health/live").status_code, 200)  # and the server goes on

    def test_garbage_on_the_socket_gets_400_and_the_server_goes_on(self):
        with socket.create_connection(("127.0.0.1", self.server.http)) as s:
            s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            self.assertIn(b"400", s.recv(4096).split(b"\r\n")[0])
        self.assertEqual(self.get("/v2/health/live").status_code, 200)

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        with requests.Session() as session:
            for _ in range(20):
                self.assertEqual(session.get(self.server.url + "/v2/health/live", timeout=30).status_code, 200)

    def test_curl_classifies_a_jpeg(self):
        image = self.work.path / "cat.jpg"
        image.write_bytes(self.image)
        body = json.dumps({"inputs": [{"name": "bytes", "shape": [1], "datatype": "BYTES",
                                       "parameters": {"binary_data_size": len(self.image) + 4}}]}).encode()
        request = self.work.path / "request.bin"
        request.write_bytes(body + struct.pack("<I", len(self.image)) + self.image)
        out = subprocess.run(["curl", "-s", "--fail-with-body", "-H", f"Inference-Header-Content-Length: {len(body)}",
                              "--data-binary", f"@{request}", serving.infer_url(self.server, "classify")],
                             capture_output=True, check=True)
        labels = [o for o in json.loads(out.stdout)["outputs"] if o["name"] == "topk_labels"][0]["data"]
        self.assertEqual(len(labels), 3)

    def test_a_raw_jpeg_body_is_the_models_bytes_input(self):
        image = self.work.path / "raw.jpg"
        image.write_bytes(self.image)
        out = subprocess.run(["curl", "-s", "--fail-with-body", "-H", "Content-Type: image/jpeg", "--data-binary",
                              f"@{image}", serving.infer_url(self.server, "classify")], capture_output=True, check=True)
        self.assertEqual(json.loads(out.stdout)["outputs"], serving.post_image(self.server, "classify", self.image).json()["outputs"])
        text = self.post("/v2/models/tokenize/infer", data=b"abc", headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(text.status_code, 200, text.text)  # its one input is raw bytes (text)
        self.assert_error(self.post("/v2/models/classify/infer", data=b"abc",
                                    headers={"Content-Type": "application/octet-stream"}), 400, "decode")

    def test_metrics_parse_as_prometheus_text(self):
        serving.post_image(self.server, "classify", self.image)
        response = self.get("/metrics")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        families = {f.name: f for f in text_string_to_metric_families(response.text)}
        requests_total = {s.labels["model"]: s.value for s in families["conveyor_requests"].samples
                          if s.name == "conveyor_requests_total"}
        self.assertGreaterEqual(requests_total["classify"], 1)
        stages = {s.labels["stage"] for s in families["conveyor_stage_items"].samples if s.labels["model"] == "classify"}
        self.assertEqual(stages, {"decode", "preprocess", "model", "softmax", "top3"})
        buckets = [s for s in families["conveyor_request_duration_seconds"].samples
                   if s.name.endswith("_bucket") and s.labels["model"] == "classify"]
        counts = [s.value for s in buckets]
        self.assertEqual(counts, sorted(counts))  # cumulative
        self.assertEqual(buckets[-1].labels["le"], "+Inf")
        self.assertGreaterEqual(buckets[-1].value, 1)
        self.assertGreaterEqual(families["conveyor_front_end_requests"].samples[0].value, 2)  # infer, /metrics
        self.assertGreater(families["conveyor_front_end_cpu_seconds"].samples[0].value, 0)
        self.assertEqual(families["conveyor_front_end_threads"].type, "gauge")

    def test_repository_index(self):
        index = self.post("/v2/repository/index").json()
        self.assertEqual({m["name"]: m["state"] for m in index}, {"classify": "READY", "tokenize": "READY"})


if __name__ == "__main__":
    unittest.main()
