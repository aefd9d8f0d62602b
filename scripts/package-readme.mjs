// The README the .vsix ships: the repository's README with its images inlined as data: URLs. The
// extension page cannot load relative images (vsce can only rewrite them against a repository URL,
// and Gradscope names none), and it allows data: images.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const text = readFileSync(join(root, 'README.md'), 'utf8');
const out = text.replace(/!\[([^\]]*)\]\((docs\/[^)\s]+\.png)\)/g, (_, alt, path) => `![${alt}](data:image/png;base64,${readFileSync(join(root, path)).toString('base64')})`);
// A link to another file of the repository leads nowhere from the extension page: its text stays.
const page = out.replace(/\[([^\]]+)\]\(CONTRIBUTING\.md(#[\w-]+)?\)/g, (_, text) => (text === 'CONTRIBUTING.md' ? 'CONTRIBUTING.md in the source' : `${text} (CONTRIBUTING.md in the source)`));
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', 'README.package.md'), page);
