// Builds the designer workbench's editors into app/web/ui/static/vendor from the pinned package-lock.json:
//   cd frontend && npm ci && npm run build
// The output is committed (make run needs no Node.js); BUILD.json records the lock's hash and every file's
// hash, and tests/ui/test_frontend_build.py checks that the committed files are what this build makes.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// CONCORD_VENDOR_OUT: build elsewhere (the test that checks the committed build against the lock does).
const out = process.env.CONCORD_VENDOR_OUT || join(here, '..', 'app', 'web', 'ui', 'static', 'vendor');
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(here, 'src', 'workbench.js')],
  outfile: join(out, 'concord-workbench.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'none', // the licence texts are in LICENSES/, one file a package
  logLevel: 'warning',
});

// Stylesheets and icon fonts, as the packages ship them.
cpSync(join(here, 'node_modules', 'bpmn-js', 'dist', 'assets'), join(out, 'bpmn-js'), { recursive: true });
cpSync(join(here, 'node_modules', 'dmn-js', 'dist', 'assets'), join(out, 'dmn-js'), { recursive: true });

// Every package that ends up in the bundle (the lock's non-development packages) with its licence text.
const lock = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8'));
const licences = join(out, 'LICENSES');
mkdirSync(licences);
const shipped = {};
for (const [path, info] of Object.entries(lock.packages)) {
  if (!path || info.dev) continue;
  const name = path.replace(/^.*node_modules\//, '');
  const folder = join(here, path);
  const file = readdirSync(folder).find((entry) => /^(licen[cs]e|copying)(\.|$)/i.test(entry));
  const meta = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
  const component = join(folder, 'component.json'); // older packages state their licence only there
  if (!meta.license && existsSync(component)) meta.license = JSON.parse(readFileSync(component, 'utf8')).license;
  if (!file && !meta.license) throw new Error(`${name} declares no licence; decide before bundling it`);
  const text = file ? readFileSync(join(folder, file), 'utf8')
    : `The package ships no licence text; its package declares "${meta.license}".\n` +
      `Author: ${JSON.stringify(meta.author || '')}; repository: ${JSON.stringify(meta.repository || '')}\n`;
  writeFileSync(join(licences, `${name.replace('/', '__')}.txt`), `${name} ${info.version} (${meta.license})\n\n${text}`);
  shipped[name] = info.version;
}

const files = {};
const walk = (folder) => {
  for (const entry of readdirSync(folder).sort()) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) walk(path);
    else files[relative(out, path).split('\\').join('/')] = sha256(readFileSync(path));
  }
};
walk(out);
const manifest = { lock_sha256: sha256(readFileSync(join(here, 'package-lock.json'))), packages: shipped, files };
writeFileSync(join(out, 'BUILD.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`built ${Object.keys(files).length} files, ${Object.keys(shipped).length} packages, into ${relative(join(here, '..'), out)}`);
if (!existsSync(join(out, 'concord-workbench.js'))) process.exit(1);
