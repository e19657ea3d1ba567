#!/usr/bin/env python3
"""Differential test of lab-streams' stream model against real Node: random micro-scenarios
(writables, readables, transforms, pipe, pipeline, with random highWaterMarks and completion
timings), each run with `--logs-only` and as its `--emit-node` twin on node; any difference in
the printed lines or the exit code is a bug in the model (Node is right).

  labs/streams/tests/node_differential.py build/bin/lab-streams [SEED] [COUNT]

Not registered with CTest (it needs node and takes a while); 260 scenarios (seeds 7 and 12345)
matched Node 20.20.2 when it was written; with writev, cork/uncork and failing writes added to
the writable scenarios, 400 more on 2026-11-26 (seeds 1 and 2, 100 each; seeds 3 and 4 with
only writable scenarios, 100 each). With `forAwait` (fa) and stream/promises pipelines with an
AbortSignal (pp), 310 more on 2026-12-07 (NODELAB_DIFF_KINDS=fa,pp seeds 1 and 2, 60 and 150;
fa seed 3, 100) and 100 of every kind (seed 4).
"""
import os, random, subprocess, sys, tempfile

modes = ['sync', 'nextTick', 'immediate']
# The kinds of micro-scenario; NODELAB_DIFF_KINDS=fa,pp picks some (fa: for await, pp:
# stream/promises pipeline with an AbortSignal).
KINDS = os.environ.get('NODELAB_DIFF_KINDS', 'w,pipe,pipeline,t,r,fa,pp').split(',')

