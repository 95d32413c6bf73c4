#!/usr/bin/env node
// `npm run bench`: acore at fleet scale, as whole processes, on tmpfs.
//
// For N definitions (realistic and mixed: schedules, zones, probes, rules, policies) and each
// target (and all together): a full compile into an empty folder, a no-change recompile, and a
// recompile after one definition was edited.
// And `acore diff` of a pull request that changes one definition (all targets), for N ≥ 100.
// Reports the median wall time over several runs, the cost per definition, peak RSS and the
// split between reading, load/validate/lower, emit, plan and write (ACORE_TIMINGS), and
// writes the table to bench/results/latest.md and .json.
//
//   node bench/run.mjs [--sizes 1,100,1000,10000] [--targets systemd,crontab,github,all] [--runs N]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'acore.js');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const sizes = arg('sizes', '1,100,1000,10000').split(',').map(Number);
const targets = arg('targets', 'systemd,crontab,github,all').split(',');
const runsFor = (n) => Number(arg('runs', n >= 10000 ? 3 : n >= 1000 ? 5 : 7));
const base = existsSync('/dev/shm') ? '/dev/shm/acore-bench' : join(tmpdir(), 'acore-bench');

/** The reference peer, measured on this machine class (issue 7): systemd-cron's generators. */
const PEERS = {
  'systemd-cron C++ generator': { 1: 3.4, 1000: 76, 10000: 702 },
  'Debian systemd-cron Python generator': { 1: 44, 1000: 201, 10000: 2017 },
};

// A small deterministic PRNG, so every machine benchmarks the same definitions.
function prng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const CRONS = ['*/15 * * * *', '0 3 * * *', '30 2 * * 1-5', '0 */6 * * *', '15 4 1,15 * *', '0 9 * * mon#1', '0 0 L * *', '5 0 * 8 *', '0 22 * * 1-5', '@hourly', '23 0-20/2 * * *', '0 0,12 1 */2 *'];
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', undefined];

