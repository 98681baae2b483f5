// The Neovim snippet of docs/editor.md, as written there, in a headless
// Neovim (the Debian package `neovim`, which .ci/run installs): opening a
// .sensei file starts `sensei lsp` and attaches it, the file gets the
// server's diagnostics, and a second file attaches to the same server.
import test from 'ava';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, tempFiles } from '../lsp/client.ts';

/** The ```lua block after "For Neovim" in docs/editor.md. */
async function snippet(): Promise<string> {
  const doc = await readFile(join(ROOT, 'docs/editor.md'), 'utf8');
  const block = doc.slice(doc.indexOf('For Neovim')).match(/```lua\n([\s\S]*?)```/);
  if (!block) throw new Error('docs/editor.md has no Neovim snippet');
  return block[1]!;
}

/** Runs in Neovim after the first file is open: waits for diagnostics, opens the second file, writes what it saw as JSON. */
const CHECK = `
local function seen()
  vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 50)
  local clients = {}
  local list = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = 0 }) or vim.lsp.buf_get_clients(0)
  for _, c in pairs(list) do table.insert(clients, { name = c.name, id = c.id }) end
  local diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do table.insert(diagnostics, { code = d.code, line = d.lnum }) end
  return { filetype = vim.bo.filetype, clients = clients, diagnostics = diagnostics }
end
local first = seen()
vim.cmd('edit second.sensei')
local second = seen()
local f = io.open(os.getenv('SENSEI_NVIM_RESULT'), 'w')
f:write(vim.fn.json_encode({ first = first, second = second }))
f:close()
vim.cmd('qa!')
`;

interface Seen {
  filetype: string;
  clients: { name: string; id: number }[];
  diagnostics: { code: string; line: number }[];
}

test('the Neovim snippet of docs/editor.md attaches the server and shows its diagnostics', async (t) => {
  const dir = await tempFiles({
    'init.lua': await snippet(),
    'check.lua': CHECK,
    'first.sensei': 'pipeline first\nschema A { id: string }\nsource a: A from datagen {}\nstream s = a | where idd != ""\nsink s to stdout {}\n',
    'second.sensei': 'pipeline second\nstream t = nowhere\n',
  });
  // `sensei` on the PATH, as an installed CLI would be: this checkout's.
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'bin/sensei'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/sensei.js')}" "$@"\n`);
  await chmod(join(dir, 'bin/sensei'), 0o755);
  const result = join(dir, 'result.json');
  const xdg = Object.fromEntries(['CONFIG', 'DATA', 'STATE', 'CACHE'].map((k) => [`XDG_${k}_HOME`, join(dir, k.toLowerCase())]));
  try {
    await promisify(execFile)('nvim', ['--headless', '--noplugin', '-i', 'NONE', '-u', 'init.lua', 'first.sensei', '-c', 'luafile check.lua'], {
      cwd: dir,
      timeout: 90_000,
      env: { ...process.env, ...xdg, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, SENSEI_NVIM_RESULT: result },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') t.fail('nvim is not installed: .ci/run installs the Debian package neovim');
    throw error;
  }
  const { first, second } = JSON.parse(await readFile(result, 'utf8')) as { first: Seen; second: Seen };
  t.is(first.filetype, 'sensei');
  t.deepEqual(first.clients.map((c) => c.name), ['sensei']);
  t.deepEqual(first.diagnostics, [{ code: 'unknown-field', line: 3 }]);
  t.is(second.filetype, 'sensei');
  t.deepEqual(second.clients, first.clients, 'the second file attaches to the same server');
  t.true(second.diagnostics.some((d) => d.code === 'unknown-name' && d.line === 1));
});
