"""Residents' phones flooding the public status page, for bench/city.py: open loop (a request
starts on time whether or not the last was answered, as many phones do), from many loopback
addresses of their own, the rate ramping from 0 to a peak and held.

    python bench/flood.py --port EDGE --peak 400 --ramp 30 --hold 30 --addresses 200 --json out

Each request is a new connection from its phone's address (127.1.x.y), ``GET /status/``; one
request in ``--script-share`` comes instead from one of ``--scripts`` addresses (127.2.0.x): a
script reloading the page far beyond a person's rate, which the edge's per-address limit cuts.
Written: the statuses counted (0: no answer within 10 s), how many 429/503 carried the edge's
page, and the rate achieved per second. Runs in its own process so that its CPU is not the
measuring process's; bench/city.py starts it under SCHED_IDLE, as phones are other machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter

EDGE_PAGE = "查询的人太多了".encode()


async def one(port: int, address: str, counts: Counter[int], pages: list[int]) -> None:
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0)), 10
        )
    except (OSError, TimeoutError):
        counts[0] += 1
        return
    try:
        writer.write(b"GET /status/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 10)
        status = int(data[9:12]) if data.startswith(b"HTTP/1.") else 0
        counts[status] += 1
        if status in {429, 503} and EDGE_PAGE in data:
            pages[0] += 1
    except (OSError, TimeoutError, ValueError):
        counts[0] += 1
    finally:
        writer.close()


async def flood(args: argparse.Namespace) -> dict[str, object]:
    counts: Counter[int] = Counter()
    pages = [0]
    started = time.monotonic()
    total = args.ramp + args.hold
    tasks: set[asyncio.Task[None]] = set()
    sent = 0
    per_second: Counter[int] = Counter()
    while (now := time.monotonic() - started) < total:
        rate = args.peak * min(1.0, now / args.ramp) if args.ramp else args.peak
        # Requests due by now under the ramp: the integral of the rate.
        due = (
            args.peak * (min(now, args.ramp) ** 2) / (2 * args.ramp) if args.ramp else 0.0
        ) + args.peak * max(0.0, now - args.ramp)
        while sent < due and len(tasks) < args.in_flight:
            n = sent % args.addresses
            address = f"127.1.{n // 254 + 1}.{n % 254 + 1}"
            if args.scripts and sent % round(1 / args.script_share) == 0:
                address = f"127.2.0.{sent // round(1 / args.script_share) % args.scripts + 1}"
            task = asyncio.create_task(one(args.port, address, counts, pages))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
            per_second[int(now)] += 1
        await asyncio.sleep(0.005 if rate else 0.05)
    if tasks:
        await asyncio.wait(tasks, timeout=15)
    return {
        "sent": sent,
        "statuses": {str(k): v for k, v in sorted(counts.items())},
        "edge_pages": pages[0],
        "peak_rate_achieved": max(per_second.values()) if per_second else 0,
        "seconds": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--peak", type=float, default=400)
    parser.add_argument("--ramp", type=float, default=30)
    parser.add_argument("--hold", type=float, default=30)
    parser.add_argument("--addresses", type=int, default=200)
    parser.add_argument("--scripts", type=int, default=5)
    parser.add_argument("--script-share", type=float, default=0.1)
    parser.add_argument("--in-flight", type=int, default=2000)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    result = asyncio.run(flood(args))
    with open(args.json, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
