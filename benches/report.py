#!/usr/bin/env python3
"""Prints criterion medians as Markdown tables with ratios.

Usage: benches/report.py [TARGET_DIR]   (default: target)

Reads <target>/criterion/<group>/<bench>/new/estimates.json for the groups
the asdlc benchmarks define and prints, per group, the median time of each
benchmark, its ratio to the group's baseline, and its overhead over it.
"""
import json
import os
import sys

target = sys.argv[1] if len(sys.argv) > 1 else "target"
root = os.path.join(target, "criterion")

# group -> (baseline bench, [(bench, label)])
GROUPS = {}


def median_ns(group, bench):
    path = os.path.join(root, group, bench, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except OSError:
        return None


def fmt(ns):
    if ns is None:
        return "—"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def table(group, baseline, extra_ratio=None):
    d = os.path.join(root, group)
    if not os.path.isdir(d):
        return
    benches = sorted(b for b in os.listdir(d) if os.path.isdir(os.path.join(d, b, "new")))
    base = median_ns(group, baseline) if baseline else None
    ref_name, ref = (extra_ratio, median_ns(group, extra_ratio)) if extra_ratio else (None, None)
    head = f"| {group} | median | vs {baseline} | difference |" if base else f"| {group} | median |"
    if ref is not None:
        head += f" vs {ref_name} |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for b in benches:
        m = median_ns(group, b)
        row = f"| {b} | {fmt(m)} |"
        if base:
            row += f" {m / base:.2f}× | {fmt(m - base) if b != baseline else '—'} |"
        if ref is not None:
            row += f" {m / ref:.2f}× |"
        print(row)
    print()


if not os.path.isdir(root):
    sys.exit(f"no criterion results under {root}; run `cargo bench -p asdlc-benches` first")

for group in sorted(os.listdir(root)):
    if group.startswith("function_call"):
        table(group, "plain", extra_ratio="prometheus_hand_timed")
    elif group.startswith("middleware"):
        table(group, "plain")
    elif group.startswith("query_range"):
        table(group, "direct")
    elif group.startswith("scrape_"):
        table(group, "asdlc_metrics")
    else:
        table(group, None)
