#!/usr/bin/env python3
"""Training-step time of gnsm's score network in PyTorch (CPU) next to gnsm-core's own.

The PyTorch model is the network of crates/gnsm-core/src/network.rs (method doc section 4):

    temb = SiLU(Linear(128,128)(SiLU(Linear(128,128)([sin 2 pi t w, cos 2 pi t w]))))  (64 frozen w ~ N(0,1))
    h = Linear(D, W)(y)
    B times:  u = Linear(W,W)(GELU(LayerNorm(h)));  [gamma, beta] = Linear(128, 2W)(temb)
              h = h + Linear(W,W)(u * gamma + beta)
    out = Linear(W, D)(LeakyReLU_0.01(LayerNorm(h)))

with Glorot-uniform weights and zero biases, and the same loss (sum over columns of
KL(softmax(-g) || softmax(out_j)), batch mean) on the same ExpConcrete noise (20 levels,
tau = 20..2, per-level logit scale 0.2..1 as gnsm's TrainConfig default). One timed step =
sample batch rows, levels and Gumbel noise, forward, loss, backward, clip_grad_norm_(1.0),
AdamW (wd 1e-4) and the EMA update, i.e. what gnsm's training loop does per step. Shapes are
gnsm's TrainConfig defaults: W=256, B=4, batch 512, on the synthetic table of
crates/gnsm-eval/examples/bench.rs (20,000 rows, 6 columns of up to 10 categories, D=60).
The per-column softmaxes are vectorised (padded gather), not a Python loop over columns.

gnsm is timed in the same run with `examples/bench --train-only` (1 and 2 threads), after torch,
never at the same time. Prints a table and writes JSON (--json).
"""
import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time

LEVELS = 20


