#!/usr/bin/env node
// TSDoc coverage of the public API: every symbol exported from the package's entry points (lib/index.ts and
// lib/onnx/index.ts, namespaces included) and every member of an exported interface, object type or class has a
// doc comment. Members marked @internal are not public and are skipped. Uses the TypeScript compiler API over the
// sources (no build needed).
//
//   node scripts/tsdoc-coverage.js           lists what lacks a comment; exit 1 if anything does
//   node scripts/tsdoc-coverage.js --json    { documented, total, missing: [...] }
//   --entry FILE (repeatable)                check these entry points instead (the test's fixtures)
'use strict';
const path = require('path');
const ts = require('typescript');

const root = path.join(__dirname, '..');
const given = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--entry' ? [path.resolve(a)] : []));
const ENTRIES = given.length
  ? given.map((file) => ({ file, prefix: '' }))
  : [
      { file: path.join(root, 'lib', 'index.ts'), prefix: '' },
      { file: path.join(root, 'lib', 'onnx', 'index.ts'), prefix: 'onnx:' },
    ];

function compilerOptions() {
  const cfg = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
  if (cfg.error) throw new Error(ts.flattenDiagnosticMessageText(cfg.error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(cfg.config, ts.sys, root).options;
}

function jsDocs(node) {
  // JSDoc of a declaration; for a variable, the comment sits on its statement.
  const own = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  return own;
}

function docText(node) {
  return jsDocs(node)
    .map((d) => {
      const c = typeof d.comment === 'string' ? d.comment : (d.comment || []).map((p) => p.text || '').join('');
      const tags = (d.tags || []).filter((t) => t.tagName.text !== 'internal');
      return c.trim() + (tags.length ? ' @' + tags.map((t) => t.tagName.text).join(' @') : '');
    })
    .join(' ')
    .trim();
}

function isInternal(node) {
  return jsDocs(node).some((d) => (d.tags || []).some((t) => t.tagName.text === 'internal'));
}

function isPrivate(node) {
  const mods = ts.canHaveModifiers(node) ? ts.getModifiers(node) || [] : [];
  return (
    mods.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword) ||
    (node.name && ts.isPrivateIdentifier(node.name))
  );
}

function run() {
  const program = ts.createProgram(ENTRIES.map((e) => e.file), compilerOptions());
  const checker = program.getTypeChecker();
  const rows = []; // { name, documented }
  const seen = new Set();

  function record(name, decls) {
    const live = decls.filter((d) => !isInternal(d));
    if (live.length === 0) return; // @internal everywhere
    rows.push({ name, documented: live.some((d) => docText(d) !== '') });
  }

  function members(ownerName, memberNodes) {
    for (const m of memberNodes) {
      if (isPrivate(m) || isInternal(m)) continue;
      if (ts.isIndexSignatureDeclaration(m) || ts.isClassStaticBlockDeclaration?.(m)) continue;
      let name;
      if (ts.isConstructorDeclaration(m)) name = 'constructor';
      else if (m.name) name = m.name.getText();
      else if (ts.isCallSignatureDeclaration(m)) name = '(call)';
      else continue;
      record(`${ownerName}.${name}`, [m]);
    }
  }

  function typeLiterals(t) {
    // object-type literals inside a type alias (also in intersections / unions)
    if (!t) return [];
    if (ts.isTypeLiteralNode(t)) return [t];
    if (ts.isIntersectionTypeNode(t) || ts.isUnionTypeNode(t)) return t.types.flatMap(typeLiterals);
    if (ts.isParenthesizedTypeNode(t)) return typeLiterals(t.type);
    return [];
  }

  function visitSymbol(exported, name) {
    let s = exported;
    if (s.flags & ts.SymbolFlags.Alias) s = checker.getAliasedSymbol(s);
    const decls = s.declarations || [];
    const key = decls.map((d) => `${d.getSourceFile().fileName}:${d.pos}`).join('|');
    if (s.flags & ts.SymbolFlags.ValueModule && decls.some((d) => ts.isSourceFile(d))) {
      // `export * as ns from './x'`: the namespace is documented by its @packageDocumentation; visit its exports
      const file = decls.find((d) => ts.isSourceFile(d));
      const pkgDoc = file.statements.length && /@packageDocumentation/.test(file.getFullText().slice(0, file.statements[0].getStart()));
      rows.push({ name: `${name} (namespace)`, documented: !!pkgDoc });
      for (const e of checker.getExportsOfModule(s)) visitSymbol(e, `${name}.${e.name}`);
      return;
    }
    if (seen.has(`${name}|${key}`)) return;
    seen.add(`${name}|${key}`);
    record(name, decls);
    for (const d of decls) {
      if (isInternal(d)) continue;
      if (ts.isInterfaceDeclaration(d) || ts.isClassDeclaration(d)) members(name, d.members);
      else if (ts.isTypeAliasDeclaration(d)) for (const lit of typeLiterals(d.type)) members(name, lit.members);
    }
  }

  for (const entry of ENTRIES) {
    const sf = program.getSourceFile(entry.file);
    const mod = checker.getSymbolAtLocation(sf);
    for (const e of checker.getExportsOfModule(mod)) visitSymbol(e, `${entry.prefix}${e.name}`);
  }
  return rows;
}

const rows = run();
const missing = rows.filter((r) => !r.documented).map((r) => r.name);
const out = { documented: rows.length - missing.length, total: rows.length, missing };
if (process.argv.includes('--json')) {
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
} else {
  process.stdout.write(`TSDoc coverage: ${out.documented} of ${out.total} public symbols and members documented\n`);
  for (const m of missing) process.stdout.write(`  missing: ${m}\n`);
}
process.exitCode = missing.length ? 1 : 0;
