// The node side of the modules.resolve node check (node_check.cpp): one case per process, so
// no module cache carries over. Arguments: ROOT KIND PARENT SPECIFIER, where ROOT is the case's
// tree on disk (standing for /app), KIND `require` or `import`, PARENT the importing module's
// path under ROOT. It does the real require() / import() and prints one JSON line:
//   {"path": "/app/...", "format": "..."}  or  {"code": "...", "message": "..."}
// with ROOT written as /app. The format is what the loaded file saw: every JS file of the tree
// runs `globalThis.__fmt = this === undefined ? 'module' : 'commonjs'` (top-level `this` is
// undefined in an ES module, module.exports in CommonJS), every JSON file is {"__fmt":"json"},
// an addon (.node) fails in dlopen. For import cases the checker writes the parent as the
// module below (PROBE), so import() and import.meta.resolve run from the parent itself.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [root, kind, parent, given] = process.argv.slice(2);
// The table writes absolute specifiers under /app: point them at ROOT.
const specifier = given.replace(/^(file:\/\/)?\/app(?=\/|$)/,
  (_, scheme) => `${scheme ?? ''}${root}`);
const parentPath = `${root}/${parent}`;
// The program runs from /app (`cd /app && node ...`): Node's "Did you mean to import" hint
// resolves a relative specifier from the working directory, not from the importing module.
process.chdir(root);
const clean = (text) => String(text).split(root).join('/app');
const print = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);
const fail = (error) => print({ code: error.code ?? error.name, message: clean(error.message) });
const place = (where) => (where.startsWith('/') ? clean(where) : where);

if (kind === 'require') {
  const require = createRequire(parentPath);
  globalThis.__fmt = undefined;
  let format;
  try {
    const value = require(specifier);
    format = globalThis.__fmt ?? value?.__fmt;
  } catch (error) {
    if (error.code !== 'ERR_DLOPEN_FAILED') {
      fail(error);
      process.exit(0);
    }
    format = 'addon';
  }
  const where = require.resolve(specifier);
  print({ path: place(where), format: where.startsWith('/') ? format : 'builtin' });
} else {
  await import(pathToFileURL(parentPath).href);
  const probe = globalThis.__probe;
  globalThis.__fmt = undefined;
  let url;
  try {
    url = probe.resolve(specifier);
    let namespace;
    try {
      namespace = await probe.load(specifier);
    } catch (error) {
      const missing = ['ERR_IMPORT_ASSERTION_TYPE_MISSING', 'ERR_IMPORT_ATTRIBUTE_MISSING'];
      if (!missing.includes(error.code)) throw error;
      namespace = await probe.load(specifier, { with: { type: 'json' } });
    }
    const format = url.startsWith('node:') ? 'builtin'
      : globalThis.__fmt ?? namespace.default?.__fmt;
    print({ path: url.startsWith('file:') ? clean(fileURLToPath(url)) : url, format });
  } catch (error) {
    fail(error);
  }
}