function definition(i, rand) {
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const zone = pick(ZONES);
  const probe = rand() < 0.6;
  const cron = pick(CRONS);
  const catchUp = rand() < 0.3;
  const lines = [
    `id: fleet.team-${i % 97}.job-${i}`,
    `description: Fleet job ${i}. Generated for the benchmark.`,
    'trigger:',
    '  trigger_type: cron',
    `  cron_expression: "${cron}"`,
    ...(zone ? [`  timezone: ${zone}`] : []),
    `  misfire_policy: ${catchUp ? 'catch_up' : 'skip'}`,
  ];
  if (probe) {
    lines.push('context:', '  - kind: http_get', `    url: http://127.0.0.1:${8000 + (i % 7)}/state/health`, '    bind: hub', `    timeout_seconds: ${1 + (i % 5)}`);
    lines.push('rule:', '  when:', `    - "hub.status == 'ok'${rand() < 0.3 ? ' && hub.queue < 10' : ''}"`);
  }
  lines.push(
    'instruction:',
    '  kind: shell',
    `  cmd: cd /srv/team-${i % 97} && ./bin/job --id ${i} --since "$(date +%F)" 2>&1`,
    `  on_failure: ${rand() < 0.5 ? 'fail' : 'log_and_continue'}`,
  );
  if (rand() < 0.5) lines.push(`  timeout_seconds: ${60 * (1 + (i % 30))}`);
  if (rand() < 0.4) lines.push('  env:', `    TEAM: team-${i % 97}`, `    LEVEL: "${i % 3}"`);
  // As a real fleet would: what a target cannot express is not offered to it.
  if (catchUp) lines.push('targets:', '  systemd:');
  else if (/[L#]/.test(cron)) lines.push('targets:', '  systemd:', '  crontab:');
  return `${lines.join('\n')}\n`;
}

function generate(n) {
  const dir = join(base, `n${n}`, 'definitions');
  if (existsSync(join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const rand = prng(n * 7919 + 1);
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `team-${i % 97}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `job-${i}.yaml`), definition(i, rand));
  }
  writeFileSync(join(dir, '.complete'), '');
  return dir;
}

function runOnce(args) {
  const timings = join(base, `timings-${process.pid}.json`);
  rmSync(timings, { force: true });
  const t = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, ACORE_TIMINGS: timings }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = performance.now() - t;
  if (r.status !== 0) throw new Error(`acore ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(0, 2000)}`);
  const data = existsSync(timings) ? JSON.parse(readFileSync(timings, 'utf8')) : { stages: {} };
  return { wall, ...data };
}

/** The stages ACORE_TIMINGS reports (src/cli/timings.ts); locate + report: the targets' warnings, placed and printed. */
const STAGES = ['read', 'load', 'validate', 'lower', 'emit', 'locate', 'report', 'plan', 'write'];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function measure(n, target) {
  const defs = generate(n);
  const out = join(base, `n${n}`, `out-${target}`);
  const full = [];
  const again = [];
  const one = [];
  // The everyday case of a definitions repository: one definition edited since the last compile.
  const edited = join(defs, 'team-0', 'job-0.yaml');
  const original = readFileSync(edited, 'utf8');
  const args = ['compile', '--target', target, '--definitions', defs, '--out', out];
  for (let r = 0; r < runsFor(n); r++) {
    rmSync(out, { recursive: true, force: true });
    full.push(runOnce(args));
    again.push(runOnce(args));
    // A changed command: the job's service unit changes (its timer does not).
    writeFileSync(edited, original.replace('--id 0 ', `--id 0 --run ${r} `));
    try {
      one.push(runOnce(args));
    } finally {
      writeFileSync(edited, original);
    }
  }
  const summarize = (rs) => {
    const m = median(rs.map((r) => r.wall));
    const mid = rs.find((r) => r.wall === m) ?? rs[0];
    return { wallMs: m, perDefinitionUs: (m * 1000) / n, maxRssMb: Math.max(...rs.map((r) => r.maxRssKb ?? 0)) / 1024, stages: mid.stages };
  };
  return { n, target, full: summarize(full), noChange: summarize(again), oneChanged: summarize(one) };
}

const GIT_ENV = {
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
  GIT_AUTHOR_DATE: '2026-05-01T08:00:00Z',
  GIT_COMMITTER_DATE: '2026-05-01T08:00:00Z',
};

function git(cwd, ...args) {
  const r = spawnSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

/**
 * A pull request to a fleet's definitions repository: two commits, the second changing one
 * definition's command. `acore diff` of the two (all targets: words and generated bytes), as a
 * CI job on the pull request runs it.
 */
function measureDiff(n) {
  const defs = generate(n);
  const repo = join(base, `n${n}`, 'repo');
  if (!existsSync(`${repo}.complete`)) {
    rmSync(repo, { recursive: true, force: true });
    mkdirSync(repo, { recursive: true });
    cpSync(defs, join(repo, 'definitions'), { recursive: true, filter: (src) => !src.endsWith('.complete') });
    git(repo, 'init', '-q', '-b', 'main');
    // No background gc racing the one below.
    git(repo, 'config', 'gc.auto', '0');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'fleet');
    const edited = join(repo, 'definitions', 'team-0', 'job-0.yaml');
    writeFileSync(edited, readFileSync(edited, 'utf8').replace('--id 0 ', '--id 0 --pull-request '));
    git(repo, 'commit', '-q', '-am', 'one definition changed');
    // Packed, as a clone (a CI checkout) has its objects.
    git(repo, 'gc', '-q');
    writeFileSync(`${repo}.complete`, '');
  }
  const timings = join(base, `timings-${process.pid}.json`);
  const runs = [];
  for (let r = 0; r < runsFor(n); r++) {
    rmSync(timings, { force: true });
    const t = performance.now();
    const p = spawnSync(process.execPath, [bin, 'diff', '--base', 'HEAD~1', '--head', 'HEAD'], { cwd: repo, env: { ...process.env, ACORE_TIMINGS: timings }, encoding: 'utf8', maxBuffer: 1 << 28 });
    const wall = performance.now() - t;
    // Exit 1: something changed, which it must have (one definition, its generated files).
    if (p.status !== 1 || !/1 changed/.test(p.stdout)) throw new Error(`acore diff exited ${p.status}:\n${p.stderr.slice(0, 2000)}${p.stdout.slice(-500)}`);
    runs.push({ wall, maxRssKb: JSON.parse(readFileSync(timings, 'utf8')).maxRssKb });
  }
  return { n, wallMs: median(runs.map((r) => r.wall)), maxRssMb: Math.max(...runs.map((r) => r.maxRssKb)) / 1024 };
}

/**
 * One definition, as an editor or a hook runs it: a plain process (no ACORE_TIMINGS), median of
 * 21, interleaved with Node.js running an empty script (the floor: process start-up on this
 * machine, which is itself noisy on a VM).
 */
function coldValidate() {
  const defs = generate(1);
  const empty = join(base, 'empty.cjs');
  writeFileSync(empty, '');
  const walls = [];
  const floor = [];
  for (let r = 0; r < 21; r++) {
    let t = performance.now();
    const p = spawnSync(process.execPath, [bin, 'validate', '--definitions', defs, '--target', 'systemd'], { encoding: 'utf8' });
    walls.push(performance.now() - t);
    if (p.status !== 0) throw new Error(`acore validate exited ${p.status}:\n${p.stderr}`);
    t = performance.now();
    spawnSync(process.execPath, [empty]);
    floor.push(performance.now() - t);
  }
  return { validateMs: median(walls), nodeMs: median(floor) };
}

const results = [];
const fmt = (x, d = 0) => x.toFixed(d);
console.log(`acore benchmark — node ${process.version}, ${cpus().length} cores, output on ${base}`);
// First, while this process is small: spawning from a big parent costs the child's start-up.
const { validateMs, nodeMs } = coldValidate();
console.log(`one definition, cold \`acore validate\`: ${fmt(validateMs)} ms (Node.js alone, empty script: ${fmt(nodeMs)} ms)`);
for (const n of sizes) {
  for (const target of targets) {
    const r = measure(n, target);
    results.push(r);
    const s = r.full.stages;
    console.log(
      `${String(n).padStart(6)} ${target.padEnd(8)} full ${fmt(r.full.wallMs).padStart(6)} ms (${fmt(r.full.perDefinitionUs).padStart(6)} µs/def, ${fmt(r.full.maxRssMb)} MB)  ` +
        `no-change ${fmt(r.noChange.wallMs).padStart(6)} ms  one changed ${fmt(r.oneChanged.wallMs).padStart(6)} ms  [${STAGES.map((k) => `${k} ${fmt(s[k] ?? 0)}`).join(' ')}]`,
    );
  }
}

const diffs = [];
const hasGit = spawnSync('git', ['--version']).status === 0;
for (const n of hasGit ? sizes.filter((x) => x >= 100) : []) {
  const d = measureDiff(n);
  diffs.push(d);
  console.log(`${String(n).padStart(6)} diff     ${fmt(d.wallMs).padStart(6)} ms (${fmt(d.maxRssMb)} MB)`);
}

const rows = results.map((r) => {
  const s = r.full.stages;
  const split = STAGES.map((k) => fmt(s[k] ?? 0)).join(' / ');
  return `| ${r.n} | ${r.target} | ${fmt(r.full.wallMs)} | ${fmt(r.full.perDefinitionUs)} | ${fmt(r.noChange.wallMs)} | ${fmt(r.oneChanged.wallMs)} | ${fmt(r.full.maxRssMb)} | ${split} |`;
});
const peerRows = Object.entries(PEERS).map(([name, v]) => `| ${name} | ${v[1]} ms | ${v[1000]} ms | ${v[10000]} ms |`);
const md = [
  '# acore benchmark',
  '',
  `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), output on \`${base}\` (tmpfs). Median wall time of the whole \`acore\` process over several runs; the split is from \`ACORE_TIMINGS\` of the median run (ms). Regenerate with \`npm run bench\`.`,
  '',
  `| definitions | target | full compile (ms) | per definition (µs) | no-change recompile (ms) | one definition changed (ms) | peak RSS (MB) | ${STAGES.join(' / ')} (ms) |`,
  '| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rows,
  '',
  '`acore diff` of a pull request that changes one definition (two commits; all targets, words and generated bytes), as a CI job runs it:',
  '',
  '| definitions | wall (ms) | peak RSS (MB) |',
  '| ---: | ---: | ---: |',
  ...(diffs.length ? diffs.map((d) => `| ${d.n} | ${fmt(d.wallMs)} | ${fmt(d.maxRssMb)} |`) : ['| (not measured: no git) | | |']),
  '',
  `One definition, cold \`acore validate\`: **${fmt(validateMs)} ms** (Node.js alone starting an empty script, same runs: ${fmt(nodeMs)} ms).`,
  '',
  'The peer (issue 7), measured on this machine class, output on tmpfs:',
  '',
  '| peer | 1 job | 1,000 jobs | 10,000 jobs |',
  '| --- | ---: | ---: | ---: |',
  ...peerRows,
  '',
].join('\n');
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'latest.md'), md);
writeFileSync(join(root, 'bench', 'results', 'latest.json'), `${JSON.stringify({ node: process.version, cores: cpus().length, validateMs, nodeMs, results, diffs }, null, 2)}\n`);
console.log(`\nwrote bench/results/latest.md and latest.json`);
