// Piscina runs the tasks a file exports: the twin writes one (burn, the spin the other twins'
// workers run) into a fresh temporary folder, removed when the process exits.
const PISCINA_TASK_FILE = (() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelab-piscina-'));
  const file = path.join(dir, 'task.js');
  fs.writeFileSync(file, `const burn = ${burn};\nmodule.exports = ({ ms }) => { burn(ms); };\n`);
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return file;
})();
