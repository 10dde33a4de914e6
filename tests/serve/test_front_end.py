"""The front end planned like a stage: a `plan: auto` model plans it as its first stage (never on the
model's core), the server measures its CPU time per request from its threads' clocks, shows it in /metrics
and in `bench --url`'s stage table, and stores it when it stops, so the next start plans with it."""

import os
import re
import subprocess
import tempfile
import unittest
from pathlib import Path

import requests

from serving import BINARY, Server, Workdir, infer_url, jpeg, bytes_request


class FrontEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.cache = Path(tempfile.mkdtemp(prefix="conveyor-front-end-cache-"))
        os.environ["XDG_CACHE_HOME"] = str(cls.cache)  # the servers started here inherit it
        cls.pipeline = cls.work.classifier(name="auto", extra="plan: auto")
        images = cls.work.path / "images"
        images.mkdir()
        for i in range(4):
            (images / f"{i}.jpg").write_bytes(jpeg(96, 80, seed=i))
        cls.image = (images / "0.jpg").read_bytes()
        # plan: auto on a server has no inputs to measure stages on: they come from `profile`
        subprocess.run([BINARY, "profile", str(cls.pipeline), "--input", str(images), "--threads", "1",
                        "--requests", "20", "--warmup", "2"], check=True, stdout=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        cls.work.remove()
        subprocess.run(["rm", "-rf", str(cls.cache)], check=True)

    def plan_lines(self, output):
        return [line for line in output.splitlines() if line.startswith("plan:   ")]

    def serve_some(self, server, count):
        body, headers = bytes_request("bytes", self.image)
        with requests.Session() as session:  # keep-alive, as a client under load would
            for _ in range(count):
                reply = session.post(infer_url(server, "auto"), data=body, headers=headers, timeout=60)
                self.assertEqual(reply.status_code, 200, reply.text)

    def metric(self, server, name):
        text = requests.get(server.url + "/metrics", timeout=30).text
        m = re.search("^" + name + r" (\S+)$", text, re.M)
        self.assertIsNotNone(m, f"{name} not in /metrics:\n{text}")
        return float(m.group(1))

    def test_planned_measured_stored_and_used_by_the_next_start(self):
        first = Server([self.pipeline])
        try:
            out = first.output()
            front = [line for line in self.plan_lines(out) if line.startswith("plan:   front end")]
            self.assertEqual(len(front), 1, out)
            self.assertNotIn("model", front[0], "the front end shares a core with the model:\n" + out)
            self.assertIn("(as planned)", out)
            self.assertIn("planned at a guessed 50 µs CPU per request", out)

            self.serve_some(first, 300)
            self.assertGreaterEqual(self.metric(first, "conveyor_front_end_requests_total"), 300)
            self.assertGreater(self.metric(first, "conveyor_front_end_cpu_seconds_total"), 0)
            self.assertGreaterEqual(self.metric(first, "conveyor_front_end_threads"), 2)  # HTTP and gRPC

            table = subprocess.run([BINARY, "bench", "--url", first.url + "/auto",
                                    "-i", str(self.work.path / "images"), "-n", "40", "-c", "2"],
                                   capture_output=True, text=True, timeout=300)
            self.assertEqual(table.returncode, 0, table.stdout + table.stderr)
            rows = [line.split() for line in table.stdout.splitlines()]
            front_rows = [r for r in rows if r[:2] == ["front", "end"]]
            self.assertEqual(len(front_rows), 1, table.stdout)
            self.assertGreaterEqual(int(front_rows[0][-2]), 40, table.stdout)  # its items: every request
        finally:
            self.assertEqual(first.stop(), 0)
        stopped = first.output()
        m = re.search(r"front end: ([\d.]+) µs CPU per request over (\d+) requests \((\d+) samples stored\)", stopped)
        self.assertIsNotNone(m, stopped)
        self.assertGreater(float(m.group(1)), 0)
        self.assertGreaterEqual(int(m.group(3)), 1)

        second = Server([self.pipeline])
        try:
            out = second.output()
            self.assertNotIn("guessed", out)
            self.assertRegex(out, r"front end: [\d.]+ µs CPU per request \(\d+ samples, \d+ s old\)")
        finally:
            self.assertEqual(second.stop(), 0)

    def test_a_file_laid_out_by_hand_keeps_the_free_cores(self):
        server = Server([self.work.classifier(name="manual")])
        try:
            out = server.output()
            self.assertNotIn("plan:", out)
            self.assertRegex(out, r"front ends \(1 HTTP, 1 gRPC threads\) on cpus \S+ \(no pinned stage owns them\)"
                             r"|unpinned")
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
