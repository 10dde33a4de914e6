"""`conveyor bench --url` against a real `conveyor serve`, over HTTP and gRPC: the report's numbers,
the stage table scraped from /metrics, errors with the first one's message, and 429 / RESOURCE_EXHAUSTED
counted as rejected."""

import json
import subprocess
import unittest

import serving


class BenchUrlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = serving.Workdir()
        images = cls.work.path / "images"
        images.mkdir()
        for i, (width, height) in enumerate([(320, 240), (200, 300), (64, 48)]):
            (images / f"image{i}.jpg").write_bytes(serving.jpeg(width, height, seed=i))
        cls.images = images
        big = cls.work.path / "big"
        big.mkdir()
        (big / "big.jpg").write_bytes(serving.jpeg(2400, 1800, seed=1))  # tens of ms to decode
        cls.big = big
        (cls.work.path / "not-an-image.txt").write_text("hello")
        cls.server = serving.Server([cls.work.classifier(), cls.work.classifier(name="busy", max_in_flight=1)])
        cls.http = f"http://127.0.0.1:{cls.server.http}"
        cls.grpc = f"grpc://127.0.0.1:{cls.server.grpc}"

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.work.remove()

    def bench(self, url, *options, inputs=None, json_report=True, expect=0):
        command = [serving.BINARY, "bench", "--url", url, "-i", str(inputs or self.images), *options]
        if json_report:
            command.append("--json")
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, expect, done.stdout + done.stderr)
        return json.loads(done.stdout) if json_report else done.stdout

    def assert_measured(self, report, requests):
        self.assertEqual(report["requests"], requests, report)
        self.assertEqual(report["errors"], 0, report)
        self.assertGreater(report["throughput_rps"], 0)
        latency = report["latency_ms"]
        self.assertGreater(latency["p50"], 0)
        self.assertLessEqual(latency["p50"], latency["p90"])
        self.assertLessEqual(latency["p90"], latency["p99"])
        self.assertLessEqual(latency["p99"], latency["max"])

    def assert_stages(self, report, items):
        names = [s["name"] for s in report["stages"]]
        self.assertEqual(names, ["front end", "decode", "preprocess", "model", "softmax", "top3"], report)
        front_end, *stages = report["stages"]
        # The front end handled every request, and the /metrics scrape that ended the measurement.
        self.assertGreaterEqual(front_end["items"], items, front_end)
        self.assertGreater(front_end["service_ms"]["mean"], 0, front_end)
        for stage in stages:
            self.assertEqual(stage["items"], items, stage)
            self.assertGreater(stage["service_ms"]["mean"], 0, stage)
        self.assertEqual(report["stages_source"], "server /metrics")

    def test_http_closed_loop(self):
        report = self.bench(f"{self.http}/classify", "-n", "20", "--warmup", "2", "-c", "3")
        self.assert_measured(report, 20)
        self.assertEqual(report["rejected"], 0)
        self.assertEqual(report["pipeline"], "classify")
        self.assertIn("closed loop, concurrency 3", report["load"])
        self.assert_stages(report, 20)

    def test_grpc_closed_loop_with_metrics_url(self):
        report = self.bench(f"{self.grpc}/classify", "-n", "20", "--warmup", "2", "--metrics-url", self.http)
        self.assert_measured(report, 20)
        self.assertTrue(report["client"].startswith("gRPC"), report)
        self.assert_stages(report, 20)

    def test_grpc_without_metrics_url_has_no_stage_table(self):
        report = self.bench(f"{self.grpc}/classify", "-n", "20", "--warmup", "2")
        self.assert_measured(report, 20)
        self.assertEqual(report["stages"], [])
        text = self.bench(f"{self.grpc}/classify", "-n", "5", "--warmup", "0", json_report=False)
        self.assertIn("(stages: see the server's /metrics)", text)
        self.assertIn("throughput", text)

    def test_open_loop(self):
        for url in (f"{self.http}/classify", f"{self.grpc}/classify"):
            report = self.bench(url, "-n", "20", "--warmup", "2", "--rate", "200")
            self.assert_measured(report, 20)
            self.assertIn("open loop", report["load"])

    def test_text_report_has_the_stage_table(self):
        text = self.bench(f"{self.http}/classify", "-n", "10", "--warmup", "1", json_report=False)
        self.assertIn("model classify at http://", text)
        self.assertIn("server's /metrics", text)
        self.assertIn("bottleneck:", text)

    def test_failed_requests_are_errors_with_the_first_message(self):
        for url in (f"{self.http}/classify", f"{self.grpc}/classify"):
            report = self.bench(url, "-n", "5", "--warmup", "0", inputs=self.work.path / "not-an-image.txt", expect=3)
            self.assertEqual(report["errors"], 5, report)
            self.assertEqual(report["rejected"], 0, report)
            self.assertIn("decode", report["first_error"])

    def test_over_max_in_flight_is_rejected_not_an_error(self):
        for url in (f"{self.http}/busy", f"{self.grpc}/busy"):
            report = self.bench(url, "-n", "20", "--warmup", "0", "-c", "8", inputs=self.big,
                                *(["--metrics-url", self.http] if url.startswith("grpc") else []))
            self.assertEqual(report["errors"], 0, report)
            self.assertGreater(report["rejected"], 0, report)
            self.assertEqual(report["requests"] + report["rejected"], 20, report)
            self.assertIn("max_in_flight", report["first_rejection"])

    def test_exactly_one_of_pipeline_or_url(self):
        for arguments in ([], [str(self.work.classifier(name="other")), "--url", f"{self.http}/classify"]):
            done = subprocess.run([serving.BINARY, "bench", *arguments, "-i", str(self.images)], capture_output=True,
                                  text=True, timeout=60)
            self.assertNotEqual(done.returncode, 0)
        done = subprocess.run([serving.BINARY, "bench", "--url", "ftp://x/y", "-i", str(self.images)],
                              capture_output=True, text=True, timeout=60)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("http://HOST:PORT/MODEL", done.stderr)


if __name__ == "__main__":
    unittest.main()