def synthetic_codes(n=20_000, cols=6, k=10):
    """The categorical table of examples/bench.rs: same LCG, same values, coded per column."""
    mask = (1 << 64) - 1
    state = 12345
    raw = []
    for _ in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        base = state >> 33
        raw.append([(base // (j + 1) + j * (base % 3)) % k for j in range(cols)])
    sizes, codes = [], []
    vocab = [dict() for _ in range(cols)]
    for row in raw:
        codes.append([vocab[j].setdefault(v, len(vocab[j])) for j, v in enumerate(row)])
    sizes = [len(v) for v in vocab]
    return codes, sizes


def build(torch, d, width, depth):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = nn.LayerNorm(width, eps=1e-5)
            self.l1 = nn.Linear(width, width)
            self.film = nn.Linear(128, 2 * width)
            self.l2 = nn.Linear(width, width)

        def forward(self, h, temb):
            u = self.l1(torch.nn.functional.gelu(self.ln(h)))
            gamma, beta = self.film(temb).chunk(2, dim=-1)
            return h + self.l2(u * gamma + beta)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("freq", torch.randn(64))
            self.t1 = nn.Linear(128, 128)
            self.t2 = nn.Linear(128, 128)
            self.inp = nn.Linear(d, width)
            self.blocks = nn.ModuleList([Block() for _ in range(depth)])
            self.ln = nn.LayerNorm(width, eps=1e-5)
            self.out = nn.Linear(width, d)
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias)

        def forward(self, y, t):
            ang = 2 * math.pi * t.float()[:, None] * self.freq[None, :]
            f = torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)
            temb = torch.nn.functional.silu(self.t2(torch.nn.functional.silu(self.t1(f))))
            h = self.inp(y)
            for b in self.blocks:
                h = b(h, temb)
            return self.out(torch.nn.functional.leaky_relu(self.ln(h), 0.01))

    return Net()


def time_torch(torch, threads, steps, warmup, width, depth, batch):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    codes, sizes = synthetic_codes()
    m, kmax, d = len(sizes), max(sizes), sum(sizes)
    offsets = torch.tensor([sum(sizes[:j]) for j in range(m)])
    # padded layout (m, kmax): flat index into D, or -1 for padding
    pad_idx = torch.full((m, kmax), -1, dtype=torch.long)
    for j, k in enumerate(sizes):
        pad_idx[j, :k] = offsets[j] + torch.arange(k)
    valid = pad_idx >= 0
    gather = pad_idx.clamp(min=0).reshape(-1)
    codes_t = torch.tensor(codes, dtype=torch.long)
    taus = torch.exp(torch.linspace(math.log(20.0), math.log(2.0), LEVELS))
    scales = torch.exp(torch.linspace(math.log(0.2), math.log(1.0), LEVELS))
    log_eps = math.log(1e-5)
    neg = torch.tensor(float("-inf"))

    net = build(torch, d, width, depth)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-4, foreach=True)
    params = [p for p in net.parameters()]
    ema = [p.detach().clone() for p in params]

    def step():
        rows = torch.randint(0, codes_t.shape[0], (batch,))
        lv = torch.randint(0, LEVELS, (batch,))
        tau = taus[lv][:, None, None]
        # clean logits in the padded layout: 0 for the active class, log(1e-5) elsewhere, scaled
        active = torch.arange(kmax)[None, None, :] == codes_t[rows][:, :, None]
        logits = torch.where(active, 0.0, log_eps) * scales[lv][:, None, None]
        u = torch.rand(batch, m, kmax).clamp(1e-12, 1 - 1e-12)
        g = -torch.log(-torch.log(u))
        yb = torch.where(valid, (g + logits) / tau, neg)
        yb = yb - torch.logsumexp(yb, dim=-1, keepdim=True)
        target = torch.softmax(torch.where(valid, -g, neg), dim=-1)
        y = torch.zeros(batch, d)
        y[:, pad_idx[valid]] = yb[:, valid]
        out = net(y, lv)
        ob = torch.where(valid, out[:, gather].reshape(batch, m, kmax), neg)
        logq = torch.log_softmax(ob, dim=-1)
        kl = torch.where(valid, target * (torch.log(target.clamp_min(1e-30)) - logq), 0.0)
        loss = kl.sum() / batch
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            torch._foreach_lerp_(ema, params, 1 - 0.999)
        return float(loss.detach())

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    times.sort()
    n_params = sum(p.numel() for p in params)
    return {"threads": threads, "input_dim": d, "n_params": n_params, "steps": steps,
            "ms_per_step": 1e3 * sum(times) / len(times), "ms_per_step_median": 1e3 * times[len(times) // 2]}


def time_gnsm(bench_bin):
    if not bench_bin or not os.path.exists(bench_bin):
        return {"available": False, "reason": f"gnsm bench binary not found: {bench_bin!r}"}
    out = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"gnsm_bench_{os.getpid()}.json")
    p = subprocess.run([bench_bin, "--train-only", "--json", out], capture_output=True, text=True)
    if p.returncode != 0:
        return {"available": False, "reason": f"{bench_bin} exited {p.returncode}: {p.stderr[-500:]}"}
    with open(out) as f:
        j = json.load(f)
    os.remove(out)
    runs = [r for r in j["runs"] if r.get("kind") == "train" and r.get("width") == 256 and r.get("depth") == 4]
    return {"available": True, "stdout": p.stdout, "peak_gflops_1": j["peak_gflops_1"], "peak_gflops_2": j["peak_gflops_2"],
            "runs": [{"threads": r["threads"], "input_dim": r["input_dim"], "ms_per_step": r["ms_per_step"]} for r in runs]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--gnsm-bench", default="target/release/examples/bench", help="gnsm-eval's bench example binary ('' = skip)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--batch", type=int, default=512)
    a = ap.parse_args()

    result = {"shape": {"width": a.width, "depth": a.depth, "batch": a.batch, "levels": LEVELS},
              "machine": {"cores": os.cpu_count(), "python": platform.python_version()}}
    try:
        import torch  # noqa: PLC0415

        torch.set_num_interop_threads(1)
        runs = [time_torch(torch, int(t), a.steps, a.warmup, a.width, a.depth, a.batch) for t in a.threads.split(",")]
        result["torch"] = {"available": True, "version": torch.__version__, "runs": runs}
    except ImportError as e:
        why = os.environ.get("GNSM_TORCH_INSTALL_ERROR") or "not installed in this environment"
        result["torch"] = {"available": False, "reason": f"{why} ({e})"}
    except Exception as e:  # noqa: BLE001
        result["torch"] = {"available": False, "reason": f"PyTorch failed: {type(e).__name__}: {e}"}
    if a.width == 256 and a.depth == 4 and a.batch == 512:
        result["gnsm"] = time_gnsm(a.gnsm_bench)
    else:
        result["gnsm"] = {"available": False, "reason": "examples/bench --train-only measures W=256 B=4 batch 512 only"}

    print(f"training step, W={a.width} B={a.depth} batch {a.batch} (noise + forward + backward + clip + AdamW + EMA):")
    t = result["torch"]
    if t["available"]:
        for r in t["runs"]:
            print(f"  PyTorch {t['version']:<14} {r['threads']} thread(s): {r['ms_per_step']:.1f} ms/step "
                  f"(median {r['ms_per_step_median']:.1f}, D={r['input_dim']}, {r['n_params']} params)")
    else:
        print(f"  PyTorch not measured: {t['reason']}")
    g = result["gnsm"]
    if g["available"]:
        for r in g["runs"]:
            print(f"  gnsm-core               {r['threads']} thread(s): {r['ms_per_step']:.1f} ms/step (D={r['input_dim']})")
    else:
        print(f"  gnsm not measured: {g['reason']}")
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    if not g["available"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
