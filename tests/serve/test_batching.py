"""A batching model served by a real `conveyor serve`: concurrent clients are batched together, each gets
the answer it would get alone, and /metrics counts the batches."""

import concurrent.futures
import subprocess
import unittest

import numpy as np
from prometheus_client.parser import text_string_to_metric_families
import requests

import serving


class BatchingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = serving.Workdir()
        subprocess.run([serving.BINARY, "zoo", "tinycnn", "-o", str(cls.work.path / "tinycnn_dynamic.onnx"),
                        "--batch", "dynamic"], check=True, stdout=subprocess.DEVNULL)
        alone = cls.work.classifier("alone")
        # The same classifier with the model stage batching: up to 4 requests, waiting up to 300 ms for them.
        batched = cls.work.path / "batched.yaml"
        batched.write_text(alone.read_text().replace("name: alone", "name: batched").replace(
            "args: {path: tinycnn.onnx, inputs: {input: pixels}}",
            "batch: {max_size: 4, max_delay_ms: 300}\n    args: {path: tinycnn_dynamic.onnx, inputs: {input: pixels}}"))
        cls.server = serving.Server([alone, batched])
        cls.images = [serving.jpeg(320, 240, seed) for seed in range(8)]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.work.remove()

    @staticmethod
    def scores(response):
        assert response.status_code == 200, response.text
        outputs = {o["name"]: o for o in response.json()["outputs"]}
        return outputs["topk_indices"]["data"], np.array(outputs["topk_scores"]["data"], dtype=np.float32)

    def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(self):
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            batched = list(pool.map(lambda image: serving.post_image(self.server, "batched", image), self.images))
        for image, response in zip(self.images, batched):
            indices, scores = self.scores(response)
            alone_indices, alone_scores = self.scores(serving.post_image(self.server, "alone", image))
            self.assertEqual(indices, alone_indices)
            np.testing.assert_allclose(scores, alone_scores, rtol=1e-4, atol=1e-6)

        metrics = requests.get(self.server.url + "/metrics", timeout=30).text
        families = {f.name: f for f in text_string_to_metric_families(metrics)}
        runs = {int(s.labels["size"]): s.value for s in families["conveyor_stage_batches"].samples
                if s.labels["model"] == "batched" and s.labels["stage"] == "model" and s.name.endswith("_total")}
        self.assertEqual(sum(size * count for size, count in runs.items()), len(self.images))
        self.assertGreater(sum(count for size, count in runs.items() if size > 1), 0, runs)
        waits = [s for s in families["conveyor_stage_batch_wait_seconds"].samples
                 if s.labels["model"] == "batched" and s.name.endswith("_count")]
        self.assertEqual(waits[0].value, len(self.images))
        self.assertNotIn("batched", {s.labels["model"] for s in families["conveyor_stage_batches"].samples
                                     if s.labels["stage"] != "model"})


if __name__ == "__main__":
    unittest.main()
