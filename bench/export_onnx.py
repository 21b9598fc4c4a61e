"""Exports a gits-sampler U-Net weights file (*.gsw) to ONNX: the whole EDM denoiser
D(x; sigma, class) = c_skip x + c_out F(c_in x; c_noise, class), with the same weights (int8
tensors are dequantized exactly as the loader does: q * scale per output channel).

The graph is built op by op from the weights file's manifest (format in docs/formats.md) and the
U-Net of src/denoiser/unet.rs, so the peer runs the same network; bench/browser-bench.mjs checks
its outputs against ours before timing anything.

    pip install -r bench/requirements.txt
    python3 bench/export_onnx.py models/mnist-unet.int8.gsw bench/out/mnist-unet.onnx

With --card CARD.json, each top-level key of that model card (the JSON that tells the sampler an
ONNX model's inputs, output and schedule) is stored in the model's metadata_props as
key -> json.dumps(value), so the .onnx file describes itself without a sidecar card:

    python3 bench/export_onnx.py models/mnist-unet.int8.gsw tests/fixtures/onnx/mnist-unet.onnx \
        --card tests/fixtures/onnx/mnist-unet.export-card.json
"""

import argparse
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NOISE_FREQS = 16
GROUPNORM_EPS = 1e-5  # burn's GroupNorm default


