"""The soak's printed table: requests per door and status class, fires, resident memory, samples."""

from __future__ import annotations

from typing import Any

CLASSES = ("2xx", "3xx", "4xx", "5xx", "transport error")


def _mib(kib: int) -> str:
    return f"{kib / 1024:7.1f} MiB"


def print_report(result: dict[str, Any]) -> None:
    traffic, fires, rss, window = result["traffic"], result["fires"], result["rss_kib"], result["window"]
    seconds = max(1.0, window["traffic_stopped"] - window["started"])
    print()
    print(f"soak on {result['backend']}: {window['minutes']:g} min window after {window['warmup_seconds']:.0f} s "
          f"warm-up, {result['clients_per_door']} clients per door, scheduler in {result['scheduler_host']}")
    print()
    print(f"{'door':9} {'requests':>9} {'req/s':>7} " + " ".join(f"{c:>6}" for c in CLASSES[:4])
          + f" {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for door in ("flask", "fastapi"):
        figures = traffic.get(door)
        if figures is None:
            print(f"{door:9} {'(no requests)':>9}")
            continue
        by_class = figures["by_class"]
        latency = figures["latency_ms"]
        print(f"{door:9} {figures['requests']:9d} {figures['requests'] / seconds:7.1f} "
              + " ".join(f"{by_class.get(c, 0):6d}" for c in CLASSES[:4])
              + f" {by_class.get('transport error', 0):6d} {latency['p50'] or 0:7.1f} {latency['p95'] or 0:7.1f}"
              f" {latency['p99'] or 0:7.1f}")
        if figures["wrong_door"]:
            print(f"  {figures['wrong_door']} responses did not come from the {door} door")
    warmup = result["warmup_traffic"]
    print("warm-up (not counted above): " + ", ".join(
        f"{door} {warmup[door]['requests']} requests {warmup[door]['by_class']}" for door in ("flask", "fastapi")
        if door in warmup))
    for title, key in (("5xx / transport errors", "server_errors"), ("unexpected statuses", "unexpected")):
        samples = traffic.get(key) or []
        if samples:
            print(f"\n{title} (sample of {len(samples)}):")
            for sample in samples:
                print(f"  {sample['door']:8} {sample['method']:6} {sample['path'][:60]:60} "
                      f"{sample['status']} request_id={sample['request_id']} "
                      f"{(sample.get('body') or sample.get('error') or '')[:160]!r}")
    print()
    print(f"fires over {window['covered_minutes']} whole minutes: expected {fires['expected']}, "
          f"arrived {fires['arrived']} ({fires['distinct']} distinct), lost {fires['lost']}, "
          f"duplicates {fires['duplicates']}, unmatched {fires['unmatched_arrivals']}, stray {fires['stray_arrivals']}")
    print(f"  late (over a minute after the scheduled minute) {fires['late']}; "
          f"waited {window['settle_seconds']:.0f} s after the traffic for the covered runs to finish")
    print(f"  execution rows {fires['db_rows']} ({fires['db_distinct']} distinct, missing {fires['db_lost']}) "
          f"by status {fires['db_by_status']}")
    print(f"  arrival after the scheduled minute: p50 {fires['lag_p50_s']} s, p99 {fires['lag_p99_s']} s, "
          f"max {fires['lag_max_s']} s; "
          f"per minute {fires['per_minute']}")
    print()
    print(f"{'process':9} {'RSS start':>12} {'RSS end':>12} {'growth':>8}  pids")
    for kind in ("flask", "fastapi", "nginx"):
        start, end = rss["start"][kind], rss["end"][kind]
        print(f"{kind:9} {_mib(start['total_kib']):>12} {_mib(end['total_kib']):>12} "
              f"{rss['growth_percent'][kind]:7.1f}%  {list(start['pids'])}")
    findings = result["log_findings"]
    print(f"\ndeployment log {result['log']}: " + ", ".join(f"{k} {v}" for k, v in findings.items())
          + f"; serve exit status {result['serve_exit_status']}")
    print()
