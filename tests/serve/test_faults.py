"""A real `conveyor serve` under load and faults: admission (429), timeouts, priority order, SIGTERM with
requests in flight, and reloads with requests in flight. Slow requests are large JPEGs: decoding one
takes tens of milliseconds on the single decode worker, so requests queue behind it."""

import signal
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import requests

import serving

BIG = serving.jpeg(2400, 1800, seed=1)
SMALL = serving.jpeg(64, 48, seed=2)


def send_all(server, model, images, **parameters):
    """Sends every image at once; returns the responses, or the exception a request raised, in order."""
    def one(image):
        try:
            return serving.post_image(server, model, image, **parameters)
        except requests.RequestException as error:
            return error
    with ThreadPoolExecutor(len(images)) as pool:
        return list(pool.map(one, images))


class FaultTest(unittest.TestCase):
    def setUp(self):
        self.work = serving.Workdir()
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.stop()
        self.work.remove()

    def test_overload_is_429_with_retry_after(self):
        self.server = serving.Server([self.work.classifier(max_in_flight=2)])
        responses = send_all(self.server, "classify", [BIG] * 8)
        codes = [r.status_code for r in responses]
        self.assertTrue(set(codes) <= {200, 429}, codes)
        self.assertGreaterEqual(codes.count(200), 2, codes)
        self.assertGreaterEqual(codes.count(429), 1, codes)
        refused = [r for r in responses if r.status_code == 429][0]
        self.assertEqual(refused.headers["Retry-After"], "1")
        self.assertIn("max_in_flight", refused.json()["error"])
        metrics = requests.get(self.server.url + "/metrics", timeout=30).text
        self.assertIn(f'conveyor_request_overloads_total{{model="classify"}} {codes.count(429)}', metrics)

    def test_a_request_past_its_timeout_fails_before_its_next_stage(self):
        self.server = serving.Server([self.work.classifier()])
        with ThreadPoolExecutor(2) as pool:
            blocker = pool.submit(serving.post_image, self.server, "classify", BIG)
            time.sleep(0.02)
            late = serving.post_image(self.server, "classify", SMALL, timeout=1000)  # 1 ms, in microseconds
            self.assertEqual(blocker.result().status_code, 200)
        self.assertEqual(late.status_code, 504, late.text)
        self.assertIn("deadline", late.json()["error"])
        body, headers = serving.bytes_request("bytes", SMALL)
        headers["Timeout"] = "60000000"
        ok = requests.post(serving.infer_url(self.server, "classify"), data=body, headers=headers, timeout=60)
        self.assertEqual(ok.status_code, 200, ok.text)

    def test_higher_priority_is_served_first(self):
        self.server = serving.Server([self.work.classifier()])
        blocker_image = serving.jpeg(6000, 4000, seed=3)  # a few hundred ms of decoding: the others queue behind it
        queued_image = serving.jpeg(1200, 900, seed=4)   # ~10 ms each: replies far enough apart to keep their order
        finished = []
        lock = threading.Lock()

        def send(tag, image, priority):
            response = serving.post_image(self.server, "classify", image, priority=priority)
            with lock:
                finished.append((tag, response.status_code))

        blocker = threading.Thread(target=send, args=("blocker", blocker_image, 0))
        blocker.start()
        serving.wait_in_flight(self.server, "classify", 1)
        threads = [threading.Thread(target=send, args=(f"low{i}", queued_image, 0)) for i in range(3)]
        threads += [threading.Thread(target=send, args=(f"high{i}", queued_image, 5)) for i in range(3)]
        for t in threads:
            t.start()
            time.sleep(0.01)  # admitted in this order: low ones first
        for t in [blocker] + threads:
            t.join()
        order = [tag for tag, code in finished]
        self.assertTrue(all(code == 200 for _, code in finished), finished)
        highs = [order.index(f"high{i}") for i in range(3)]
        lows = [order.index(f"low{i}") for i in range(3)]
        self.assertLess(max(highs), max(lows), order)
        self.assertLess(sum(highs), sum(lows), order)

    def test_sigterm_finishes_every_admitted_request(self):
        self.server = serving.Server([self.work.classifier()])
        with ThreadPoolExecutor(6) as pool:
            pending = [pool.submit(serving.post_image, self.server, "classify", BIG) for _ in range(6)]
            serving.wait_in_flight(self.server, "classify", 6)
            self.assertEqual(self.server.stop(signal.SIGTERM), 0, self.server.output())
            codes = [p.result().status_code for p in pending]
        self.assertEqual(codes, [200] * 6, self.server.output())
        self.assertIn("stopped", self.server.output())
        with self.assertRaises(requests.ConnectionError):
            requests.get(self.server.url + "/v2/health/live", timeout=5)
        self.server = None

    def test_sigint_past_the_grace_period_answers_503(self):
        self.server = serving.Server([self.work.classifier()], "--grace", "0")
        with ThreadPoolExecutor(6) as pool:
            pending = [pool.submit(serving.post_image, self.server, "classify", BIG) for _ in range(6)]
            serving.wait_in_flight(self.server, "classify", 6)
            self.assertEqual(self.server.stop(signal.SIGINT), 0, self.server.output())
            responses = [p.result() for p in pending]  # each one answered: none raises
        codes = [r.status_code for r in responses]
        self.assertTrue(set(codes) <= {200, 503}, codes)
        self.assertIn(503, codes)
        self.server = None

    def test_reload_with_requests_in_flight(self):
        repository = self.work.path / "models"
        repository.mkdir()
        file = self.work.classifier(file="models/classify.yaml")
        self.server = serving.Server([repository])

        def top_k(response):
            return len([o for o in response.json()["outputs"] if o["name"] == "topk_scores"][0]["data"])

        with ThreadPoolExecutor(4) as pool:
            pending = [pool.submit(serving.post_image, self.server, "classify", BIG) for _ in range(4)]
            serving.wait_in_flight(self.server, "classify", 4)
            file.write_text(file.read_text().replace("k: 3", "k: 2"))
            load = requests.post(self.server.url + "/v2/repository/models/classify/load", timeout=60)
            self.assertEqual(load.status_code, 200, load.text)
            answered = [p.result() for p in pending]
        self.assertEqual([r.status_code for r in answered], [200] * 4)
        self.assertEqual({top_k(r) for r in answered} - {2, 3}, set())
        after = serving.post_image(self.server, "classify", SMALL)
        self.assertEqual(top_k(after), 2)
        self.assertEqual(requests.get(self.server.url + "/v2/models/classify", timeout=30).json()["versions"], ["2"])

        # SIGHUP re-reads the directory: a changed file restarts its model.
        file.write_text(file.read_text().replace("k: 2", "k: 1"))
        self.server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if requests.get(self.server.url + "/v2/models/classify", timeout=30).json()["versions"] == ["3"]:
                break
            time.sleep(0.05)
        self.assertEqual(top_k(serving.post_image(self.server, "classify", SMALL)), 1)

        unload = requests.post(self.server.url + "/v2/repository/models/classify/unload", timeout=60)
        self.assertEqual(unload.status_code, 200, unload.text)
        self.assertEqual(serving.post_image(self.server, "classify", SMALL).status_code, 404)
        index = requests.post(self.server.url + "/v2/repository/index", timeout=30).json()
        self.assertEqual(index, [{"name": "classify", "state": "UNAVAILABLE", "reason": "unloaded"}])
        broken = requests.post(self.server.url + "/v2/repository/models/other/load", timeout=60)
        self.assertEqual(broken.status_code, 404, broken.text)


if __name__ == "__main__":
    unittest.main()
