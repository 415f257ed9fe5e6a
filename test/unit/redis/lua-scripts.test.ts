/**
 * Lua lives in files (src/redis/lua/), never in TypeScript: no `.ts` file under src/ calls Redis
 * from Lua text, every script file is in the registry (src/redis/scripts.ts) under a name whose
 * key count is the registry's, and a file reads its KEYS and ARGV only in its binding lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bindingLines, checkScriptFile, declaredKeyCount, readLua } from '../../../src/redis/lua-script.js';
import { scripts } from '../../../src/redis/scripts.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SRC = join(ROOT, 'src');
const LUA = join(SRC, 'redis', 'lua');

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => join(e.parentPath, e.name));
}

const registry = Object.values(scripts);

describe('Lua scripts', () => {
  it('no TypeScript file under src/ holds Lua (a `redis.call(` or `redis.pcall(`)', () => {
    const offenders = filesUnder(SRC, '.ts').filter((f) => /redis\.p?call\s*\(/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('the scan would see one: a Lua template string is caught', () => {
    expect(/redis\.p?call\s*\(/.test("const LUA = `return redis.call('GET', KEYS[1])`;")).toBe(true);
  });

  it('every script file is in the registry once, and its name gives the registry key count', () => {
    const files = readdirSync(LUA)
      .filter((f) => f.endsWith('.lua'))
      .map((f) => f.slice(0, -'.lua'.length))
      .sort();
    expect(registry.map((s) => s.file).sort()).toEqual(files);
    for (const s of registry) {
      expect(declaredKeyCount(s.file), s.file).toBe(s.keys.length);
    }
  });

  it('every include is used, and each script reads KEYS and ARGV only in its binding lines', () => {
    const includes = readdirSync(join(LUA, 'includes')).map((f) => f.replace(/\.lua$/, ''));
    const sources = registry.map((s) => readFileSync(join(LUA, `${s.file}.lua`), 'utf8'));
    for (const name of includes) expect(sources.some((text) => text.includes(`--- @include "${name}"`)), name).toBe(true);
    for (const s of registry) {
      const bindings = new Set(bindingLines(s.keys, s.args, s.list));
      const code = s.lua.split('\n').filter((l) => !l.trim().startsWith('--') && !bindings.has(l));
      expect(code.filter((l) => /\b(KEYS|ARGV)\b/.test(l)), s.file).toEqual([]);
      expect(s.lua).not.toContain('@include');
    }
  });

  it('distinct command names, one per script', () => {
    const commands = registry.map((s) => s.command);
    expect(new Set(commands).size).toBe(commands.length);
    expect(scripts.storePut.command).toBe('rescreenStorePut');
  });

  it('a file whose name or bindings disagree with its entry is refused, naming it', () => {
    const lua = readLua('store-begin-batch-2');
    const keys = ['metaKey', 'batchesKey'] as const;
    const args = ['batch', 'manifest', 'nowMs', 'nowIso'] as const;
    expect(() => checkScriptFile('store-begin-batch-2', lua, keys, args, undefined)).not.toThrow();
    expect(() => checkScriptFile('store-begin-batch-2', lua, ['batchesKey', 'metaKey'], args, undefined)).toThrow(/store-begin-batch-2\.lua must start/);
    expect(() => checkScriptFile('store-begin-batch-2', lua, keys, ['batch', 'manifest', 'nowIso', 'nowMs'], undefined)).toThrow(/bindings/);
    expect(() => checkScriptFile('store-begin-batch-3', lua, keys, args, undefined)).toThrow(/name says 3 keys, the registry 2/);
    expect(() => checkScriptFile('store-begin-batch-2', lua, keys, args, 'extra')).toThrow(/bindings/);
    expect(() => checkScriptFile('store-begin-batch-2', lua, keys, ['batch', 'metaKey'], undefined)).toThrow(/given twice/);
  });

  it('a trailing list binds after the named arguments, or is ARGV itself', () => {
    expect(bindingLines(['k'], ['a', 'b'], 'rest')).toEqual(['local k = unpack(KEYS)', 'local a, b = unpack(ARGV)', 'local rest = { unpack(ARGV, 3) }']);
    expect(bindingLines(['k'], [], 'rest')).toEqual(['local k = unpack(KEYS)', 'local rest = ARGV']);
  });
});
