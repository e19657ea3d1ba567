// A bounded pool: Piscina 5's scheduling (dist/index.js), reduced to what the lab models.
class Pool {
  constructor(o) {
    Object.assign(this, o);
    this.pending = []; this.ready = []; this.taskQueue = []; this.skipQueue = []; this.started = 0;
    this.startingUp = true;
    while (this.size() < this.minThreads) this.addNewWorker();
    this.startingUp = false;
  }
  size() { return this.pending.length + this.ready.length; }
  addNewWorker() {
    const w = { number: ++this.started, ready: false, tasks: [], idle: null, terminating: false, destroyed: false };
    w.worker = new Worker(WORKER_SOURCE, { eval: true });
    w.worker.on('message', (m) => (m.ready ? this.onReadyMessage(w) : this.onResponse(w, m.id)));
    w.worker.on('exit', () => this.onExit(w));
    if (this.startingUp) {
      w.ready = true;
      queueMicrotask(() => this.onWorkerAvailable(w));
      this.ready.push(w);
    } else {
      this.pending.push(w);
    }
  }
  // A terminated worker's ready message still comes (Node drains it before 'exit'): Piscina
  // marks the worker ready all the same, and the pool hands out queued work.
  onReadyMessage(w) {
    if (this.usage(w) === 0 && !w.destroyed) w.worker.unref();
    if (!w.ready) this.markReady(w);
  }
  onExit(w) {
    this.removeWorker(w);
    if (w.ready && !this.failsDuringBootstrap) { while (this.size() < this.minThreads) this.addNewWorker(); }
    else this.failsDuringBootstrap = true;
  }
  markReady(w) {
    w.ready = true;
    this.onWorkerAvailable(w);
    const i = this.pending.indexOf(w);
    if (i >= 0) { this.pending.splice(i, 1); this.ready.push(w); }
  }
  allWorkers() { return [...this.pending, ...this.ready]; }
  runningAbortable(w) { return w.tasks.length === 1 && w.tasks[0].abortable; }
  usage(w) { return this.runningAbortable(w) ? Infinity : w.tasks.length; }
  pendingCapacity() { return this.pending.length * this.concurrentTasksPerWorker; }
  postTask(w, t) {
    w.worker.postMessage({ id: t.id, ms: t.ms });
    this.clearIdle(w);
    t.worker = w;
    w.tasks.push(t);
    w.worker.ref();
  }
  onResponse(w, id) {
    if (w.destroyed) return;
    const i = w.tasks.findIndex((t) => t.id === id);
    const t = i >= 0 ? w.tasks.splice(i, 1)[0] : null;
    this.onWorkerAvailable(w);
    if (t) this.done(t, null);
    if (w.tasks.length === 0 && !w.destroyed) w.worker.unref();
  }
  destroy(w) {
    if (w.terminating || w.destroyed) return;
    w.terminating = true;
    this.clearIdle(w);
    w.worker.terminate();
    w.worker.ref(); // until it exits
    const tasks = w.tasks; w.tasks = [];
    for (const t of tasks) this.done(t, 'Terminating worker thread');
    w.terminating = false; w.destroyed = true;
  }
  removeWorker(w) {
    this.destroy(w);
    this.pending = this.pending.filter((x) => x !== w);
    this.ready = this.ready.filter((x) => x !== w);
  }
  setIdle(w) {
    this.clearIdle(w);
    w.idle = setTimeout(() => {
      w.idle = null;
      if (this.usage(w) !== 0 || this.size() <= this.minThreads) return;
      this.removeWorker(w);
    }, Math.max(1, this.idleTimeout));
    w.idle.unref();
  }
  clearIdle(w) { if (w.idle) { clearTimeout(w.idle); w.idle = null; } }
  // TaskInfo.done: the promise, and the abort listener removed.
  done(t, error) { t.listening = false; this.settle(t, error); }
  settle(t, error) {
    if (t.settled) return;
    t.settled = true;
    if (!error) t.resolve();
    else if (error === 'AbortError') t.reject(Object.assign(new Error('The task has been aborted'), { name: 'AbortError' }));
    else t.reject(new Error(error));
  }
  distribute(t, workers) {
    if (t.aborted) return true;
    let candidate = null, checkpoint = this.concurrentTasksPerWorker;
    for (const w of workers) {
      const u = this.usage(w);
      if (u === 0) { candidate = w; break; }
      if (this.runningAbortable(w)) continue;
      if (!t.abortable && u < checkpoint) { candidate = w; checkpoint = u; }
    }
    if (candidate) { this.postTask(candidate, t); return true; }
    const q = t.abortable ? this.skipQueue : this.taskQueue;
    if (this.stricterFifo) q.unshift(t); else q.push(t);
    return false;
  }
  onWorkerAvailable(w) {
    let workers = null;
    while (this.taskQueue.length || this.skipQueue.length) {
      const t = (this.skipQueue.length ? this.skipQueue : this.taskQueue).shift();
      if (!workers) workers = this.allWorkers();
      if (this.distribute(t, workers)) continue;
      if (this.size() < this.maxThreads) { this.addNewWorker(); continue; }
      break;
    }
    if (this.idleTimeout === Infinity) return;
    if (!w.destroyed && this.usage(w) === 0 && this.size() > this.minThreads) this.setIdle(w);
  }
  run(t) {
    return new Promise((resolve, reject) => {
      t.resolve = resolve; t.reject = reject; t.listening = !!t.signal;
      if (t.signal) t.signal.addEventListener('abort', () => this.abort(t), { once: true });
      // A rejection here settles the promise only: the abort listener stays.
      if (this.taskQueue.length) {
        if (this.taskQueue.length >= this.maxQueue + this.pendingCapacity()) {
          this.settle(t, this.maxQueue === 0 ? 'No task queue available and all Workers are busy' : 'Task queue is at limit');
        } else {
          this.taskQueue.push(t);
          if (this.size() < this.maxThreads) this.addNewWorker();
        }
        return;
      }
      if (!this.distribute(t, this.ready)) {
        if (this.size() < this.maxThreads) this.addNewWorker();
        if (this.maxQueue <= 0 && this.pendingCapacity() === 0) this.settle(t, 'No task queue available and all Workers are busy');
      }
    });
  }
  abort(t) {
    if (!t.listening) return;
    t.listening = false;
    t.aborted = true;
    this.settle(t, 'AbortError');
    if (t.worker) {
      const w = t.worker;
      this.removeWorker(w);
      console.log(`worker ${w.number} terminated: it was running task ${t.id}, which cannot be stopped in place`);
      while (this.size() < this.minThreads) this.addNewWorker();
    } else {
      this.taskQueue = this.taskQueue.filter((x) => x !== t);
      this.skipQueue = this.skipQueue.filter((x) => x !== t);
    }
  }
}