def scenario(rng):
  random = rng
  for _ in [0]:
    hw=random.choice([1,4,8,10,16,0,33])
    L=['lab: streams','main:']
    kind=random.choice(KINDS)
    cm=random.choice(modes)
    if kind=='w':
        wv=random.choice(['true','false'])
        fa=random.choice([0,0,0,2,3])
        L.append(f"  - writable: {{ name: w, highWaterMark: {hw}, complete: {cm}, writev: {wv}, log_writes: true, fail_at: {fa} }}")
        L.append("  - on: { stream: w, event: drain, log: drain, then: [ { inspect: { stream: w } } ] }")
        L.append("  - on: { stream: w, event: finish, log: finish }")
        L.append("  - on: { stream: w, event: close, log: close }")
        L.append("  - on: { stream: w, event: error, log: werr }")
        for i in range(random.randint(1,8)):
            r=random.random()
            if r<0.15: L.append("  - cork: { stream: w }")
            elif r<0.3: L.append("  - uncork: { stream: w }")
            elif r<0.35: L.append("  - setImmediate: { then: [ { uncork: { stream: w } }, { inspect: { stream: w } } ] }")
            L.append(f"  - write: {{ stream: w, bytes: {random.choice([1,3,4,9,20])} }}")
        if random.random()<0.5: L.append("  - end: { stream: w }")
        L.append("  - setImmediate: { then: [ { inspect: { stream: w } } ] }")
    elif kind in ('pipe','pipeline'):
        n=random.randint(1,12); ch=random.choice([1,4,7])
        L.append(f"  - readable: {{ name: src, highWaterMark: {random.choice([4,16,100])}, chunk: {ch}, chunks: {n}, push: {random.choice(modes)} }}")
        mid = random.random()<0.5
        if mid:
            L.append(f"  - transform: {{ name: mid, highWaterMark: {random.choice([2,8,16])}, complete: {random.choice(modes)} }}")
        fa=random.choice([0,0,2,5])
        L.append(f"  - writable: {{ name: dst, highWaterMark: {hw or 1}, complete: {cm}, fail_at: {fa} }}")
        L.append("  - on: { stream: dst, event: finish, log: finish }")
        L.append("  - on: { stream: dst, event: error, log: dsterr }")
        L.append("  - on: { stream: src, event: end, log: srcend }")
        L.append("  - on: { stream: src, event: pause, log: pause }")
        L.append("  - on: { stream: dst, event: drain, log: drain }")
        if kind=='pipe':
            if mid:
                L.append("  - on: { stream: mid, event: error, log: miderr }")
                L.append("  - pipe: { from: src, to: mid }"); L.append("  - pipe: { from: mid, to: dst }")
            else: L.append("  - pipe: { from: src, to: dst }")
        else:
            st='[src, mid, dst]' if mid else '[src, dst]'
            L.append(f"  - pipeline: {{ streams: {st}, then: [ {{ inspect: {{ stream: src }} }}, {{ inspect: {{ stream: dst }} }} ] }}")
    elif kind=='t':
        L.append(f"  - transform: {{ name: t, highWaterMark: {hw}, complete: {cm} }}")
        L.append("  - on: { stream: t, event: drain, log: drain }")
        if random.random()<0.5: L.append("  - on: { stream: t, event: data, log: data }")
        for i in range(random.randint(1,6)):
            L.append(f"  - write: {{ stream: t, bytes: {random.choice([1,4,9])} }}")
        L.append("  - setImmediate: { then: [ { inspect: { stream: t } }, { read: { stream: t } }, { inspect: { stream: t } } ] }")
    elif kind=='fa':
        # for await: a body that may await a timer (not with immediate pushes: a 1 ms timer
        # against setImmediate is a race), break, throw, destroy or read; a competing promise
        # chain checks the microtask hops.
        obj=random.choice(['true','false'])
        ba=random.choice([0,0,1,2,3])
        n=random.choice([0,1,3,6]) if ba==0 else random.choice([-1,2,5])
        pm=random.choice(modes)
        L.append(f"  - readable: {{ name: r, highWaterMark: {random.choice([1,2,4,8])}, objectMode: {obj}, chunk: 3, chunks: {n}, push: {pm}, log_reads: true }}")
        L.append("  - on: { stream: r, event: end, log: end }")
        L.append("  - on: { stream: r, event: close, log: close }")
        L.append("  - on: { stream: r, event: error, log: rerr }")
        f=[f"stream: r, break_after: {ba}, destroyOnReturn: {random.choice(['true','true','false'])}"]
        if pm!='immediate' and random.random()<0.6: f.append(f"body_ms: {random.choice([0,1])}")
        d=random.random()
        if d<0.15: f.append("do: [ { throw: boom } ]")
        elif d<0.3: f.append("do: [ { destroy: { stream: r, error: bad } } ]")
        elif d<0.45: f.append("do: [ { read: { stream: r } } ]")
        f.append("then: [ { inspect: { stream: r } } ]")
        if random.random()<0.5: L.append("  - recurse: { via: promise, times: 5, then: [ { log: chain } ] }")
        L.append("  - forAwait: { " + ", ".join(f) + " }")
        if random.random()<0.5: L.append("  - promise: { then: [ { log: p1 }, { promise: { then: [ { log: p2 } ] } } ] }")
    elif kind=='pp':
        # stream/promises pipeline with a signal, aborted at a 'data' event of the source (or
        # not at all), or at its end.
        n=random.randint(1,10)
        L.append(f"  - readable: {{ name: src, highWaterMark: {random.choice([4,16])}, chunk: 4, chunks: {n}, push: {random.choice(modes)} }}")
        mid = random.random()<0.5
        if mid: L.append(f"  - transform: {{ name: mid, highWaterMark: {random.choice([2,8])}, complete: {random.choice(modes)} }}")
        fa=random.choice([0,0,2])
        L.append(f"  - writable: {{ name: dst, highWaterMark: {hw or 1}, complete: {cm}, fail_at: {fa} }}")
        for st in (['src','mid','dst'] if mid else ['src','dst']):
            L.append(f"  - on: {{ stream: {st}, event: error, log: {st}err }}")
            L.append(f"  - on: {{ stream: {st}, event: close, log: {st}close }}")
        st='[src, mid, dst]' if mid else '[src, dst]'
        L.append(f"  - pipeline: {{ streams: {st}, promise: true, signal: ac, then: [ {{ inspect: {{ stream: dst }} }} ] }}")
        a=random.random()
        if a<0.4: L.append("  - once: { stream: src, event: data, log: data, then: [ { abort: { signal: ac } } ] }")
        elif a<0.6: L.append("  - on: { stream: src, event: end, log: end, then: [ { abort: { signal: ac } } ] }")
        elif a<0.7: L.append("  - abort: { signal: ac }")
    else:
        L.append(f"  - readable: {{ name: r, highWaterMark: {hw}, chunk: 3, chunks: {random.randint(0,6)}, push: {cm}, log_reads: true }}")
        c=random.choice(['data','readable','read','pause'])
        if c=='data': L.append("  - on: { stream: r, event: data, log: data }")
        elif c=='readable': L.append("  - on: { stream: r, event: readable, log: readable, then: [ { read: { stream: r } } ] }")
        elif c=='read': L.append("  - read: { stream: r, size: 2 }"); L.append("  - setImmediate: { then: [ { read: { stream: r } } ] }")
        else: L.append("  - pause: { stream: r }"); L.append("  - on: { stream: r, event: data, log: data }"); L.append("  - setImmediate: { then: [ { resume: { stream: r } } ] }")
        L.append("  - on: { stream: r, event: end, log: end }")
        L.append("  - on: { stream: r, event: close, log: close }")
    L.append("expect:\n  metrics: { write.calls: { gte: 0 } }")
    return "\n".join(L) + "\n"


def main():
    lab = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    rng = random.Random(seed)
    bad = 0
    with tempfile.TemporaryDirectory() as d:
        for k in range(count):
            path = os.path.join(d, f"s{k:04d}.yaml")
            with open(path, "w") as f:
                f.write(scenario(rng))
            twin = subprocess.run([lab, path, "--emit-node"], capture_output=True, text=True).stdout
            js = path + ".js"
            with open(js, "w") as f:
                f.write(twin)
            n = subprocess.run(["node", js], capture_output=True, text=True, timeout=60)
            l = subprocess.run([lab, path, "--logs-only"], capture_output=True, text=True, timeout=60)
            if n.stdout != l.stdout or n.returncode != l.returncode:
                bad += 1
                print(f"MISMATCH (seed {seed}, #{k}):\n{open(path).read()}--- node (exit {n.returncode})\n"
                      f"{n.stdout}--- lab (exit {l.returncode})\n{l.stdout}")
    print(f"{count - bad}/{count} scenarios print the same on node and the lab")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
