"""Speed of I3DClipEncoder on CPU with random weights (FineDiving protocol: 96 frames -> 9 clips of 16).

    python benchmarks/i3d_speed.py --threads 2 --size 112 --repeats 3

For each size, one untimed warm-up encode, then ``--repeats`` timed encodes of a random uint8 video
(``--frames`` x ``--height`` x ``--width``); the table gives the median. clips/s counts I3D clips (16 frames each);
frames/s counts the 96 resampled frames per video, i.e. the protocol's throughput. Peak RSS is the process's
maximum resident set size so far (resource.getrusage), so with several sizes it is the peak of the largest.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

import numpy as np
import torch

from judgemind.features.i3d import I3DClipEncoder, InceptionI3d


def peak_rss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    ap.add_argument("--size", type=int, nargs="+", default=[112, 224], help="crop size(s) (default 112 224)")
    ap.add_argument("--repeats", type=int, default=3, help="timed encodes per size (default 3)")
    ap.add_argument("--batch-clips", type=int, default=3, help="clips per forward pass (default 3)")
    ap.add_argument("--frames", type=int, default=120, help="frames in the synthetic input video (default 120)")
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=340)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = InceptionI3d(400).eval()
    frames = np.random.default_rng(args.seed).integers(
        0, 256, (args.frames, args.height, args.width, 3), dtype=np.uint8
    )
    print(
        f"torch {torch.__version__}, {args.threads} thread(s), input {args.frames}x{args.height}x{args.width}, "
        f"batch_clips {args.batch_clips}, {args.repeats} repeat(s), random weights, CPU"
    )
    header = f"{'size':>5} {'clips':>5} {'s/video':>8} {'clips/s':>8} {'frames/s':>9} {'peak RSS MiB':>13}"
    print(header)
    print("-" * len(header))
    for size in args.size:
        enc = I3DClipEncoder(model, size=size, short_side=size, batch_clips=args.batch_clips)
        enc.encode(frames)  # warm-up: oneDNN primitive creation and allocator growth are not steady state
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            feats = enc.encode(frames)
            times.append(time.perf_counter() - t0)
        assert feats.shape == (enc.n_clips, 1024)
        t = statistics.median(times)
        print(
            f"{size:>5} {enc.n_clips:>5} {t:>8.2f} {enc.n_clips / t:>8.2f} {enc.n_frames / t:>9.1f} "
            f"{peak_rss_mib():>13.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
