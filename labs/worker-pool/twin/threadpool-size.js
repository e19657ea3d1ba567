// UV_THREADPOOL_SIZE as libuv reads it: atoi, 0 -> 1, above 1024 (or negative) -> 1024.
const threadpoolSize = () => {
  const v = process.env.UV_THREADPOOL_SIZE;
  if (v === undefined) return 4;
  const n = parseInt(v, 10) || 0;
  return n === 0 ? 1 : n < 0 || n > 1024 ? 1024 : n;
};
