"""tract (gits-sampler's native ONNX path) against onnxruntime on the CPU, per evaluation, on the
MNIST export and the diffusers UNet2DModel fixture at batch 1 and 16: writes the Markdown of the
onnx-speed section of bench/RESULTS.md (bench/onnx-speed.sh runs both sides and this).

The peer runs the same sampler loop as ours: one session.run per evaluation, the Euler update in
numpy, 20 evaluations on the model's own sigma range; its median time over the runs divided by 20
is its time per evaluation. Ours is `gits-sampler bench --solvers euler --nfe 20` (the plan
executor in f64 around tract; its median of 7 runs). Both single-threaded, as tract is:
onnxruntime with intra_op_num_threads=1 (its 2-thread time is shown beside for scale). The two
sides alternate, three rounds per row, and each side's median over the rounds is reported, so a
busy spell of this shared machine lands on both.

    python3 bench/onnx_speed.py PATH/TO/gits-sampler    (bench/onnx-speed.sh builds it first)
"""
import json
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

NFE, REPS, ROUNDS = 20, 7, 3
MODELS = {
    "mnist": "tests/fixtures/onnx/mnist-unet.onnx",
    "diffusers": "tests/fixtures/onnx/diffusers-unet/model.onnx",
}


def ddpm_sigmas():
    betas = np.linspace(1e-4, 0.02, 1000)
    abar = np.cumprod(1 - betas)
    return np.sqrt((1 - abar) / abar)


def feeds(name, batch, x, sigma):
    """The inputs of one evaluation, as the card of each fixture binds them."""
    if name == "mnist":
        one_hot = np.zeros((batch, 11), np.float32)
        one_hot[np.arange(batch), np.arange(batch) % 10] = 1
        return {"x": x.astype(np.float32), "sigma": np.full((batch, 1), sigma, np.float32), "class": one_hot}
    table = ddpm_sigmas()
    t = int(np.argmin(np.abs(np.log(table) - np.log(sigma))))  # int64 input: nearest timestep
    c_in = 1 / np.sqrt(1 + sigma * sigma)
    return {"sample": (x * c_in).astype(np.float32).reshape(batch, 3, 32, 32), "timestep": np.full((batch,), t, np.int64)}


def denoised(name, x, sigma, out):
    return out.reshape(x.shape) if name == "mnist" else x - sigma * out.reshape(x.shape)


def peer(name, batch, threads):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(MODELS[name], opts, providers=["CPUExecutionProvider"])
    lo, hi = (0.002, 80.0) if name == "mnist" else (ddpm_sigmas()[0], ddpm_sigmas()[-1])
    ramp = np.linspace(0, 1, NFE + 1)
    sigmas = (hi ** (1 / 7) + ramp * (lo ** (1 / 7) - hi ** (1 / 7))) ** 7
    dim = 784 if name == "mnist" else 3 * 32 * 32
    z = np.random.default_rng(0).standard_normal((batch, dim))

    def run():
        x = z * sigmas[0]
        for s, s_next in zip(sigmas[:-1], sigmas[1:]):
            d = denoised(name, x, s, session.run(None, feeds(name, batch, x, s))[0])
            x = x + (s_next - s) * (x - d) / s
        return x

    run()
    times = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times) / NFE


def ours(binary, name, batch):
    """gits-sampler bench's ms per evaluation (median of its 7 runs)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        args = ["bench", "--model", MODELS[name], "--solvers", "euler", "--nfe", str(NFE), "--batch", str(batch), "--reps", "7", "--gits-warmup", "0", "--out", out.name]
        subprocess.run([binary, *args], check=True, capture_output=True)
        return json.load(open(out.name))["sampling"][0]["ms_per_nfe"]


def main():
    binary = sys.argv[1]
    rows = []
    for name in MODELS:
        for batch in (1, 16):
            rounds = [(ours(binary, name, batch), peer(name, batch, 1), peer(name, batch, 2)) for _ in range(ROUNDS)]
            mine, one, two = (statistics.median(r[i] for r in rounds) for i in range(3))
            rows.append((name, batch, mine, one, mine / one, two))
            print(f"{name} batch {batch}: tract {mine:.2f} ms, onnxruntime {one:.2f} ms (2 threads {two:.2f})", file=sys.stderr)
    print("## Native ONNX: tract against onnxruntime (CPU, per evaluation)\n")
    print(__doc__.split("\n\n")[1].strip().replace("\n", " ") + "\n")
    print(f"onnxruntime {ort.__version__}; {ROUNDS} alternating rounds of {REPS} runs of {NFE} evaluations each.\n")
    print("| model | batch | tract ms/eval | onnxruntime ms/eval (1 thread) | ratio | onnxruntime, 2 threads |")
    print("|---|---|---|---|---|---|")
    for name, batch, mine, one, ratio, two in rows:
        print(f"| {name} | {batch} | {mine:.2f} | {one:.2f} | {ratio:.2f}x | {two:.2f} |")


if __name__ == "__main__":
    main()
