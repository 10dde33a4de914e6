"""KServe v2 gRPC against a real `conveyor serve`, with stubs generated at test time from the project's
.proto by protoc and grpc_python_plugin: every RPC, raw and typed contents, and status codes."""

import struct
import unittest

import grpc
import numpy as np

import serving

pb, rpc = serving.grpc_modules()


class GrpcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = serving.Workdir()
        cls.server = serving.Server([cls.work.classifier(), cls.work.tokenizer()])
        cls.channel = grpc.insecure_channel(f"127.0.0.1:{cls.server.grpc}")
        cls.stub = rpc.GRPCInferenceServiceStub(cls.channel)
        cls.image = serving.jpeg(320, 240)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stop()
        cls.work.remove()

    def image_request(self, raw=True, **parameters):
        tensor = pb.ModelInferRequest.InferInputTensor(name="bytes", datatype="BYTES", shape=[1])
        request = pb.ModelInferRequest(model_name="classify", id="req-1", inputs=[tensor])
        if raw:
            request.raw_input_contents.append(struct.pack("<I", len(self.image)) + self.image)
        else:
            tensor.contents.bytes_contents.append(self.image)
            request.inputs[0].CopyFrom(tensor)
        for key, value in parameters.items():
            request.parameters[key].int64_param = value
        return request

    def outputs(self, response):
        out = {}
        for tensor, raw in zip(response.outputs, response.raw_output_contents):
            if tensor.datatype == "BYTES":
                items, at = [], 0
                while at < len(raw):
                    (n,) = struct.unpack_from("<I", raw, at)
                    items.append(raw[at + 4:at + 4 + n].decode())
                    at += 4 + n
                out[tensor.name] = items
            else:
                dtype = {"FP32": np.float32, "INT64": np.int64}[tensor.datatype]
                out[tensor.name] = np.frombuffer(raw, dtype=dtype).reshape(tensor.shape)
        return out

    def test_health_and_metadata(self):
        self.assertTrue(self.stub.ServerLive(pb.ServerLiveRequest()).live)
        self.assertTrue(self.stub.ServerReady(pb.ServerReadyRequest()).ready)
        self.assertTrue(self.stub.ModelReady(pb.ModelReadyRequest(name="classify")).ready)
        self.assertFalse(self.stub.ModelReady(pb.ModelReadyRequest(name="nope")).ready)
        server = self.stub.ServerMetadata(pb.ServerMetadataRequest())
        self.assertEqual(server.name, "conveyor")
        self.assertIn("binary_tensor_data", server.extensions)
        model = self.stub.ModelMetadata(pb.ModelMetadataRequest(name="classify"))
        self.assertEqual([(t.name, t.datatype, list(t.shape)) for t in model.inputs], [("bytes", "BYTES", [1])])
        self.assertEqual({t.name for t in model.outputs}, {"topk_scores", "topk_indices", "topk_labels"})

    def test_infer_raw_and_typed_contents_agree(self):
        raw = self.stub.ModelInfer(self.image_request(raw=True))
        typed = self.stub.ModelInfer(self.image_request(raw=False))
        self.assertEqual(raw.model_name, "classify")
        self.assertEqual(raw.id, "req-1")
        a, b = self.outputs(raw), self.outputs(typed)
        np.testing.assert_array_equal(a["topk_scores"], b["topk_scores"])
        self.assertEqual(a["topk_labels"], [serving.LABELS[i] for i in a["topk_indices"]])
        self.assertTrue(np.all(np.diff(a["topk_scores"]) <= 0))

    def test_typed_int_contents_for_a_uint8_input(self):
        text = "hello world".encode()
        tensor = pb.ModelInferRequest.InferInputTensor(name="text", datatype="UINT8", shape=[len(text)])
        tensor.contents.uint_contents.extend(text)
        response = self.stub.ModelInfer(pb.ModelInferRequest(model_name="tokenize", inputs=[tensor]))
        ids = self.outputs(response)["input_ids"]
        self.assertEqual(ids.shape, (1, 16))
        self.assertGreater(ids[0, 1], 0)

    def test_requested_outputs_only(self):
        request = self.image_request()
        request.outputs.add(name="topk_labels")
        response = self.stub.ModelInfer(request)
        self.assertEqual([t.name for t in response.outputs], ["topk_labels"])

    def assert_code(self, request, code, *words):
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.ModelInfer(request)
        self.assertEqual(caught.exception.code(), code, caught.exception.details())
        for word in words:
            self.assertIn(word, caught.exception.details())

    def test_errors_have_codes_and_messages(self):
        self.assert_code(pb.ModelInferRequest(model_name="nope"), grpc.StatusCode.NOT_FOUND, "nope")
        bad_type = self.image_request()
        bad_type.inputs[0].datatype = "FP16"
        self.assert_code(bad_type, grpc.StatusCode.INVALID_ARGUMENT, "FP16")
        lying = self.image_request()
        lying.raw_input_contents[0] = struct.pack("<I", 100000) + b"abc"
        self.assert_code(lying, grpc.StatusCode.INVALID_ARGUMENT, "declares")
        two_raw = self.image_request()
        two_raw.raw_input_contents.append(b"x")
        self.assert_code(two_raw, grpc.StatusCode.INVALID_ARGUMENT, "raw_input_contents")
        corrupt = self.image_request()
        corrupt.raw_input_contents[0] = struct.pack("<I", 3) + b"abc"
        self.assert_code(corrupt, grpc.StatusCode.INVALID_ARGUMENT, "decode")
        self.assertTrue(self.stub.ServerLive(pb.ServerLiveRequest()).live)


if __name__ == "__main__":
    unittest.main()