def read_weights(path):
    data = open(path, "rb").read()
    if data[:8] != b"GITSWTS1":
        sys.exit(f"{path}: not a gits-sampler weights file")
    (length,) = struct.unpack("<I", data[8:12])
    manifest = json.loads(data[12 : 12 + length])
    payload = data[12 + length :]
    tensors = {}
    for t in manifest["tensors"]:
        n = int(np.prod(t["shape"]))
        if t["dtype"] == "f32":
            values = np.frombuffer(payload, "<f4", n, t["offset"])
        else:
            q = np.frombuffer(payload, np.int8, n, t["offset"]).astype(np.float32)
            axis = t["axis"]
            scales = np.frombuffer(payload, "<f4", t["shape"][axis], (t["offset"] + n + 3) // 4 * 4)
            inner = int(np.prod(t["shape"][axis + 1 :]))
            values = q * scales[(np.arange(n) // inner) % t["shape"][axis]]
        tensors[t["path"]] = values.astype(np.float32).reshape(t["shape"])
    return manifest, tensors


class Graph:
    """Nodes and initializers, with fresh names."""

    def __init__(self, weights):
        self.weights = weights
        self.nodes = []
        self.inits = []
        self.count = 0

    def name(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, value, hint="c"):
        n = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value), n))
        return n

    def w(self, path):
        return self.const(self.weights[path], path.replace(".", "_"))

    def op(self, kind, inputs, hint=None, **attrs):
        out = self.name(hint or kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def silu(self, x):
        return self.op("Mul", [x, self.op("Sigmoid", [x])], "silu")

    def linear(self, x, path, bias=True):
        y = self.op("MatMul", [x, self.w(f"{path}.weight")])  # burn stores [in, out]
        return self.op("Add", [y, self.w(f"{path}.bias")]) if bias else y

    def conv(self, x, path, stride=1, pad=1):
        k = self.weights[f"{path}.weight"].shape[-1]
        # Every attribute spelled out: onnxruntime's WebGPU kernels do not infer them.
        return self.op("Conv", [x, self.w(f"{path}.weight"), self.w(f"{path}.bias")], strides=[stride, stride], pads=[pad] * 4, dilations=[1, 1], kernel_shape=[k, k], group=1)

    def group_norm(self, x, path, groups):
        shape = self.op("Shape", [x])
        g = self.op("Reshape", [x, self.const(np.array([0, groups, -1], np.int64))])
        mean = self.op("ReduceMean", [g], axes=[2], keepdims=1)
        centred = self.op("Sub", [g, mean])
        var = self.op("ReduceMean", [self.op("Mul", [centred, centred])], axes=[2], keepdims=1)
        normed = self.op("Div", [centred, self.op("Sqrt", [self.op("Add", [var, self.const(np.float32(GROUPNORM_EPS))])])])
        back = self.op("Reshape", [normed, shape])
        gamma = self.const(self.weights[f"{path}.gamma"].reshape(1, -1, 1, 1))
        beta = self.const(self.weights[f"{path}.beta"].reshape(1, -1, 1, 1))
        return self.op("Add", [self.op("Mul", [back, gamma]), beta])

    def res_block(self, x, emb, path, groups):
        cout = self.weights[f"{path}.conv1.weight"].shape[0]
        h = self.conv(self.silu(self.group_norm(x, f"{path}.norm1", groups)), f"{path}.conv1")
        e = self.op("Reshape", [self.linear(emb, f"{path}.embed"), self.const(np.array([-1, cout, 1, 1], np.int64))])
        h = self.op("Add", [h, e])
        h = self.conv(self.silu(self.group_norm(h, f"{path}.norm2", groups)), f"{path}.conv2")
        skip = self.conv(x, f"{path}.skip", pad=0) if f"{path}.skip.weight" in self.weights else x
        return self.op("Add", [h, skip])

    def upsample2(self, x, c, size):
        r = self.op("Reshape", [x, self.const(np.array([0, c, size, 1, size, 1], np.int64))])
        e = self.op("Expand", [r, self.const(np.array([1, c, size, 2, size, 2], np.int64))])
        return self.op("Reshape", [e, self.const(np.array([0, c, 2 * size, 2 * size], np.int64))])


def build(manifest, weights):
    arch = manifest["architecture"]
    if arch["kind"] != "unet":
        sys.exit(f"only U-Net weights export to ONNX here, not {arch['kind']}")
    size, ch, groups, classes = arch["size"], arch["channels"], arch["groups"], arch["classes"]
    dim, sd = size * size, manifest["sigma_data"]
    g = Graph({k.removeprefix("Unet."): v for k, v in weights.items()})
    f32 = lambda v: g.const(np.float32(v))
    # EDM scalings, one sigma per row.
    total = g.op("Add", [g.op("Mul", ["sigma", "sigma"]), f32(sd * sd)])
    root = g.op("Sqrt", [total])
    c_skip = g.op("Div", [f32(sd * sd), total])
    c_out = g.op("Div", [g.op("Mul", ["sigma", f32(sd)]), root])
    c_in = g.op("Reciprocal", [root])
    c_noise = g.op("Div", [g.op("Log", ["sigma"]), f32(4.0)])
    freqs = (np.float32(100.0) ** (np.arange(NOISE_FREQS, dtype=np.float32) / np.float32(NOISE_FREQS - 1))).reshape(1, -1)
    angles = g.op("Mul", [c_noise, g.const(freqs.astype(np.float32))])
    feats = g.op("Concat", [g.op("Sin", [angles]), g.op("Cos", [angles])], axis=1)
    emb = g.silu(g.linear(feats, "noise1"))
    emb = g.silu(g.op("Add", [g.linear(emb, "noise2"), g.linear("class", "class_embed", bias=False)]))
    h = g.op("Reshape", [g.op("Mul", ["x", c_in]), g.const(np.array([-1, 1, size, size], np.int64))])
    h = g.conv(h, "input")
    skips, side = [], size
    for level in range(len(ch)):
        h = g.res_block(h, emb, f"down.{level}", groups)
        skips.append(h)
        if level + 1 < len(ch):
            h = g.conv(h, f"downsample.{level}", stride=2)
            side //= 2
    h = g.res_block(h, emb, "mid", groups)
    for level in reversed(range(len(ch))):
        h = g.res_block(g.op("Concat", [h, skips[level]], axis=1), emb, f"up.{level}", groups)
        if level > 0:
            h = g.upsample2(h, ch[level], side)
            side *= 2
    f = g.conv(g.silu(g.group_norm(h, "out_norm", groups)), "out")
    f = g.op("Reshape", [f, g.const(np.array([-1, dim], np.int64))])
    d = g.op("Add", [g.op("Mul", ["x", c_skip]), g.op("Mul", [f, c_out])])
    g.nodes.append(helper.make_node("Identity", [d], ["denoised"]))
    batch = "batch"
    graph = helper.make_graph(
        g.nodes,
        manifest["name"],
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, dim]),
            helper.make_tensor_value_info("sigma", TensorProto.FLOAT, [batch, 1]),
            helper.make_tensor_value_info("class", TensorProto.FLOAT, [batch, classes + 1]),
        ],
        [helper.make_tensor_value_info("denoised", TensorProto.FLOAT, [batch, dim])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="gits-sampler")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    ap = argparse.ArgumentParser(description="Export a U-Net weights file (*.gsw) to ONNX.")
    ap.add_argument("weights", metavar="WEIGHTS.gsw")
    ap.add_argument("out", metavar="OUT.onnx")
    ap.add_argument("--card", metavar="CARD.json", help="model card to store in metadata_props, one entry per top-level key")
    args = ap.parse_args()
    manifest, weights = read_weights(args.weights)
    model = build(manifest, weights)
    if args.card:
        card = json.load(open(args.card))
        if not isinstance(card, dict):
            sys.exit(f"{args.card}: a model card is a JSON object")
        # Values are JSON text so that nested objects (sample, noise, schedule...) survive the string-only props.
        helper.set_model_props(model, {key: json.dumps(value) for key, value in card.items()})
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    onnx.save(model, args.out)
    print(f"export: {args.out}: {len(model.graph.node)} nodes, {sum(w.size for w in weights.values())} weights"
          + (f", card {args.card} in metadata_props" if args.card else ""))


if __name__ == "__main__":
    main()
