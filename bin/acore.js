#!/usr/bin/env node
'use strict';
// Thin launcher: everything lives in the bundled CLI, which never throws for a user mistake.
// CommonJS (bin/package.json): an ES module entry point costs Node ~10 ms more to start. The
// name stays bin/acore.js: npx keeps links to a project's bin in its cache across upgrades.
require('./load.cjs')
  .loadCli()
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
